// Slow requests against a broker process: request memory counts bytes as they arrive (announcing a huge request
// reserves nothing), and a request that does not arrive within socket.request.receive.timeout.ms (plus one
// second per MiB received) gets its connection closed with a log line naming the client and the limit. Clients
// doing this must not hold up anyone else.
//
// Regression: three connections announcing 100,000,000-byte requests used to reserve 300 MB of the 256 MB
// queued.max.request.bytes and stop every producer until connections.max.idle.ms (10 minutes) closed them.
//
// Needs `npm run build` (the broker runs as `node bin/samsa.js broker`).

import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { requestHeaderVersion } from '../../src/protocol/generated/apis.js';
import { encodeRequestHeader } from '../../src/protocol/generated/request-header.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { Writer } from '../../src/protocol/writer.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { requestFrame } from '../helpers/request-frame.js';

const MiB = 1024 * 1024;

/** The first bytes of a Produce v9 request that announces `size` bytes: size prefix and header. */
function announce(size: number, clientId: string): Buffer {
  const w = new Writer(64);
  w.int32(size);
  encodeRequestHeader(w, requestHeaderVersion(0, 9), {
    requestApiKey: 0,
    requestApiVersion: 9,
    correlationId: 1,
    clientId,
  });
  return w.toBuffer();
}

function produceFrame(clientId: string, topic: string, valueBytes: number, correlationId = 1): Buffer {
  return requestFrame(
    0,
    9,
    correlationId,
    {
      acks: 1,
      timeoutMs: 30_000,
      topicData: [
        {
          name: topic,
          partitionData: [
            {
              index: 0,
              records: encodeRecordBatch({ records: [{ value: Buffer.alloc(valueBytes, 0x61) }] }),
            },
          ],
        },
      ],
    },
    clientId,
  );
}

interface Raw {
  socket: net.Socket;
  openedAt: number;
  /** performance.now() when the broker closed the connection. */
  closed: Promise<number>;
  /** Complete response frames received so far. */
  responses(): number;
  /** Resolves when the n-th response has arrived. */
  response(n: number): Promise<void>;
}

function open(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let count = 0;
    let buf: Buffer = Buffer.alloc(0);
    const waiters: { n: number; resolve: () => void }[] = [];
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        buf = buf.subarray(4 + buf.readInt32BE(0));
        count++;
      }
      for (const w of waiters.filter((x) => x.n <= count)) w.resolve();
    });
    socket.on('error', () => {});
    const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now())));
    socket.once('connect', () =>
      resolve({
        socket,
        openedAt: performance.now(),
        closed,
        responses: () => count,
        response: (n) =>
          n <= count ? Promise.resolve() : new Promise<void>((r) => waiters.push({ n, resolve: r })),
      }),
    );
    socket.once('error', reject);
  });
}

/** Rejects when p takes longer than ms. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

interface LogLine {
  msg?: string;
  clientId?: string;
  size?: number;
  timeoutMs?: number;
}

function slowRequestLines(b: BrokerHandle): LogLine[] {
  return b
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.msg?.includes('socket.request.receive.timeout.ms') === true);
}

describe('slow requests (socket.request.receive.timeout.ms)', () => {
  const TIMEOUT_MS = 1500;
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker({
      overrides: {
        'socket.request.receive.timeout.ms': String(TIMEOUT_MS),
        'message.max.bytes': String(8 * MiB),
      },
    });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 't', { partitions: 1 });
    cluster.close();
  });
  after(async () => {
    await broker.destroy();
  });

  it('three connections announcing 100,000,000-byte requests and trickling them hold up no producer', async () => {
    const slow = await Promise.all([0, 1, 2].map(() => open(broker.port)));
    for (const [i, s] of slow.entries()) s.socket.write(announce(100_000_000, `slow-loris-${i}`));
    // One more byte every 100 ms: never idle, never finished.
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.socket.destroyed) s.socket.write(Buffer.from([0]));
    }, 100);
    const closedAll = Promise.all(slow.map((s) => s.closed));
    let done = false;
    void closedAll.then(() => {
      done = true;
    });
    const producer = await Producer.connect({ bootstrap: broker.bootstrap, acks: 1 });
    const latencies: number[] = [];
    try {
      while (!done) {
        const t0 = performance.now();
        await within(producer.send('t', [{ value: `v${latencies.length}` }]), 2000, 'a produce request');
        latencies.push(performance.now() - t0);
      }
    } finally {
      clearInterval(trickle);
      await producer.close();
    }
    const closedAt = await closedAll;
    assert.ok(latencies.length >= 10, `acks while the slow clients were connected: ${latencies.length}`);
    assert.ok(Math.max(...latencies) < 1000, `slowest ack ${Math.max(...latencies).toFixed(0)} ms`);
    for (const [i, s] of slow.entries()) {
      const lived = (closedAt[i] as number) - s.openedAt;
      assert.ok(lived >= TIMEOUT_MS - 50, `slow client ${i} closed after ${lived.toFixed(0)} ms`);
      assert.ok(lived < TIMEOUT_MS + 3000, `slow client ${i} closed only after ${lived.toFixed(0)} ms`);
    }
    const lines = slowRequestLines(broker);
    for (const i of [0, 1, 2]) {
      const line = lines.find((l) => l.clientId === `slow-loris-${i}`);
      assert.ok(line !== undefined, `a log line for slow-loris-${i}: ${JSON.stringify(lines)}`);
      assert.equal(line.size, 100_000_000);
      assert.equal(line.timeoutMs, TIMEOUT_MS);
    }
  });

  it('a large request arriving steadily at more than 1 MiB/s may take longer than the timeout', async () => {
    const c = await open(broker.port);
    const request = produceFrame('steady', 't', 4 * MiB);
    const piece = 256 * 1024;
    const t0 = performance.now();
    for (let off = 0; off < request.length; off += piece) {
      c.socket.write(request.subarray(off, off + piece));
      await new Promise((r) => setTimeout(r, 150));
    }
    await within(c.response(1), 5000, 'the steady request');
    assert.ok(performance.now() - t0 > TIMEOUT_MS, 'the request took longer than the timeout to send');
    assert.equal(slowRequestLines(broker).filter((l) => l.clientId === 'steady').length, 0);
    c.socket.destroy();
  });
});

describe('request memory spent by half-sent requests', () => {
  const TIMEOUT_MS = 2000;
  let broker: BrokerHandle;
  let metricsPort = 0;

  before(async () => {
    metricsPort = await freePort();
    broker = await startBroker({
      overrides: {
        'socket.request.receive.timeout.ms': String(TIMEOUT_MS),
        'queued.max.request.bytes': String(2 * MiB),
        'socket.request.max.bytes': String(8 * MiB),
        'message.max.bytes': String(4 * MiB),
        'metrics.http.port': String(metricsPort),
      },
    });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 't', { partitions: 1 });
    cluster.close();
  });
  after(async () => {
    await broker.destroy();
  });

  it('a request being received still completes, and the stalled ones are closed in time', async () => {
    // Two clients send half of a 3 MiB request each and stop: 3 MiB held against a 2 MiB budget.
    const stalled = await Promise.all([0, 1].map(() => open(broker.port)));
    let sent = 0;
    for (const [i, s] of stalled.entries()) {
      const half = Buffer.concat([announce(3 * MiB, `stalled-${i}`), Buffer.alloc(1.5 * MiB)]);
      s.socket.write(half);
      sent += half.length;
    }
    const queued = async (): Promise<number> =>
      Number(/^samsa_queued_request_bytes (\d+)$/m.exec(await scrape(metricsPort))?.[1] ?? Number.NaN);
    const readAll = async (): Promise<void> => {
      while ((await queued()) < sent) await new Promise((r) => setTimeout(r, 20));
    };
    await within(readAll(), TIMEOUT_MS - 500, 'reading the half-sent requests');
    const spentAt = performance.now();

    // A 1 MiB request arriving in two halves finishes while the budget is spent (it is a finisher) ...
    const big = await open(broker.port);
    const request = produceFrame('finisher', 't', MiB);
    big.socket.write(request.subarray(0, request.length / 2));
    await new Promise((r) => setTimeout(r, 200));
    big.socket.write(request.subarray(request.length / 2));
    await within(big.response(1), TIMEOUT_MS - 500, 'the request being finished');
    assert.ok(stalled.every((s) => !s.socket.destroyed && s.responses() === 0));

    // ... and requests of other clients wait at most until the stalled clients are closed.
    const small = await open(broker.port);
    small.socket.write(produceFrame('small', 't', 100, 1));
    await within(small.response(1), TIMEOUT_MS, 'the first small request');
    small.socket.write(produceFrame('small', 't', 100, 2));
    await within(small.response(2), TIMEOUT_MS + 3000, 'the second small request');
    await within(Promise.all(stalled.map((s) => s.closed)), 3000, 'closing the stalled clients');
    const waited = performance.now() - spentAt;
    assert.ok(waited < TIMEOUT_MS + 3000, `served ${waited.toFixed(0)} ms after the budget was spent`);
    const lines = slowRequestLines(broker);
    assert.deepEqual(lines.map((l) => l.clientId).sort(), ['stalled-0', 'stalled-1']);
    assert.ok((await queued()) < MiB, 'the stalled requests released their memory');
    for (const c of [big, small]) c.socket.destroy();
  });
});
