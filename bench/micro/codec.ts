// Generated protocol codecs on the hot messages: a Produce request of 8 partitions x 16 KiB batches
// (encode as the client does, decode header + body as the broker does) and a Fetch response of
// 8 partitions x 1 MiB of record data (encoded by reference as the broker does, decoded as a client).

import { decodeFetchResponse, encodeFetchResponse } from '../../src/protocol/generated/fetch-response.js';
import { decodeProduceRequest, encodeProduceRequest } from '../../src/protocol/generated/produce-request.js';
import { decodeRequestHeader, encodeRequestHeader } from '../../src/protocol/generated/request-header.js';
import { Reader } from '../../src/protocol/reader.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { Writer } from '../../src/protocol/writer.js';
import { type MicroResult, measure } from './harness.js';

const PRODUCE_V = 9;
const FETCH_V = 16;

function batchOf(bytes: number, recordSize: number): Buffer {
  const value = Buffer.alloc(recordSize, 0x41);
  const n = Math.max(1, Math.floor(bytes / (recordSize + 10)));
  return encodeRecordBatch({ records: Array.from({ length: n }, () => ({ value })) });
}

export function codecBenchmarks(): MicroResult[] {
  const batch = batchOf(16 * 1024, 100);
  const produce = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [
      {
        name: 'bench-topic',
        partitionData: Array.from({ length: 8 }, (_, i) => ({ index: i, records: batch })),
      },
    ],
  };
  const encodeProduce = (): Writer => {
    const w = new Writer(256);
    const size = w.reserveInt32();
    encodeRequestHeader(w, 2, {
      requestApiKey: 0,
      requestApiVersion: PRODUCE_V,
      correlationId: 7,
      clientId: 'bench',
    });
    encodeProduceRequest(w, PRODUCE_V, produce);
    w.patchInt32(size, w.length - 4);
    return w;
  };
  const produceFrame = encodeProduce().toBuffer().subarray(4);
  const produceBytes = produceFrame.length;

  const mib = Buffer.alloc(1024 * 1024, 7);
  const fetch = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'bench-topic',
        topicId: 'aa'.repeat(16),
        partitions: Array.from({ length: 8 }, (_, i) => ({
          partitionIndex: i,
          errorCode: 0,
          highWatermark: 123456789,
          lastStableOffset: 123456789,
          logStartOffset: 0,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: mib,
        })),
      },
    ],
  };
  const encodeFetch = (): Buffer[] => {
    const w = new Writer(256);
    const size = w.reserveInt32();
    w.int32(7);
    w.uvarint(0);
    encodeFetchResponse(w, FETCH_V, fetch);
    w.patchInt32(size, w.length - 4);
    return w.toChunks();
  };
  const fetchFrame = Buffer.concat(encodeFetch()).subarray(4);

  return [
    measure('produce request encode (8 x 16 KiB, by reference)', () => void encodeProduce().toChunks(), {
      bytesPerOp: produceBytes,
      batch: 16,
    }),
    measure(
      'produce request decode (header + body)',
      () => {
        const r = new Reader(produceFrame);
        decodeRequestHeader(r, 2);
        decodeProduceRequest(r, PRODUCE_V);
      },
      { bytesPerOp: produceBytes, batch: 16 },
    ),
    measure('fetch response encode (8 x 1 MiB, by reference)', () => void encodeFetch(), {
      bytesPerOp: fetchFrame.length,
      batch: 16,
    }),
    measure(
      'fetch response decode (views, no copy)',
      () => {
        const r = new Reader(fetchFrame, 4);
        r.skipTaggedFields();
        decodeFetchResponse(r, FETCH_V);
      },
      { bytesPerOp: fetchFrame.length, batch: 16 },
    ),
  ];
}
