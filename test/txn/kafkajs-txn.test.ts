// Transactions on kafkajs 2.x (its own protocol code: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn,
// TxnOffsetCommit, EndTxn at older versions than the Java client) against the target broker
// (SAMSA_INTEROP_TARGET): committed and aborted transactions read back by kafkajs consumers at both isolation
// levels, and sendOffsets committing (or, aborted, not committing) a group's offset.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Kafka as KafkaClient } from 'kafkajs';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { requireAll, skipUnless, targetName, withBrokerLogs } from '../interop/harness.js';
import { duplicates, kafkaFeatures, makeTopic, txnBrokerOverrides } from './txn-clients.js';

const { Kafka, logLevel } = kafkajs;

function client(bootstrap: string): KafkaClient {
  return new Kafka({
    clientId: 'samsa-txn-kafkajs',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/** Reads `topic` through a new group until a record "end-<p>" arrived from every partition. */
async function readAll(kafka: KafkaClient, topic: string, groupId: string, readUncommitted: boolean) {
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
  const values: string[] = [];
  const ends = new Set<number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`kafkajs read (uncommitted=${readUncommitted}): ${JSON.stringify(values)}`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const v = message.value?.toString() ?? '';
            values.push(v);
            if (v === `end-${partition}`) ends.add(partition);
            if (ends.size === 2) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

/** Asks the group's committed offsets until the coordinator answers without a retriable error (60 s at most). */
async function groupCoordinatorReady(kafka: KafkaClient, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await admin.fetchOffsets({ groupId, topics: [topic] });
        return;
      } catch (e) {
        if ((e as { retriable?: boolean }).retriable !== true || Date.now() > deadline) throw e;
        await sleep(200);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

describe(`transactions: kafkajs against ${targetName()}`, { skip: skipUnless([]) }, () => {
  let broker: BrokerHandle | undefined;

  before(async () => {
    requireAll([]);
    broker = await startTarget({ overrides: txnBrokerOverrides, kafkaFeatures });
  });

  after(async () => {
    await broker?.destroy();
  });

  test(
    'commit, abort and sendOffsets; read_committed and read_uncommitted consumers',
    {
      timeout: 120_000,
    },
    () =>
      withBrokerLogs(broker, async () => {
        const b = broker!;
        const id = Date.now().toString(36);
        const topic = `txn-kafkajs-${id}`;
        const group = `txn-kafkajs-offsets-${id}`;
        await makeTopic(b.bootstrap, topic, 2);
        const kafka = client(b.bootstrap);
        // kafkajs retries neither TxnOffsetCommit nor OffsetFetch on NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE /
        // LOAD_IN_PROGRESS (the Java client does): wait until the group's coordinator answers before using it.
        await groupCoordinatorReady(kafka, group, topic);
        const producer = kafka.producer({
          transactionalId: `kafkajs-${id}`,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: 10_000,
        });
        await producer.connect();
        const batch = (prefix: string, n: number) =>
          [0, 1].map((partition) => ({
            topic,
            messages: Array.from({ length: n }, (_, i) => ({
              partition,
              value: `${prefix}-${partition}-${i}`,
            })),
          }));
        try {
          const t1 = await producer.transaction();
          await t1.sendBatch({ topicMessages: batch('c1', 5) });
          await t1.sendOffsets({
            consumerGroupId: group,
            topics: [{ topic, partitions: [{ partition: 0, offset: '4' }] }],
          });
          await t1.commit();
          const t2 = await producer.transaction();
          await t2.sendBatch({ topicMessages: batch('a1', 4) });
          await t2.sendOffsets({
            consumerGroupId: group,
            topics: [{ topic, partitions: [{ partition: 0, offset: '9' }] }],
          });
          await t2.abort();
          const t3 = await producer.transaction();
          await t3.sendBatch({
            topicMessages: [0, 1].map((partition) => ({
              topic,
              messages: [{ partition, value: `end-${partition}` }],
            })),
          });
          await t3.commit();
        } finally {
          await producer.disconnect();
        }

        const committed = await readAll(kafka, topic, `txn-kafkajs-rc-${id}`, false);
        const c1 = [0, 1].flatMap((p) => Array.from({ length: 5 }, (_, i) => `c1-${p}-${i}`));
        assert.deepEqual([...committed].sort(), [...c1, 'end-0', 'end-1'].sort(), 'read_committed');
        assert.deepEqual(duplicates(committed), []);
        const uncommitted = await readAll(kafka, topic, `txn-kafkajs-ru-${id}`, true);
        assert.equal(
          uncommitted.filter((v) => v.startsWith('a1-')).length,
          8,
          'read_uncommitted sees aborted data',
        );

        const admin = kafka.admin();
        await admin.connect();
        try {
          const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
          const p0 = offsets?.partitions.find((p) => p.partition === 0);
          assert.equal(
            p0?.offset,
            '4',
            `the committed transaction's offset, not the aborted one's: ${JSON.stringify(offsets)}`,
          );
        } finally {
          await admin.disconnect();
        }
      }),
  );
});
