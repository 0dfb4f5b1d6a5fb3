// The internal producer and consumer against a real broker: every codec round-trips, keys land on the
// partition the Java client would choose, positions and start positions behave.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Consumer } from '../../src/client/consumer.js';
import { murmur2, Producer, partitionForKey } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

describe('murmur2', () => {
  it('matches the Java client (vectors printed by Kafka Utils.murmur2 in Java, from kafkajs defaultJava tests)', () => {
    const vectors: Record<string, number> = {
      '0': 971027396,
      '1': -1993445489,
      '128': -326012175,
      '2187': -1508407203,
      '16384': -325739742,
      '78125': -1654490814,
      '10000000': -1830336757,
      '170859375': -1658323481,
      '100:48069': 1009543857,
    };
    for (const [k, v] of Object.entries(vectors)) assert.equal(murmur2(Buffer.from(k)), v, k);
  });

  it('maps keys to partitions with toPositive % n', () => {
    assert.equal(partitionForKey(Buffer.from('2187'), 7), (-1508407203 & 0x7fffffff) % 7);
  });
});

describe('producer and consumer', () => {
  let b: InProcessBroker;
  const bootstrap = (): string => `127.0.0.1:${b.port}`;

  before(async () => {
    b = await startInProcess();
    const conn = await b.connect();
    await conn.request(ApiKey.CreateTopics, {
      topics: [{ name: 'pc', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    conn.close();
  });
  after(async () => {
    await b.stop(true);
  });

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`round-trips records compressed with ${compression}`, async () => {
      const producer = await Producer.connect({ bootstrap: bootstrap(), compression });
      const records = Array.from({ length: 50 }, (_, i) => ({
        key: `k${i}`,
        value: `${compression}-${i}-${'x'.repeat(i)}`,
        headers: [{ key: 'h', value: String(i) }],
      }));
      const meta = await producer.send('pc', records);
      await producer.close();
      assert.equal(meta.length, 50);
      for (const [i, m] of meta.entries())
        assert.equal(m.partition, partitionForKey(Buffer.from(`k${i}`), 3));

      const consumer = await Consumer.connect({ bootstrap: bootstrap(), maxWaitMs: 100 });
      await consumer.assign('pc', 'all', 'earliest');
      const got = new Map<string, string>();
      for (let round = 0; round < 20; round++) {
        for (const r of await consumer.poll()) {
          if (r.value?.toString().startsWith(`${compression}-`)) {
            got.set(r.key?.toString() ?? '', r.value.toString());
            assert.equal(r.headers[0]?.key, 'h');
          }
        }
        if (got.size === 50) break;
      }
      await consumer.close();
      assert.equal(got.size, 50);
      assert.equal(got.get('k7'), `${compression}-7-xxxxxxx`);
      // Offsets reported by send() are where the records are.
      const m7 = meta[7];
      assert.ok(m7 !== undefined && m7.offset >= 0);
    });
  }

  it('sends unkeyed records of one send() to one partition and honours explicit partitions', async () => {
    const producer = await Producer.connect({ bootstrap: bootstrap() });
    const meta = await producer.send('pc', [{ value: 'a' }, { value: 'b' }, { value: 'c', partition: 2 }]);
    await producer.close();
    assert.equal(meta[0]?.partition, meta[1]?.partition);
    assert.equal(meta[1]?.offset, (meta[0]?.offset ?? 0) + 1);
    assert.equal(meta[2]?.partition, 2);
  });

  it('starts at an offset, at latest, and by timestamp', async () => {
    const producer = await Producer.connect({ bootstrap: bootstrap() });
    const t0 = Date.now() + 100_000; // later than every record produced before
    const meta = await producer.send(
      'pc',
      Array.from({ length: 5 }, (_, i) => ({ value: `t${i}`, partition: 1, timestamp: t0 + i * 1000 })),
    );
    await producer.close();
    const first = meta[0]?.offset ?? -1;
    const consumer = await Consumer.connect({ bootstrap: bootstrap(), maxWaitMs: 50 });
    await consumer.assign('pc', [1], { timestamp: t0 + 2500 });
    assert.equal(consumer.position('pc', 1), first + 3);
    const recs = await consumer.poll();
    assert.deepEqual(
      recs.map((r) => r.value?.toString()),
      ['t3', 't4'],
    );
    assert.equal(recs[0]?.timestamp, t0 + 3000);
    consumer.unassignAll();
    await consumer.assign('pc', [1], 'latest');
    assert.deepEqual(await consumer.poll(), []);
    await consumer.close();
  });
});
