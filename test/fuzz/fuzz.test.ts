// Hostile input: random and mutated frames against a live broker.
//
// Corpus: a valid request for every API and several versions the broker serves (built with the generated
// encoders), the frames real clients sent (test/protocol/golden/<client>/), and kafkajs' golden request
// bodies (test/protocol/golden-kafkajs). Mutations: bit flips, byte overwrites with boundary
// values, truncation, extension, lies in the frame's length prefix, lies in inner length fields (int16/int32
// windows set to huge, negative or zero), splices of two frames, another API's header on a body, chunked
// writes. Every case runs on its own connection and ends with a probe (ApiVersions v0): after the bytes, the
// test pads the stream to a frame boundary the way the broker frames it, so each case must end with the probe
// answered or the connection closed. A case may also park (long-poll Fetch, JoinGroup, SyncGroup with a
// mutated wait); it is then closed from this side and counted.
//
// Properties: the broker stays up and answers a fresh client; no request handler fails (an internal error is
// a bug); request-memory accounting returns to zero; records stored before are byte-for-byte intact.
//
// `npm test` runs a fixed seed and a bounded number of cases; `npm run fuzz` runs many more with a random
// seed (SAMSA_FUZZ_SEED, SAMSA_FUZZ_CASES override both; the seed is printed for replay).

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Server } from '../../src/broker/server.js';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { apiSchemas, requestHeaderVersion } from '../../src/protocol/generated/apis.js';
import { decodeRequestHeader, encodeRequestHeader } from '../../src/protocol/generated/request-header.js';
import { Reader } from '../../src/protocol/reader.js';
import { encodeRecordBatch, rewriteCrc } from '../../src/protocol/records.js';
import { Writer } from '../../src/protocol/writer.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { kafkajsFixtures, kafkajsRequestDirs } from '../protocol/kafkajs-golden.js';

const seedEnv = process.env.SAMSA_FUZZ_SEED;
const SEED =
  seedEnv === undefined ? 0x5a4d5a : seedEnv === 'random' ? (Math.random() * 2 ** 31) | 0 : Number(seedEnv);
const CASES = Number(process.env.SAMSA_FUZZ_CASES ?? 1500);
const CONCURRENCY = 24;
const REQUEST_BYTES_MAX = 512 * 1024;
const CASE_TIMEOUT_MS = 4_000;
const PROBE_ID = 0x50524f42;
const LONG_POLL_APIS = new Set([1, 11, 14]);

/** mulberry32: small, fast, good enough for test input. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

/** A frame without its size prefix: header + body. */
interface Frame {
  apiKey: number;
  version: number;
  bytes: Buffer;
  origin: string;
}

function withPrefix(frame: Buffer): Buffer {
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(frame.length);
  return Buffer.concat([size, frame]);
}

function buildFrame(apiKey: number, version: number, body: unknown, correlationId = 1): Buffer {
  const schema = apiSchemas.get(apiKey);
  if (schema === undefined) throw new Error(`no schema ${apiKey}`);
  const w = new Writer(256);
  encodeRequestHeader(w, requestHeaderVersion(apiKey, version), {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId,
    clientId: 'fuzz',
  });
  schema.encodeRequest(w, version, body as never);
  return w.toBuffer();
}

const probe = withPrefix(buildFrame(18, 0, {}, PROBE_ID));

/** Plausible request bodies for the APIs where defaults alone would say little. */
function sampleBodies(topicId: string): Record<number, unknown> {
  const batch = encodeRecordBatch({ records: [{ key: 'k', value: 'fuzz value' }, { value: null }] });
  const configs = [{ name: 'retention.ms', value: '100000', configOperation: 0 }];
  return {
    0: {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'fz-a', partitionData: [{ index: 0, records: batch }] }],
    },
    1: {
      replicaId: -1,
      maxWaitMs: 10,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [
        {
          topic: 'fz-a',
          topicId,
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 16 }],
        },
      ],
    },
    2: { replicaId: -1, topics: [{ name: 'fz-a', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] },
    3: { topics: [{ name: 'fz-a', topicId }], allowAutoTopicCreation: false },
    8: {
      groupId: 'fz-g',
      generationIdOrMemberEpoch: -1,
      topics: [{ name: 'fz-a', partitions: [{ partitionIndex: 0, committedOffset: 1 }] }],
    },
    9: {
      groupId: 'fz-g',
      topics: [{ name: 'fz-a', partitionIndexes: [0] }],
      groups: [{ groupId: 'fz-g', topics: [{ name: 'fz-a', partitionIndexes: [0] }] }],
    },
    10: { key: 'fz-g', keyType: 0, coordinatorKeys: ['fz-g'] },
    11: {
      groupId: 'fz-g2',
      sessionTimeoutMs: 6000,
      rebalanceTimeoutMs: 1000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [
        {
          name: 'range',
          metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 4, 102, 122, 45, 97, 255, 255, 255, 255]),
        },
      ],
    },
    19: {
      topics: [
        {
          name: 'fz-new',
          numPartitions: 2,
          replicationFactor: 1,
          configs: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
      timeoutMs: 1000,
      validateOnly: true,
    },
    20: {
      topicNames: ['fz-missing'],
      topics: [{ name: 'fz-missing', topicId: '0'.repeat(32) }],
      timeoutMs: 1000,
    },
    21: { topics: [{ name: 'fz-b', partitions: [{ partitionIndex: 0, offset: 1 }] }], timeoutMs: 1000 },
    22: { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 },
    23: {
      replicaId: -1,
      topics: [{ topic: 'fz-a', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
    },
    32: {
      resources: [{ resourceType: 2, resourceName: 'fz-a', configurationKeys: null }],
      includeSynonyms: true,
    },
    33: { resources: [{ resourceType: 2, resourceName: 'fz-b', configs }], validateOnly: true },
    35: { topics: [{ topic: 'fz-a', partitions: [0, 1] }] },
    37: { topics: [{ name: 'fz-b', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true },
    44: { resources: [{ resourceType: 2, resourceName: 'fz-b', configs }], validateOnly: true },
  };
}

function loadCorpus(b: InProcessBroker, topicId: string): Frame[] {
  const frames: Frame[] = [];
  const bodies = sampleBodies(topicId);
  for (const r of b.broker.apiVersionRanges()) {
    const versions = [...new Set([r.minVersion, (r.minVersion + r.maxVersion) >> 1, r.maxVersion])];
    for (const v of versions) {
      try {
        frames.push({
          apiKey: r.apiKey,
          version: v,
          bytes: buildFrame(r.apiKey, v, bodies[r.apiKey] ?? {}),
          origin: `generated ${r.apiKey}v${v}`,
        });
      } catch {
        // Some inputs do not fit every version (a field that version cannot carry): skip that one.
      }
    }
  }
  const golden = path.join(repoRoot(), 'test/protocol/golden');
  if (existsSync(golden)) {
    for (const client of readdirSync(golden)) {
      const dir = path.join(golden, client);
      if (!existsSync(dir) || client.includes('.')) continue;
      for (const f of readdirSync(dir).filter((x) => x.endsWith('-request.json'))) {
        const g = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
          apiKey: number;
          version: number;
          hex: string;
        };
        frames.push({
          apiKey: g.apiKey,
          version: g.version,
          bytes: Buffer.from(g.hex, 'hex'),
          origin: `${client}/${f}`,
        });
      }
    }
  }
  const byName = new Map([...apiSchemas.values()].map((a) => [a.name.toLowerCase(), a.apiKey]));
  for (const dir of kafkajsRequestDirs()) {
    const apiKey = byName.get(dir.toLowerCase());
    if (apiKey === undefined) continue;
    for (const [name, body] of kafkajsFixtures(dir)) {
      const m = /^v(\d+)_request$/.exec(name);
      if (m === null) continue;
      const version = Number(m[1]);
      // kafkajs bodies lack the header; in flexible versions they begin with the header's tag byte.
      const w = new Writer(64);
      w.int16(apiKey);
      w.int16(version);
      w.int32(1);
      w.string('kafkajs-golden');
      frames.push({
        apiKey,
        version,
        bytes: Buffer.concat([w.toBuffer(), body]),
        origin: `kafkajs/${dir}/${name}`,
      });
    }
  }
  return frames;
}

// ---- mutations -------------------------------------------------------------------------------------------

/**
 * Structure-aware mutation: decode the frame with the generated decoder, replace one value (a number, string,
 * array, buffer) with a boundary value, encode again. These frames decode on the broker, so they reach the
 * handlers. A record batch gets its body or attributes damaged and its CRC fixed, to reach decompression.
 */
function mutateStructure(f: Frame, rand: () => number): Buffer | null {
  const schema = apiSchemas.get(f.apiKey);
  if (schema === undefined) return null;
  let body: unknown;
  let headerVersion: number;
  try {
    const r = new Reader(f.bytes);
    headerVersion = requestHeaderVersion(f.apiKey, f.version);
    decodeRequestHeader(r, headerVersion);
    body = schema.decodeRequest(r, f.version);
  } catch {
    return null;
  }
  const slots: { holder: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (o: unknown): void => {
    if (o === null || typeof o !== 'object' || o instanceof Uint8Array) return;
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      slots.push({ holder: o as Record<string, unknown>, key: Array.isArray(o) ? Number(k) : k });
      walk(v);
    }
  };
  walk(body);
  if (slots.length === 0) return null;
  const slot = slots[Math.floor(rand() * slots.length)] as (typeof slots)[number];
  const h = slot.holder as Record<string | number, unknown>;
  const v = h[slot.key];
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  if (typeof v === 'number') {
    h[slot.key] = pick([
      0,
      -1,
      1,
      -2,
      127,
      255,
      32767,
      65535,
      0x7fffffff,
      -0x80000000,
      2 ** 40,
      v + 1,
      v - 1,
    ]);
  } else if (typeof v === 'string') {
    h[slot.key] = pick([
      '',
      'x'.repeat(300),
      '__consumer_offsets',
      'fz-a',
      'fz-b',
      '..',
      'ünïcödé',
      '\u0000',
      v + v,
    ]);
  } else if (typeof v === 'boolean') {
    h[slot.key] = !v;
  } else if (Array.isArray(v)) {
    h[slot.key] =
      rand() < 0.5
        ? []
        : Array.from({ length: 1 + Math.floor(rand() * 50) }, () => v[0] ?? null).filter((x) => x !== null);
  } else if (v instanceof Uint8Array) {
    const buf = Buffer.from(v);
    if (buf.length >= 61 && buf[16] === 2) {
      // A record batch: damage the body or set a codec, then make the CRC right again.
      if (rand() < 0.5) buf.writeInt16BE((buf.readInt16BE(21) & ~7) | Math.floor(rand() * 8), 21);
      for (let i = 0; i < 1 + rand() * 4; i++) {
        const p = 61 + Math.floor(rand() * Math.max(buf.length - 61, 1));
        if (p < buf.length) buf[p] = Math.floor(rand() * 256);
      }
      if (rand() < 0.3) buf.writeInt32BE(pick([0, -1, 1, 1000, 0x7fffffff]), 57);
      rewriteCrc(buf, 0, buf.length - 12);
      h[slot.key] = buf;
    } else {
      h[slot.key] = Buffer.from(
        Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)),
      );
    }
  } else if (v === null) {
    return null;
  } else {
    return null;
  }
  try {
    const w = new Writer(256);
    encodeRequestHeader(w, headerVersion, {
      requestApiKey: f.apiKey,
      requestApiVersion: f.version,
      correlationId: 7,
      clientId: 'fuzz-s',
    });
    schema.encodeRequest(w, f.version, body as never);
    return w.toBuffer();
  } catch {
    return null;
  }
}

const boundary32 = [0, -1, 1, 0x7fffffff, -0x80000000, 0x10000, REQUEST_BYTES_MAX + 1, 0xffff];

function mutate(frames: Frame[], rand: () => number): { bytes: Buffer; chunks: number; note: string } {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  const base = pick(frames);
  let b = Buffer.from(base.bytes);
  const notes: string[] = [base.origin];
  const ops = 1 + Math.floor(rand() * 3);
  let prefixLie: number | null = null;
  if (rand() < 0.4) {
    const structured = mutateStructure(base, rand);
    if (structured !== null) {
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(structured.length);
      return { bytes: Buffer.concat([size, structured]), chunks: 1, note: `${base.origin} structured` };
    }
  }
  for (let i = 0; i < ops; i++) {
    const op = Math.floor(rand() * 9);
    const at = Math.floor(rand() * Math.max(b.length, 1));
    switch (op) {
      case 0: {
        const flips = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < flips && b.length > 0; f++) {
          const p = Math.floor(rand() * b.length);
          b[p] = (b[p] as number) ^ (1 << Math.floor(rand() * 8));
        }
        notes.push(`flip${flips}`);
        break;
      }
      case 1:
        if (b.length > 0) b[at] = pick([0, 0xff, 0x7f, 0x80, 0x01, Math.floor(rand() * 256)]);
        notes.push(`byte@${at}`);
        break;
      case 2:
        b = b.subarray(0, at);
        notes.push(`truncate@${at}`);
        break;
      case 3: {
        const extra = Buffer.alloc(Math.floor(rand() * 64));
        for (let k = 0; k < extra.length; k++) extra[k] = Math.floor(rand() * 256);
        b = Buffer.concat([b, extra]);
        notes.push(`extend${extra.length}`);
        break;
      }
      case 4:
        if (b.length >= at + 4) b.writeInt32BE(pick(boundary32) | 0, at);
        notes.push(`int32@${at}`);
        break;
      case 5:
        if (b.length >= at + 2) b.writeInt16BE(pick([-1, 0x7fff, -0x8000, 0, 1]), at);
        notes.push(`int16@${at}`);
        break;
      case 6: {
        const other = pick(frames).bytes;
        const cut = Math.floor(rand() * other.length);
        b = Buffer.concat([b.subarray(0, at), other.subarray(cut)]);
        notes.push('splice');
        break;
      }
      case 7:
        if (b.length >= 4) {
          b.writeInt16BE(pick([...apiSchemas.keys(), -1, 999]), 0);
          b.writeInt16BE(Math.floor(rand() * 20) - 1, 2);
        }
        notes.push('header');
        break;
      default:
        prefixLie = pick([
          b.length + 1 + Math.floor(rand() * 2000),
          Math.max(b.length - 1 - Math.floor(rand() * 20), 0),
          -1,
          0,
          7,
          0x7fffffff,
        ]);
        notes.push(`prefix=${prefixLie}`);
    }
  }
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(prefixLie ?? b.length);
  return {
    bytes: Buffer.concat([size, b]),
    chunks: rand() < 0.3 ? 2 + Math.floor(rand() * 4) : 1,
    note: notes.join(' '),
  };
}

/** Zero bytes that complete the stream's last frame, framing it as the broker does; null if it will close. */
function padding(stream: Buffer): { pad: Buffer; longPoll: boolean } {
  let s = stream;
  let pos = 0;
  let longPoll = false;
  for (;;) {
    const left = s.length - pos;
    if (left === 0) return { pad: s.subarray(stream.length), longPoll };
    if (left < 4) {
      s = Buffer.concat([s, Buffer.alloc(4 - left)]);
      continue;
    }
    const size = s.readInt32BE(pos);
    if (size < 0 || size > REQUEST_BYTES_MAX) return { pad: s.subarray(stream.length), longPoll };
    if (size >= 2 && pos + 6 <= s.length && LONG_POLL_APIS.has(s.readInt16BE(pos + 4))) longPoll = true;
    if (pos + 4 + size > s.length) s = Buffer.concat([s, Buffer.alloc(pos + 4 + size - s.length)]);
    pos += 4 + size;
  }
}

type Outcome = 'answered' | 'closed' | 'parked';

/** Sends the bytes (in chunks), pads to a frame boundary, sends the probe; resolves with what happened. */
function runCase(port: number, bytes: Buffer, chunks: number): Promise<Outcome | 'hung'> {
  const { pad, longPoll } = padding(bytes);
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (o: Outcome | 'hung'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    };
    const timer = setTimeout(
      () => finish(longPoll ? 'parked' : 'hung'),
      longPoll ? CASE_TIMEOUT_MS : CASE_TIMEOUT_MS * 5,
    );
    s.on('error', () => {});
    s.on('close', () => finish('closed'));
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      while (got.length >= 8) {
        const size = got.readInt32BE(0);
        if (got.length < 4 + size) break;
        if (got.readInt32BE(4) === PROBE_ID) finish('answered');
        got = got.subarray(4 + size);
      }
    });
    s.on('connect', () => {
      const step = Math.ceil(bytes.length / chunks);
      for (let i = 0; i < bytes.length; i += step) s.write(bytes.subarray(i, i + step));
      if (pad.length > 0) s.write(pad);
      s.write(probe);
    });
  });
}

async function pool<T>(items: T[], n: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

describe(`fuzz: hostile frames (seed ${SEED}, ${CASES} cases)`, () => {
  let b: InProcessBroker;
  // In a broker process an uncaught exception is a crash: collect them here and fail with their messages.
  const uncaught: string[] = [];
  const onUncaught = (e: unknown): void => {
    uncaught.push(
      e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 3).join(' | ') : String(e),
    );
  };
  let frames: Frame[];
  let precious: Buffer[];

  async function readPrecious(): Promise<Buffer[]> {
    const c = Consumer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }), { maxWaitMs: 50 });
    await c.assign('precious-records', [0], 'earliest');
    const out: Buffer[] = [];
    while (c.position('precious-records', 0) < 200) {
      for (const raw of await c.pollBatches()) out.push(Buffer.from(raw.records));
    }
    await c.close();
    return out;
  }

  before(async () => {
    process.on('uncaughtException', onUncaught);
    b = await startInProcess({
      'socket.request.max.bytes': String(REQUEST_BYTES_MAX),
      'message.max.bytes': String(REQUEST_BYTES_MAX - 1024),
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '10',
      'connections.max.idle.ms': '60000',
    });
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    // fz-a recompresses everything to lz4, so damaged compressed batches reach decompression.
    const { topicId } = await createTopic(cluster, 'fz-a', {
      partitions: 2,
      configs: { 'compression.type': 'lz4' },
    });
    await createTopic(cluster, 'fz-b', { partitions: 1 });
    await createTopic(cluster, 'precious-records', { partitions: 1 });
    const producer = Producer.on(cluster, { compression: 'gzip' });
    for (let i = 0; i < 20; i++) {
      await producer.send(
        'precious-records',
        Array.from({ length: 10 }, (_, j) => ({ key: `k${i}`, value: `precious ${i * 10 + j}` })),
      );
    }
    await producer.close();
    precious = await readPrecious();
    frames = loadCorpus(b, topicId);
    process.stdout.write(`# fuzz seed ${SEED}, ${frames.length} corpus frames, ${CASES} cases\n`);
  });
  after(async () => {
    await b.stop(true);
    process.off('uncaughtException', onUncaught);
  });

  it('answers every unmutated corpus frame (or closes when the version is not served)', async () => {
    const ranges = new Map(b.broker.apiVersionRanges().map((r) => [r.apiKey, r]));
    const problems: string[] = [];
    await pool(frames, CONCURRENCY, async (f) => {
      const r = ranges.get(f.apiKey);
      const served = r !== undefined && f.version >= r.minVersion && f.version <= r.maxVersion;
      const outcome = await runCase(b.port, withPrefix(f.bytes), 1);
      if (served && outcome !== 'answered' && outcome !== 'parked') problems.push(`${f.origin}: ${outcome}`);
      if (!served && outcome === 'hung') problems.push(`${f.origin}: hung`);
    });
    assert.deepEqual(problems, []);
  });

  it('survives mutated frames: every case ends answered or closed; the broker stays healthy', async () => {
    const rand = rng(SEED);
    const cases = Array.from({ length: CASES }, () => mutate(frames, rand));
    const counts: Record<string, number> = { answered: 0, closed: 0, parked: 0, hung: 0 };
    const hung: string[] = [];
    const started = Date.now();
    await pool(cases, CONCURRENCY, async (c) => {
      const o = await runCase(b.port, c.bytes, c.chunks);
      counts[o] = (counts[o] ?? 0) + 1;
      if (o === 'hung') hung.push(c.note);
    });
    process.stdout.write(`# fuzz outcomes ${JSON.stringify(counts)} in ${Date.now() - started} ms\n`);
    // Timers the cases started (group rebalances) get their chance to fire.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(uncaught, [], `uncaught exceptions: each would crash a broker process (seed ${SEED})`);
    assert.deepEqual(hung, [], `cases neither answered nor closed (seed ${SEED})`);

    const failures = b.logs.filter((l) => l.msg === 'request handler failed');
    assert.deepEqual(
      failures.map((l) => `${String(l.apiKey)}v${String(l.apiVersion)}: ${String(l.error).split('\n')[0]}`),
      [],
      `handlers threw (seed ${SEED})`,
    );

    // A fresh client is served.
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    const meta = await cluster.metadata(['precious-records']);
    assert.equal(meta[0]?.partitions.length, 1);
    cluster.close();

    // Every byte of request memory is given back once the connections are gone.
    const server = (b.broker as unknown as { server: Server }).server;
    for (let i = 0; i < 100 && (server.queuedRequestBytes > 0 || server.connectionCount > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(server.connectionCount, 0);
    assert.equal(server.queuedRequestBytes, 0);

    // Records stored before are intact, byte for byte.
    assert.deepEqual(await readPrecious(), precious);
  });
});
