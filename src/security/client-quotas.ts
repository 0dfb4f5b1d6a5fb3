// Client quota configs (KIP-13 / KIP-55 / KIP-546): what is stored, where, and which entity's quota applies.
//
// An entity is a user, a client id, a user and a client id together, or an IP; each name may be the entity type's
// default (null here, "<default>" where stored). Stored as Kafka does:
//   ZooKeeper: /config/users/<user>, /config/users/<user>/clients/<client-id>, /config/clients/<client-id>,
//     /config/ips/<ip> (names sanitized, the default "<default>"), each {"version":1,"config":{key: value}}; a user's
//     znode also holds its SCRAM credentials. A change notification names the entity path ("users/u/clients/c").
//   The local metadata store (single node): quotaConfigs { <entity path>: {key: value} }.
// The entity path (users/<u>[/clients/<c>] | clients/<c> | ips/<ip>) is the key everywhere.
//
// ClientQuotaCache is the broker's copy (one owner: the broker fills it at start-up and on every change, its own
// writes and ZooKeeper notifications). quotaFor() applies KIP-55's precedence per quota key:
//   /config/users/<user>/clients/<client-id>, /config/users/<user>/clients/<default>, /config/users/<user>,
//   /config/users/<default>/clients/<client-id>, /config/users/<default>/clients/<default>, /config/users/<default>,
//   /config/clients/<client-id>, /config/clients/<default>
// and says which metric entity (user, client id; '' for a dimension the quota does not split by) the usage is
// recorded under, as Kafka's DefaultQuotaCallback.quotaMetricTags.

import { groupEntityName } from '../cluster/zk/zk-paths.js';

export const QUOTA_DEFAULT = '<default>';

export const QuotaKey = {
  PRODUCER_BYTE_RATE: 'producer_byte_rate',
  CONSUMER_BYTE_RATE: 'consumer_byte_rate',
  REQUEST_PERCENTAGE: 'request_percentage',
  CONTROLLER_MUTATION_RATE: 'controller_mutation_rate',
  CONNECTION_CREATION_RATE: 'connection_creation_rate',
} as const;

/** Keys allowed on user / client-id entities and their kind (Kafka's QuotaConfig: LONG or DOUBLE). */
export type QuotaKind = 'int' | 'long' | 'double';

export const clientQuotaKeys: ReadonlyMap<string, QuotaKind> = new Map<string, QuotaKind>([
  [QuotaKey.PRODUCER_BYTE_RATE, 'long'],
  [QuotaKey.CONSUMER_BYTE_RATE, 'long'],
  [QuotaKey.REQUEST_PERCENTAGE, 'double'],
  [QuotaKey.CONTROLLER_MUTATION_RATE, 'double'],
]);
/** Keys allowed on IP entities (enforced by src/broker/connection-quotas.ts). */
export const ipQuotaKeys: ReadonlyMap<string, QuotaKind> = new Map<string, QuotaKind>([
  [QuotaKey.CONNECTION_CREATION_RATE, 'int'],
]);

export function isQuotaKey(key: string): boolean {
  return clientQuotaKeys.has(key) || ipQuotaKeys.has(key);
}

export const EntityType = { USER: 'user', CLIENT_ID: 'client-id', IP: 'ip' } as const;

/** Entity type -> name (null: the type's default). */
export type QuotaEntity = ReadonlyMap<string, string | null>;

function name(n: string | null): string {
  return n === null ? QUOTA_DEFAULT : groupEntityName(n);
}

function unname(s: string): string | null {
  return s === QUOTA_DEFAULT ? null : decodeURIComponent(s);
}

/** users/<u>, users/<u>/clients/<c>, clients/<c> or ips/<ip>; the entity must be a valid combination. */
export function entityPath(e: QuotaEntity): string {
  const user = e.get(EntityType.USER);
  const client = e.get(EntityType.CLIENT_ID);
  const ip = e.get(EntityType.IP);
  if (ip !== undefined) return `ips/${name(ip)}`;
  if (user !== undefined && client !== undefined) return `users/${name(user)}/clients/${name(client)}`;
  if (user !== undefined) return `users/${name(user)}`;
  if (client !== undefined) return `clients/${name(client)}`;
  throw new Error('an empty quota entity');
}

/** The entity an entity path names; null for a path that is not one. */
export function parseEntityPath(path: string): QuotaEntity | null {
  const parts = path.split('/');
  const m = new Map<string, string | null>();
  try {
    if (parts.length === 2 && parts[0] === 'users') m.set(EntityType.USER, unname(parts[1] as string));
    else if (parts.length === 2 && parts[0] === 'clients')
      m.set(EntityType.CLIENT_ID, unname(parts[1] as string));
    else if (parts.length === 2 && parts[0] === 'ips') m.set(EntityType.IP, unname(parts[1] as string));
    else if (parts.length === 4 && parts[0] === 'users' && parts[2] === 'clients') {
      m.set(EntityType.USER, unname(parts[1] as string));
      m.set(EntityType.CLIENT_ID, unname(parts[3] as string));
    } else return null;
  } catch {
    return null; // a malformed percent-encoding
  }
  return m;
}

/** The quota keys of a stored config map (a user's also holds SCRAM credentials), as numbers. */
export function quotaValues(configs: Readonly<Record<string, string>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(configs)) {
    if (!clientQuotaKeys.has(k) && !ipQuotaKeys.has(k)) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out.set(k, n);
  }
  return out;
}

/** Where a quota applies and under which metric entity the usage is recorded. */
export interface AppliedQuota {
  bound: number;
  /** The metric entity: sanitized user and client id ('' where the quota does not split by it). */
  user: string;
  clientId: string;
}

export class ClientQuotaCache {
  /** Entity path -> its entity and quota values (entities without any are dropped). */
  private readonly entries = new Map<string, { entity: QuotaEntity; values: Map<string, number> }>();
  /** Moves on every change, so quota managers can drop cached lookups. */
  generation = 0;

  /** An entity's stored configs changed (empty or without quota keys: it has none left). */
  setConfigs(znodePath: string, configs: Readonly<Record<string, string>>): void {
    const entity = parseEntityPath(znodePath);
    if (entity === null) return;
    // Keyed by the canonical path: a znode Kafka named (e.g. "a.b", where this encoding writes "a%2Eb") too.
    const path = entityPath(entity);
    const values = quotaValues(configs);
    if (values.size === 0) this.entries.delete(path);
    else this.entries.set(path, { entity, values });
    this.generation++;
  }

  values(path: string): ReadonlyMap<string, number> {
    return this.entries.get(path)?.values ?? new Map();
  }

  all(): { path: string; entity: QuotaEntity; values: ReadonlyMap<string, number> }[] {
    return [...this.entries].map(([path, e]) => ({ path, ...e }));
  }

  /** True when some entity has this key (quotas of that kind are enforced at all). */
  anyWith(key: string): boolean {
    for (const e of this.entries.values()) if (e.values.has(key)) return true;
    return false;
  }

  /**
   * The connection_creation_rate quota of an IP: its own entity's, else the <default> IP's; null: none (Kafka's
   * ConnectionQuotas.connectionRateForIp; Integer.MAX_VALUE, Kafka's "unlimited", is none too).
   */
  connectionRateFor(ip: string): number | null {
    const key = QuotaKey.CONNECTION_CREATION_RATE;
    const v =
      this.entries.get(`ips/${name(ip)}`)?.values.get(key) ??
      this.entries.get(`ips/${QUOTA_DEFAULT}`)?.values.get(key);
    return v === undefined || v >= 2147483647 ? null : v;
  }

  /** KIP-55's precedence for one quota key; null: no quota applies (unlimited). */
  quotaFor(key: string, user: string, clientId: string): AppliedQuota | null {
    const u = name(user);
    const c = name(clientId);
    const D = QUOTA_DEFAULT;
    const order: [string, string, string][] = [
      [`users/${u}/clients/${c}`, user, clientId],
      [`users/${u}/clients/${D}`, user, clientId],
      [`users/${u}`, user, ''],
      [`users/${D}/clients/${c}`, user, clientId],
      [`users/${D}/clients/${D}`, user, clientId],
      [`users/${D}`, user, ''],
      [`clients/${c}`, '', clientId],
      [`clients/${D}`, '', clientId],
    ];
    for (const [path, mu, mc] of order) {
      const bound = this.entries.get(path)?.values.get(key);
      if (bound !== undefined) return { bound, user: mu, clientId: mc };
    }
    return null;
  }
}
