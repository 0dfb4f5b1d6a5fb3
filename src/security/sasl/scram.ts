// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), the server side, as strict as Kafka 4.x: the
// client-final message must end with the whole nonce the server sent (client nonce + server nonce), the channel
// binding must be the gs2 header of the first message (no channel binding: "n,,"), and the proof must verify.
//
// Credentials are stored as Kafka stores them: salt, StoredKey = H(HMAC(SaltedPassword, "Client Key")),
// ServerKey = HMAC(SaltedPassword, "Server Key") and the iteration count; never the password.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's bounds on iterations (ScramMechanism.minIterations; AlterUserScramCredentials refuses more). */
export const SCRAM_ITERATIONS_MIN = 4096;
export const SCRAM_ITERATIONS_MAX = 16384;

/** The mechanism's code in DescribeUserScramCredentials / AlterUserScramCredentials (Kafka's ScramMechanism). */
export const scramMechanismCode: Readonly<Record<ScramMechanism, number>> = {
  'SCRAM-SHA-256': 1,
  'SCRAM-SHA-512': 2,
};

export function scramMechanismOfCode(code: number): ScramMechanism | undefined {
  return code === 1 ? 'SCRAM-SHA-256' : code === 2 ? 'SCRAM-SHA-512' : undefined;
}

export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

function hash(m: ScramMechanism): 'sha256' | 'sha512' {
  return m === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

function hmac(m: ScramMechanism, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash(m), key).update(data).digest();
}

export function saltedPassword(
  m: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  return pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    salt,
    iterations,
    m === 'SCRAM-SHA-256' ? 32 : 64,
    hash(m),
  );
}

/** The stored credential of a salted password (what AlterUserScramCredentials carries). */
export function credentialFromSalted(
  m: ScramMechanism,
  salted: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = hmac(m, salted, 'Client Key');
  return {
    salt,
    storedKey: createHash(hash(m)).update(clientKey).digest(),
    serverKey: hmac(m, salted, 'Server Key'),
    iterations,
  };
}

export function credentialFromPassword(
  m: ScramMechanism,
  password: string,
  iterations = SCRAM_ITERATIONS_MIN,
  salt: Buffer = randomBytes(32),
): ScramCredential {
  return credentialFromSalted(m, saltedPassword(m, password, salt, iterations), salt, iterations);
}

/** Kafka's text form in ZooKeeper / the local store: salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>. */
export function formatCredential(c: ScramCredential): string {
  return `salt=${c.salt.toString('base64')},stored_key=${c.storedKey.toString('base64')},server_key=${c.serverKey.toString('base64')},iterations=${c.iterations}`;
}

export function parseCredential(text: string): ScramCredential | undefined {
  const f = new Map<string, string>();
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) f.set(part.slice(0, i), part.slice(i + 1));
  }
  const salt = f.get('salt');
  const storedKey = f.get('stored_key');
  const serverKey = f.get('server_key');
  const iterations = Number(f.get('iterations'));
  if (
    salt === undefined ||
    storedKey === undefined ||
    serverKey === undefined ||
    !Number.isInteger(iterations)
  )
    return undefined;
  return {
    salt: Buffer.from(salt, 'base64'),
    storedKey: Buffer.from(storedKey, 'base64'),
    serverKey: Buffer.from(serverKey, 'base64'),
    iterations,
  };
}

export type CredentialLookup = (user: string, mechanism: ScramMechanism) => ScramCredential | undefined;

/** A SCRAM exchange on the server: evaluate() each client message; the server's answer or a failure. */
export class ScramServer {
  private state: 'first' | 'final' | 'done' = 'first';
  private nonce = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';
  private credential: ScramCredential | undefined;
  /** The authenticated user, once complete. */
  user: string | null = null;

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly lookup: CredentialLookup,
  ) {}

  get complete(): boolean {
    return this.state === 'done';
  }

  /** The answer to a client message; throws SaslFailure with the message Kafka gives. */
  evaluate(message: Buffer): Buffer {
    const text = message.toString('utf8');
    if (this.state === 'first') return this.first(text);
    if (this.state === 'final') return this.final(text);
    throw new SaslFailure('Authentication failed: unexpected SCRAM message after completion');
  }

  private first(text: string): Buffer {
    // gs2-header: cbind-flag "," [authzid] ","
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(text);
    if (m === null) throw new SaslFailure('Authentication failed: invalid SCRAM client-first message');
    if ((m[1] as string).startsWith('p=')) {
      throw new SaslFailure('Authentication failed: SCRAM channel binding is not supported');
    }
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    const bare = m[3] as string;
    const attrs = parseAttributes(bare);
    const name = attrs.get('n');
    const cnonce = attrs.get('r');
    if (name === undefined || cnonce === undefined || cnonce === '') {
      throw new SaslFailure('Authentication failed: invalid SCRAM client-first message');
    }
    if (attrs.has('tokenauth')) {
      throw new SaslFailure('Authentication failed: delegation tokens are not supported');
    }
    const user = decodeSaslName(name);
    const authzid = m[2] === undefined ? '' : decodeSaslName((m[2] as string).slice(2));
    if (authzid !== '' && authzid !== user) {
      throw new SaslFailure(
        'Authentication failed: Client requested an authorization id that is different from username',
      );
    }
    this.credential = this.lookup(user, this.mechanism);
    if (this.credential === undefined)
      throw new SaslFailure('Authentication failed: Invalid user credentials');
    this.user = user;
    this.clientFirstBare = bare;
    this.nonce = cnonce + randomBytes(18).toString('base64url');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.state = 'final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private final(text: string): Buffer {
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw new SaslFailure('Authentication failed: invalid SCRAM client-final message');
    const withoutProof = text.slice(0, proofAt);
    const attrs = parseAttributes(withoutProof);
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    // Kafka 3.8.1+ (CVE-2024-56128): the nonce must end with the server's whole nonce. Not equality: librdkafka
    // before 2.7 sends its client nonce followed by the server's nonce (which already begins with it).
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) {
      throw new SaslFailure('Authentication failed: Invalid client nonce in the final client message.');
    }
    if (attrs.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64')) {
      throw new SaslFailure('Authentication failed: invalid SCRAM channel binding');
    }
    const c = this.credential as ScramCredential;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.mechanism, c.storedKey, authMessage);
    if (proof.length !== clientSignature.length)
      throw new SaslFailure('Authentication failed: Invalid user credentials');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++)
      clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
    const computed = createHash(hash(this.mechanism)).update(clientKey).digest();
    if (!timingSafeEqual(computed, c.storedKey))
      throw new SaslFailure('Authentication failed: Invalid user credentials');
    this.state = 'done';
    return Buffer.from(`v=${hmac(this.mechanism, c.serverKey, authMessage).toString('base64')}`, 'utf8');
  }
}

/** A SASL authentication failure; its message goes to the client (SASL_AUTHENTICATION_FAILED). */
export class SaslFailure extends Error {}

function parseAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

function decodeSaslName(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw new SaslFailure('Authentication failed: invalid username encoding');
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** The client side, for Samsa's own client and the tests: the messages a SCRAM client sends. */
export class ScramClient {
  private readonly cnonce = randomBytes(18).toString('base64url');
  private clientFirstBare = '';
  private serverSignature: Buffer | null = null;

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
  ) {}

  first(): Buffer {
    this.clientFirstBare = `n=${this.user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.cnonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  final(serverFirst: Buffer, nonceOverride?: string): Buffer {
    const text = serverFirst.toString('utf8');
    const a = parseAttributes(text);
    const nonce = a.get('r') ?? '';
    if (!nonce.startsWith(this.cnonce))
      throw new SaslFailure('server nonce does not extend the client nonce');
    const salt = Buffer.from(a.get('s') ?? '', 'base64');
    const iterations = Number(a.get('i'));
    const salted = saltedPassword(this.mechanism, this.password, salt, iterations);
    const clientKey = hmac(this.mechanism, salted, 'Client Key');
    const storedKey = createHash(hash(this.mechanism)).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonceOverride ?? nonce}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const signature = hmac(this.mechanism, storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] as number) ^ (signature[i] as number);
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final message (v=ServerSignature). */
  verify(serverFinal: Buffer): void {
    const v = parseAttributes(serverFinal.toString('utf8')).get('v');
    if (
      v === undefined ||
      this.serverSignature === null ||
      !Buffer.from(v, 'base64').equals(this.serverSignature)
    ) {
      throw new SaslFailure('the server signature does not verify');
    }
  }
}
