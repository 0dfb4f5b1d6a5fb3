/**
 * Real clients against a secured three-broker cluster (ZooKeeper): the brokers talk to each other over an INTERNAL
 * SASL_SSL listener (PLAIN), clients use a CLIENT SASL_SSL listener with SCRAM. One SCRAM user, created once through
 * the admin API (AlterUserScramCredentials on broker 1), logs in on every broker: the Java client and kcat produce
 * with acks=all to topics led by each broker (bootstrapped from broker 1 only, so they find the others through
 * Metadata on the CLIENT listener) and read back what they wrote.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { freePort } from '../helpers/broker.js';
import {
  createAssignedTopic,
  startCluster,
  type TestCluster,
  waitFor,
  withClusterLogs,
} from '../helpers/cluster.js';
import { run } from '../helpers/run.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';
import { skipUnless, tool } from '../interop/harness.js';
import { addScramUser, type ClientCase, JAVA, kcatSaslSsl, runJavaCases } from './secure-clients.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret";';
const IDS = [1, 2, 3];

describe('clients over SASL_SSL SCRAM against a cluster whose brokers talk SASL_SSL', {
  skip: zooKeeperSkip(),
  timeout: 300_000,
}, () => {
  let c: TestCluster | undefined;
  let dir: string;
  let pki: TestPki;
  const clientPorts = new Map<number, number>();
  const topics = IDS.map((id) => `secure-led-by-${id}-${Date.now().toString(36)}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-secure-cluster-'));
    pki = makeTestPki(dir);
    const plainPorts = new Map<number, number>();
    const internal = new Map<number, number>();
    for (const id of IDS) {
      plainPorts.set(id, await freePort());
      internal.set(id, await freePort());
      clientPorts.set(id, await freePort());
    }
    c = await startCluster({
      overrides: {
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL,CLIENT:SASL_SSL',
        'inter.broker.listener.name': 'INTERNAL',
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'listener.name.internal.sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.internal.plain.sasl.jaas.config': JAAS,
        'listener.name.client.sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerKeystore,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.ca,
      },
      placement: (id) => ({ port: plainPorts.get(id)! }),
      brokerOverrides: Object.fromEntries(
        IDS.map((id) => [
          id,
          {
            listeners: `PLAINTEXT://127.0.0.1:${plainPorts.get(id)},INTERNAL://127.0.0.1:${internal.get(id)},CLIENT://127.0.0.1:${clientPorts.get(id)}`,
          },
        ]),
      ),
    });
    for (const [i, topic] of topics.entries()) {
      const leader = IDS[i] as number;
      await createAssignedTopic(c, 1, topic, [[leader, ...IDS.filter((x) => x !== leader)]], {
        'min.insync.replicas': '2',
      });
    }
    // Once, on broker 1 only.
    await addScramUser(c.bootstrapOf(1), 'olga', 'olga-secret', 'SCRAM-SHA-512');
    await addScramUser(c.bootstrapOf(1), 'olga', 'olga-secret-256', 'SCRAM-SHA-256');
    // Every broker learns it through ZooKeeper: wait until each CLIENT listener lets olga in.
    for (const id of IDS) {
      await waitFor(
        `broker ${id} knows olga`,
        async () => {
          const conn = await KafkaConnection.connect({
            host: '127.0.0.1',
            port: clientPorts.get(id)!,
            security: {
              protocol: 'SASL_SSL',
              tls: { ca: pki.caPem },
              sasl: { mechanism: 'SCRAM-SHA-512', username: 'olga', password: 'olga-secret' },
            },
          });
          await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
          conn.close();
          return true;
        },
        30_000,
      );
    }
  });

  after(async () => {
    await c?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const clientBootstrap = () => `127.0.0.1:${clientPorts.get(1)}`;

  test(
    'Java kafka-clients: SCRAM-SHA-512 and -256 over SASL_SSL, acks=all to partitions led by every broker',
    { skip: skipUnless(JAVA) },
    () =>
      withClusterLogs(c, async () => {
        const config = (mechanism: string, password: string) => ({
          'bootstrap.servers': clientBootstrap(),
          'security.protocol': 'SASL_SSL',
          'ssl.truststore.type': 'PEM',
          'ssl.truststore.location': pki.ca,
          'sasl.mechanism': mechanism,
          'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="olga" password="${password}";`,
        });
        const cases: ClientCase[] = topics.map((topic, i) => ({
          name: `java-led-by-${IDS[i]}`,
          topic,
          count: 200,
          config:
            i === 1 ? config('SCRAM-SHA-256', 'olga-secret-256') : config('SCRAM-SHA-512', 'olga-secret'),
        }));
        const results = await runJavaCases(dir, cases);
        for (const k of cases) {
          const r = results.get(k.name);
          assert.ok(
            r?.ok === true && r.acked === 200 && r.consumed === 200,
            `${k.name}: ${JSON.stringify(r)}`,
          );
        }
      }),
  );

  test(
    'kcat (librdkafka): SCRAM-SHA-512 over SASL_SSL, acks=all to partitions led by every broker',
    {
      skip: skipUnless([tool('kcat', 'apt-get install kcat')]),
    },
    () =>
      withClusterLogs(c, async () => {
        const login = kcatSaslSsl(clientBootstrap(), pki.ca, 'SCRAM-SHA-512', 'olga', 'olga-secret');
        for (const topic of topics) {
          const lines = Array.from({ length: 50 }, (_, i) => `kcat-${i}`);
          await run('kcat', [...login, '-X', 'request.required.acks=-1', '-P', '-t', topic, '-p', '0'], {
            input: `${lines.join('\n')}\n`,
            timeoutMs: 60_000,
          });
          const consumed = await run(
            'kcat',
            [...login, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q'],
            {
              timeoutMs: 60_000,
            },
          );
          const got = consumed.stdout
            .trim()
            .split('\n')
            .filter((l) => l.startsWith('kcat-'));
          assert.deepEqual(got, lines, `${topic}: ${consumed.stderr}`);
        }
      }),
  );
});
