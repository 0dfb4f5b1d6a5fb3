/**
 * Certificate reload without a restart, on one real broker: altering the per-broker dynamic config
 * listener.name.ssl.ssl.keystore.location (with `samsa configs`, as kafka-configs.sh) makes new TLS connections
 * see the new certificate while an open connection keeps working; the same value again reloads a file that
 * changed; material that does not load, or a certificate for another subject, is refused and the served
 * certificate stays.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { samsa } from '../cli/cli-helpers.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { issueCert, makeTestPki, type TestPki } from '../helpers/tls-certs.js';

/** A new broker key and certificate signed by the test CA, as a PEM key store (key + certificate); its fingerprint. */
function issue(pki: TestPki, name: string, subject: string): { path: string; fingerprint: string } {
  const c = issueCert(pki.dir, name, subject);
  return { path: c.keystore, fingerprint: new X509Certificate(c.certPem).fingerprint256 };
}

describe('TLS certificate reload (dynamic ssl.keystore.location)', () => {
  let dir: string;
  let pki: TestPki;
  let broker: BrokerHandle;
  let plain = 0;
  let ssl = 0;
  let live = '';
  let fingerprintA = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-tls-reload-'));
    pki = makeTestPki(dir);
    fingerprintA = new X509Certificate(readFileSync(join(dir, 'broker-cert.pem'))).fingerprint256;
    // The broker reads its key store from a file that the test later overwrites in place.
    live = join(dir, 'live.pem');
    copyFileSync(pki.brokerKeystore, live);
    plain = await freePort();
    ssl = await freePort();
    broker = await startBroker({
      port: plain,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${plain},SSL://127.0.0.1:${ssl}`,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL',
        'listener.name.ssl.ssl.keystore.type': 'PEM',
        'listener.name.ssl.ssl.keystore.location': live,
      },
    });
  });

  after(async () => {
    await broker?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** The fingerprint of the certificate a new TLS connection is served. */
  function servedFingerprint(): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: ssl, ca: pki.caPem, servername: 'localhost' }, () => {
        const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
        s.destroy();
        resolve(fp);
      });
      s.on('error', reject);
    });
  }

  const alter = (value: string) =>
    samsa([
      'configs',
      '--bootstrap-server',
      `127.0.0.1:${plain}`,
      '--entity-type',
      'brokers',
      '--entity-name',
      '0',
      '--alter',
      '--add-config',
      `listener.name.ssl.ssl.keystore.location=${value}`,
    ]);

  async function metadataWorks(conn: KafkaConnection): Promise<void> {
    const md = (await conn.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false })) as {
      brokers: unknown[];
    };
    assert.equal(md.brokers.length, 1);
  }

  it('a new certificate file: new connections get it, an open connection keeps working', async () => {
    assert.equal(await servedFingerprint(), fingerprintA);
    const old = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: ssl,
      security: { protocol: 'SSL', tls: { ca: pki.caPem, servername: 'localhost' } },
    });
    try {
      await metadataWorks(old);
      const b = issue(pki, 'cert-b', '/CN=localhost');
      assert.notEqual(b.fingerprint, fingerprintA);
      const r = await alter(b.path);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await servedFingerprint(), b.fingerprint);
      await metadataWorks(old);
      await broker.waitForLog(/TLS key and trust stores reloaded/);
    } finally {
      old.close();
    }
  });

  it('the same value again reloads the file when it changed', async () => {
    const c = issue(pki, 'cert-c', '/CN=localhost');
    copyFileSync(c.path, live);
    let r = await alter(live);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await servedFingerprint(), c.fingerprint);
    const d = issue(pki, 'cert-d', '/CN=localhost');
    copyFileSync(d.path, live);
    assert.equal(await servedFingerprint(), c.fingerprint, 'not reloaded before the alter');
    r = await alter(live);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await servedFingerprint(), d.fingerprint);
  });

  it('refuses material that does not load, and a certificate for another subject; the certificate stays', async () => {
    const before = await servedFingerprint();
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key store\n');
    let r = await alter(garbage);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /INVALID_REQUEST.*SSLFactory/);
    r = await alter(join(dir, 'missing.pem'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /INVALID_REQUEST/);
    const other = issue(pki, 'cert-other', '/CN=someone-else');
    r = await alter(other.path);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /DistinguishedName does not match/);
    assert.equal(await servedFingerprint(), before);
  });
});
