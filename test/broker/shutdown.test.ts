// Graceful shutdown of a broker process: SIGTERM answers the requests already read (a parked long-poll fetch
// is cut short, a produce queued behind it is appended and acknowledged), flushes the logs, marks the clean
// shutdown, and exits 0; the next start skips recovery and has every acknowledged record. A SIGKILL, for
// contrast, leaves no marker.
//
// Needs `npm run build` (the broker runs as `node bin/samsa.js broker`).

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { apiSchemas } from '../../src/protocol/generated/apis.js';
import { Reader } from '../../src/protocol/reader.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { requestFrame } from '../helpers/request-frame.js';

function frame(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  return requestFrame(apiKey, version, correlationId, body, 'shutdown-test');
}

/** The JSON log lines of the broker's latest lifetime. */
function lastLifetime(logs: string): Record<string, unknown>[] {
  const i = logs.lastIndexOf('--- ');
  const start = logs.lastIndexOf('starting', i);
  return logs
    .slice(logs.lastIndexOf('--- ', start))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function readAll(bootstrap: string, topic: string): Promise<string[]> {
  const c = await Consumer.connect({ bootstrap, maxWaitMs: 50 });
  await c.assign(topic, 'all', 'earliest');
  const out: string[] = [];
  for (let i = 0; i < 4; i++) for (const r of await c.poll()) out.push(r.value?.toString() ?? '');
  await c.close();
  return out;
}

describe('graceful shutdown (SIGTERM)', () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker();
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 'stay', { partitions: 1 });
    await createTopic(cluster, 'quiet', { partitions: 1 });
    const producer = Producer.on(cluster);
    await producer.send('stay', [{ value: 'before-1' }, { value: 'before-2' }]);
    await producer.close();
  });
  after(async () => {
    await broker.destroy();
  });

  it('answers in-flight requests, flushes, marks the clean shutdown; the next start skips recovery', async () => {
    const s = net.connect({ host: '127.0.0.1', port: broker.port });
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const responses = new Map<number, Buffer>();
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const f = buf.subarray(4, 4 + buf.readInt32BE(0));
        responses.set(f.readInt32BE(0), f);
        buf = buf.subarray(4 + f.length);
      }
    });
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.on('error', () => {});
    // A fetch that would park for 20 s, and a produce whose response must wait behind it.
    s.write(
      frame(1, 12, 1, {
        replicaId: -1,
        maxWaitMs: 20_000,
        minBytes: 1_000_000,
        maxBytes: 1 << 20,
        topics: [
          { topic: 'quiet', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
        ],
      }),
    );
    s.write(
      frame(0, 9, 2, {
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          {
            name: 'stay',
            partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: 'in-flight' }] }) }],
          },
        ],
      }),
    );
    await new Promise((r) => setTimeout(r, 300)); // both requests read by the broker
    const t0 = Date.now();
    await broker.stop('SIGTERM');
    const stopMs = Date.now() - t0;
    await closed;

    assert.ok(responses.has(1), 'the parked fetch was answered');
    const produce = responses.get(2);
    assert.ok(produce !== undefined, 'the produce behind it was answered');
    const r = new Reader(produce, 4);
    r.skipTaggedFields();
    const decoded = apiSchemas.get(0)?.decodeResponse(r, 9) as {
      responses: { partitionResponses: { errorCode: number; baseOffset: number }[] }[];
    };
    assert.equal(decoded.responses[0]?.partitionResponses[0]?.errorCode, 0);
    assert.equal(decoded.responses[0]?.partitionResponses[0]?.baseOffset, 2);
    assert.ok(stopMs < 10_000, `stopped in ${stopMs} ms`);
    assert.match(broker.logs(), /--- exited with 0 /);
    const stopping = lastLifetime(broker.logs());
    assert.ok(stopping.some((l) => l.msg === 'logs closed cleanly'));

    await broker.restart();
    const lines = lastLifetime(broker.logs());
    const loaded = lines.find((l) => l.msg === 'log dir loaded');
    assert.equal(loaded?.cleanShutdown, true, 'the next start skips recovery');
    assert.deepEqual(
      lines.filter((l) => /recover/i.test(String(l.msg))),
      [],
    );
    assert.deepEqual(await readAll(broker.bootstrap, 'stay'), ['before-1', 'before-2', 'in-flight']);
  });

  it('for contrast, SIGKILL leaves no clean-shutdown marker', async () => {
    await broker.kill9();
    await broker.restart();
    const loaded = lastLifetime(broker.logs()).find((l) => l.msg === 'log dir loaded');
    assert.equal(loaded?.cleanShutdown, false);
    assert.deepEqual(await readAll(broker.bootstrap, 'stay'), ['before-1', 'before-2', 'in-flight']);
  });
});
