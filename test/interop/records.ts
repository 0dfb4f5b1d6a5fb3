// The interop record scheme (docs/interop.md): record i of a run is a pure function of i, the run's
// base timestamp and the producing client's profile, so a verifier in another process, language or
// broker lifetime can check what it reads byte for byte. The same scheme is implemented in
// test/interop/java/.../Records.java and test/interop/clients/records.py; keep the three in step.
//
//   key(i)     = null if i%7==0, else empty if i%19==0, else "key-<i>"
//   value(i)   = null if i%11==0, else empty if i%13==0, else "value-<i>-<pad(i)>" (+ a UTF-8 suffix
//                if i%23==0); pad(i) has (i*37)%200 chars (20,000 if i%1000==999), char j being
//                ALPHABET[(i + 7j) % 36]
//   headers(i) = none if i%5==0, else h=<i>; then dup=a, dup=b if i%3==0; then nul=null if i%4==0
//   ts(i)      = base + i (CreateTime)
//
// Profiles cut the scheme down to what a client can express: kafkajs and kafka-python cannot send a
// null header value (no-null-headers). kcat's line mode has no empty key or value (-Z makes empty
// mean null), skips empty lines (so no record with both key and value null: those get their
// value), puts one fixed header on every record and stamps the send time.

import { createHash } from 'node:crypto';

export const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const UNICODE_SUFFIX = '-ünïcödé-€-😀';

export interface Profile {
  name: string;
  /** Empty (zero-length, not null) keys and values. */
  emptyBytes: boolean;
  /** Headers whose value is null. */
  nullHeaderValues: boolean;
  /** Records whose key and value are both null (otherwise such a record gets its non-null value). */
  nullKeyAndValue: boolean;
  /** Per-record headers from the scheme, or the same fixed list on every record. */
  headers: 'scheme' | ReadonlyArray<readonly [string, string]>;
  /** Explicit per-record CreateTime timestamps (otherwise the client stamps the send time). */
  timestamps: boolean;
}

export const fullProfile: Profile = {
  name: 'full',
  emptyBytes: true,
  nullHeaderValues: true,
  nullKeyAndValue: true,
  headers: 'scheme',
  timestamps: true,
};
/** For clients that cannot send a null header value (kafkajs, kafka-python). */
export const noNullHeadersProfile: Profile = {
  ...fullProfile,
  name: 'no-null-headers',
  nullHeaderValues: false,
};
export const kcatProfile: Profile = {
  name: 'kcat',
  emptyBytes: false,
  nullHeaderValues: false,
  nullKeyAndValue: false,
  headers: [['src', 'kcat']],
  timestamps: false,
};

export type Header = readonly [string, Buffer | null];

export interface InteropRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Header[];
  timestamp: number;
}

export function recordKey(i: number, p: Profile = fullProfile): Buffer | null {
  if (i % 7 === 0) return null;
  if (i % 19 === 0 && p.emptyBytes) return Buffer.alloc(0);
  return Buffer.from(`key-${i}`);
}

export function recordValue(i: number, p: Profile = fullProfile): Buffer | null {
  if (i % 11 === 0 && (p.nullKeyAndValue || i % 7 !== 0)) return null;
  if (i % 13 === 0 && p.emptyBytes) return Buffer.alloc(0);
  const len = i % 1000 === 999 ? 20_000 : (i * 37) % 200;
  let pad = '';
  for (let j = 0; j < len; j++) pad += ALPHABET[(i + 7 * j) % 36];
  return Buffer.from(`value-${i}-${pad}${i % 23 === 0 ? UNICODE_SUFFIX : ''}`);
}

export function recordHeaders(i: number, p: Profile = fullProfile): Header[] {
  if (p.headers !== 'scheme') return p.headers.map(([k, v]) => [k, Buffer.from(v)] as const);
  if (i % 5 === 0) return [];
  const h: Header[] = [['h', Buffer.from(String(i))]];
  if (i % 3 === 0) h.push(['dup', Buffer.from('a')], ['dup', Buffer.from('b')]);
  if (i % 4 === 0 && p.nullHeaderValues) h.push(['nul', null]);
  return h;
}

export function recordOf(i: number, base: number, p: Profile = fullProfile): InteropRecord {
  return {
    key: recordKey(i, p),
    value: recordValue(i, p),
    headers: recordHeaders(i, p),
    timestamp: base + i,
  };
}

function show(b: Buffer | null): string {
  if (b === null) return 'null';
  const s = b.toString('utf8');
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...(${b.length} bytes)` : s);
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** The first difference between record i and what was read, or undefined when they are equal. */
export function diffRecord(i: number, base: number, p: Profile, got: InteropRecord): string | undefined {
  const want = recordOf(i, base, p);
  if (!sameBytes(want.key, got.key)) return `key: expected ${show(want.key)} got ${show(got.key)}`;
  if (!sameBytes(want.value, got.value)) return `value: expected ${show(want.value)} got ${show(got.value)}`;
  if (want.headers.length !== got.headers.length) {
    return `header count: expected ${want.headers.length} got ${got.headers.length}`;
  }
  for (let k = 0; k < want.headers.length; k++) {
    const [wk, wv] = want.headers[k]!;
    const [gk, gv] = got.headers[k]!;
    if (wk !== gk || !sameBytes(wv, gv))
      return `header ${k}: expected ${wk}=${show(wv)} got ${gk}=${show(gv)}`;
  }
  if (p.timestamps && want.timestamp !== got.timestamp) {
    return `timestamp: expected ${want.timestamp} got ${got.timestamp}`;
  }
  return undefined;
}

export interface ReadRecord extends InteropRecord {
  offset: number;
}

export interface VerifySummary {
  mode: 'consume' | 'verify';
  count: number;
  read: number;
  present: number;
  acked: number;
  missing: number;
  mismatches: number;
  ok: boolean;
  errors: string[];
}

/**
 * Checks what was read from a topic's only partition. Without `acked` (the exact check) it must be
 * records 0..count-1 at offsets 0..count-1. With `acked` (after a crash) every record must be a
 * scheme record, identified by timestamp - base, in increasing index order without duplicates, and
 * every acknowledged index must be present.
 */
export function verifyRecords(
  records: readonly ReadRecord[],
  count: number,
  base: number,
  p: Profile,
  acked?: ReadonlySet<number>,
): VerifySummary {
  const errors: string[] = [];
  let mismatches = 0;
  const fail = (msg: string): void => {
    mismatches++;
    if (errors.length < 10) errors.push(msg);
  };
  if (acked === undefined && records.length !== count)
    fail(`expected ${count} records, read ${records.length}`);
  const present = new Set<number>();
  let last = -1;
  for (let n = 0; n < records.length; n++) {
    const r = records[n]!;
    const i = acked === undefined ? n : r.timestamp - base;
    if (acked === undefined && r.offset !== n) {
      fail(`record ${n}: offset ${r.offset}, expected ${n}`);
      continue;
    }
    if (!Number.isInteger(i) || i < 0 || i >= count) {
      fail(`offset ${r.offset}: timestamp ${r.timestamp} is not in the run`);
      continue;
    }
    if (i <= last) {
      fail(`offset ${r.offset}: index ${i} after index ${last} (duplicate or reordered)`);
      continue;
    }
    const d = diffRecord(i, base, p, r);
    if (d !== undefined) {
      fail(`offset ${r.offset} (index ${i}): ${d}`);
      continue;
    }
    present.add(i);
    last = i;
  }
  let missing = 0;
  if (acked !== undefined) {
    let first: number | undefined;
    for (const i of acked) {
      if (!present.has(i)) {
        missing++;
        first = first === undefined ? i : Math.min(first, i);
      }
    }
    if (missing > 0) errors.push(`acknowledged but missing: ${missing}, first ${first}`);
  }
  return {
    mode: acked === undefined ? 'consume' : 'verify',
    count,
    read: records.length,
    present: present.size,
    acked: acked?.size ?? 0,
    missing,
    mismatches,
    ok: mismatches === 0 && missing === 0,
    errors,
  };
}

/** Topic names for one run: unique per run so reruns against a long-lived broker never collide. */
export function topicName(client: string, codec: string, runId: string): string {
  return `interop-${client}-${codec}-${runId}`;
}

/** A run id and base timestamp: the base is a minute in the past so every ts(i) is too. */
export function newRun(): { runId: string; base: number } {
  const base = Date.now() - 60_000;
  return { runId: `${base.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`, base };
}

/**
 * SHA-256 over records 0..count-1 in a canonical layout (per record: int32 key length or -1, key,
 * int32 value length or -1, value, int32 header count, per header int32 key length, key, int32 value
 * length or -1, value; int64 timestamp; all big-endian). The Java and Python scheme implementations
 * compute the same digest, which records.test.ts compares.
 */
export function schemeDigest(count: number, base: number, p: Profile = fullProfile): string {
  const h = createHash('sha256');
  const int32 = (n: number): void => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    h.update(b);
  };
  const bytes = (b: Buffer | null): void => {
    int32(b === null ? -1 : b.length);
    if (b !== null) h.update(b);
  };
  for (let i = 0; i < count; i++) {
    const r = recordOf(i, base, p);
    bytes(r.key);
    bytes(r.value);
    int32(r.headers.length);
    for (const [k, v] of r.headers) {
      bytes(Buffer.from(k));
      bytes(v);
    }
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(BigInt(r.timestamp));
    h.update(ts);
  }
  return h.digest('hex');
}
