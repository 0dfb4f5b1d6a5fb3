// Hostile input at the security front ends of a live broker (in process, real sockets): the SASL front end
// (random SaslHandshake and SaslAuthenticate frames of every version, v0 raw tokens, garbage PLAIN and SCRAM
// messages, oversized tokens and frames before authentication, bit flips and truncations of all of these) and the
// TLS front end (garbage, truncated and bit-flipped ClientHellos, plaintext Kafka on a TLS port, lying record
// lengths). Each case runs on its own connection; a SASL case ends with an ApiVersions probe, a TLS case with the
// client's end of the stream: the case must end answered or closed by the broker, never hang. Meanwhile an
// authenticated SASL_SSL client keeps asking for Metadata and must be served throughout.
//
// Properties: no uncaught exception (each would crash a broker process), no request handler failure, every case
// answered or closed, the authenticated client served during and after, fresh SSL and SASL clients served after.
//
// `npm test` runs a fixed seed and SAMSA_FUZZ_SECURITY_CASES cases per front end (default 150); `npm run fuzz`
// runs SAMSA_FUZZ_CASES / 10 per front end with its seed (SAMSA_FUZZ_SEED).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { type ClientSecurity, KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { saltedPassword } from '../../src/security/sasl/scram.js';
import { freePort } from '../helpers/broker.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { requestFrame } from '../helpers/request-frame.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

const seedEnv = process.env.SAMSA_FUZZ_SEED;
const SEED =
  seedEnv === undefined ? 0x5a5e55 : seedEnv === 'random' ? (Math.random() * 2 ** 31) | 0 : Number(seedEnv);
const CASES = Number(
  process.env.SAMSA_FUZZ_SECURITY_CASES ??
    (process.env.SAMSA_FUZZ_CASES === undefined ? 150 : Math.ceil(Number(process.env.SAMSA_FUZZ_CASES) / 10)),
);
const CONCURRENCY = 16;
const CASE_TIMEOUT_MS = 2_000;
const PROBE_ID = 0x50524f42;
const MAX_RECEIVE = 64 * 1024;
const PLAIN_JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required user_fuzz="fuzz-secret";';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function frame(apiKey: number, version: number, body: unknown, correlationId = 1): Buffer {
  return requestFrame(apiKey, version, correlationId, body, 'fuzz-security');
}

const PROBE = frame(ApiKey.ApiVersions, 0, {}, PROBE_ID);
const PROBE_BYTES = PROBE.subarray(4, 8);

interface Case {
  bytes: Buffer;
  note: string;
  /** The broker must close before this side ends the stream (an oversized frame is refused at its size). */
  closesAtOnce?: boolean;
}

/** Random SASL conversations: handshakes, tokens (framed or raw), mutations. */
function saslCase(r: () => number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const rnd = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const word = () => rnd(1 + Math.floor(r() * 12)).toString('base64url');
  const mech = () =>
    pick([
      'PLAIN',
      'SCRAM-SHA-256',
      'SCRAM-SHA-512',
      'GSSAPI',
      '',
      'scram-sha-256',
      'x'.repeat(300),
      '\u0000',
    ]);
  const token = (): [Buffer, string] => {
    const kind = Math.floor(r() * 9);
    switch (kind) {
      case 0:
        return [rnd(Math.floor(r() * 200)), 'random'];
      case 1:
        return [
          Buffer.from(`\u0000${pick(['fuzz', word(), ''])}\u0000${pick(['fuzz-secret', word(), ''])}`),
          'plain',
        ];
      case 2:
        return [
          Buffer.from(
            pick(['a\u0000b', '\u0000\u0000', '\u0000'.repeat(50), 'x\u0000fuzz\u0000fuzz-secret']),
          ),
          'plain-odd',
        ];
      case 3:
        return [
          Buffer.from(`n,,n=${pick(['fuzz', word(), '=ZZ', 'a=2Cb'])},r=${pick([word(), ''])}`),
          'scram-first',
        ];
      case 4:
        return [
          Buffer.from(
            pick([
              'p=tls-unique,,n=fuzz,r=abc',
              'y,,n=fuzz,r=abc',
              'n,a=other,n=fuzz,r=abc',
              'n,,n=fuzz,r=abc,tokenauth=true',
              'n,,r=abc',
              'n,,n=fuzz',
              `n,,n=${'u'.repeat(5000)},r=abc`,
            ]),
          ),
          'scram-first-odd',
        ];
      case 5:
        return [
          Buffer.from(
            pick([`c=biws,r=${word()},p=${rnd(64).toString('base64')}`, 'c=,r=,p=', 'c=biws,r=x', 'p=!!!']),
          ),
          'scram-final',
        ];
      case 6:
        return [rnd(MAX_RECEIVE + 1 + Math.floor(r() * 1024)), 'oversized'];
      case 7:
        return [Buffer.alloc(0), 'empty'];
      default:
        return [Buffer.from('\u0000fuzz\u0000fuzz-secret'), 'plain-right'];
    }
  };
  const parts: Buffer[] = [];
  const notes: string[] = [];
  const flow = Math.floor(r() * 5);
  if (r() < 0.3) parts.push(frame(ApiKey.ApiVersions, pick([0, 1, 2, 3]), {}));
  if (flow === 0 || flow === 1) {
    // SaslHandshake v1 (or v0 when the client then frames its tokens anyway), then SaslAuthenticate frames.
    const m = flow === 0 ? pick(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) : mech();
    parts.push(frame(ApiKey.SaslHandshake, pick([0, 1, 1]), { mechanism: m }));
    notes.push(`handshake ${m.slice(0, 20)}`);
    for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
      const [t, note] = token();
      parts.push(frame(ApiKey.SaslAuthenticate, pick([0, 1, 2]), { authBytes: t }));
      notes.push(note);
    }
  } else if (flow === 2) {
    // SaslHandshake v0, then raw tokens (a size and the bytes, no Kafka header).
    parts.push(
      frame(ApiKey.SaslHandshake, 0, { mechanism: pick(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) }),
    );
    for (let i = 0, n = 1 + Math.floor(r() * 2); i < n; i++) {
      const [t, note] = token();
      const size = Buffer.alloc(4);
      size.writeInt32BE(t.length);
      parts.push(size, t);
      notes.push(`raw ${note}`);
    }
  } else if (flow === 3) {
    // SaslAuthenticate without a handshake, or any other request before authentication.
    const [t, note] = token();
    parts.push(
      r() < 0.5
        ? frame(ApiKey.SaslAuthenticate, pick([0, 1, 2]), { authBytes: t })
        : frame(ApiKey.Metadata, 1, { topics: null }),
    );
    notes.push(`no handshake ${note}`);
  } else {
    // A frame size far over the pre-authentication limit, with only a few bytes behind it.
    const size = Buffer.alloc(4);
    size.writeInt32BE(pick([MAX_RECEIVE + 1, 10 * 1024 * 1024, 0x7fffffff, -1]));
    parts.push(size, rnd(Math.floor(r() * 64)));
    notes.push('oversized frame');
  }
  let bytes = Buffer.concat(parts);
  let closesAtOnce = flow === 4;
  if (r() < 0.3) {
    closesAtOnce = false;
    bytes = Buffer.from(bytes);
    for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
      const at = Math.floor(r() * bytes.length);
      bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(r() * 8));
    }
    notes.push('bit flips');
  }
  if (r() < 0.15) {
    bytes = bytes.subarray(0, Math.floor(r() * bytes.length));
    notes.push('truncated');
    closesAtOnce = false;
  }
  return { bytes, note: notes.join(', '), closesAtOnce };
}

/** A real ClientHello, captured from Node's TLS client. */
async function clientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      c.on('error', () => {});
      c.on('close', () => {});
    });
    server.on('error', reject);
  });
}

function tlsCase(r: () => number, hello: Buffer): Case {
  const rnd = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  switch (Math.floor(r() * 7)) {
    case 0:
      return { bytes: rnd(1 + Math.floor(r() * 2000)), note: 'garbage' };
    case 1:
      return { bytes: hello.subarray(0, Math.floor(r() * hello.length)), note: 'truncated hello' };
    case 2: {
      const b = Buffer.from(hello);
      for (let i = 0, n = 1 + Math.floor(r() * 8); i < n; i++) {
        const at = Math.floor(r() * b.length);
        b[at] = (b[at] as number) ^ (1 << Math.floor(r() * 8));
      }
      return { bytes: b, note: 'bit-flipped hello' };
    }
    case 3:
      return { bytes: PROBE, note: 'plaintext Kafka on a TLS port' };
    case 4:
      return { bytes: Buffer.concat([hello, rnd(Math.floor(r() * 500))]), note: 'hello then garbage' };
    case 5:
      return {
        bytes: Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff]), rnd(100)]),
        note: 'lying length',
      };
    default:
      return { bytes: Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, ...rnd(40)]), note: 'SSLv2 hello' };
  }
}

type Outcome = 'answered' | 'closed' | 'closed after our end' | 'hung';

/** Writes the case (then the probe, for SASL); the broker must answer the probe or close, at the latest after our end. */
function runCase(port: number, bytes: Buffer, probe: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    let ended = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(t1);
      clearTimeout(t2);
      s.destroy();
      resolve(o);
    };
    const closed = () => finish(ended ? 'closed after our end' : 'closed');
    s.on('error', closed);
    s.on('close', closed);
    s.on('end', closed);
    s.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (probe && received.includes(PROBE_BYTES)) finish('answered');
    });
    s.on('connect', () => {
      s.write(bytes);
      if (probe) s.write(PROBE);
    });
    // No answer yet: end our side; the broker must close.
    const t1 = setTimeout(() => {
      ended = true;
      s.end();
    }, CASE_TIMEOUT_MS);
    const t2 = setTimeout(() => finish('hung'), 2 * CASE_TIMEOUT_MS);
  });
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

describe('fuzz: the SASL and TLS front ends', { timeout: 600_000 }, () => {
  let b: InProcessBroker;
  let dir: string;
  let pki: TestPki;
  const ports = { plain: 0, sasl: 0, ssl: 0, saslSsl: 0 };
  const uncaught: string[] = [];
  const onUncaught = (e: Error) => uncaught.push(e.stack ?? String(e));

  before(async () => {
    process.on('uncaughtException', onUncaught);
    dir = await mkdtemp(join(tmpdir(), 'samsa-fuzz-security-'));
    pki = makeTestPki(dir);
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    b = await startInProcess({
      listeners: `PLAINTEXT://127.0.0.1:${ports.plain},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SSL://127.0.0.1:${ports.ssl},SASL_SSL://127.0.0.1:${ports.saslSsl}`,
      'listener.security.protocol.map':
        'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': PLAIN_JAAS,
      'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
      'sasl.server.max.receive.size': String(MAX_RECEIVE),
      'connection.failed.authentication.delay.ms': '10',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pki.brokerKeystore,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pki.ca,
      'listener.name.ssl.ssl.client.auth': 'required',
    });
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: ports.plain });
    for (const [mechanism, m] of [
      [1, 'SCRAM-SHA-256'],
      [2, 'SCRAM-SHA-512'],
    ] as const) {
      const salt = randomBytes(16);
      await conn.request(ApiKey.AlterUserScramCredentials, {
        deletions: [],
        upsertions: [
          {
            name: 'fuzz',
            mechanism,
            iterations: 4096,
            salt,
            saltedPassword: saltedPassword(m, 'fuzz-secret', salt, 4096),
          },
        ],
      });
    }
    conn.close();
    process.stdout.write(`# security fuzz seed ${SEED}, ${CASES} cases per front end\n`);
  });

  after(async () => {
    await b?.stop(true);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    process.off('uncaughtException', onUncaught);
  });

  const saslSsl: ClientSecurity = {
    protocol: 'SASL_SSL',
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'fuzz', password: 'fuzz-secret' },
  };

  it('every SASL and TLS case ends answered or closed; an authenticated client is served throughout', async () => {
    const r = rng(SEED);
    const hello = await clientHello();
    const sasl = Array.from({ length: CASES }, () => saslCase(r));
    const tlsCases = Array.from({ length: CASES }, () => tlsCase(r, hello));
    // The well-behaved client: Metadata over SASL_SSL SCRAM, in a loop while the cases run.
    const good = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: ports.saslSsl,
      security: { ...saslSsl, tls: { ca: pki.caPem } },
    });
    let served = 0;
    let stop = false;
    const goodLoop = (async () => {
      while (!stop) {
        await good.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
        served++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const counts: Record<string, number> = { answered: 0, closed: 0, 'closed after our end': 0, hung: 0 };
    const hung: string[] = [];
    const late: string[] = [];
    const started = Date.now();
    const all = [
      ...sasl.map((c) => ({ ...c, port: ports.sasl, probe: true, note: `SASL_PLAINTEXT: ${c.note}` })),
      ...sasl
        .slice(0, Math.ceil(CASES / 4))
        .map((c) => ({ ...c, port: ports.saslSsl, probe: false, note: `SASL_SSL (raw): ${c.note}` })),
      ...tlsCases.map((c, i) => ({
        ...c,
        port: i % 2 === 0 ? ports.ssl : ports.saslSsl,
        probe: false,
        note: `TLS: ${c.note}`,
      })),
    ];
    await pool(all, CONCURRENCY, async (c) => {
      const o = await runCase(c.port, c.bytes, c.probe);
      counts[o] = (counts[o] ?? 0) + 1;
      if (o === 'hung') hung.push(c.note);
      if (c.closesAtOnce === true && o !== 'closed') late.push(`${c.note}: ${o}`);
    });
    stop = true;
    await goodLoop;
    good.close();
    process.stdout.write(
      `# security fuzz outcomes ${JSON.stringify(counts)} in ${Date.now() - started} ms; the authenticated client was served ${served} times meanwhile\n`,
    );
    assert.deepEqual(uncaught, [], `uncaught exceptions: each would crash a broker process (seed ${SEED})`);
    assert.deepEqual(hung, [], `cases neither answered nor closed (seed ${SEED})`);
    assert.deepEqual(
      late,
      [],
      `oversized frames before authentication not refused at their size (seed ${SEED})`,
    );
    assert.ok(served > 0, 'the authenticated client was served during the fuzz');
    const failures = b.logs.filter((l) => l.msg === 'request handler failed');
    assert.deepEqual(
      failures.map((l) => String(l.error).split('\n')[0]),
      [],
      `handlers threw (seed ${SEED})`,
    );
    assert.ok(
      b.logs.some((l) => String(l.msg).includes('TLS handshake failed')),
      'TLS failures are logged',
    );
    assert.ok(!b.logs.some((l) => JSON.stringify(l).includes('fuzz-secret')), 'a password reached the log');

    // Fresh clients on every secured listener are served.
    for (const [port, security] of [
      [ports.saslSsl, { ...saslSsl, tls: { ca: pki.caPem } }],
      [
        ports.sasl,
        {
          protocol: 'SASL_PLAINTEXT',
          sasl: { mechanism: 'PLAIN', username: 'fuzz', password: 'fuzz-secret' },
        },
      ],
      [
        ports.ssl,
        {
          protocol: 'SSL',
          tls: { ca: pki.caPem, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
        },
      ],
    ] as [number, ClientSecurity][]) {
      const c = await KafkaConnection.connect({ host: '127.0.0.1', port, security });
      await c.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
      c.close();
    }
  });
});
