/**
 * A password guesser for the brute-force test (test/security/brute-force.test.ts): CONCURRENCY loops, each as fast
 * as it can, open a connection, start SASL (SaslHandshake v1) and send a wrong password, alternating PLAIN and
 * SCRAM-SHA-512 (a real client-first, then a client-final with the server's nonce and a random proof), then drop
 * the connection without waiting for the broker to close it and start again. Prints "attacking" on stderr at the
 * first refusal; runs until DURATION_MS has passed, then prints {"attempts","refused","errors","firstError"} as one JSON line.
 *
 *   node sasl-attacker.js HOST PORT DURATION_MS CONCURRENCY USER PASSWORD_PREFIX
 */
import { randomBytes } from 'node:crypto';
import { KafkaConnection } from '../../../src/client/connection.js';
import { ApiKey } from '../../../src/protocol/generated/apis.js';

const [host, port, durationMs, concurrency, user, prefix] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const SASL_AUTHENTICATION_FAILED = 58;
const deadline = Date.now() + Number(durationMs);
let attempts = 0;
let refused = 0;
let errors = 0;
let firstError: string | null = null;

interface AuthAnswer {
  errorCode: number;
  authBytes: Uint8Array;
}

async function attempt(n: number): Promise<void> {
  const conn = await KafkaConnection.connect({ host, port: Number(port) });
  try {
    const password = `${prefix}${n}`;
    const mechanism = n % 2 === 0 ? 'PLAIN' : 'SCRAM-SHA-512';
    await conn.request(ApiKey.SaslHandshake, { mechanism }, 1);
    let answer: AuthAnswer;
    if (mechanism === 'PLAIN') {
      answer = (await conn.request(
        ApiKey.SaslAuthenticate,
        { authBytes: Buffer.from(`\u0000${user}\u0000${password}`) },
        2,
      )) as AuthAnswer;
    } else {
      const cnonce = randomBytes(18).toString('base64url');
      const first = (await conn.request(
        ApiKey.SaslAuthenticate,
        { authBytes: Buffer.from(`n,,n=${user},r=${cnonce}`) },
        2,
      )) as AuthAnswer;
      if (first.errorCode !== 0) {
        answer = first;
      } else {
        const nonce = /r=([^,]+)/.exec(Buffer.from(first.authBytes).toString())?.[1] ?? '';
        const proof = randomBytes(64).toString('base64');
        answer = (await conn.request(
          ApiKey.SaslAuthenticate,
          { authBytes: Buffer.from(`c=biws,r=${nonce},p=${proof}`) },
          2,
        )) as AuthAnswer;
      }
    }
    attempts++;
    if (answer.errorCode === SASL_AUTHENTICATION_FAILED && refused++ === 0)
      process.stderr.write('attacking\n');
  } finally {
    conn.close();
  }
}

async function loop(id: number): Promise<void> {
  let n = id;
  while (Date.now() < deadline) {
    try {
      await attempt(n);
    } catch (err) {
      errors++;
      firstError ??= (err as Error).message;
    }
    n += Number(concurrency);
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, (_, i) => loop(i)));
process.stdout.write(`${JSON.stringify({ attempts, refused, errors, firstError })}\n`);
