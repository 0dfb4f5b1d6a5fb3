// Compressed record batches: building them (the internal client), reading them (the consumer, tools) and
// recompressing them (the broker, when a topic's compression.type differs from the producer's codec).
//
// A compressed v2 batch keeps the 61-byte header as is and replaces the records section with the codec's
// output over the concatenated records (attributes bits 0-2 name the codec). batchLength and the CRC32C cover
// the compressed bytes, so both are rewritten whenever the records section changes. Header fields the
// producer owns (producerId, producerEpoch, baseSequence, timestamps, lastOffsetDelta, recordCount) are kept.

import { compress, decompress } from './compression.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  COMPRESSION_CODEC_MASK,
  type DecodedRecord,
  decodeRecordsBody,
  type EncodeBatchInput,
  encodeRecordBatch,
  LOG_OVERHEAD,
  RecordDecodeError,
  readBatchHeader,
  rewriteCrc,
} from './records.js';

/** Replaces the records section of the batch at the start of `batch` (header copied, CRC recomputed). */
function withBody(batch: Buffer, codec: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + body.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  body.copy(out, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  const attributes = out.readInt16BE(ATTRIBUTES_OFFSET);
  out.writeInt16BE((attributes & ~COMPRESSION_CODEC_MASK) | codec, ATTRIBUTES_OFFSET);
  rewriteCrc(out, 0, out.length - LOG_OVERHEAD);
  return out;
}

function batchEnd(batch: Buffer, header: BatchHeader): number {
  const end = LOG_OVERHEAD + header.batchLength;
  if (header.batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD || end > batch.length) {
    throw new RecordDecodeError(`batchLength ${header.batchLength} does not fit in ${batch.length} bytes`);
  }
  return end;
}

/** Builds one v2 batch, compressed with `codec` (Codec.none ... Codec.zstd). */
export async function buildRecordBatch(
  input: Omit<EncodeBatchInput, 'compression'>,
  codec = 0,
): Promise<Buffer> {
  const plain = encodeRecordBatch({ ...input, compression: 'none' });
  if (codec === 0) return plain;
  return compressBatch(plain, codec);
}

/** Compresses an uncompressed batch with `codec`; returns a new buffer. */
export async function compressBatch(batch: Buffer, codec: number): Promise<Buffer> {
  const header = readBatchHeader(batch, 0);
  const end = batchEnd(batch, header);
  if ((header.attributes & COMPRESSION_CODEC_MASK) !== 0) throw new Error('batch is already compressed');
  if (codec === 0) return batch.subarray(0, end);
  return withBody(batch, codec, await compress(codec, batch.subarray(BATCH_HEADER_BYTES, end)));
}

/** The uncompressed records section of a batch (a view when the batch is not compressed). */
export async function batchBody(batch: Buffer, maxBytes?: number): Promise<Buffer> {
  const header = readBatchHeader(batch, 0);
  const end = batchEnd(batch, header);
  const codec = header.attributes & COMPRESSION_CODEC_MASK;
  const raw = batch.subarray(BATCH_HEADER_BYTES, end);
  if (codec === 0) return raw;
  try {
    return await decompress(codec, raw, maxBytes);
  } catch (e) {
    throw new RecordDecodeError(`cannot decompress batch (codec ${codec}): ${(e as Error).message}`);
  }
}

/** Decodes every record of a batch, compressed or not. Keys and values are views into fresh or given memory. */
export async function decodeBatch(
  batch: Buffer,
  maxBytes?: number,
): Promise<{ header: BatchHeader; records: DecodedRecord[] }> {
  const header = readBatchHeader(batch, 0);
  const body = await batchBody(batch, maxBytes);
  return { header, records: decodeRecordsBody(body, 0, body.length, header.recordCount) };
}

/**
 * Rewrites a batch with another codec (the broker's compression.type). The records are decoded once to prove
 * the body holds exactly recordCount well-formed records (Kafka's LogValidator does the same when it
 * recompresses); throws RecordDecodeError otherwise. Returns the input unchanged when the codec already matches.
 */
export async function recompressBatch(batch: Buffer, codec: number, maxBytes?: number): Promise<Buffer> {
  const header = readBatchHeader(batch, 0);
  const end = batchEnd(batch, header);
  if ((header.attributes & COMPRESSION_CODEC_MASK) === codec) return batch;
  const body = await batchBody(batch, maxBytes);
  decodeRecordsBody(body, 0, body.length, header.recordCount);
  const out = codec === 0 ? body : await compress(codec, body);
  return withBody(batch.subarray(0, end), codec, out);
}
