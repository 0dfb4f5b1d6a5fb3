// Node's Confluent registry client, @kafkajs/confluent-schema-registry 3.x (over mappersmith, encoding with avsc),
// against `samsa registry` on the interop target (a Samsa broker by default), with kafkajs carrying the records:
// the client registers a schema (and sets the subject's compatibility the first time, as it does), encodes
// records in Confluent's wire format (magic byte 0, 4-byte id, Avro binary), kafkajs produces and consumes them,
// the client decodes them back through the registry (GET /schemas/ids/{id}); an evolved schema gets a new id and
// old records still decode; an incompatible schema is refused with HTTP 409.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import kafkajs from 'kafkajs';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { type RegistryHandle, sr, startRegistry } from '../helpers/registry.js';
import { requireAll, skipUnless, targetName, withBrokerLogs } from './harness.js';

const { Kafka, logLevel } = kafkajs;

const V1 = {
  type: 'record' as const,
  name: 'Payment',
  namespace: 'io.samsa.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'double' },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'note', type: ['null', 'string'], default: null }] };
const BAD = { ...V1, fields: [...V1.fields, { name: 'region', type: 'string' }] };

describe(`interop: @kafkajs/confluent-schema-registry and kafkajs with samsa registry on ${targetName()}`, {
  skip: skipUnless([]),
}, () => {
  let broker: BrokerHandle | undefined;
  let registry: RegistryHandle | undefined;

  before(async () => {
    requireAll([]);
    broker = await startTarget();
    registry = await startRegistry(broker.bootstrap);
  });

  after(async () => {
    await registry?.stop();
    await broker?.destroy();
  });

  test('register, encode, produce with kafkajs, consume, decode; an incompatible schema gets 409', {
    timeout: 180_000,
  }, async () => {
    await withBrokerLogs(broker, async () => {
      const topic = 'payments-node';
      const subject = `${topic}-value`;
      const client = new SchemaRegistry({ host: registry!.url, retry: { retries: 0 } });
      const { id: id1 } = await client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(V1) },
        { subject },
      );
      const again = await client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(V1, null, 2) },
        { subject },
      );
      assert.equal(again.id, id1, 'the same schema keeps its id');
      // The client set the subject's compatibility on first registration (its default, BACKWARD).
      assert.deepEqual((await sr(registry!.url, 'GET', `/config/${subject}`)).body, {
        compatibilityLevel: 'BACKWARD',
      });

      let refused: { status?: number; message: string } | undefined;
      try {
        await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(BAD) }, { subject });
      } catch (e) {
        refused = e as { status?: number; message: string };
      }
      assert.ok(refused !== undefined, 'the incompatible schema was accepted');
      assert.equal(refused.status, 409, refused.message);

      const { id: id2 } = await client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(V2) },
        { subject },
      );
      assert.ok(id2 > id1);
      assert.equal(await client.getLatestSchemaId(subject), id2);

      const count = 300;
      const sent: { id: number; amount: number; note?: string | null }[] = [];
      const messages: { key: string; value: Buffer }[] = [];
      for (let i = 0; i < count; i++) {
        const old = i < count / 2;
        const v = old
          ? { id: i, amount: i * 1.25 }
          : { id: i, amount: i * 1.25, note: i % 3 ? `n${i}` : null };
        sent.push(v);
        messages.push({ key: String(i), value: await client.encode(old ? id1 : id2, v) });
      }
      assert.deepEqual([...messages[0]!.value.subarray(0, 5)], [0, 0, 0, 0, id1]);

      const kafka = new Kafka({
        clientId: 'samsa-interop-registry',
        brokers: [broker!.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, acks: -1, messages });
      await producer.disconnect();

      // A fresh client (empty cache) decodes what kafkajs reads: every schema comes from the registry by id.
      const reader = new SchemaRegistry({ host: registry!.url, retry: { retries: 0 } });
      const consumer = kafka.consumer({ groupId: `${topic}-readers` });
      const got = new Map<number, unknown>();
      const ids = new Set<number>();
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachMessage: async ({ message }) => {
                const value = message.value as Buffer;
                ids.add(value.readInt32BE(1));
                got.set(Number(message.key?.toString()), await reader.decode(value));
                if (got.size === count) resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual([...ids].sort(), [id1, id2]);
      for (let i = 0; i < count; i++) assert.deepEqual({ ...(got.get(i) as object) }, sent[i], `record ${i}`);
      // Old records read with the newer schema as reader: the new optional field is null.
      const asV2 = await reader.decode(messages[0]!.value, { [SchemaType.AVRO]: { readerSchema: V2 } });
      assert.deepEqual({ ...asV2 }, { id: 0, amount: 0, note: null });
    });
  });
});
