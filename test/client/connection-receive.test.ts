// The client's receive path against a real broker over real sockets: fetch responses of megabytes read across
// hundreds of socket reads (directly, and through a proxy that cuts the broker's bytes into pieces of 1 byte to
// 9 KB), many responses arriving in one read, and requestPooled's frame reuse, which must never touch the bytes of
// a response that was not released nor hand pooled memory to request().

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { createTopic, describeTopic, type TopicLayout } from '../../src/client/perf/cluster.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import {
  decodeRecords,
  encodeRecordBatch,
  iterateBatches,
  LOG_OVERHEAD,
} from '../../src/protocol/records.js';
import { freePort } from '../helpers/broker.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

const TOPIC = 'receive';
const BATCHES = 24;
const BATCH_BYTES = 480_000;

/** Record j of batch i: key "i:j", a value whose length and bytes follow from i and j. */
function value(i: number, j: number): Buffer {
  const v = Buffer.allocUnsafe(((i * 7919 + j * 104_729) % 20_000) + 1);
  for (let k = 0; k < v.length; k++) v[k] = (i * 131 + j * 17 + k * 13) & 0xff;
  return v;
}

function batch(i: number): { buf: Buffer; records: number } {
  const records: { key: string; value: Buffer }[] = [];
  let bytes = 0;
  for (let j = 0; bytes < BATCH_BYTES - 20_000; j++) {
    const v = value(i, j);
    records.push({ key: `${i}:${j}`, value: v });
    bytes += v.length + 16;
  }
  return { buf: encodeRecordBatch({ records }), records: records.length };
}

/** Checks every record of a fetch's bytes against value(); returns how many there were. */
function verify(recs: Buffer | null): number {
  assert.ok(recs !== null && recs.length > 0, 'records');
  let n = 0;
  for (const { pos, header } of iterateBatches(recs)) {
    const end = pos + LOG_OVERHEAD + header.batchLength;
    if (end > recs.length) break;
    for (const r of decodeRecords(recs.subarray(pos, end)).records) {
      const [i, j] = (r.key?.toString() ?? '').split(':').map(Number);
      assert.ok(r.value?.equals(value(i as number, j as number)), `record ${r.key}`);
      n++;
    }
  }
  return n;
}

function fetchBody(layout: TopicLayout, offset: number, partitionMaxBytes: number): unknown {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 64 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: TOPIC,
        topicId: layout.topicId,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: offset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

function recordsOf(res: FetchResponse): Buffer | null {
  const p = res.responses[0]?.partitions[0];
  assert.equal(p?.errorCode, ErrorCode.NONE);
  return p.records;
}

/**
 * A TCP proxy to the broker. 'split' cuts what the broker sends into pieces of 1 byte to 9 KB, one write per turn
 * of the event loop. 'hold' passes bytes through until hold() is called, then keeps them (counting whole frames)
 * until flush() writes them all at once.
 */
class CuttingProxy {
  private server: net.Server;
  private sockets: net.Socket[] = [];
  private holding = false;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private frames = 0;
  /** Bytes of the current held frame still to come, and the size prefix while it arrives split. */
  private frameRest = 0;
  private sizeBytes: number[] = [];
  private client: net.Socket | null = null;
  private onFrames: (() => void) | null = null;
  private framesWanted = 0;

  private constructor(
    brokerPort: number,
    private readonly mode: 'split' | 'hold',
  ) {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    this.server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: brokerPort });
      client.setNoDelay(true);
      this.sockets.push(client, upstream);
      client.pipe(upstream);
      let pumping = Promise.resolve();
      upstream.on('data', (chunk: Buffer) => {
        if (this.mode === 'hold' && this.holding) {
          this.keep(chunk, client);
          return;
        }
        if (this.mode === 'hold') {
          client.write(chunk);
          return;
        }
        upstream.pause();
        pumping = pumping.then(async () => {
          let off = 0;
          while (off < chunk.length && !client.destroyed) {
            const n = next() < 0.3 ? 1 + Math.floor(next() * 7) : 1 + Math.floor(next() * 9000);
            client.write(chunk.subarray(off, off + n));
            off += n;
            await new Promise((r) => setImmediate(r));
          }
          upstream.resume();
        });
      });
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
    });
  }

  static async start(brokerPort: number, mode: 'split' | 'hold'): Promise<CuttingProxy> {
    const p = new CuttingProxy(brokerPort, mode);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  hold(): void {
    this.holding = true;
  }

  /** Resolves once n whole frames are held. */
  heldFrames(n: number): Promise<void> {
    if (this.frames >= n) return Promise.resolve();
    this.framesWanted = n;
    return new Promise((resolve) => {
      this.onFrames = resolve;
    });
  }

  private keep(chunk: Buffer, client: net.Socket): void {
    this.client = client;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (this.frameRest === 0) {
        this.sizeBytes.push(chunk[off++] as number);
        if (this.sizeBytes.length === 4) {
          this.frameRest = Buffer.from(this.sizeBytes).readInt32BE(0);
          this.sizeBytes = [];
        }
        continue;
      }
      const n = Math.min(this.frameRest, chunk.length - off);
      off += n;
      this.frameRest -= n;
      if (this.frameRest === 0) this.frames++;
    }
    if (this.onFrames !== null && this.frames >= this.framesWanted) {
      const r = this.onFrames;
      this.onFrames = null;
      r();
    }
  }

  /** Writes everything held in one write; returns its size. */
  flush(): number {
    const all = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.holding = false;
    this.client?.write(all);
    return all.length;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('client receive path', () => {
  let b: InProcessBroker;
  let layout: TopicLayout;
  let produced = 0;
  let pkiDir: string;
  let pki: TestPki;
  let sslPort: number;

  before(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'samsa-receive-tls-'));
    pki = makeTestPki(pkiDir);
    sslPort = await freePort();
    b = await startInProcess({
      listeners: `PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:${sslPort}`,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pki.brokerKeystore,
    });
    const conn = await b.connect();
    try {
      await createTopic(conn, TOPIC, 1);
      layout = await describeTopic(conn, TOPIC);
      for (let i = 0; i < BATCHES; i++) {
        const { buf, records } = batch(i);
        const res = await conn.request<ProduceResponse>(
          ApiKey.Produce,
          {
            transactionalId: null,
            acks: -1,
            timeoutMs: 10_000,
            topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buf }] }],
          },
          11,
        );
        assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE);
        produced += records;
      }
    } finally {
      conn.close();
    }
  });
  after(async () => {
    await b.stop(true);
    rmSync(pkiDir, { recursive: true, force: true });
  });

  it('decodes a fetch response of ~11 MB read directly and through a proxy cutting it into 1 B - 9 KB pieces', async () => {
    const proxy = await CuttingProxy.start(b.port, 'split');
    try {
      for (const port of [b.port, proxy.port]) {
        const conn = await KafkaConnection.connect({ host: '127.0.0.1', port });
        try {
          // Pipelined: the whole log, a part of it, and small requests between them.
          const [whole, versions, part] = await Promise.all([
            conn.request<FetchResponse>(ApiKey.Fetch, fetchBody(layout, 0, 16 * 1024 * 1024)),
            conn.request<{ errorCode: number }>(ApiKey.ApiVersions, {}),
            conn.request<FetchResponse>(ApiKey.Fetch, fetchBody(layout, 0, 1_000_000)),
          ]);
          assert.equal(verify(recordsOf(whole)), produced, `port ${port}`);
          assert.equal(versions.errorCode, ErrorCode.NONE);
          assert.ok(verify(recordsOf(part)) > 0);
        } finally {
          conn.close();
        }
      }
    } finally {
      await proxy.close();
    }
  });

  it('decodes a fetch response of ~11 MB over TLS (onread through tls.connect)', async () => {
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: sslPort,
      security: { protocol: 'SSL', tls: { ca: pki.caPem } },
    });
    try {
      const [whole, part] = await Promise.all([
        conn.request<FetchResponse>(ApiKey.Fetch, fetchBody(layout, 0, 16 * 1024 * 1024)),
        conn.request<FetchResponse>(ApiKey.Fetch, fetchBody(layout, 0, 1_000_000)),
      ]);
      assert.equal(verify(recordsOf(whole)), produced);
      assert.ok(verify(recordsOf(part)) > 0);
    } finally {
      conn.close();
    }
  });

  it('decodes 40 pipelined responses (small ones around large fetches) arriving in one write', async () => {
    const proxy = await CuttingProxy.start(b.port, 'hold');
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: proxy.port });
    try {
      proxy.hold();
      const pending: Promise<unknown>[] = [];
      for (let k = 0; k < 40; k++) {
        pending.push(
          k % 10 === 5
            ? conn.request(ApiKey.Fetch, fetchBody(layout, 0, 3_000_000))
            : k % 2 === 0
              ? conn.request(ApiKey.ApiVersions, {})
              : conn.request(ApiKey.Metadata, {
                  topics: [{ name: TOPIC, topicId: '0'.repeat(32) }],
                  allowAutoTopicCreation: false,
                  includeClusterAuthorizedOperations: false,
                  includeTopicAuthorizedOperations: false,
                }),
        );
      }
      await proxy.heldFrames(40);
      assert.ok(proxy.flush() > 4 * 2_500_000);
      const res = await Promise.all(pending);
      res.forEach((r, k) => {
        if (k % 10 === 5) assert.ok(verify(recordsOf(r as FetchResponse)) > 0, `fetch ${k}`);
        else if (k % 2 === 0) assert.equal((r as { errorCode: number }).errorCode, ErrorCode.NONE);
        else assert.equal((r as { topics: { name: string }[] }).topics[0]?.name, TOPIC, `metadata ${k}`);
      });
    } finally {
      conn.close();
      await proxy.close();
    }
  });

  it('requestPooled reuses a released frame only, never for request(), and never under a held response', async () => {
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port });
    try {
      // ~1.4 MB responses (three batches): the same pooled size class each time.
      const body = (offset: number): unknown => fetchBody(layout, offset, 1_800_000);
      const offsets = [0, 100, 200, 300];
      const held = await conn.requestPooled<FetchResponse>(ApiKey.Fetch, body(offsets[0] as number));
      const heldRecs = recordsOf(held.body) as Buffer;
      const heldCopy = Buffer.from(heldRecs);

      const r2 = await conn.requestPooled<FetchResponse>(ApiKey.Fetch, body(offsets[1] as number));
      const memory = (recordsOf(r2.body) as Buffer).buffer;
      assert.notEqual(memory, heldRecs.buffer);
      verify(recordsOf(r2.body));
      r2.release();
      r2.release(); // twice is harmless: the frame goes back once

      const r3 = await conn.requestPooled<FetchResponse>(ApiKey.Fetch, body(offsets[2] as number));
      assert.equal((recordsOf(r3.body) as Buffer).buffer, memory, 'the released frame is reused');
      verify(recordsOf(r3.body));
      const r3b = await conn.requestPooled<FetchResponse>(ApiKey.Fetch, body(offsets[2] as number));
      assert.notEqual(
        (recordsOf(r3b.body) as Buffer).buffer,
        memory,
        'a frame in use is not handed out twice',
      );
      r3.release();

      const plain = await conn.request<FetchResponse>(ApiKey.Fetch, body(offsets[3] as number));
      assert.notEqual((recordsOf(plain) as Buffer).buffer, memory, 'request() takes no pooled memory');
      const r4 = await conn.requestPooled<FetchResponse>(ApiKey.Fetch, body(offsets[3] as number));
      assert.equal((recordsOf(r4.body) as Buffer).buffer, memory);
      assert.ok((recordsOf(r4.body) as Buffer).equals(recordsOf(plain) as Buffer));

      // The response never released kept its bytes through all of that.
      assert.ok(heldRecs.equals(heldCopy));
      assert.ok(verify(heldRecs) > 0);
      r4.release();
      r3b.release();
      held.release();
    } finally {
      conn.close();
    }
  });

  it('refuses a response larger than responseBytesMax and fails the connection', async () => {
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: b.port,
      responseBytesMax: 100_000,
    });
    try {
      await assert.rejects(
        conn.request(ApiKey.Fetch, fetchBody(layout, 0, 1_000_000)),
        /response size \d+ out of bounds/,
      );
      await conn.closed();
      await assert.rejects(conn.request(ApiKey.ApiVersions, {}), /out of bounds/);
    } finally {
      conn.close();
    }
  });
});
