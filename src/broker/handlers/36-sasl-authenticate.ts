// SaslAuthenticate (36): one SASL message of the mechanism chosen by SaslHandshake v1, and the server's
// answer. A failure is answered with SASL_AUTHENTICATION_FAILED and its message after
// connection.failed.authentication.delay.ms, then the connection is closed, as Kafka does (its Selector holds the
// failure response that long): a password guesser waits for each answer, so one connection tries at most 1000/delay
// passwords a second; reading stops at once. v1+ tells the client how long its session lasts
// (connections.max.reauth.ms, KIP-368).

import { createLogger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { SaslAuthenticateRequest } from '../../protocol/generated/sasl-authenticate-request.js';
import type { SaslAuthenticateResponseInput } from '../../protocol/generated/sasl-authenticate-response.js';
import { SaslFailure } from '../../security/session.js';
import { defineHandler } from '../handler.js';

const log = createLogger('security');

export const saslAuthenticate = defineHandler<SaslAuthenticateRequest, SaslAuthenticateResponseInput>({
  apiKey: ApiKey.SaslAuthenticate,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    const session = ctx.session;
    // A listener without SASL, or a session already authenticated (no SaslHandshake started a re-authentication):
    // Kafka answers ILLEGAL_SASL_STATE and keeps the connection.
    if (session.listener.sasl === null || session.authenticated) {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate request received after successful authentication',
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0,
      };
    }
    const delay = session.listener.sasl?.failedAuthDelayMs ?? 0;
    try {
      const r = session.authenticate(Buffer.from(req.authBytes), performance.now());
      if (r.complete) {
        log.info('client authenticated', {
          client: ctx.clientAddress,
          listener: session.listener.listenerName,
          principal: session.principal,
        });
      }
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: r.response,
        sessionLifetimeMs: r.sessionLifetimeMs,
      };
    } catch (err) {
      if (!(err instanceof SaslFailure)) throw err;
      ctx.closeAfterResponse(`SASL authentication failed: ${err.message}`, 0);
      const failed: SaslAuthenticateResponseInput = {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: err.message,
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0,
      };
      if (delay === 0) return failed;
      return new Promise((resolve) => setTimeout(() => resolve(failed), delay));
    }
  },
});
