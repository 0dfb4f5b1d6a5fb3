// Kafka 4's bounds on producer timestamps (message.timestamp.before.max.ms / after.max.ms, KIP-937): a batch
// 10 years in the future or the past of a CreateTime topic gets INVALID_TIMESTAMP and nothing is appended.
// kafkajs (a real third-party client) sends the batches; a raw Produce v11 checks the record errors.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { createTopic, describeConfigs, ResourceType } from '../../src/client/admin.js';
import { Cluster, KafkaError } from '../../src/client/cluster.js';
import { buildRecordBatch } from '../../src/protocol/batch-compression.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const { Kafka, logLevel } = kafkajs;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

async function kafkajsSend(port: number, topic: string, timestamp: number): Promise<string> {
  const kafka = new Kafka({
    clientId: 'timestamps-test',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'v', timestamp: String(timestamp) }] });
    return 'ok';
  } catch (e) {
    return (e as { type?: string }).type ?? String(e);
  } finally {
    await producer.disconnect();
  }
}

function endOffset(b: InProcessBroker, topic: string): number {
  const log = b.broker.topics.partition(topic, 0)?.log;
  assert.ok(log !== undefined);
  return log.logEndOffset;
}

describe('message.timestamp.before.max.ms / after.max.ms', () => {
  let b: InProcessBroker;
  let cluster: Cluster;

  before(async () => {
    b = await startInProcess();
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'bounded', {
      partitions: 1,
      configs: {
        'message.timestamp.before.max.ms': String(DAY_MS),
        'message.timestamp.after.max.ms': '60000',
      },
    });
    await createTopic(cluster, 'defaults', { partitions: 1 });
    await createTopic(cluster, 'append-time', {
      partitions: 1,
      configs: { 'message.timestamp.type': 'LogAppendTime' },
    });
  });

  after(async () => {
    cluster.close();
    await b.stop(true);
  });

  it('a configured topic refuses batches 10 years ahead and 10 years behind; now is fine', async () => {
    const now = Date.now();
    assert.equal(await kafkajsSend(b.port, 'bounded', now + TEN_YEARS_MS), 'INVALID_TIMESTAMP');
    assert.equal(await kafkajsSend(b.port, 'bounded', now - TEN_YEARS_MS), 'INVALID_TIMESTAMP');
    assert.equal(endOffset(b, 'bounded'), 0);
    assert.equal(await kafkajsSend(b.port, 'bounded', now), 'ok');
    assert.equal(endOffset(b, 'bounded'), 1);
    const refusals = b.logs.filter((l) => l.msg === 'produce rejected' && l.topic === 'bounded');
    assert.equal(refusals.length, 2);
    assert.equal(refusals[0]!.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.equal(refusals[0]!.error, 'One or more records have been rejected due to invalid timestamp');
    assert.match(
      String(refusals[0]!.firstRecordError),
      /^Timestamp \d+ of message with offset 0 is out of range/,
    );
  });

  it("Kafka 4's defaults: the future bounded to an hour, the past unbounded", async () => {
    const now = Date.now();
    assert.equal(await kafkajsSend(b.port, 'defaults', now + TEN_YEARS_MS), 'INVALID_TIMESTAMP');
    assert.equal(await kafkajsSend(b.port, 'defaults', now + 2 * 3600_000), 'INVALID_TIMESTAMP');
    assert.equal(await kafkajsSend(b.port, 'defaults', now + 30 * 60_000), 'ok');
    assert.equal(await kafkajsSend(b.port, 'defaults', now - TEN_YEARS_MS), 'ok');
    assert.equal(endOffset(b, 'defaults'), 2);
  });

  it('LogAppendTime topics are not checked (the broker stamps its own time)', async () => {
    assert.equal(await kafkajsSend(b.port, 'append-time', Date.now() + TEN_YEARS_MS), 'ok');
    assert.equal(endOffset(b, 'append-time'), 1);
  });

  it('Produce v8+ names the offending records in record errors (uncompressed and compressed)', async () => {
    const now = Date.now();
    const conn = await b.connect();
    try {
      for (const codec of [0, 1, 4]) {
        const batch = await buildRecordBatch(
          {
            records: [
              { value: 'a', timestamp: now },
              { value: 'b', timestamp: now + TEN_YEARS_MS },
              { value: 'c', timestamp: now },
              { value: 'd', timestamp: now - TEN_YEARS_MS },
            ],
          },
          codec,
        );
        const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: 'bounded', partitionData: [{ index: 0, records: batch }] }],
        });
        assert.ok(conn.version(ApiKey.Produce) >= 8);
        const p = res.responses[0]!.partitionResponses[0]!;
        assert.equal(p.errorCode, ErrorCode.INVALID_TIMESTAMP, `codec ${codec}`);
        assert.deepEqual(
          p.recordErrors.map((e) => e.batchIndex),
          [1, 3],
        );
        const lo = now - DAY_MS;
        assert.match(
          p.recordErrors[0]!.batchIndexErrorMessage ?? '',
          new RegExp(
            `^Timestamp ${now + TEN_YEARS_MS} of message with offset 1 is out of range\\. The timestamp should be within \\[\\d+, \\d+\\]$`,
          ),
        );
        const [, from, to] = /\[(\d+), (\d+)\]/.exec(p.recordErrors[0]!.batchIndexErrorMessage ?? '')!;
        assert.ok(Math.abs(Number(from) - lo) < 60_000 && Math.abs(Number(to) - (now + 60_000)) < 60_000);
        // Kafka's InvalidTimestampException message (LogValidator.processRecordErrors).
        assert.equal(p.errorMessage, 'One or more records have been rejected due to invalid timestamp');
      }
    } finally {
      conn.close();
    }
    assert.equal(endOffset(b, 'bounded'), 1);
  });

  it('DescribeConfigs shows both keys with their values and sources', async () => {
    const bounded = await describeConfigs(cluster, ResourceType.TOPIC, 'bounded');
    const byName = new Map(bounded.map((c) => [c.name, c]));
    assert.equal(byName.get('message.timestamp.before.max.ms')?.value, String(DAY_MS));
    assert.equal(byName.get('message.timestamp.before.max.ms')?.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(byName.get('message.timestamp.after.max.ms')?.value, '60000');
    const defaults = new Map(
      (await describeConfigs(cluster, ResourceType.TOPIC, 'defaults')).map((c) => [c.name, c]),
    );
    assert.equal(defaults.get('message.timestamp.before.max.ms')?.value, '9223372036854775807');
    assert.equal(defaults.get('message.timestamp.before.max.ms')?.source, 'DEFAULT_CONFIG');
    assert.equal(defaults.get('message.timestamp.after.max.ms')?.value, '3600000');
    assert.deepEqual(
      defaults.get('message.timestamp.after.max.ms')?.synonyms.map((s) => s.name),
      ['log.message.timestamp.after.max.ms'],
    );
  });

  it('refuses invalid values and the key Kafka 4 removed', async () => {
    await assert.rejects(
      createTopic(cluster, 'bad-bound', { configs: { 'message.timestamp.after.max.ms': '-1' } }),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG,
    );
    await assert.rejects(
      createTopic(cluster, 'bad-key', { configs: { 'message.timestamp.difference.max.ms': '1000' } }),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_CONFIG,
    );
  });
});

describe('log.message.timestamp.*.max.ms (broker keys)', () => {
  let b: InProcessBroker;

  before(async () => {
    b = await startInProcess({ 'log.message.timestamp.before.max.ms': String(DAY_MS) });
  });

  after(async () => {
    await b.stop(true);
  });

  it('are the defaults of topics without their own value', async () => {
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    try {
      await createTopic(cluster, 'plain', { partitions: 1 });
      assert.equal(await kafkajsSend(b.port, 'plain', Date.now() - TEN_YEARS_MS), 'INVALID_TIMESTAMP');
      assert.equal(await kafkajsSend(b.port, 'plain', Date.now() - 3600_000), 'ok');
      const c = (await describeConfigs(cluster, ResourceType.TOPIC, 'plain')).find(
        (x) => x.name === 'message.timestamp.before.max.ms',
      );
      assert.equal(c?.value, String(DAY_MS));
      assert.equal(c?.source, 'STATIC_BROKER_CONFIG');
    } finally {
      cluster.close();
    }
  });
});
