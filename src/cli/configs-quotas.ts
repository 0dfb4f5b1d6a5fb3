// `samsa configs --entity-type users|clients|ips`: client quotas, as kafka-configs.sh manages them:
//   --alter --entity-type users --entity-name alice --add-config producer_byte_rate=1048576,consumer_byte_rate=2097152
//   --alter --entity-type users --entity-default --add-config request_percentage=200
//   --alter --entity-type users --entity-name alice --entity-type clients --entity-name app --delete-config producer_byte_rate
//   --describe --entity-type clients [--entity-name app | --entity-default]
//   --alter --entity-type ips --entity-name 10.0.0.7 --add-config connection_creation_rate=5   (KIP-612)
// --entity-name / --entity-default pair with the --entity-type options in the order given (Kafka's ConfigCommand);
// --user U, --client C, --ip I, --user-defaults, --client-defaults, --ip-defaults are the shortcuts Kafka has. An IP
// is an entity of its own (never with a user or client id), as Kafka insists.
// Quota keys go to AlterClientQuotas, SCRAM keys of a user to AlterUserScramCredentials (configs-users.ts).

import type { Cluster } from '../client/cluster.js';
import {
  alterClientQuotas,
  type DescribedQuota,
  describeClientQuotas,
  type QuotaFilterComponent,
} from '../client/quotas.js';
import { isQuotaKey } from '../security/client-quotas.js';
import { parseConfigList, UsageError } from './common.js';

/** Entity type of the tool -> of the protocol. */
const typeOf: Record<string, QuotaEntityArg['type']> = { users: 'user', clients: 'client-id', ips: 'ip' };

export interface QuotaEntityArg {
  type: 'user' | 'client-id' | 'ip';
  /** A name, null for the type's default, undefined when none was given (describe: every entity of the type). */
  name: string | null | undefined;
}

/** Reads the entity options from argv in order: types pair with names / defaults as Kafka's tool pairs them. */
export function quotaEntityArgs(args: readonly string[]): QuotaEntityArg[] {
  const types: string[] = [];
  const names: (string | null)[] = [];
  const shortcuts: QuotaEntityArg[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      i++;
      const v = args[i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--entity-type') types.push(value());
    else if (flag === '--entity-name') names.push(value());
    else if (flag === '--entity-default') names.push(null);
    else if (flag === '--user') shortcuts.push({ type: 'user', name: value() });
    else if (flag === '--client') shortcuts.push({ type: 'client-id', name: value() });
    else if (flag === '--user-defaults') shortcuts.push({ type: 'user', name: null });
    else if (flag === '--client-defaults') shortcuts.push({ type: 'client-id', name: null });
    else if (flag === '--ip') shortcuts.push({ type: 'ip', name: value() });
    else if (flag === '--ip-defaults') shortcuts.push({ type: 'ip', name: null });
  }
  if (names.length > types.length)
    throw new UsageError('more --entity-name/--entity-default than --entity-type');
  const out: QuotaEntityArg[] = types.map((t, i) => {
    const type = typeOf[t];
    if (type === undefined)
      throw new UsageError(`quotas are configured on users, clients and ips; got --entity-type ${t}`);
    return { type, name: names[i] };
  });
  out.push(...shortcuts);
  if (new Set(out.map((e) => e.type)).size !== out.length) throw new UsageError('an entity type given twice');
  if (out.length > 1 && out.some((e) => e.type === 'ip'))
    throw new UsageError('an ip entity cannot be combined with a user or client id');
  return out.sort((a, b) => (a.type === b.type ? 0 : a.type === 'user' ? -1 : 1));
}

/** Java's Double.toString, which kafka-configs.sh prints quota values with. */
export function javaDouble(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return `${x}.0`;
  if (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e7) return String(x);
  const [m, e] = x.toExponential().split('e') as [string, string];
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

function entityLabel(entity: Record<string, string | null>): string {
  return Object.entries(entity)
    .sort(([a], [b]) => (a < b ? 1 : -1))
    .map(([type, name]) => {
      const noun = type === 'user' ? 'user-principal' : type;
      return name === null ? `the default ${noun}` : `${noun} '${name}'`;
    })
    .join(', ');
}

export function formatQuotas(described: readonly DescribedQuota[]): string[] {
  return described.map((d) => {
    const values = Object.entries(d.values)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${javaDouble(v)}`)
      .join(', ');
    return `Quota configs for ${entityLabel(d.entity)} are ${values}`;
  });
}

export async function describeQuotas(cluster: Cluster, entity: readonly QuotaEntityArg[]): Promise<string[]> {
  const components: QuotaFilterComponent[] = entity.map((e) =>
    e.name === undefined ? { entityType: e.type } : { entityType: e.type, match: e.name },
  );
  return formatQuotas(await describeClientQuotas(cluster, components, true));
}

export function isQuotaConfig(key: string): boolean {
  return isQuotaKey(key);
}

/** Sets and deletes quota keys of one entity (every name given: a name or the default). */
export async function alterQuotas(
  cluster: Cluster,
  entity: readonly QuotaEntityArg[],
  add: readonly string[],
  del: readonly string[],
): Promise<string> {
  const names: Record<string, string | null> = {};
  for (const e of entity) {
    if (e.name === undefined)
      throw new UsageError(`--entity-name or --entity-default is required for ${e.type}`);
    names[e.type] = e.name;
  }
  const set: Record<string, number> = {};
  for (const [k, v] of parseConfigList(add)) {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${k} must be a number; got '${v}'`);
    set[k] = n;
  }
  if (Object.keys(set).length === 0 && del.length === 0) {
    throw new UsageError('alter needs --add-config and/or --delete-config');
  }
  await alterClientQuotas(cluster, [{ entity: names, set, remove: del }]);
  return `Completed updating config for ${entityLabel(names)}.`;
}
