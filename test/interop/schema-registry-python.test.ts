// Confluent's own Python clients against `samsa registry` on the interop target (a Samsa broker by default):
// Debian's python3-confluent-kafka 1.7's SchemaRegistryClient (over python3-requests) registers, evolves,
// looks up and checks schemas; its AvroProducer/AvroConsumer (over python3-avro: Debian packages no fastavro,
// which the newer AvroSerializer needs) write Avro records through librdkafka with the registry's schema id
// in Confluent's wire format (magic byte 0, 4-byte id) and read them back through the registry.
// The newer serde API of the same 1.7 package, AvroSerializer/AvroDeserializer with SerializingProducer and
// DeserializingConsumer, runs when fastavro is present (from PyPI: .ci/run installs it; skipped otherwise), with a
// schema evolved mid-stream.
// The client programs are test/interop/clients/schema_registry_client.py and schema_registry_serde.py.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { type RegistryHandle, sr, startRegistry } from '../helpers/registry.js';
import { run } from '../helpers/run.js';
import {
  clientScript,
  python,
  pythonModule,
  requireAll,
  skipUnless,
  targetName,
  withBrokerLogs,
} from './harness.js';

const requirements = [
  pythonModule('confluent_kafka', 'python3-confluent-kafka'),
  pythonModule('requests', 'python3-requests'),
  pythonModule('avro', 'python3-avro'),
];
/** Not packaged by Debian: from PyPI (.ci/run installs it into the same python3; without PyPI the test skips). */
const fastavro = pythonModule('fastavro', 'fastavro');
const fastavroHint = `${python} -m pip install --break-system-packages fastavro`;

describe(`interop: confluent-kafka's schema registry client and Avro serde with samsa registry on ${targetName()}`, {
  skip: skipUnless(requirements),
}, () => {
  let broker: BrokerHandle | undefined;
  let registry: RegistryHandle | undefined;

  before(async () => {
    requireAll(requirements);
    broker = await startTarget();
    registry = await startRegistry(broker.bootstrap);
  });

  after(async () => {
    await registry?.stop();
    await broker?.destroy();
  });

  test('register, evolve, look up; Avro records produced and read back through the registry', {
    timeout: 180_000,
  }, async () => {
    await withBrokerLogs(broker, async () => {
      const b = broker!;
      const r = registry!;
      const topic = 'payments';
      const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
      try {
        await createTopic(cluster, topic, { partitions: 1, replicationFactor: 1 });
      } finally {
        cluster.close();
      }
      const count = 200;
      const res = await run(
        python,
        [clientScript('schema_registry_client.py'), r.url, b.bootstrap, topic, String(count)],
        {
          timeoutMs: 150_000,
        },
      );
      const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
      assert.equal(out.id1_again, out.id1, 'the same schema, indented differently, keeps its id');
      assert.deepEqual(out.lookup, { id: out.id1, version: 1, subject: `${topic}-value` });
      assert.deepEqual(out.incompatible, { http_status: 409, error_code: 409 });
      assert.equal(out.bad_is_compatible, false);
      assert.equal(out.v2_is_compatible, true);
      assert.ok(out.id2 > out.id1);
      assert.deepEqual(out.latest, { id: out.id2, version: 2 });
      assert.deepEqual(out.versions, [1, 2]);
      assert.deepEqual(out.subjects, [`${topic}-value`]);
      assert.deepEqual(out.set_compatibility, { compatibility: 'FULL' });
      assert.equal(out.get_compatibility, 'FULL');
      assert.equal(out.schema_by_id.fields.length, 2);
      // The serializer registered v2 itself (same schema, same id) and put that id on every record.
      assert.deepEqual(out.wire_ids, [[0, out.id2]]);
      assert.equal(out.consumed, count);
      assert.equal(out.decoded_ok, true, JSON.stringify(out.first));
      // What the clients did is what the registry serves.
      const v2 = await sr(r.url, 'GET', `/subjects/${topic}-value/versions/2`);
      assert.equal(v2.body.id, out.id2);
    });
  });

  test('AvroSerializer/AvroDeserializer (fastavro) write and read an evolving schema through the registry', {
    timeout: 180_000,
    skip: fastavro.present() ? false : `fastavro is not installed (${fastavroHint})`,
  }, async () => {
    await withBrokerLogs(broker, async () => {
      const b = broker!;
      const topic = 'readings';
      const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
      try {
        await createTopic(cluster, topic, { partitions: 1, replicationFactor: 1 });
      } finally {
        cluster.close();
      }
      const count = 200;
      const res = await run(
        python,
        [clientScript('schema_registry_serde.py'), registry!.url, b.bootstrap, topic, String(count)],
        { timeoutMs: 150_000 },
      );
      const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
      assert.deepEqual(out.versions, [1, 2], 'each serializer registered its schema');
      const [id1, id2] = out.ids as [number, number];
      assert.ok(id2 > id1);
      assert.deepEqual(out.wire_first, [0, id1]);
      assert.deepEqual(out.wire_last, [0, id2]);
      assert.equal(out.consumed, count);
      assert.equal(out.mismatched, 0, JSON.stringify(out.first_bad));
    });
  });
});
