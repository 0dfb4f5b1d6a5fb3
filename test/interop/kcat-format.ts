// kcat's side of the record scheme (records.ts, kcatProfile): the -P input lines and a -C format string
// that carries key and value lengths, so nulls, empties and bytes are compared exactly. Shared by the
// kcat interop suite and the cluster client tests.

import { type Header, kcatProfile, type ReadRecord, recordOf } from './records.js';

/** kcat -P input: "key<TAB>value" per record; no tab means a null key, nothing after it a null value (-Z). */
export function kcatInput(count: number): Buffer {
  const parts: Buffer[] = [];
  const tab = Buffer.from('\t');
  const nl = Buffer.from('\n');
  for (let i = 0; i < count; i++) {
    const r = recordOf(i, 0, kcatProfile);
    if (r.key !== null) parts.push(r.key, tab);
    if (r.value !== null) parts.push(r.value);
    parts.push(nl);
  }
  return Buffer.concat(parts);
}

export const consumeFormat = '%o\\t%T\\t%K\\t%k\\t%S\\t%s\\t%h\\n';

/** Parses kcat -f output made with consumeFormat; lengths (-1 for null) delimit key and value. */
export function parseKcatOutput(out: Buffer): ReadRecord[] {
  const records: ReadRecord[] = [];
  let pos = 0;
  const field = (end: number): string => {
    const stop = out.indexOf(end, pos);
    if (stop < 0) throw new Error(`kcat output truncated at byte ${pos}`);
    const s = out.subarray(pos, stop).toString('utf8');
    pos = stop + 1;
    return s;
  };
  const bytes = (len: number): Buffer | null => {
    if (len < 0) {
      pos += 1; // the tab after an empty field
      return null;
    }
    const b = Buffer.from(out.subarray(pos, pos + len));
    pos += len + 1;
    return b;
  };
  while (pos < out.length) {
    const offset = Number(field(0x09));
    const timestamp = Number(field(0x09));
    const key = bytes(Number(field(0x09)));
    const value = bytes(Number(field(0x09)));
    const h = field(0x0a);
    const headers: Header[] =
      h === ''
        ? []
        : h.split(',').map((kv) => {
            const eq = kv.indexOf('=');
            return [kv.slice(0, eq), Buffer.from(kv.slice(eq + 1))] as const;
          });
    records.push({ offset, timestamp, key, value, headers });
  }
  return records;
}
