// `samsa configs --entity-type users`: SCRAM credentials, as kafka-configs.sh manages them:
//   --alter --entity-name alice --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=x]'
//   --alter --entity-name alice --delete-config SCRAM-SHA-256
//   --describe [--entity-name alice]
// Quotas of users and clients: configs-quotas.ts (usersAndClients below routes the keys).
// The salt is made here and only the salted password goes to the broker (AlterUserScramCredentials), as
// Kafka's tool does; the password never leaves this process.

import { randomBytes } from 'node:crypto';
import { type Cluster, KafkaError } from '../client/cluster.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import { clientQuotaKeys } from '../security/client-quotas.js';
import {
  SCRAM_ITERATIONS_MIN,
  type ScramMechanism,
  saltedPassword,
  scramMechanismCode,
  scramMechanismOfCode,
} from '../security/sasl/scram.js';
import { parseConfigList, UsageError } from './common.js';
import { alterQuotas, describeQuotas, isQuotaConfig, quotaEntityArgs } from './configs-quotas.js';

function mechanismOf(name: string): ScramMechanism {
  if (name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512') return name;
  throw new UsageError(
    `users take SCRAM-SHA-256 and SCRAM-SHA-512 configs and quotas (${[...clientQuotaKeys.keys()].join(', ')}); got ${name}`,
  );
}

/**
 * Users and clients (quotas; a user's SCRAM credentials too): the entity options are read from argv in order
 * (configs-quotas.ts). Returns the lines to print.
 */
export async function usersAndClients(
  cluster: Cluster,
  args: readonly string[],
  action: 'describe' | 'alter',
  add: readonly string[],
  del: readonly string[],
): Promise<string[]> {
  const entity = quotaEntityArgs(args);
  const user = entity.length === 1 && entity[0]?.type === 'user' ? entity[0].name : null;
  if (action === 'describe') {
    const lines = await describeQuotas(cluster, entity);
    if (user !== null) lines.push(...(await describeUsers(cluster, user)));
    return lines;
  }
  const pairs = parseConfigList(add);
  const scramAdd = pairs.filter(([k]) => !isQuotaConfig(k)).map(([k, v]) => `${k}=[${v}]`);
  const scramDel = del.filter((k) => !isQuotaConfig(k));
  if (scramAdd.length > 0 || scramDel.length > 0) {
    if (typeof user !== 'string') {
      const bad = [...scramAdd, ...scramDel][0] as string;
      throw new UsageError(
        `${bad.split('=')[0]} is not a quota config (${[...clientQuotaKeys.keys()].join(', ')})`,
      );
    }
    await alterUser(cluster, user, scramAdd, scramDel);
  }
  const quotaAdd = pairs.filter(([k]) => isQuotaConfig(k)).map(([k, v]) => `${k}=${v}`);
  const quotaDel = del.filter(isQuotaConfig);
  if (quotaAdd.length > 0 || quotaDel.length > 0)
    return [await alterQuotas(cluster, entity, quotaAdd, quotaDel)];
  if (scramAdd.length === 0 && scramDel.length === 0)
    throw new UsageError('alter needs --add-config and/or --delete-config');
  return [`Completed updating config for user ${user}.`];
}

export async function describeUsers(cluster: Cluster, user: string | undefined): Promise<string[]> {
  const res = await cluster.request<{
    errorCode: number;
    errorMessage: string | null;
    results: {
      user: string;
      errorCode: number;
      errorMessage: string | null;
      credentialInfos: { mechanism: number; iterations: number }[];
    }[];
  }>(ApiKey.DescribeUserScramCredentials, { users: user === undefined ? null : [{ name: user }] });
  if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, res.errorMessage);
  return res.results.map((r) => {
    if (r.errorCode === ErrorCode.RESOURCE_NOT_FOUND)
      return `No SCRAM credentials for user-principal '${r.user}'`;
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, r.errorMessage);
    const creds = r.credentialInfos
      .map((c) => `${scramMechanismOfCode(c.mechanism) ?? c.mechanism}=iterations=${c.iterations}`)
      .join(', ');
    return `SCRAM credential configs for user-principal '${r.user}' are ${creds}`;
  });
}

export async function alterUser(
  cluster: Cluster,
  user: string,
  add: readonly string[],
  del: readonly string[],
): Promise<void> {
  const upsertions = parseConfigList(add).map(([k, v]) => {
    const mechanism = mechanismOf(k);
    const fields = new Map(parseConfigList([v]));
    const password = fields.get('password');
    if (password === undefined) throw new UsageError(`${k} needs password=...`);
    const iterations = Number(fields.get('iterations') ?? SCRAM_ITERATIONS_MIN);
    const salt = randomBytes(32);
    return {
      name: user,
      mechanism: scramMechanismCode[mechanism],
      iterations,
      salt,
      saltedPassword: saltedPassword(mechanism, password, salt, iterations),
    };
  });
  const deletions = del.map((k) => ({ name: user, mechanism: scramMechanismCode[mechanismOf(k)] }));
  const res = await cluster.request<{
    results: { user: string; errorCode: number; errorMessage: string | null }[];
  }>(ApiKey.AlterUserScramCredentials, { deletions, upsertions });
  for (const r of res.results)
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, r.errorMessage);
}
