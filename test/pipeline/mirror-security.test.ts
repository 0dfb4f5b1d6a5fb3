// samsa mirror and samsa audit with client security (--source-command-config, the MirrorMaker 2 style
// source.* keys of --config): from a source broker's SASL_SSL listener (PLAIN over TLS, a test CA) to a PLAINTEXT
// target, between real broker processes. The source's SASL_SSL port serves nothing before TLS and SASL, so a copy
// only happens when the security is used.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { samsa } from '../cli/cli-helpers.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { waitFor } from '../helpers/cluster.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import {
  assertSameRecords,
  killMirrors,
  makeTopic,
  produceRecords,
  readTopic,
  singleBrokerTxn,
  startMirror,
} from './mirror-helpers.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="mirror" password="mirror-secret" user_mirror="mirror-secret";';

describe('samsa mirror and audit from a SASL_SSL source', { timeout: 300_000 }, () => {
  let dir: string;
  let pki: TestPki;
  let source: BrokerHandle;
  let target: BrokerHandle;
  let secure = '';
  let clientProps = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-mirror-sec-'));
    pki = makeTestPki(dir);
    const plain = await freePort();
    const saslSsl = await freePort();
    secure = `127.0.0.1:${saslSsl}`;
    [source, target] = await Promise.all([
      startBroker({
        port: plain,
        overrides: {
          ...singleBrokerTxn,
          listeners: `PLAINTEXT://127.0.0.1:${plain},SASL_SSL://127.0.0.1:${saslSsl}`,
          'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
          'ssl.keystore.type': 'PEM',
          'ssl.keystore.location': pki.brokerKeystore,
          'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'PLAIN',
          'listener.name.sasl_ssl.plain.sasl.jaas.config': JAAS,
          'connection.failed.authentication.delay.ms': '0',
        },
      }),
      startBroker({ overrides: singleBrokerTxn }),
    ]);
    clientProps = join(dir, 'source.properties');
    writeFileSync(
      clientProps,
      [
        'security.protocol=SASL_SSL',
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${pki.ca}`,
        'sasl.mechanism=PLAIN',
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="mirror" password="mirror-secret";',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await killMirrors();
    await Promise.all([source?.destroy(), target?.destroy()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function copied(topic: string, want: Map<number, unknown[]>): Promise<void> {
    const total = [...want.values()].reduce((n, r) => n + r.length, 0);
    await waitFor(
      `${topic} copied`,
      async () => {
        try {
          const got = await readTopic(target.bootstrap, topic);
          return [...got.values()].reduce((n, r) => n + r.length, 0) >= total ? true : undefined;
        } catch {
          return undefined;
        }
      },
      60_000,
      200,
    );
  }

  test('--source-command-config: copies from SASL_SSL to PLAINTEXT; audit with --source-command-config agrees', async () => {
    await makeTopic(source.bootstrap, 'secure-a', 2);
    const recs = await produceRecords(source.bootstrap, 'secure-a', 2, 500);
    const m = startMirror([
      '--from',
      secure,
      '--to',
      target.bootstrap,
      '--topics',
      'secure-a',
      '--group',
      'g-sec-a',
      '--source-command-config',
      clientProps,
    ]);
    await copied('secure-a', recs);
    assertSameRecords(recs, await readTopic(target.bootstrap, 'secure-a'), 'secure-a');
    m.run.kill('SIGTERM');
    assert.equal((await m.run.done).code, 0, m.lines.join('\n'));

    const audit = await samsa([
      'audit',
      '--source',
      secure,
      '--target',
      target.bootstrap,
      '--topic',
      'secure-a',
      '--source-command-config',
      clientProps,
      '--json',
    ]);
    assert.equal(audit.code, 0, audit.stderr);
    const report = JSON.parse(audit.stdout) as { windows: { source: number; missing: number }[] };
    assert.equal(
      report.windows.reduce((n, w) => n + w.source, 0),
      1000,
    );
    // Without the properties the SASL_SSL port does not answer a PLAINTEXT client.
    const refused = await samsa([
      'audit',
      '--source',
      secure,
      '--target',
      target.bootstrap,
      '--topic',
      'secure-a',
    ]);
    assert.notEqual(refused.code, 0);
  });

  test('the --config file takes MirrorMaker 2 style source.security.protocol, source.ssl.*, source.sasl.* keys', async () => {
    await makeTopic(source.bootstrap, 'secure-b', 1);
    const recs = await produceRecords(source.bootstrap, 'secure-b', 1, 300);
    const config = join(dir, 'mirror.properties');
    writeFileSync(
      config,
      [
        `source.bootstrap.servers=${secure}`,
        `target.bootstrap.servers=${target.bootstrap}`,
        'topics=secure-b',
        'group.id=g-sec-b',
        'source.security.protocol=SASL_SSL',
        `source.ssl.truststore.location=${pki.ca}`,
        'source.sasl.mechanism=PLAIN',
        'source.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="mirror" password="mirror-secret";',
        '',
      ].join('\n'),
    );
    const m = startMirror(['--config', config]);
    await copied('secure-b', recs);
    assertSameRecords(recs, await readTopic(target.bootstrap, 'secure-b'), 'secure-b');
    m.run.kill('SIGTERM');
    assert.equal((await m.run.done).code, 0, m.lines.join('\n'));
  });
});
