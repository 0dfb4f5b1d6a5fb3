// The connection limits, with Kafka's names: max.connections, max.connections.per.ip, socket.request.max.bytes,
// connections.max.idle.ms, the in-flight bound per connection, and reads pausing for a client that does not
// read its responses.

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import type { BrokerMetrics } from '../../src/http/metrics.js';
import * as limits from '../../src/limits.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { requestFrame } from '../helpers/request-frame.js';

function frame(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  return requestFrame(apiKey, version, correlationId, body, 'limits');
}

const apiVersions = (id: number): Buffer => frame(18, 0, id, {});

interface Probe {
  socket: net.Socket;
  closed: Promise<void>;
  isClosed: () => boolean;
  /** Complete response frames received so far. */
  responses: () => number;
}

function open(port: number, localAddress?: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      ...(localAddress !== undefined ? { localAddress } : {}),
    });
    let closed = false;
    let count = 0;
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        buf = buf.subarray(4 + buf.readInt32BE(0));
        count++;
      }
    });
    socket.on('error', () => {});
    const closedP = new Promise<void>((r) =>
      socket.once('close', () => {
        closed = true;
        r();
      }),
    );
    socket.once('connect', () =>
      resolve({ socket, closed: closedP, isClosed: () => closed, responses: () => count }),
    );
    socket.once('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for a condition, polling; false on timeout. */
async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(10);
  }
  return cond();
}

describe('connection limits', () => {
  const brokers: InProcessBroker[] = [];
  after(async () => {
    for (const b of brokers) await b.stop(true);
  });
  async function broker(overrides: Record<string, string>): Promise<InProcessBroker> {
    const b = await startInProcess(overrides);
    brokers.push(b);
    return b;
  }

  it('max.connections refuses the connection over the limit; a freed slot is reusable', async () => {
    const b = await broker({ 'max.connections': '3' });
    const conns = await Promise.all([open(b.port), open(b.port), open(b.port)]);
    await sleep(50);
    const fourth = await open(b.port);
    await fourth.closed;
    assert.ok(conns.every((c) => !c.isClosed()));
    conns[0]?.socket.destroy();
    await sleep(50);
    const again = await open(b.port);
    again.socket.write(apiVersions(1));
    assert.ok(await until(() => again.responses() === 1));
    for (const c of [...conns, again]) c.socket.destroy();
  });

  it('max.connections.per.ip counts per source address', async () => {
    const b = await broker({ 'max.connections.per.ip': '2' });
    const a1 = await open(b.port);
    const a2 = await open(b.port);
    await sleep(50);
    const a3 = await open(b.port);
    await a3.closed;
    const other = await open(b.port, '127.0.0.2'); // another loopback address is another client IP
    other.socket.write(apiVersions(1));
    assert.ok(await until(() => other.responses() === 1));
    assert.ok(!a1.isClosed() && !a2.isClosed());
    for (const c of [a1, a2, other]) c.socket.destroy();
  });

  it('socket.request.max.bytes: a frame announcing more is refused before it is read', async () => {
    const b = await broker({ 'socket.request.max.bytes': '10000', 'message.max.bytes': '5000' });
    const ok = await open(b.port);
    const padded = apiVersions(1);
    ok.socket.write(padded);
    assert.ok(await until(() => ok.responses() === 1));
    const big = await open(b.port);
    const head = Buffer.alloc(4);
    head.writeInt32BE(10001);
    big.socket.write(head); // only the size: refused on the prefix alone
    await big.closed;
    assert.ok(b.logs.some((l) => String(l.msg).includes('socket.request.max.bytes') && l.size === 10001));
    ok.socket.destroy();
  });

  it('connections.max.idle.ms closes idle connections, not busy ones', async () => {
    const b = await broker({ 'connections.max.idle.ms': '300' });
    const idle = await open(b.port);
    const busy = await open(b.port);
    let id = 0;
    const timer = setInterval(() => busy.socket.write(apiVersions(++id)), 100);
    await idle.closed;
    await sleep(300);
    clearInterval(timer);
    assert.ok(!busy.isClosed(), 'a connection with traffic stays open');
    busy.socket.destroy();
  });

  it(`reads pause at ${limits.inFlightRequestsPerConnectionMax} requests in flight on one connection`, async () => {
    const b = await broker({ 'metrics.http.port': '0' });
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'quiet', { partitions: 1 });
    cluster.close();
    const requests = (b.broker.metrics as BrokerMetrics).registry.getSingleMetric('samsa_requests_total');
    const count = async (api: string): Promise<number> =>
      ((await requests?.get())?.values ?? [])
        .filter((v) => v.labels.api === api)
        .reduce((s, v) => s + v.value, 0);
    const before = await count('ApiVersions');
    const c = await open(b.port);
    // A fetch parks for 1.5 s; everything behind it waits for its response to be written.
    c.socket.write(
      frame(1, 12, 1, {
        replicaId: -1,
        maxWaitMs: 1500,
        minBytes: 1,
        maxBytes: 1000,
        topics: [{ topic: 'quiet', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 }] }],
      }),
    );
    for (let i = 0; i < 300; i++) c.socket.write(apiVersions(2 + i));
    await sleep(500);
    assert.equal((await count('ApiVersions')) - before, limits.inFlightRequestsPerConnectionMax - 1);
    assert.ok(await until(() => c.responses() === 301, 5000), `responses ${c.responses()}`);
    c.socket.destroy();
  });

  it('reads pause for a client that does not read its responses', async () => {
    const b = await broker({ 'metrics.http.port': '0' });
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'big', { partitions: 1 });
    for (let i = 0; i < 4; i++) {
      const batch = encodeRecordBatch({ records: [{ value: Buffer.alloc(900_000, i) }] });
      await cluster.request(0, {
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: 'big', partitionData: [{ index: 0, records: batch }] }],
      });
    }
    cluster.close();
    const requests = (b.broker.metrics as BrokerMetrics).registry.getSingleMetric('samsa_requests_total');
    const fetches = async (): Promise<number> =>
      ((await requests?.get())?.values ?? [])
        .filter((v) => v.labels.api === 'Fetch')
        .reduce((s, v) => s + v.value, 0);
    const c = await open(b.port);
    c.socket.pause(); // never read: responses pile up in the broker's socket
    const fetch = (id: number): Buffer =>
      frame(1, 12, id, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 4_000_000,
        topics: [
          { topic: 'big', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 4_000_000 }] },
        ],
      });
    for (let i = 0; i < 100; i++) c.socket.write(fetch(i)); // 100 x ~3.6 MB of responses asked for
    await sleep(1000);
    const served = await fetches();
    // Bounded by responseBytesBufferedMax (16 MiB) plus what the kernel's socket buffers absorb.
    assert.ok(served < 40, `fetches served while the client read nothing: ${served}`);
    c.socket.resume();
    assert.ok(await until(() => c.responses() === 100, 20_000), `responses ${c.responses()}`);
    c.socket.destroy();
  });
});
