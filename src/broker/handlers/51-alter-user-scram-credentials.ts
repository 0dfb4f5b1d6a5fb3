// AlterUserScramCredentials (51): adds, replaces and deletes users' SCRAM credentials. The client sends the
// salt and the salted password (never the password); the broker stores StoredKey and ServerKey derived from
// them (src/security/sasl/scram.ts) in the user's entity configs (ZooKeeper /config/users/<user> in a
// cluster, the local metadata store alone). All changes of one user succeed or fail together; the checks and
// their error codes are Kafka's.

import { createLogger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AlterUserScramCredentialsRequest } from '../../protocol/generated/alter-user-scram-credentials-request.js';
import type { AlterUserScramCredentialsResponseInput } from '../../protocol/generated/alter-user-scram-credentials-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import {
  credentialFromSalted,
  formatCredential,
  SCRAM_ITERATIONS_MAX,
  SCRAM_ITERATIONS_MIN,
  scramMechanismOfCode,
} from '../../security/sasl/scram.js';
import { defineHandler } from '../handler.js';

const log = createLogger('security');

interface Outcome {
  errorCode: number;
  errorMessage: string | null;
}

export const alterUserScramCredentials = defineHandler<
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponseInput
>({
  apiKey: ApiKey.AlterUserScramCredentials,
  name: 'AlterUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const admin = ctx.broker.admin;
    const users = new Map<string, { outcome: Outcome | null; ops: (() => [string, string | null])[] }>();
    const seen = new Set<string>();
    const entry = (name: string) => {
      let e = users.get(name);
      if (e === undefined) {
        e = { outcome: null, ops: [] };
        users.set(name, e);
      }
      return e;
    };
    const refuse = (name: string, errorCode: number, errorMessage: string): void => {
      const e = entry(name);
      if (e.outcome === null) e.outcome = { errorCode, errorMessage };
    };
    const check = (name: string, code: number): string | null => {
      if (name === '') {
        refuse(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
        return null;
      }
      const mechanism = scramMechanismOfCode(code);
      if (mechanism === undefined) {
        refuse(name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
        return null;
      }
      const key = `${name}\u0000${mechanism}`;
      if (seen.has(key)) {
        refuse(
          name,
          ErrorCode.DUPLICATE_RESOURCE,
          'A user credential cannot be altered twice in the same request',
        );
        return null;
      }
      seen.add(key);
      return mechanism;
    };
    for (const d of req.deletions) {
      const mechanism = check(d.name, d.mechanism);
      if (mechanism !== null) entry(d.name).ops.push(() => [mechanism, null]);
    }
    for (const u of req.upsertions) {
      const mechanism = scramMechanismOfCode(u.mechanism);
      if (check(u.name, u.mechanism) === null || mechanism === undefined) continue;
      if (u.iterations < SCRAM_ITERATIONS_MIN) {
        refuse(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
        continue;
      }
      if (u.iterations > SCRAM_ITERATIONS_MAX) {
        refuse(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
        continue;
      }
      if (u.salt.length === 0 || u.saltedPassword.length === 0) {
        refuse(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Salt and salted password must not be empty');
        continue;
      }
      const credential = credentialFromSalted(
        mechanism,
        Buffer.from(u.saltedPassword),
        Buffer.from(u.salt),
        u.iterations,
      );
      entry(u.name).ops.push(() => [mechanism, formatCredential(credential)]);
    }
    const results = [];
    for (const [user, e] of users) {
      if (e.outcome !== null) {
        results.push({ user, ...e.outcome });
        continue;
      }
      try {
        const configs = await admin.userConfigs(user);
        let missing = false;
        for (const op of e.ops) {
          const [mechanism, value] = op();
          if (value !== null) configs[mechanism] = value;
          else if (configs[mechanism] === undefined) missing = true;
          else delete configs[mechanism];
        }
        if (missing) {
          results.push({
            user,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: 'Attempt to delete a user credential that does not exist',
          });
          continue;
        }
        await admin.putUserConfigs(user, configs);
        log.info('SCRAM credentials altered', {
          user,
          mechanisms: Object.keys(configs).filter((k) => k.startsWith('SCRAM-')),
        });
        results.push({ user, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        log.error('altering SCRAM credentials failed', { user, error: err });
        results.push({
          user,
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          errorMessage: 'The credentials could not be stored',
        });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
