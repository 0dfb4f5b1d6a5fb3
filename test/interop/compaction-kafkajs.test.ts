// A compacted topic read by a real client: kafkajs (its own record-batch decoder) produces overwritten keys and
// tombstones with an idempotent producer, the broker's log cleaner rewrites the batches (delete-horizon bit in the
// header, a producer's last batch left empty, gzip batches recompressed), and a kafkajs consumer group reads
// every key's latest value at its original offset, then no tombstones once delete.retention.ms has passed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { decodeBatch } from '../../src/protocol/batch-compression.js';
import { iterateBatches } from '../../src/protocol/records.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const { CompressionTypes, Kafka, logLevel } = kafkajs;

interface Msg {
  offset: number;
  key: string;
  value: string | null;
}

async function recordsBelowActive(log: PartitionLog): Promise<Msg[]> {
  const end = log.segmentBaseOffsets().at(-1)!;
  const res = log.read(log.logStartOffset, 1 << 30, end, true);
  const out: Msg[] = [];
  for (const c of res.chunks) {
    for (const { pos, header } of iterateBatches(c)) {
      for (const r of (await decodeBatch(c.subarray(pos, pos + 12 + header.batchLength))).records) {
        out.push({
          offset: header.baseOffset + r.offsetDelta,
          key: r.key?.toString() ?? '',
          value: r.value?.toString() ?? null,
        });
      }
    }
  }
  return out;
}

describe('interop: kafkajs reads a compacted topic', () => {
  let b: InProcessBroker;
  let kafka: InstanceType<typeof Kafka>;

  before(async () => {
    b = await startInProcess({ 'log.cleaner.backoff.ms': '20', 'group.initial.rebalance.delay.ms': '0' });
    kafka = new Kafka({
      clientId: 'compaction-test',
      brokers: [`127.0.0.1:${b.port}`],
      logLevel: logLevel.NOTHING,
    });
  });
  after(async () => {
    await b.stop(true);
  });

  async function consume(topic: string, until: number): Promise<Msg[]> {
    const consumer = kafka.consumer({ groupId: `g-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: Msg[] = [];
    let done = false;
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          offset: Number(message.offset),
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? null,
        });
        if (Number(message.offset) >= until) done = true;
      },
    });
    for (let i = 0; i < 400 && !done; i++) await sleep(25);
    await consumer.disconnect();
    assert.ok(done, `consumed up to ${got.at(-1)?.offset}, wanted ${until}`);
    return got;
  }

  test('latest values at their offsets, tombstones until delete.retention.ms, an emptied producer batch', {
    timeout: 60_000,
  }, async () => {
    const topic = 'kafkajs-compacted';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '1024' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '1500' },
          ],
        },
      ],
    });
    await admin.disconnect();

    const latest = new Map<string, Msg>();
    const note = (base: string, messages: { key: string; value: string | null }[]): void => {
      messages.forEach((m, i) => {
        latest.set(m.key, { offset: Number(base) + i, key: m.key, value: m.value });
      });
    };
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const plain = kafka.producer();
    await idempotent.connect();
    await plain.connect();
    for (let round = 0; round < 12; round++) {
      const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `r${round}-${i}` }));
      const [meta] = await idempotent.send({
        topic,
        acks: -1,
        compression: round % 2 === 1 ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
      note(meta!.baseOffset!, messages);
    }
    const tombstones = [
      { key: 'k0', value: null },
      { key: 'k1', value: null },
    ];
    note((await idempotent.send({ topic, acks: -1, messages: tombstones }))[0]!.baseOffset!, tombstones);
    // The idempotent producer's last batch, then superseded by another producer: the cleaner keeps it empty.
    const mine = [{ key: 'last', value: 'from the idempotent producer' }];
    note((await idempotent.send({ topic, acks: -1, messages: mine }))[0]!.baseOffset!, mine);
    const theirs = [{ key: 'last', value: 'from another producer' }];
    note((await plain.send({ topic, acks: -1, messages: theirs }))[0]!.baseOffset!, theirs);
    const log = b.broker.topics.partition(topic, 0)!.log;
    const segments = log.segmentCount;
    for (let i = 0; log.segmentCount === segments; i++) {
      const pad = [{ key: `pad${i}`, value: 'p'.repeat(200) }];
      note((await plain.send({ topic, acks: -1, messages: pad }))[0]!.baseOffset!, pad);
    }
    await idempotent.disconnect();
    await plain.disconnect();
    const end = log.logEndOffset - 1;

    // Wait for the cleaner: one record per key below the active segment.
    for (let i = 0; ; i++) {
      const below = await recordsBelowActive(log);
      if (new Set(below.map((r) => r.key)).size === below.length) break;
      assert.ok(i < 400, 'the cleaner compacted the topic');
      await sleep(25);
    }
    // The last gzip round lost k0 and k1 to the tombstones: rewritten, still gzip, 8 records.
    const headers = log
      .read(0, 1 << 30, log.logEndOffset, true)
      .chunks.flatMap((c) => [...iterateBatches(c)].map((x) => x.header));
    assert.ok(
      headers.some((h) => (h.attributes & 7) === 1 && h.recordCount === 8 && h.lastOffsetDelta === 9),
    );
    const emptied = headers.filter((h) => h.recordCount === 0);
    assert.equal(emptied.length, 1, "the idempotent producer's last batch stays, empty");

    const expected = [...latest.values()].sort((x, y) => x.offset - y.offset);
    const got = await consume(topic, end);
    assert.deepEqual(got, expected);
    assert.deepEqual(
      got.filter((m) => m.value === null).map((m) => m.key),
      ['k0', 'k1'],
    );

    // After delete.retention.ms the tombstones are gone for a new reader.
    for (let i = 0; (await recordsBelowActive(log)).some((r) => r.value === null); i++) {
      assert.ok(i < 400, 'tombstones removed');
      await sleep(25);
    }
    const again = await consume(topic, end);
    assert.deepEqual(
      again,
      expected.filter((m) => m.value !== null),
    );
  });
});
