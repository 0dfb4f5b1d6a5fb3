/**
 * One real broker with four listeners (PLAINTEXT, SSL with client certificates required, SASL_PLAINTEXT with
 * PLAIN and SCRAM, SASL_SSL with SCRAM), and real clients: Samsa's own client (TLS, SASL PLAIN and SCRAM) and
 * librdkafka (kcat). SCRAM users are created with AlterUserScramCredentials and survive a restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type ClientSecurity, KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { ScramClient, saltedPassword } from '../../src/security/sasl/scram.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

const PLAIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_bob="bob-secret";';

function kcat(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('listeners with TLS and SASL', () => {
  let dir: string;
  let pki: TestPki;
  let broker: BrokerHandle;
  const ports = { plain: 0, ssl: 0, saslPlain: 0, saslSsl: 0 };
  let tlsOpts: ClientSecurity['tls'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samsa-tls-'));
    pki = makeTestPki(dir);
    tlsOpts = { ca: pki.caPem };
    ports.plain = await freePort();
    ports.ssl = await freePort();
    ports.saslPlain = await freePort();
    ports.saslSsl = await freePort();
    broker = await startBroker({
      port: ports.plain,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${ports.plain},SSL://127.0.0.1:${ports.ssl},SASL_PLAINTEXT://127.0.0.1:${ports.saslPlain},SASL_SSL://127.0.0.1:${ports.saslSsl}`,
        'listener.security.protocol.map':
          'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerKeystore,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.ca,
        'listener.name.ssl.ssl.client.auth': 'required',
        'listener.name.ssl.ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=clients.*$/$1/,DEFAULT',
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
        'listener.name.sasl_plaintext.connections.max.reauth.ms': '3000',
        'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'connection.failed.authentication.delay.ms': '0',
      },
    });
  });

  after(async () => {
    await broker?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const connect = (port: number, security?: ClientSecurity) =>
    KafkaConnection.connect({ host: '127.0.0.1', port, ...(security === undefined ? {} : { security }) });

  async function addScramUser(user: string, password: string, mechanism: 1 | 2, iterations = 4096) {
    const conn = await connect(ports.plain);
    try {
      const salt = randomBytes(24);
      const m = mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
      return (await conn.request(ApiKey.AlterUserScramCredentials, {
        deletions: [],
        upsertions: [
          {
            name: user,
            mechanism,
            iterations,
            salt,
            saltedPassword: saltedPassword(m, password, salt, iterations),
          },
        ],
      })) as { results: { user: string; errorCode: number; errorMessage: string | null }[] };
    } finally {
      conn.close();
    }
  }

  it('SSL: a client with a certificate is served, and Metadata names the SSL listener', async () => {
    const conn = await connect(ports.ssl, {
      protocol: 'SSL',
      tls: { ca: pki.caPem, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
    });
    try {
      const md = (await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false })) as {
        brokers: { port: number }[];
      };
      assert.deepEqual(
        md.brokers.map((b) => b.port),
        [ports.ssl],
      );
    } finally {
      conn.close();
    }
  });

  it('SSL with ssl.client.auth=required: a client without a certificate is refused', async () => {
    await assert.rejects(async () => {
      const conn = await connect(ports.ssl, { protocol: 'SSL', tls: tlsOpts });
      // TLS 1.3 reports the missing certificate after the handshake: the first request fails.
      try {
        await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
      } finally {
        conn.close();
      }
    });
  });

  it('SASL_PLAINTEXT: PLAIN with the right password is served, a wrong one is refused', async () => {
    const ok = await connect(ports.saslPlain, {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'PLAIN', username: 'bob', password: 'bob-secret' },
    });
    const md = (await ok.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false })) as {
      brokers: { port: number }[];
    };
    assert.deepEqual(
      md.brokers.map((b) => b.port),
      [ports.saslPlain],
    );
    ok.close();
    await assert.rejects(
      connect(ports.saslPlain, {
        protocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'PLAIN', username: 'bob', password: 'wrong' },
      }),
      /SASL authentication failed: Authentication failed: Invalid username or password/,
    );
  });

  it('SASL: a request before authentication closes the connection', async () => {
    const conn = await connect(ports.saslPlain);
    const closed = conn.closed();
    await assert.rejects(conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false }));
    await closed;
    await broker.waitForLog(/unexpected request \(API key 3\) during SASL handshake/);
  });

  it('SCRAM-SHA-256 and -512: users made with AlterUserScramCredentials log in; a wrong password does not', async () => {
    const r256 = await addScramUser('carol', 'carol-secret', 1);
    assert.deepEqual(r256.results, [{ user: 'carol', errorCode: 0, errorMessage: null }]);
    const r512 = await addScramUser('carol', 'carol-secret-512', 2, 8192);
    assert.equal(r512.results[0]?.errorCode, 0);
    for (const [port, protocol, mechanism, password] of [
      [ports.saslPlain, 'SASL_PLAINTEXT', 'SCRAM-SHA-256', 'carol-secret'],
      [ports.saslPlain, 'SASL_PLAINTEXT', 'SCRAM-SHA-512', 'carol-secret-512'],
      [ports.saslSsl, 'SASL_SSL', 'SCRAM-SHA-512', 'carol-secret-512'],
    ] as const) {
      const conn = await connect(port, {
        protocol,
        ...(protocol === 'SASL_SSL' ? { tls: tlsOpts } : {}),
        sasl: { mechanism, username: 'carol', password },
      });
      await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
      conn.close();
      await assert.rejects(
        connect(port, {
          protocol,
          ...(protocol === 'SASL_SSL' ? { tls: tlsOpts } : {}),
          sasl: { mechanism, username: 'carol', password: 'nope' },
        }),
        /Invalid user credentials/,
      );
    }
    // Too few iterations and an unknown mechanism: Kafka's error codes.
    const few = await addScramUser('dave', 'x', 1, 100);
    assert.deepEqual(few.results, [{ user: 'dave', errorCode: 93, errorMessage: 'Too few iterations' }]);
    const conn = await connect(ports.plain);
    const described = (await conn.request(ApiKey.DescribeUserScramCredentials, { users: null })) as {
      results: {
        user: string;
        errorCode: number;
        credentialInfos: { mechanism: number; iterations: number }[];
      }[];
    };
    assert.deepEqual(described.results, [
      {
        user: 'carol',
        errorCode: 0,
        errorMessage: null,
        credentialInfos: [
          { mechanism: 1, iterations: 4096 },
          { mechanism: 2, iterations: 8192 },
        ],
      },
    ]);
    const unknown = (await conn.request(ApiKey.DescribeUserScramCredentials, {
      users: [{ name: 'nobody' }],
    })) as {
      results: { errorCode: number }[];
    };
    assert.equal(unknown.results[0]?.errorCode, 91);
    conn.close();
  });

  it('SCRAM is strict: a client-final message that does not carry the server nonce is refused', async () => {
    await addScramUser('erin', 'erin-secret', 1);
    const conn = await connect(ports.saslPlain);
    try {
      const hs = (await conn.request(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-256' }, 1)) as {
        errorCode: number;
      };
      assert.equal(hs.errorCode, 0);
      const client = new ScramClient('SCRAM-SHA-256', 'erin', 'erin-secret');
      const first = client.first();
      const clientNonce = /r=([^,]+)/.exec(first.toString())?.[1] as string;
      const serverFirst = (await conn.request(ApiKey.SaslAuthenticate, { authBytes: first }, 2)) as {
        authBytes: Uint8Array;
      };
      const final = (await conn.request(
        ApiKey.SaslAuthenticate,
        { authBytes: client.final(Buffer.from(serverFirst.authBytes), clientNonce) },
        2,
      )) as { errorCode: number; errorMessage: string };
      assert.equal(final.errorCode, 58);
      assert.match(final.errorMessage, /Invalid client nonce/);
      await conn.closed();
    } finally {
      conn.close();
    }
  });

  it('KIP-368: the session lifetime is announced; after it, a request without re-authentication closes the connection', async () => {
    const conn = await connect(ports.saslPlain);
    try {
      await conn.request(ApiKey.SaslHandshake, { mechanism: 'PLAIN' }, 1);
      const auth = (await conn.request(
        ApiKey.SaslAuthenticate,
        { authBytes: Buffer.from('\u0000bob\u0000bob-secret') },
        2,
      )) as { errorCode: number; sessionLifetimeMs: bigint | number };
      assert.equal(auth.errorCode, 0);
      assert.equal(Number(auth.sessionLifetimeMs), 3000);
      // Re-authenticate within the lifetime: the connection stays usable past the first expiry.
      await new Promise((r) => setTimeout(r, 2000));
      await conn.authenticate({ mechanism: 'PLAIN', username: 'bob', password: 'bob-secret' });
      await new Promise((r) => setTimeout(r, 1500));
      await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
      // Let this session expire: the next request closes the connection.
      await new Promise((r) => setTimeout(r, 3200));
      await assert.rejects(conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false }));
      await conn.closed();
    } finally {
      conn.close();
    }
  });

  it('librdkafka (kcat): produces and consumes over SASL_SSL with SCRAM-SHA-512 and over SSL with a client certificate', async () => {
    await addScramUser('frank', 'frank-secret', 2);
    const sasl = [
      '-b',
      `127.0.0.1:${ports.saslSsl}`,
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      `ssl.ca.location=${pki.ca}`,
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      'sasl.username=frank',
      '-X',
      'sasl.password=frank-secret',
    ];
    const produced = await kcat([...sasl, '-P', '-t', 'secure', '-p', '0'], 'one\ntwo\nthree\n');
    assert.equal(produced.code, 0, produced.stderr);
    const ssl = [
      '-b',
      `127.0.0.1:${ports.ssl}`,
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${pki.ca}`,
      '-X',
      `ssl.certificate.location=${pki.clientCert}`,
      '-X',
      `ssl.key.location=${pki.clientKey}`,
    ];
    const consumed = await kcat([...ssl, '-C', '-t', 'secure', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two', 'three']);
    const wrong = await kcat([...sasl.slice(0, -1), 'sasl.password=bad', '-L']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Authentication failed|SASL authentication error/i);
  });

  it('kafka-python (SaslHandshake v0, raw SASL tokens): PLAIN and SCRAM-SHA-256 produce and consume', async () => {
    await addScramUser('gina', 'gina-secret', 1);
    const script = join(process.cwd(), 'test', 'security', 'clients', 'kafka_python_sasl.py');
    for (const [topic, mechanism, user, password] of [
      ['py-plain', 'PLAIN', 'bob', 'bob-secret'],
      ['py-scram', 'SCRAM-SHA-256', 'gina', 'gina-secret'],
    ] as const) {
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          '/usr/bin/python3',
          [script, `127.0.0.1:${ports.saslPlain}`, topic, '20', 'SASL_PLAINTEXT', mechanism, user, password],
          { timeout: 60_000 },
          (err, stdout, stderr) =>
            err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`)),
        );
      });
      const r = JSON.parse(out) as { produced: number; consumed: number; values: string[] };
      assert.equal(r.consumed, 20, out);
      assert.deepEqual(
        r.values,
        Array.from({ length: 20 }, (_, i) => `v${i}`),
      );
    }
  });

  it('kafkajs: SCRAM-SHA-512 over SASL_SSL produces and consumes', async () => {
    await addScramUser('hank', 'hank-secret', 2);
    const kafka = new Kafka({
      clientId: 'samsa-security-test',
      brokers: [`127.0.0.1:${ports.saslSsl}`],
      ssl: { ca: [pki.caPem] },
      sasl: { mechanism: 'scram-sha-512', username: 'hank', password: 'hank-secret' },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: 'js-secure', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('js-secure');
    await admin.disconnect();
    assert.equal(offsets[0]?.high, '2');
    const bad = new Kafka({
      clientId: 'samsa-security-test',
      brokers: [`127.0.0.1:${ports.saslSsl}`],
      ssl: { ca: [pki.caPem] },
      sasl: { mechanism: 'scram-sha-512', username: 'hank', password: 'wrong' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const badAdmin = bad.admin();
    await assert.rejects(
      badAdmin.connect(),
      /SASL SCRAM SHA512 authentication failed|Invalid user credentials/,
    );
  });

  it('samsa configs --entity-type users over SASL_SSL with --command-config: creates, describes, deletes SCRAM users', async () => {
    const props = join(dir, 'admin.properties');
    writeFileSync(
      props,
      [
        'security.protocol=SASL_SSL',
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${pki.ca}`,
        'sasl.mechanism=SCRAM-SHA-512',
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="carol-secret-512";',
      ].join('\n'),
    );
    const samsa = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            join(process.cwd(), 'bin', 'samsa.js'),
            'configs',
            '--bootstrap-server',
            `127.0.0.1:${ports.saslSsl}`,
            '--command-config',
            props,
            ...args,
          ],
          { timeout: 30_000 },
          (err, stdout, stderr) =>
            resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr }),
        );
      });
    const added = await samsa(
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'ivan',
      '--add-config',
      'SCRAM-SHA-512=[iterations=5000,password=ivan-secret]',
    );
    assert.equal(added.code, 0, added.stderr);
    const described = await samsa('--describe', '--entity-type', 'users', '--entity-name', 'ivan');
    assert.equal(
      described.stdout.trim(),
      "SCRAM credential configs for user-principal 'ivan' are SCRAM-SHA-512=iterations=5000",
    );
    const login = await connect(ports.saslSsl, {
      protocol: 'SASL_SSL',
      tls: tlsOpts,
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'ivan', password: 'ivan-secret' },
    });
    login.close();
    const deleted = await samsa(
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      'ivan',
      '--delete-config',
      'SCRAM-SHA-512',
    );
    assert.equal(deleted.code, 0, deleted.stderr);
    await assert.rejects(
      connect(ports.saslSsl, {
        protocol: 'SASL_SSL',
        tls: tlsOpts,
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'ivan', password: 'ivan-secret' },
      }),
      /Invalid user credentials/,
    );
    const wrong = join(dir, 'wrong.properties');
    writeFileSync(wrong, 'security.protocol=SASL_SSL\nsasl.mechanism=GSSAPI\n');
    const refused = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          join(process.cwd(), 'bin', 'samsa.js'),
          'topics',
          '--list',
          '--bootstrap-server',
          `127.0.0.1:${ports.saslSsl}`,
          '--command-config',
          wrong,
        ],
        (err, _stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
      );
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /sasl.mechanism: GSSAPI is not supported/);
  });

  it('SCRAM credentials survive a restart; TLS listeners come back', async () => {
    await broker.restart();
    const conn = await connect(ports.saslPlain, {
      protocol: 'SASL_PLAINTEXT',
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'carol', password: 'carol-secret' },
    });
    await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
    conn.close();
    const ssl = await connect(ports.ssl, {
      protocol: 'SSL',
      tls: { ca: pki.caPem, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
    });
    await ssl.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
    ssl.close();
  });
});
