// A flood: many connections pipelining large produce requests at a broker process, far more bytes than
// queued.max.request.bytes, each connection first parking a long-poll fetch so the responses (and with them
// the request bytes) are held as long as possible. The broker's request memory must stay within
// queued.max.request.bytes + socket.request.max.bytes + one socket read per connection (its own accounting of
// the bytes as they arrive, read from /metrics), its peak RSS
// (VmHWM) within a bound, and every request must still be answered.
//
// Needs `npm run build` (the broker runs as `node bin/samsa.js broker`); Linux for /proc/<pid>/status.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { requestFrame } from '../helpers/request-frame.js';
import { parsePrometheusText, sampleValue } from '../http/prometheus-text.js';

const MiB = 1024 * 1024;
const QUEUED_MAX = Number(process.env.SAMSA_FLOOD_QUEUED_MIB ?? 48) * MiB;
const REQUEST_MAX = 4 * MiB;
const CONNECTIONS = 40;
const REQUESTS_PER_CONNECTION = 12;
const BATCH_BYTES = MiB;
/** Request memory may exceed the budget by one socket read (at most 64 KiB) per connection still reading. */
const REQUEST_MEMORY_BOUND = QUEUED_MAX + REQUEST_MAX + CONNECTIONS * 64 * 1024;
/** Peak RSS allowed: the runtime and broker baseline, plus the request budget and its slack. */
const RSS_BOUND_BYTES = 200 * MiB + 3 * QUEUED_MAX;

function frame(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  return requestFrame(apiKey, version, correlationId, body, 'flood');
}

function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? -1 : Number(m[1]) * 1024;
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

/** One flooding connection: a parked fetch, then produce requests without waiting; resolves with responses. */
function flood(port: number, fetchFrame: Buffer, produceFrames: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let responses = 0;
    let pending: Buffer = Buffer.alloc(0);
    const expected = 1 + produceFrames.length;
    s.on('error', reject);
    s.on('close', () => resolve(responses));
    s.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        pending = pending.subarray(4 + pending.readInt32BE(0));
        if (++responses === expected) s.end();
      }
    });
    s.on('connect', () => {
      s.write(fetchFrame);
      for (const f of produceFrames) s.write(f);
    });
  });
}

describe('flood of large produce requests', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let broker: BrokerHandle;
  let metricsPort = 0;

  before(async () => {
    metricsPort = await freePort();
    broker = await startBroker({
      overrides: {
        'queued.max.request.bytes': String(QUEUED_MAX),
        'socket.request.max.bytes': String(REQUEST_MAX),
        'message.max.bytes': String(2 * MiB),
        'metrics.http.port': String(metricsPort),
        'log.segment.bytes': String(64 * MiB),
        'log.retention.bytes': String(128 * MiB),
        'log.retention.check.interval.ms': '1000',
      },
    });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 'flood', { partitions: 4 });
    await createTopic(cluster, 'idle', { partitions: 1 });
    cluster.close();
  });
  after(async () => {
    await broker.destroy();
  });

  it('keeps request memory and RSS bounded and answers every request', async () => {
    const pid = broker.pid();
    assert.ok(pid !== undefined);
    const baseline = procStatus(pid, 'VmRSS');
    const batch = encodeRecordBatch({ records: [{ value: Buffer.alloc(BATCH_BYTES - 100, 0x61) }] });
    const fetchFrame = frame(1, 12, 1, {
      replicaId: -1,
      maxWaitMs: 2000,
      minBytes: 1,
      maxBytes: MiB,
      topics: [{ topic: 'idle', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: MiB }] }],
    });
    const conns = Array.from({ length: CONNECTIONS }, (_, c) =>
      Array.from({ length: REQUESTS_PER_CONNECTION }, (_, i) =>
        frame(0, 9, 2 + i, {
          acks: 1,
          timeoutMs: 30_000,
          // Each request carries its own copy: the broker stamps offsets into the bytes it receives, not ours.
          topicData: [{ name: 'flood', partitionData: [{ index: (c + i) % 4, records: batch }] }],
        }),
      ),
    );
    let peakSampled = baseline;
    const sampler = setInterval(() => {
      peakSampled = Math.max(peakSampled, procStatus(pid, 'VmRSS'));
    }, 20);
    const started = Date.now();
    const answered = await Promise.all(conns.map((frames) => flood(broker.port, fetchFrame, frames)));
    clearInterval(sampler);
    const ms = Date.now() - started;
    const hwm = procStatus(pid, 'VmHWM');
    const metrics = parsePrometheusText(await scrape(metricsPort));
    const queuedPeak = sampleValue(metrics, 'samsa_queued_request_bytes_peak');
    const offered = CONNECTIONS * REQUESTS_PER_CONNECTION * BATCH_BYTES;
    process.stdout.write(
      `# flood: ${CONNECTIONS} connections x ${REQUESTS_PER_CONNECTION} x ${BATCH_BYTES / MiB} MiB = ${offered / MiB} MiB offered in ${ms} ms; ` +
        `queued.max.request.bytes ${QUEUED_MAX / MiB} MiB, request-memory peak ${(queuedPeak / MiB).toFixed(1)} MiB; ` +
        `broker RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak RSS (VmHWM) ${(hwm / MiB).toFixed(0)} MiB, sampled peak ${(peakSampled / MiB).toFixed(0)} MiB\n`,
    );
    assert.deepEqual(
      answered,
      conns.map(() => 1 + REQUESTS_PER_CONNECTION),
      'every request answered',
    );
    assert.ok(queuedPeak <= REQUEST_MEMORY_BOUND, `request memory peak ${queuedPeak}`);
    assert.ok(hwm < RSS_BOUND_BYTES, `peak RSS ${hwm} above ${RSS_BOUND_BYTES}`);
  });

  it('bounds frames that are only partly sent (slow senders holding large requests open)', async () => {
    const pid = broker.pid();
    assert.ok(pid !== undefined);
    // Each connection announces a REQUEST_MAX frame and sends all of it but the last KiB.
    const body = Buffer.alloc(REQUEST_MAX - 4, 0x62);
    const head = Buffer.alloc(4);
    head.writeInt32BE(REQUEST_MAX - 4);
    const partial = Buffer.concat([head, body.subarray(0, body.length - 1024)]);
    const sockets = await Promise.all(
      Array.from(
        { length: CONNECTIONS },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ host: '127.0.0.1', port: broker.port }, () => {
              s.write(partial);
              resolve(s);
            });
            s.on('error', reject);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const rss = procStatus(pid, 'VmRSS');
    const metrics = parsePrometheusText(await scrape(metricsPort));
    const queued = sampleValue(metrics, 'samsa_queued_request_bytes');
    process.stdout.write(
      `# half-sent: ${CONNECTIONS} connections x ${(partial.length / MiB).toFixed(1)} MiB of ${REQUEST_MAX / MiB} MiB frames = ` +
        `${((CONNECTIONS * partial.length) / MiB).toFixed(0)} MiB offered; request memory ${(queued / MiB).toFixed(1)} MiB; broker RSS ${(rss / MiB).toFixed(0)} MiB\n`,
    );
    for (const s of sockets) s.destroy();
    assert.ok(queued <= REQUEST_MEMORY_BOUND, `request memory ${queued}`);
    assert.ok(rss < RSS_BOUND_BYTES, `RSS ${rss} above ${RSS_BOUND_BYTES}`);
    // The budget is released when those connections go away: a normal request is served at once.
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await cluster.metadata(['flood']);
    cluster.close();
  });
});
