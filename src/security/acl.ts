// Kafka's ACL model: resource patterns, ACL entries and the filters of DescribeAcls/DeleteAcls, with Kafka's
// codes (ResourceType, PatternType, AclOperation, AclPermissionType) and the names Kafka stores in ZooKeeper.

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceTypeName =
  | 'TOPIC'
  | 'GROUP'
  | 'CLUSTER'
  | 'TRANSACTIONAL_ID'
  | 'DELEGATION_TOKEN'
  | 'USER';

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const Permission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

export const Operation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
export type OperationName = Exclude<keyof typeof Operation, 'UNKNOWN' | 'ANY'>;

/** The cluster resource's only name. */
export const CLUSTER_NAME = 'kafka-cluster';
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

/** A resource pattern: type code, LITERAL (3) or PREFIXED (4), and name. */
export interface ResourcePattern {
  resourceType: number;
  patternType: number;
  name: string;
}

/** One ACL entry of a resource pattern. */
export interface AclEntry {
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

export interface AclBinding {
  pattern: ResourcePattern;
  entry: AclEntry;
}

/** A filter of DescribeAcls/DeleteAcls (null strings and ANY codes match everything). */
export interface AclFilter {
  resourceType: number;
  name: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** Kafka's stored (ZooKeeper) resource type names. */
const zkTypeNames: Record<number, string> = {
  [ResourceType.TOPIC]: 'Topic',
  [ResourceType.GROUP]: 'Group',
  [ResourceType.CLUSTER]: 'Cluster',
  [ResourceType.TRANSACTIONAL_ID]: 'TransactionalId',
  [ResourceType.DELEGATION_TOKEN]: 'DelegationToken',
  [ResourceType.USER]: 'User',
};

/** The PascalCase name Kafka stores for a code ("Topic", "IdempotentWrite", "Allow"). */
function pascal(upper: string): string {
  return upper
    .split('_')
    .map((w) => w.charAt(0) + w.slice(1).toLowerCase())
    .join('');
}

function codeOf(table: Record<string, number>, name: string): number | undefined {
  const key = name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  return table[key];
}

export function resourceTypeZkName(code: number): string {
  const n = zkTypeNames[code];
  if (n === undefined) throw new Error(`not a concrete resource type: ${code}`);
  return n;
}

export function resourceTypeFromName(name: string): number | undefined {
  const c = codeOf(ResourceType, name);
  return c === undefined || c < ResourceType.TOPIC ? undefined : c;
}

export function operationName(code: number): string {
  const e = Object.entries(Operation).find(([, v]) => v === code);
  return e === undefined ? 'Unknown' : pascal(e[0]);
}

export function operationFromName(name: string): number | undefined {
  const c = codeOf(Operation, name);
  return c === undefined || c < Operation.ALL ? undefined : c;
}

export function permissionName(code: number): string {
  return code === Permission.ALLOW ? 'Allow' : code === Permission.DENY ? 'Deny' : 'Unknown';
}

export function permissionFromName(name: string): number | undefined {
  const c = codeOf(Permission, name);
  return c === Permission.ALLOW || c === Permission.DENY ? c : undefined;
}

export function patternTypeName(code: number): string {
  return code === PatternType.PREFIXED ? 'PREFIXED' : code === PatternType.LITERAL ? 'LITERAL' : 'UNKNOWN';
}

export function typeName(code: number): string {
  const e = Object.entries(ResourceType).find(([, v]) => v === code);
  return e === undefined ? 'UNKNOWN' : e[0];
}

/** A key unique per resource pattern (for maps). */
export function patternKey(p: ResourcePattern): string {
  return `${p.resourceType}\u0000${p.patternType}\u0000${p.name}`;
}

export function sameEntry(a: AclEntry, b: AclEntry): boolean {
  return (
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}

/** Why an ACL binding cannot be created (Kafka's checks), or null. */
export function bindingProblem(b: AclBinding): string | null {
  const p = b.pattern;
  if (zkTypeNames[p.resourceType] === undefined) return 'Invalid resource type';
  if (p.patternType !== PatternType.LITERAL && p.patternType !== PatternType.PREFIXED)
    return 'Invalid pattern type: only LITERAL and PREFIXED ACLs can be created';
  if (p.name.length === 0) return 'Resource name must not be empty';
  if (p.resourceType === ResourceType.CLUSTER && p.name !== CLUSTER_NAME)
    return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (b.entry.operation < Operation.ALL || b.entry.operation > Operation.DESCRIBE_TOKENS)
    return 'Invalid operation';
  if (b.entry.permissionType !== Permission.ALLOW && b.entry.permissionType !== Permission.DENY)
    return 'Invalid permission type';
  if (!/^[^:]+:.+$/.test(b.entry.principal)) return `Invalid principal: ${b.entry.principal}`;
  if (b.entry.host.length === 0) return 'Invalid host';
  return null;
}

/** Why a filter is malformed (Kafka's AclBindingFilter.findIndefiniteField for UNKNOWN codes), or null. */
export function filterProblem(f: AclFilter): string | null {
  if (f.resourceType === ResourceType.UNKNOWN || f.resourceType > ResourceType.USER)
    return 'Unknown resource type';
  if (f.patternType === PatternType.UNKNOWN || f.patternType > PatternType.PREFIXED)
    return 'Unknown pattern type';
  if (f.operation === Operation.UNKNOWN || f.operation > Operation.DESCRIBE_TOKENS)
    return 'Unknown operation';
  if (f.permissionType === Permission.UNKNOWN || f.permissionType > Permission.ALLOW)
    return 'Unknown permission type';
  return null;
}

/** Whether a binding matches a filter (Kafka's AclBindingFilter.matches, MATCH included). */
export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  const p = b.pattern;
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== p.resourceType) return false;
  if (f.patternType === PatternType.MATCH) {
    if (f.name !== null) {
      const matches =
        (p.patternType === PatternType.LITERAL && (p.name === f.name || p.name === WILDCARD)) ||
        (p.patternType === PatternType.PREFIXED && f.name.startsWith(p.name));
      if (!matches) return false;
    }
  } else {
    if (f.patternType !== PatternType.ANY && f.patternType !== p.patternType) return false;
    if (f.name !== null && f.name !== p.name) return false;
  }
  const e = b.entry;
  if (f.principal !== null && f.principal !== e.principal) return false;
  if (f.host !== null && f.host !== e.host) return false;
  if (f.operation !== Operation.ANY && f.operation !== e.operation) return false;
  if (f.permissionType !== Permission.ANY && f.permissionType !== e.permissionType) return false;
  return true;
}

/** Kafka's ZooKeeper JSON of a resource's ACLs. */
export function encodeAcls(entries: readonly AclEntry[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: 1,
      acls: entries.map((e) => ({
        principal: e.principal,
        permissionType: permissionName(e.permissionType),
        operation: operationName(e.operation),
        host: e.host,
      })),
    }),
  );
}

/** Parses Kafka's ZooKeeper JSON of a resource's ACLs; entries it cannot read are left out. */
export function decodeAcls(data: Buffer): AclEntry[] {
  if (data.length === 0) return [];
  const doc = JSON.parse(data.toString('utf8')) as { acls?: unknown };
  if (!Array.isArray(doc.acls)) return [];
  const out: AclEntry[] = [];
  for (const a of doc.acls as Record<string, unknown>[]) {
    const operation = typeof a.operation === 'string' ? operationFromName(a.operation) : undefined;
    const permissionType =
      typeof a.permissionType === 'string' ? permissionFromName(a.permissionType) : undefined;
    if (
      operation === undefined ||
      permissionType === undefined ||
      typeof a.principal !== 'string' ||
      typeof a.host !== 'string'
    )
      continue;
    out.push({ principal: a.principal, host: a.host, operation, permissionType });
  }
  return out;
}
