// A damaged .index in a real broker's data dir: the broker is stopped cleanly, one offset-index entry is edited
// to point into the middle of its batch (it still passes the load-time sanity check), the broker starts again.
// Every offset must still be fetchable over the wire, and the broker must say that it rebuilt the index.
//
// Needs `npm run build` (the broker runs as `node bin/samsa.js broker`).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const TOPIC = 'damaged-index';
const BATCHES = 80;
const PER_BATCH = 5;
const REBUILT = 'rebuilt the offset and time indexes of a segment from its .log';

function jsonLines(logs: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The record values from `offset` on, one fetch round from that exact position. */
async function fetchAt(consumer: Consumer, offset: number): Promise<{ offset: number; value: string }[]> {
  consumer.seek(TOPIC, 0, offset);
  return (await consumer.poll()).map((r) => ({ offset: r.offset, value: r.value?.toString() ?? '' }));
}

describe('a damaged offset index in a broker data dir', () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker({ overrides: { 'log.index.interval.bytes': '200' } });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, TOPIC, { partitions: 1 });
    const producer = Producer.on(cluster);
    for (let b = 0; b < BATCHES; b++) {
      const records = Array.from({ length: PER_BATCH }, (_, i) => ({
        value: `v${b * PER_BATCH + i}-${'x'.repeat(40)}`,
        partition: 0,
      }));
      await producer.send(TOPIC, records);
    }
    await producer.close();
    cluster.close();
  });

  after(async () => {
    await broker?.destroy();
  });

  it('every offset stays fetchable and the rebuild is logged', async () => {
    await broker.stop();
    const index = path.join(broker.dataDir, `${TOPIC}-0`, '00000000000000000000.index');
    const data = fs.readFileSync(index);
    const entries = data.length / 8;
    assert.ok(entries >= 10, `expected many index entries, got ${entries}`);
    const k = Math.floor(entries / 2);
    const damagedOffset = data.readInt32BE(k * 8);
    data.writeInt32BE(data.readInt32BE(k * 8 + 4) + 30, k * 8 + 4);
    fs.writeFileSync(index, data);

    await broker.restart();
    const consumer = await Consumer.connect({
      bootstrap: broker.bootstrap,
      maxWaitMs: 50,
      partitionMaxBytes: 1,
    });
    try {
      await consumer.assign(TOPIC, [0], 'earliest');
      // The damaged entry first: before the fix this fetch came back empty, forever.
      const first = await fetchAt(consumer, damagedOffset);
      assert.ok(first.length > 0, `offset ${damagedOffset} unreachable`);
      for (let offset = 0; offset < BATCHES * PER_BATCH; offset++) {
        const got = await fetchAt(consumer, offset);
        assert.equal(got[0]?.offset, offset, `offset ${offset}`);
        assert.equal(got[0]?.value, `v${offset}-${'x'.repeat(40)}`);
      }
    } finally {
      await consumer.close();
    }
    const lines = jsonLines(broker.logs()).filter((l) => l.msg === REBUILT);
    assert.equal(lines.length, 1, broker.logs());
    assert.equal(lines[0]!.level, 'warn');
    assert.match(String(lines[0]!.file), new RegExp(`${TOPIC}-0/00000000000000000000\\.log$`));
    assert.match(
      String(lines[0]!.reason),
      new RegExp(`entry \\(offset ${damagedOffset}, position \\d+\\) does not point at that batch`),
    );
  });
});
