/**
 * Brokers authenticate to each other: three brokers and a real ZooKeeper, clients on PLAINTEXT, the brokers'
 * own traffic (replica fetchers, the controller's requests, transaction markers) on an INTERNAL listener that is
 * SASL_SSL with PLAIN. Followers replicate over it (full ISRs, acks=all works) and a transaction commits across
 * brokers; the leaders log the brokers' authenticated principal.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Producer } from '../../src/client/producer.js';
import { freePort } from '../helpers/broker.js';
import { createAssignedTopic, startCluster, type TestCluster, withClusterLogs } from '../helpers/cluster.js';
import { makeTestPki } from '../helpers/tls-certs.js';
import { zooKeeperSkip } from '../helpers/zookeeper.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret";';

describe('inter-broker TLS and SASL', { skip: zooKeeperSkip(), timeout: 240_000 }, () => {
  let c: TestCluster | undefined;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-interbroker-'));
    const pki = makeTestPki(dir);
    const internal = new Map<number, number>();
    for (const id of [1, 2, 3]) internal.set(id, await freePort());
    const clientPorts = new Map<number, number>();
    for (const id of [1, 2, 3]) clientPorts.set(id, await freePort());
    c = await startCluster({
      overrides: {
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL',
        'inter.broker.listener.name': 'INTERNAL',
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'listener.name.internal.sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.internal.plain.sasl.jaas.config': JAAS,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerKeystore,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.ca,
        'transaction.state.log.replication.factor': '3',
        'transaction.state.log.min.isr': '2',
        'transaction.state.log.num.partitions': '3',
      },
      placement: (id) => ({ port: clientPorts.get(id)! }),
      brokerOverrides: Object.fromEntries(
        [1, 2, 3].map((id) => [
          id,
          {
            listeners: `PLAINTEXT://127.0.0.1:${clientPorts.get(id)},INTERNAL://127.0.0.1:${internal.get(id)}`,
          },
        ]),
      ),
    });
  });

  after(async () => {
    await c?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('followers replicate over SASL_SSL: full ISRs, acks=all, and the brokers log in as User:broker', () =>
    withClusterLogs(c, async () => {
      const cluster = c as TestCluster;
      await createAssignedTopic(cluster, 1, 'replicated', [
        [1, 2, 3],
        [2, 3, 1],
        [3, 1, 2],
      ]);
      const p = await Producer.connect({ bootstrap: cluster.bootstrapOf(2), acks: -1 });
      try {
        for (let part = 0; part < 3; part++) {
          await p.send('replicated', [{ value: `over INTERNAL ${part}`, partition: part }]);
        }
      } finally {
        await p.close();
      }
      const logs = cluster.logs(200_000);
      assert.match(logs, /client authenticated.*"listener":"INTERNAL".*"principal":"User:broker"/);
    }));
});
