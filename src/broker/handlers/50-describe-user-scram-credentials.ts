// DescribeUserScramCredentials (50): which SCRAM mechanisms (and iteration counts) each user has, never the
// keys. No users named (null or empty): every user with credentials. A named user without any:
// RESOURCE_NOT_FOUND; a user named twice: DUPLICATE_RESOURCE, as Kafka answers.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeUserScramCredentialsRequest } from '../../protocol/generated/describe-user-scram-credentials-request.js';
import type { DescribeUserScramCredentialsResponseInput } from '../../protocol/generated/describe-user-scram-credentials-response.js';
import { scramMechanismCode } from '../../security/sasl/scram.js';
import { defineHandler } from '../handler.js';

export const describeUserScramCredentials = defineHandler<
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponseInput
>({
  apiKey: ApiKey.DescribeUserScramCredentials,
  name: 'DescribeUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const cache = ctx.broker.scramCredentials;
    const info = (user: string) =>
      cache
        .credentialsOf(user)
        .map((c) => ({ mechanism: scramMechanismCode[c.mechanism], iterations: c.iterations }));
    if (req.users === null || req.users.length === 0) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        results: cache.describe().map((u) => ({
          user: u.user,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          credentialInfos: info(u.user),
        })),
      };
    }
    const counts = new Map<string, number>();
    for (const u of req.users) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: [...counts].map(([user, n]) => {
        if (n > 1) {
          return {
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request',
            credentialInfos: [],
          };
        }
        const infos = info(user);
        if (infos.length === 0) {
          return {
            user,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: 'Attempt to describe a user credential that does not exist',
            credentialInfos: [],
          };
        }
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos };
      }),
    };
  },
});
