// SaslHandshake (17): the client names its SASL mechanism. v1: SaslAuthenticate requests follow; v0: raw SASL
// tokens follow, without Kafka headers (src/security/session.ts). On a listener without SASL Kafka answers
// ILLEGAL_SASL_STATE; an unsupported mechanism gets UNSUPPORTED_SASL_MECHANISM with the enabled ones.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { SaslHandshakeRequest } from '../../protocol/generated/sasl-handshake-request.js';
import type { SaslHandshakeResponseInput } from '../../protocol/generated/sasl-handshake-response.js';
import { defineHandler } from '../handler.js';

export const saslHandshake = defineHandler<SaslHandshakeRequest, SaslHandshakeResponseInput>({
  apiKey: ApiKey.SaslHandshake,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const session = ctx.session;
    if (session.listener.sasl === null) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    }
    const r = session.handshake(req.mechanism, ctx.apiVersion);
    return { errorCode: r.errorCode, mechanisms: r.mechanisms };
  },
});
