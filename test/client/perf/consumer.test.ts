// The perf consumer against a real broker (a process of its own, from dist/): it receives its fetch responses into pooled frames and gives each back
// once its records are walked, so every value it hands to onValue must still be the one produced, across many
// small fetches (many frames reused) and compressed batches (decompressed asynchronously while the next response
// is being received).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../../src/client/connection.js';
import { connectLeaders, describeTopic, listOffsets } from '../../../src/client/perf/cluster.js';
import { consumerDefaults, PerfConsumer } from '../../../src/client/perf/consumer.js';
import { Producer } from '../../../src/client/producer.js';
import { type BrokerHandle, startBroker } from '../../helpers/broker.js';

const TOPIC = 'perf-consume';
const VALUE_BYTES = 700;

/** Value n: its number, then bytes that follow from it. */
function value(n: number): Buffer {
  const v = Buffer.allocUnsafe(VALUE_BYTES);
  v.writeUInt32BE(n, 0);
  for (let k = 4; k < VALUE_BYTES; k++) v[k] = (n * 29 + k * 11) & 0xff;
  return v;
}

describe('perf consumer', () => {
  let b: BrokerHandle;
  const connect = (): Promise<KafkaConnection> =>
    KafkaConnection.connect({ host: '127.0.0.1', port: b.port });
  let produced = 0;

  before(async () => {
    b = await startBroker();
    const conn = await connect();
    await describeTopic(conn, TOPIC, 2);
    conn.close();
    for (const compression of ['none', 'gzip', 'zstd', 'none'] as const) {
      const producer = await Producer.connect({ bootstrap: `127.0.0.1:${b.port}`, compression });
      try {
        for (let s = 0; s < 20; s++) {
          const records = Array.from({ length: 150 }, () => ({
            key: `k${produced}`,
            value: value(produced++),
          }));
          await producer.send(TOPIC, records);
        }
      } finally {
        await producer.close();
      }
    }
  });
  after(async () => {
    await b.destroy();
  });

  it('hands every value to onValue intact while recycling its fetch responses', async () => {
    const conn = await connect();
    const layout = await describeTopic(conn, TOPIC);
    conn.close();
    const conns = await connectLeaders(layout, 'perf-consumer-test');
    try {
      const seen = new Uint8Array(produced);
      const bad: string[] = [];
      const consumer = new PerfConsumer(layout, conns, await listOffsets(conns, layout, -2), {
        ...consumerDefaults,
        records: produced,
        // Small fetches: hundreds of responses, each received into a frame released by an earlier one.
        partitionMaxBytes: 64 * 1024,
        idleTimeoutMs: 20_000,
        onValue: (buf, pos, length) => {
          const n = buf.readUInt32BE(pos);
          if (length !== VALUE_BYTES || n >= produced || !buf.subarray(pos, pos + length).equals(value(n))) {
            if (bad.length < 5) bad.push(`value at ${pos} (${length} bytes, n ${n})`);
            return;
          }
          seen[n] = (seen[n] as number) + 1;
        },
      });
      const res = await consumer.run();
      assert.deepEqual(bad, []);
      assert.equal(res.records, produced);
      assert.equal(res.timedOut, false);
      assert.ok(res.fetches > 20, `${res.fetches} fetches`);
      let bytes = 0;
      for (let n = 0; n < produced; n++) bytes += `k${n}`.length + VALUE_BYTES;
      assert.equal(res.bytes, bytes, 'key and value bytes counted');
      assert.ok(
        seen.every((c) => c === 1),
        'every value exactly once',
      );
    } finally {
      for (const c of conns.values()) c.close();
    }
  });
});
