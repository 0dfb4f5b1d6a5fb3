// Loading a coordinator's partition (__consumer_offsets, __transaction_state): every record of the log from its
// start to its end in offset order, decoded by the caller. Compressed batches are inflated off the event loop,
// the loop yields between reads (requests meanwhile answer COORDINATOR_LOAD_IN_PROGRESS), and the load stops
// (complete: false) once current() says it no longer applies (the partition was unloaded or re-elected) or when
// the log cannot be read to its end. Undecodable batches and records are logged and skipped: one bad record must
// not keep a coordinator from loading.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Partition } from '../cluster/partition.js';
import type { Logger } from '../logger.js';
import { decompress } from '../protocol/compression.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  compressionOf,
  type DecodedRecord,
  decodeRecords,
  decodeRecordsBody,
  isControl,
  isTransactional,
  iterateBatches,
  LOG_OVERHEAD,
  RECORDS_OFFSET,
} from '../protocol/records.js';

/** Bytes read per step while loading a partition. */
const LOAD_READ_BYTES = 8 * 1024 * 1024;

export interface ReplayHandler {
  /** The topic as log lines name it ("offsets topic"). */
  readonly topic: string;
  /**
   * Reads to the log end as it is when the load gets there (a marker appended during the load is replayed too)
   * rather than to the end it had at the start.
   */
  readonly toLiveEnd: boolean;
  /** One record with a key; throws when it cannot be decoded (logged and skipped). */
  record(key: Buffer, value: Buffer | null, offset: number, txnProducerId: number): void;
  /** A transaction marker of this producer: commit or abort. Without it, control batches are skipped. */
  marker?(producerId: number, commit: boolean): void;
}

export async function replayPartition(
  partition: Partition,
  handler: ReplayHandler,
  current: () => boolean,
  logger: Logger,
): Promise<{ records: number; complete: boolean }> {
  const log = partition.log;
  const fixedEnd = log.logEndOffset;
  const endNow = (): number => (handler.toLiveEnd ? log.logEndOffset : fixedEnd);
  let count = 0;
  let offset = log.logStartOffset;
  while (offset < endNow()) {
    const end = endNow();
    // Never released to the read pool: whatever is kept is copied out by the caller's decoding.
    const res = log.read(offset, LOAD_READ_BYTES, end, true);
    if (res.errorCode !== ErrorCode.NONE || res.bytes === 0) {
      logger.warn(`${handler.topic} partition could not be read to its end`, {
        partition: partition.index,
        offset,
        logEndOffset: end,
        errorCode: res.errorCode,
      });
      return { records: count, complete: false };
    }
    const before = offset;
    for (const chunk of res.chunks) {
      for (const { pos, header } of iterateBatches(chunk)) {
        const next = header.baseOffset + header.lastOffsetDelta + 1;
        if (next <= offset) continue;
        offset = next;
        const batch = chunk.subarray(pos, pos + LOG_OVERHEAD + header.batchLength);
        if (isControl(header.attributes)) {
          if (handler.marker === undefined) continue;
          const commit = markerType(batch);
          if (commit !== null) handler.marker(header.producerId, commit);
          else {
            logger.warn(`skipping an unreadable transaction marker of the ${handler.topic}`, {
              partition: partition.index,
              baseOffset: header.baseOffset,
              producerId: header.producerId,
            });
          }
          continue;
        }
        const txnProducerId = isTransactional(header.attributes) ? header.producerId : -1;
        let records: DecodedRecord[];
        try {
          const codec = compressionOf(header.attributes);
          if (codec === 0) records = decodeRecords(batch).records;
          else {
            const body = await decompress(codec, batch.subarray(RECORDS_OFFSET));
            if (!current()) return { records: count, complete: false };
            records = decodeRecordsBody(body, 0, body.length, header.recordCount);
          }
        } catch (err) {
          logger.warn(`skipping an undecodable batch of the ${handler.topic}`, {
            partition: partition.index,
            baseOffset: header.baseOffset,
            error: (err as Error).message,
          });
          continue;
        }
        for (const rec of records) {
          if (rec.key === null) continue;
          try {
            handler.record(rec.key, rec.value, header.baseOffset + rec.offsetDelta, txnProducerId);
            count++;
          } catch (err) {
            logger.warn(`skipping an undecodable record of the ${handler.topic}`, {
              partition: partition.index,
              offset: header.baseOffset + rec.offsetDelta,
              error: (err as Error).message,
            });
          }
        }
      }
    }
    if (offset === before) break;
    if (offset < endNow()) {
      await yieldToEventLoop();
      if (!current()) return { records: count, complete: false };
    }
  }
  return { records: count, complete: true };
}

/**
 * The kind of a transaction marker: true commit, false abort, null when unreadable. The control record's key
 * is int16 version + int16 type (0 abort, 1 commit; Kafka's ControlRecordType), its value the
 * EndTransactionMarker (version, coordinatorEpoch), not needed here.
 */
function markerType(batch: Buffer): boolean | null {
  try {
    const rec = decodeRecords(batch).records[0];
    if (rec === undefined || rec.key === null || rec.key.length < 4) return null;
    const type = rec.key.readInt16BE(2);
    return type === 1 ? true : type === 0 ? false : null;
  } catch {
    return null;
  }
}
