// `samsa configs --entity-type users`: SCRAM credentials, as kafka-configs.sh manages them:
//   --alter --entity-name alice --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=x]'
//   --alter --entity-name alice --delete-config SCRAM-SHA-256
//   --describe [--entity-name alice]
// The salt is made here and only the salted password goes to the broker (AlterUserScramCredentials), as
// Kafka's tool does; the password never leaves this process.

import { randomBytes } from 'node:crypto';
import { type Cluster, KafkaError } from '../client/cluster.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import {
  SCRAM_ITERATIONS_MIN,
  type ScramMechanism,
  saltedPassword,
  scramMechanismCode,
  scramMechanismOfCode,
} from '../security/sasl/scram.js';
import { parseConfigList, UsageError } from './common.js';

function mechanismOf(name: string): ScramMechanism {
  if (name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512') return name;
  throw new UsageError(
    `users take SCRAM-SHA-256 and SCRAM-SHA-512 configs; got ${name} (quotas are not served yet)`,
  );
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
