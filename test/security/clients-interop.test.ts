/**
 * The other real clients over TLS and SASL, on one broker with a PLAINTEXT listener (for the admin), an SSL
 * listener that requires client certificates and a SASL_SSL listener with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512:
 * the Java client (kafka-clients 4.x, PEM trust and key stores), confluent-kafka (librdkafka) and kafkajs each
 * produce with acks=all and read back what they wrote; a wrong password is refused with an authentication error.
 * (tls-sasl.test.ts has kcat, kafka-python and kafkajs SCRAM-SHA-512.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { pythonModule, skipUnless } from '../interop/harness.js';
import {
  addScramUser,
  type CaseResult,
  type ClientCase,
  JAVA,
  runConfluentCases,
  runJavaCases,
} from './secure-clients.js';

const PLAIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_paula="paula-secret";';
const COUNT = 200;

function assertCases(results: Map<string, CaseResult>, cases: ClientCase[]): void {
  for (const c of cases) {
    const r = results.get(c.name);
    assert.ok(r !== undefined, `case ${c.name}: no result (${JSON.stringify([...results.values()])})`);
    assert.equal(r.ok, true, `case ${c.name}: ${JSON.stringify(r)}`);
    if (c.expect !== 'auth-failure') assert.deepEqual([r.acked, r.consumed], [c.count, c.count], c.name);
  }
}

describe('Java, confluent-kafka and kafkajs over SSL and SASL_SSL', { timeout: 300_000 }, () => {
  let dir: string;
  let pki: TestPki;
  let broker: BrokerHandle;
  const ports = { plain: 0, ssl: 0, saslSsl: 0 };
  const run36 = Date.now().toString(36);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-clients-tls-'));
    pki = makeTestPki(dir);
    ports.plain = await freePort();
    ports.ssl = await freePort();
    ports.saslSsl = await freePort();
    broker = await startBroker({
      port: ports.plain,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${ports.plain},SSL://127.0.0.1:${ports.ssl},SASL_SSL://127.0.0.1:${ports.saslSsl}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerKeystore,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.ca,
        'listener.name.ssl.ssl.client.auth': 'required',
        'listener.name.ssl.ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=clients.*$/$1/,DEFAULT',
        'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
        'connection.failed.authentication.delay.ms': '100',
      },
    });
    const admin = `127.0.0.1:${ports.plain}`;
    await addScramUser(admin, 'sam256', 'sam256-secret', 'SCRAM-SHA-256');
    await addScramUser(admin, 'sam512', 'sam512-secret', 'SCRAM-SHA-512');
  });

  after(async () => {
    await broker?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const saslSsl = (mechanism: string, module: 'scram' | 'plain', user: string, password: string) => ({
    'bootstrap.servers': `127.0.0.1:${ports.saslSsl}`,
    'security.protocol': 'SASL_SSL',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': pki.ca,
    'sasl.mechanism': mechanism,
    'sasl.jaas.config': `org.apache.kafka.common.security.${module}.${module === 'scram' ? 'Scram' : 'Plain'}LoginModule required username="${user}" password="${password}";`,
  });

  test('Java kafka-clients: SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, SSL with a PEM client certificate', {
    skip: skipUnless(JAVA),
  }, async () => {
    const cases: ClientCase[] = [
      {
        name: 'java-scram256',
        topic: `java-scram256-${run36}`,
        count: COUNT,
        config: saslSsl('SCRAM-SHA-256', 'scram', 'sam256', 'sam256-secret'),
      },
      {
        name: 'java-scram512',
        topic: `java-scram512-${run36}`,
        count: COUNT,
        config: saslSsl('SCRAM-SHA-512', 'scram', 'sam512', 'sam512-secret'),
      },
      {
        name: 'java-plain',
        topic: `java-plain-${run36}`,
        count: COUNT,
        config: saslSsl('PLAIN', 'plain', 'paula', 'paula-secret'),
      },
      {
        name: 'java-ssl-cert',
        topic: `java-ssl-${run36}`,
        count: COUNT,
        config: {
          'bootstrap.servers': `127.0.0.1:${ports.ssl}`,
          'security.protocol': 'SSL',
          'ssl.truststore.type': 'PEM',
          'ssl.truststore.location': pki.ca,
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': join(pki.dir, 'client.pem'),
        },
      },
      {
        name: 'java-scram256-wrong-password',
        topic: `java-scram256-${run36}`,
        count: 0,
        expect: 'auth-failure',
        config: saslSsl('SCRAM-SHA-256', 'scram', 'sam256', 'not-the-secret'),
      },
    ];
    assertCases(await runJavaCases(dir, cases), cases);
  });

  test('confluent-kafka (librdkafka): SASL_SSL with SCRAM-SHA-256 and PLAIN, SSL with a client certificate', {
    skip: skipUnless([pythonModule('confluent_kafka', 'python3-confluent-kafka')]),
  }, async () => {
    const sasl = (mechanism: string, user: string, password: string) => ({
      'bootstrap.servers': `127.0.0.1:${ports.saslSsl}`,
      'security.protocol': 'SASL_SSL',
      'ssl.ca.location': pki.ca,
      'sasl.mechanisms': mechanism,
      'sasl.username': user,
      'sasl.password': password,
    });
    const cases: ClientCase[] = [
      {
        name: 'ck-scram256',
        topic: `ck-scram256-${run36}`,
        count: COUNT,
        config: sasl('SCRAM-SHA-256', 'sam256', 'sam256-secret'),
      },
      {
        name: 'ck-plain',
        topic: `ck-plain-${run36}`,
        count: COUNT,
        config: sasl('PLAIN', 'paula', 'paula-secret'),
      },
      {
        name: 'ck-ssl-cert',
        topic: `ck-ssl-${run36}`,
        count: COUNT,
        config: {
          'bootstrap.servers': `127.0.0.1:${ports.ssl}`,
          'security.protocol': 'SSL',
          'ssl.ca.location': pki.ca,
          'ssl.certificate.location': pki.clientCert,
          'ssl.key.location': pki.clientKey,
        },
      },
      {
        name: 'ck-plain-wrong-password',
        topic: `ck-plain-${run36}`,
        count: 0,
        expect: 'auth-failure',
        config: sasl('PLAIN', 'paula', 'wrong'),
      },
    ];
    assertCases(await runConfluentCases(dir, cases), cases);
  });

  test('kafkajs: SASL_SSL with PLAIN and SCRAM-SHA-256 produces and consumes; a wrong password is refused', async () => {
    for (const [name, sasl] of [
      ['plain', { mechanism: 'plain', username: 'paula', password: 'paula-secret' }],
      ['scram256', { mechanism: 'scram-sha-256', username: 'sam256', password: 'sam256-secret' }],
    ] as [string, SASLOptions][]) {
      const topic = `js-${name}-${run36}`;
      const kafka = new Kafka({
        clientId: 'samsa-security-test',
        brokers: [`127.0.0.1:${ports.saslSsl}`],
        ssl: { ca: [pki.caPem] },
        sasl,
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 50 }, (_, i) => ({ value: `${name}-${i}`, partition: 0 })),
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: `js-${name}-${run36}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              seen.push(message.value?.toString() ?? '');
              if (seen.length === 50) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      assert.deepEqual(
        seen,
        Array.from({ length: 50 }, (_, i) => `${name}-${i}`),
      );
      const bad = new Kafka({
        clientId: 'samsa-security-test',
        brokers: [`127.0.0.1:${ports.saslSsl}`],
        ssl: { ca: [pki.caPem] },
        // A new object: kafkajs keeps its authenticator (with the password) on the one it was given.
        sasl: {
          mechanism: sasl.mechanism,
          username: (sasl as { username: string }).username,
          password: 'wrong',
        } as SASLOptions,
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const badAdmin = bad.admin();
      await assert.rejects(
        badAdmin.connect(),
        /authentication failed|Invalid (user credentials|username or password)/i,
      );
    }
  });
});
