// Transaction markers (Kafka's EndTransactionMarker): the control batch a transaction coordinator has written to
// every partition of a transaction when it commits or aborts. One uncompressed batch with one record, attributes
// transactional | control, the producer's id and epoch, baseSequence -1:
//
//   key    int16 version (0)   int16 type (0 abort, 1 commit)
//   value  int16 version (0)   int32 coordinatorEpoch
//
// Readers accept any key/value version >= 0 whose leading fields are as above (Kafka ignores trailing bytes of
// newer versions too).

import {
  BATCH_HEADER_BYTES,
  type BatchHeader,
  decodeRecords,
  encodeRecordBatch,
  isControl,
  LOG_OVERHEAD,
} from '../protocol/records.js';
import type { TxnMarker } from './producer-state.js';

export const CONTROL_TYPE_ABORT = 0;
export const CONTROL_TYPE_COMMIT = 1;

export interface TxnMarkerInput {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
}

/** The control batch for a marker (offset 0: the log assigns the real one). */
export function buildTxnMarkerBatch(m: TxnMarkerInput, now: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(m.commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(m.coordinatorEpoch, 2);
  return encodeRecordBatch({
    records: [{ key, value }],
    timestamp: now,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
  });
}

/**
 * What the control batch at `pos` of `buf` says (the batch must be whole in buf), or null when it is no
 * readable transaction marker (another control type, compressed, malformed).
 */
export function parseTxnMarker(buf: Buffer, pos: number): TxnMarker | null {
  if (pos + BATCH_HEADER_BYTES > buf.length) return null;
  const size = LOG_OVERHEAD + buf.readInt32BE(pos + 8);
  if (pos + size > buf.length) return null;
  try {
    const { records } = decodeRecords(buf.subarray(pos, pos + size));
    const r = records[0];
    if (r === undefined || r.key === null || r.key.length < 4 || r.value === null || r.value.length < 6)
      return null;
    if (r.key.readInt16BE(0) < 0 || r.value.readInt16BE(0) < 0) return null;
    const type = r.key.readInt16BE(2);
    if (type !== CONTROL_TYPE_ABORT && type !== CONTROL_TYPE_COMMIT) return null;
    return { commit: type === CONTROL_TYPE_COMMIT, coordinatorEpoch: r.value.readInt32BE(2) };
  } catch {
    return null;
  }
}

/** Markers of the control batches among `headers` (null for data batches), read from the buffer they are in. */
export function markersOf(
  buf: Buffer,
  headers: readonly BatchHeader[],
  positions: readonly number[],
): (TxnMarker | null)[] {
  const out: (TxnMarker | null)[] = [];
  let any = false;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const control = h.producerId >= 0 && isControl(h.attributes);
    out.push(control ? parseTxnMarker(buf, positions[i]!) : null);
    any ||= control;
  }
  return any ? out : [];
}
