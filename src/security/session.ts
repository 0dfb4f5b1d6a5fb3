// The security state of one connection (owned by its Connection): who the client is and where it is in
// SASL authentication, as Kafka's SaslServerAuthenticator.
//
// On a SASL listener a connection starts unauthenticated: only ApiVersions, SaslHandshake and
// SaslAuthenticate are served (anything else closes the connection, as Kafka does). SaslHandshake v1 picks
// the mechanism and SaslAuthenticate requests carry its messages; SaslHandshake v0 (older clients) is
// followed by raw SASL tokens without Kafka headers. With connections.max.reauth.ms the session expires:
// the client re-authenticates (KIP-368: SaslHandshake + SaslAuthenticate again, same principal) or its
// connection is closed at its next request.

import { isScram, type ListenerSecurity, type SaslMechanism } from './listener-security.js';
import { authenticatePlain } from './sasl/plain.js';
import { SaslFailure, ScramServer } from './sasl/scram.js';

export const ANONYMOUS = 'User:ANONYMOUS';

type State = 'handshake' | 'authenticate' | 'complete';

export class SecuritySession {
  /** The principal requests run as: User:ANONYMOUS until authenticated (or the TLS certificate's). */
  principal: string;
  private state: State;
  private mechanism: SaslMechanism | null = null;
  private scram: ScramServer | null = null;
  /** After SaslHandshake v0: the next frames are raw SASL tokens. */
  raw = false;
  /** performance.now() after which a re-authentication is due (Infinity: never). */
  private expiresAt = Number.POSITIVE_INFINITY;
  private reauthenticating = false;

  constructor(
    readonly listener: ListenerSecurity,
    tlsPrincipal: string | null,
  ) {
    this.principal = tlsPrincipal ?? ANONYMOUS;
    this.state = listener.sasl === null ? 'complete' : 'handshake';
  }

  get authenticated(): boolean {
    return this.state === 'complete' && !this.reauthenticating;
  }

  /** Why a request of this API cannot be served now, or null when it can. */
  refusal(apiKey: number, now: number): string | null {
    const API_VERSIONS = 18;
    const HANDSHAKE = 17;
    const AUTHENTICATE = 36;
    if (this.listener.sasl === null) return null;
    if (this.state === 'complete' && !this.reauthenticating) {
      if (apiKey === HANDSHAKE) return null; // a re-authentication starts
      if (now > this.expiresAt)
        return 'SASL session expired (connections.max.reauth.ms) without re-authentication';
      return null;
    }
    if (this.state === 'handshake' && (apiKey === API_VERSIONS || apiKey === HANDSHAKE)) return null;
    if (this.state === 'authenticate' && apiKey === AUTHENTICATE) return null;
    return `unexpected request (API key ${apiKey}) during SASL ${this.state === 'handshake' ? 'handshake' : 'authentication'}`;
  }

  /** SaslHandshake: the error code (0, or UNSUPPORTED_SASL_MECHANISM 33) and the enabled mechanisms. */
  handshake(mechanism: string, version: number): { errorCode: number; mechanisms: string[] } {
    const sasl = this.listener.sasl;
    const mechanisms: string[] = [...(sasl?.mechanisms ?? [])];
    if (sasl === null || !mechanisms.includes(mechanism)) return { errorCode: 33, mechanisms };
    if (this.state === 'complete') {
      if (mechanism !== this.mechanism) return { errorCode: 33, mechanisms };
      this.reauthenticating = true;
    }
    this.mechanism = mechanism as SaslMechanism;
    this.scram = isScram(mechanism) ? new ScramServer(mechanism, sasl.scram) : null;
    this.state = 'authenticate';
    this.raw = version === 0;
    return { errorCode: 0, mechanisms };
  }

  /**
   * One SASL message (SaslAuthenticate's bytes or a raw token): the answer, and whether authentication is now
   * complete; throws SaslFailure when the client failed to authenticate.
   */
  authenticate(
    token: Buffer,
    now: number,
  ): { response: Buffer; complete: boolean; sessionLifetimeMs: number } {
    const sasl = this.listener.sasl;
    if (sasl === null || this.state !== 'authenticate' || this.mechanism === null) {
      throw new SaslFailure('Unexpected SASL message: no SaslHandshake before it');
    }
    if (token.length > sasl.maxReceiveSize) {
      throw new SaslFailure(`SASL message of ${token.length} bytes exceeds sasl.server.max.receive.size`);
    }
    let user: string | null = null;
    let response: Buffer = Buffer.alloc(0);
    if (this.mechanism === 'PLAIN') {
      user = authenticatePlain(token, sasl.plainUsers);
    } else {
      const scram = this.scram as ScramServer;
      response = scram.evaluate(token);
      if (scram.complete) user = scram.user;
    }
    if (user === null) return { response, complete: false, sessionLifetimeMs: 0 };
    const principal = `User:${user}`;
    if (this.reauthenticating && principal !== this.principal) {
      throw new SaslFailure(
        `Cannot change principals during re-authentication from ${this.principal} to ${principal}`,
      );
    }
    this.principal = principal;
    this.state = 'complete';
    this.reauthenticating = false;
    this.raw = false;
    const lifetime = sasl.reauthMs;
    this.expiresAt = lifetime > 0 ? now + lifetime : Number.POSITIVE_INFINITY;
    return { response, complete: true, sessionLifetimeMs: lifetime };
  }
}

export { SaslFailure };
