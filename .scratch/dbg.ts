import { Kafka, logLevel } from 'kafkajs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startBroker } from '../test/helpers/broker.js';
import { makeTestPki } from '../test/helpers/tls-certs.js';
const dir = await mkdtemp(join(tmpdir(), 'dbg-'));
const pki = makeTestPki(dir);
const plain = await freePort(); const ssl = await freePort(); const saslSsl = await freePort();
const broker = await startBroker({ port: plain, overrides: {
  listeners: `PLAINTEXT://127.0.0.1:${plain},SSL://127.0.0.1:${ssl},SASL_SSL://127.0.0.1:${saslSsl}`,
  'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
  'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerKeystore,
  'ssl.truststore.type': 'PEM', 'ssl.truststore.location': pki.ca,
  'listener.name.ssl.ssl.client.auth': 'required',
  'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
  'listener.name.sasl_ssl.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_paula="paula-secret";',
  'connection.failed.authentication.delay.ms': process.env.DELAY ?? '100',
}});
console.log(JSON.stringify({ dir, plain, ssl, saslSsl, ca: pki.ca }));
if (process.env.KEEP) { await new Promise((r) => setTimeout(r, Number(process.env.KEEP))); }
else {
const { addScramUser } = await import('../test/security/secure-clients.js'); await addScramUser(`127.0.0.1:${plain}`, 'sam256', 'sam256-secret', 'SCRAM-SHA-256');
const good = new Kafka({ clientId: 'g', brokers: [`127.0.0.1:${saslSsl}`], ssl: { ca: [pki.caPem] }, sasl: { mechanism: 'plain', username: 'paula', password: 'paula-secret' }, logLevel: logLevel.ERROR });
const pr = good.producer(); await pr.connect(); await pr.send({ topic: 'tt', messages: [{ value: 'x' }] }); await pr.disconnect();
if (process.env.CONSUME) { const c = good.consumer({ groupId: 'gg' }); await c.connect(); await c.subscribe({ topic: 'tt', fromBeginning: true });
await new Promise<void>((res) => { void c.run({ eachMessage: async () => res() }); }); await c.disconnect(); }
console.log('--- now bad');
const bad = new Kafka({ clientId: 'x', brokers: [`127.0.0.1:${saslSsl}`], ssl: { ca: [pki.caPem] },
  sasl: { mechanism: (process.env.MECH ?? 'plain') as 'plain', username: process.env.U ?? 'paula', password: 'wrong' }, logLevel: logLevel.DEBUG, retry: { retries: 0 } });
const a = bad.admin();
try { await a.connect(); console.log('CONNECTED?!'); const t = await a.listTopics(); console.log('topics', t); } catch (e) { console.log('rejected', e); }
await a.disconnect();
console.log(broker.logs().slice(-3000));
}
await broker.destroy();
