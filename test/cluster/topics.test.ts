// Which topics are internal. Kafka treats only its own coordinator topics as internal (Topic.isInternal:
// __consumer_offsets, __transaction_state, __share_group_state); any other name starting with '__' is an
// ordinary topic that clients create, produce to, consume and delete. Checked with kafkajs against a broker
// process.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { isInternalTopic } from '../../src/cluster/metadata-cache.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const { Kafka, logLevel } = kafkajs;

describe('internal topics are only Kafka’s own', () => {
  it('isInternalTopic follows Kafka’s list, not the "__" prefix', () => {
    for (const t of ['__consumer_offsets', '__transaction_state', '__share_group_state'])
      assert.equal(isInternalTopic(t), true, t);
    for (const t of ['__foo', '__consumer_offsets2', '_consumer_offsets', 'consumer_offsets', '__'])
      assert.equal(isInternalTopic(t), false, t);
  });
});

describe('a topic named __foo, through kafkajs against a broker process', () => {
  let broker: BrokerHandle;
  let kafka: InstanceType<typeof Kafka>;

  before(async () => {
    broker = await startBroker({
      overrides: { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '2' },
    });
    kafka = new Kafka({
      clientId: 'internal-topics-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
    });
  });

  after(async () => {
    await broker?.destroy();
  });

  it('is created, produced to, consumed, listed as not internal and deleted', {
    timeout: 60_000,
  }, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: '__foo', numPartitions: 2 }] }), true);
      const producer = kafka.producer();
      await producer.connect();
      const sent = await producer.send({
        topic: '__foo',
        messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })),
      });
      await producer.disconnect();
      assert.deepEqual(
        sent.map((r) => r.errorCode),
        [0, 0],
      );

      const consumer = kafka.consumer({ groupId: 'foo-readers' });
      await consumer.connect();
      const got: string[] = [];
      try {
        await consumer.subscribe({ topic: '__foo', fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachMessage: async ({ message }) => {
                got.push(message.value?.toString() ?? '');
                if (got.length === 10) resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(
        got.sort(),
        Array.from({ length: 10 }, (_, i) => `v${i}`),
      );

      const md = await admin.fetchTopicMetadata({ topics: ['__foo'] });
      assert.equal(md.topics[0]?.partitions.length, 2);
      const listed = await admin.listTopics();
      assert.ok(listed.includes('__foo') && listed.includes('__consumer_offsets'), listed.join(','));

      await admin.deleteTopics({ topics: ['__foo'], timeout: 5000 });
      assert.ok(!(await admin.listTopics()).includes('__foo'));
    } finally {
      await admin.disconnect();
    }
  });

  it('__consumer_offsets stays internal: produce and delete are refused', { timeout: 60_000 }, async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      assert.ok((await admin.listTopics()).includes('__consumer_offsets'), 'created by the group above');
      // INVALID_TOPIC_EXCEPTION: "The request attempted to perform an operation on an invalid topic."
      await assert.rejects(
        producer.send({ topic: '__consumer_offsets', messages: [{ key: 'k', value: 'v' }] }),
        /invalid topic/,
      );
      await assert.rejects(
        admin.deleteTopics({ topics: ['__consumer_offsets'], timeout: 5000 }),
        (e: Error) => {
          const text = `${e.message} ${JSON.stringify((e as { errors?: unknown }).errors ?? '')}`;
          return /invalid topic|INVALID_TOPIC_EXCEPTION/.test(text);
        },
      );
      assert.ok((await admin.listTopics()).includes('__consumer_offsets'));
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
