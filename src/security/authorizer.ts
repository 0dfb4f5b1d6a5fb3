// The ACL authorizer (authorizer.class.name), with the semantics of Kafka's AclAuthorizer and
// StandardAuthorizer:
//
// - a principal listed in super.users is allowed everything;
// - the ACLs that apply to a resource are those of its LITERAL name, of the LITERAL wildcard '*' and of every
//   PREFIXED pattern the name starts with;
// - a DENY entry matching the principal (or User:*), the host (or '*') and the operation (or ALL) denies;
// - no applicable ACL at all: allowed only with allow.everyone.if.no.acl.found=true;
// - otherwise an ALLOW entry must match; DESCRIBE is implied by READ, WRITE, DELETE and ALTER, and
//   DESCRIBE_CONFIGS by ALTER_CONFIGS.
//
// The ACLs are cached here (the whole set, loaded from the metadata store or ZooKeeper and updated on every
// change); handlers ask through authorize(), one call per check.

import type { RequestContext } from '../broker/handler.js';
import {
  type AclBinding,
  type AclEntry,
  CLUSTER_NAME,
  Operation,
  type OperationName,
  PatternType,
  Permission,
  patternKey,
  type ResourcePattern,
  ResourceType,
  type ResourceTypeName,
  WILDCARD,
  WILDCARD_PRINCIPAL,
} from './acl.js';

/** The class names that turn the authorizer on (Kafka's two, and Samsa's own). */
export const AUTHORIZER_CLASS_NAMES: readonly string[] = [
  'kafka.security.authorizer.AclAuthorizer',
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'samsa.AclAuthorizer',
];

/** The host part of host:port (IPv6 addresses contain colons; the port follows the last one). */
export function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  const host = i > 0 ? address.slice(0, i) : address;
  const plain = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return plain.startsWith('::ffff:') ? plain.slice(7) : plain;
}

export class Authorizer {
  private readonly acls = new Map<string, { pattern: ResourcePattern; entries: AclEntry[] }>();
  readonly superUsers: ReadonlySet<string>;

  constructor(
    superUsers: string,
    readonly allowEveryoneIfNoAclFound: boolean,
  ) {
    this.superUsers = new Set(
      superUsers
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );
  }

  /** Replaces the ACLs of one resource pattern (empty removes it). */
  setResourceAcls(pattern: ResourcePattern, entries: readonly AclEntry[]): void {
    const key = patternKey(pattern);
    if (entries.length === 0) this.acls.delete(key);
    else this.acls.set(key, { pattern: { ...pattern }, entries: [...entries] });
  }

  resourceAcls(pattern: ResourcePattern): AclEntry[] {
    return [...(this.acls.get(patternKey(pattern))?.entries ?? [])];
  }

  /** Every binding, in a stable order. */
  bindings(): AclBinding[] {
    const out: AclBinding[] = [];
    for (const { pattern, entries } of this.acls.values())
      for (const entry of entries) out.push({ pattern, entry });
    return out;
  }

  /** The entries that apply to a resource: its literal name, the '*' wildcard and matching prefixes. */
  private applicable(resourceType: number, name: string): AclEntry[] {
    const out: AclEntry[] = [];
    for (const { pattern, entries } of this.acls.values()) {
      if (pattern.resourceType !== resourceType) continue;
      const applies =
        pattern.patternType === PatternType.LITERAL
          ? pattern.name === name || pattern.name === WILDCARD
          : name.startsWith(pattern.name);
      if (applies) out.push(...entries);
    }
    return out;
  }

  /** Kafka's AclAuthorizer.authorize for one action. */
  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    if (this.superUsers.has(principal)) return true;
    const entries = this.applicable(resourceType, name);
    const matches = (e: AclEntry, permission: number, ops: readonly number[]): boolean =>
      e.permissionType === permission &&
      (e.principal === principal || e.principal === WILDCARD_PRINCIPAL) &&
      (e.host === WILDCARD || e.host === host) &&
      (e.operation === Operation.ALL || ops.includes(e.operation));
    if (entries.some((e) => matches(e, Permission.DENY, [operation]))) return false;
    if (entries.length === 0) return this.allowEveryoneIfNoAclFound;
    return entries.some((e) => matches(e, Permission.ALLOW, impliedBy(operation)));
  }

  /**
   * Kafka's authorizeByResourceType (KIP-679): whether some resource of the type could allow the operation,
   * i.e. an ALLOW on it is not shadowed by a DENY on the wildcard or a covering prefix.
   */
  authorizeAny(principal: string, host: string, operation: number, resourceType: number): boolean {
    if (this.superUsers.has(principal)) return true;
    for (const { pattern, entries } of this.acls.values()) {
      if (pattern.resourceType !== resourceType) continue;
      for (const e of entries) {
        if (e.permissionType !== Permission.ALLOW) continue;
        if (e.principal !== principal && e.principal !== WILDCARD_PRINCIPAL) continue;
        if (e.host !== WILDCARD && e.host !== host) continue;
        if (e.operation !== Operation.ALL && !impliedBy(operation).includes(e.operation)) continue;
        if (this.authorize(principal, host, operation, resourceType, pattern.name)) return true;
      }
    }
    return (
      this.allowEveryoneIfNoAclFound && this.bindings().every((b) => b.pattern.resourceType !== resourceType)
    );
  }
}

/** The operations whose ALLOW also allows op (Kafka's implied operations). */
function impliedBy(op: number): readonly number[] {
  if (op === Operation.DESCRIBE)
    return [Operation.DESCRIBE, Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER];
  if (op === Operation.DESCRIBE_CONFIGS) return [Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS];
  return [op];
}

/**
 * Whether the request's principal may do op on the resource; true when no authorizer is configured. A
 * denial is logged (info, rate-limited per client) as Kafka's authorizer log does.
 */
export function authorize(
  ctx: RequestContext,
  op: OperationName,
  type: ResourceTypeName,
  name: string = CLUSTER_NAME,
  opts: { log?: boolean } = {},
): boolean {
  const a = ctx.broker.authorizer;
  if (a === null) return true;
  const principal = ctx.session.principal;
  const host = hostOf(ctx.clientAddress);
  if (a.authorize(principal, host, Operation[op], ResourceType[type], name)) return true;
  if (opts.log !== false) {
    ctx.broker.authorizerLog.warn(ctx, `denied:${op}:${type}`, 'Principal is Denied operation', {
      principal,
      operation: op,
      resource: `${type}:LITERAL:${name}`,
      host,
      api: ctx.apiKey,
    });
  }
  return false;
}

/** authorizeByResourceType: some resource of the type allows op (IDEMPOTENT_WRITE's fallback). */
export function authorizeAny(ctx: RequestContext, op: OperationName, type: ResourceTypeName): boolean {
  const a = ctx.broker.authorizer;
  if (a === null) return true;
  return a.authorizeAny(ctx.session.principal, hostOf(ctx.clientAddress), Operation[op], ResourceType[type]);
}

/** The names of those the principal may do op on (Metadata, ListGroups filter this way; not logged). */
export function authorizedNames<T>(
  ctx: RequestContext,
  op: OperationName,
  type: ResourceTypeName,
  items: Iterable<T>,
  nameOf: (t: T) => string,
): T[] {
  if (ctx.broker.authorizer === null) return [...items];
  return [...items].filter((t) => authorize(ctx, op, type, nameOf(t), { log: false }));
}

/** The names among names the principal may not do op on (empty without an authorizer); denials are logged. */
export function deniedNames(
  ctx: RequestContext,
  op: OperationName,
  type: ResourceTypeName,
  names: Iterable<string>,
): ReadonlySet<string> {
  const denied = new Set<string>();
  if (ctx.broker.authorizer === null) return denied;
  for (const n of new Set(names)) if (!authorize(ctx, op, type, n)) denied.add(n);
  return denied;
}

/** Produce: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED or 0 for a topic's partitions. */
export function produceDenial(ctx: RequestContext, transactionalId: string | null, topic: string): number {
  const txnDenied = transactionalId === null ? 0 : transactionalIdDenial(ctx, transactionalId);
  if (txnDenied !== 0) return txnDenied;
  return authorize(ctx, 'WRITE', 'TOPIC', topic) ? 0 : 29;
}

/** Creating a topic (CreateTopics, Metadata's auto-creation): CREATE on the cluster or on the topic. */
export function mayCreateTopic(ctx: RequestContext, topic: string): boolean {
  return (
    authorize(ctx, 'CREATE', 'CLUSTER', CLUSTER_NAME, { log: false }) ||
    authorize(ctx, 'CREATE', 'TOPIC', topic)
  );
}

/** The authorized-operations bitfield (KIP-430) of a resource: the supported operations the principal may do. */
export function authorizedOperationBits(
  ctx: RequestContext | null,
  type: ResourceTypeName,
  name: string,
  supported: readonly number[],
): number {
  const a = ctx?.broker.authorizer ?? null;
  let bits = 0;
  for (const code of supported) {
    const allowed =
      a === null ||
      ctx === null ||
      a.authorize(ctx.session.principal, hostOf(ctx.clientAddress), code, ResourceType[type], name);
    if (allowed) bits |= 1 << code;
  }
  return bits;
}

/** Fetch: the topics a consumer may not READ, or every topic when a follower lacks CLUSTER_ACTION. */
export function fetchDenials(ctx: RequestContext, follower: boolean, topics: string[]): ReadonlySet<string> {
  if (ctx.broker.authorizer === null) return new Set();
  if (follower) return authorize(ctx, 'CLUSTER_ACTION', 'CLUSTER') ? new Set() : new Set(topics);
  return deniedNames(ctx, 'READ', 'TOPIC', topics);
}

/** GROUP_AUTHORIZATION_FAILED (30) when the principal may not do op on the group, else 0. */
export function groupDenial(ctx: RequestContext, op: OperationName, group: string): number {
  return authorize(ctx, op, 'GROUP', group) ? 0 : 30;
}

/** FindCoordinator: DESCRIBE on the group (key type 0) or the transactional id (1); the error code or 0. */
export function coordinatorDenial(ctx: RequestContext, keyType: number, key: string): number {
  if (keyType === 0) return groupDenial(ctx, 'DESCRIBE', key);
  if (keyType === 1) return authorize(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', key) ? 0 : 53;
  return 0;
}

/**
 * OffsetCommit and TxnOffsetCommit: READ on the group (else every partition answers
 * GROUP_AUTHORIZATION_FAILED) and READ on each topic (else its partitions answer TOPIC_AUTHORIZATION_FAILED).
 * allowed: the topics to commit; answers: the refused partitions' results.
 */
export function commitDenials<T extends { name: string; partitions: { partitionIndex: number }[] }>(
  ctx: RequestContext,
  group: string,
  topics: readonly T[],
): {
  allowed: T[];
  answers: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
} {
  if (ctx.broker.authorizer === null) return { allowed: [...topics], answers: [] };
  const groupDenied = groupDenial(ctx, 'READ', group);
  const denied =
    groupDenied !== 0
      ? null
      : deniedNames(
          ctx,
          'READ',
          'TOPIC',
          topics.map((t) => t.name),
        );
  const allowed = denied === null ? [] : topics.filter((t) => !denied.has(t.name));
  const answers = topics
    .filter((t) => denied === null || denied.has(t.name))
    .map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: groupDenied !== 0 ? groupDenied : 29,
      })),
    }));
  return { allowed, answers };
}

/**
 * The APIs Kafka authorizes on the cluster resource as a whole, by API key: the inter-broker ones need
 * CLUSTER_ACTION, the admin ones ALTER or DESCRIBE. (CreateAcls/DeleteAcls/DescribeAcls answer
 * SECURITY_DISABLED without an authorizer, so they check in their handlers.)
 */
const clusterApis: ReadonlyMap<number, OperationName> = new Map([
  [4, 'CLUSTER_ACTION'], // LeaderAndIsr
  [5, 'CLUSTER_ACTION'], // StopReplica
  [6, 'CLUSTER_ACTION'], // UpdateMetadata
  [7, 'CLUSTER_ACTION'], // ControlledShutdown
  [27, 'CLUSTER_ACTION'], // WriteTxnMarkers
  [56, 'CLUSTER_ACTION'], // AlterPartition
  [35, 'DESCRIBE'], // DescribeLogDirs
  [43, 'ALTER'], // ElectLeaders
  [45, 'ALTER'], // AlterPartitionReassignments
  [46, 'DESCRIBE'], // ListPartitionReassignments
  [48, 'DESCRIBE_CONFIGS'], // DescribeClientQuotas
  [49, 'ALTER_CONFIGS'], // AlterClientQuotas
  [50, 'DESCRIBE'], // DescribeUserScramCredentials
  [51, 'ALTER'], // AlterUserScramCredentials
  [60, 'DESCRIBE'], // DescribeCluster
  [74, 'DESCRIBE_CONFIGS'], // ListConfigResources (ListClientMetricsResources)
]);

/** CLUSTER_AUTHORIZATION_FAILED (31) when the request's API needs an operation on the cluster it lacks, else 0. */
export function clusterApiDenial(ctx: RequestContext): number {
  if (ctx.broker.authorizer === null) return 0;
  const op = clusterApis.get(ctx.apiKey);
  return op === undefined || authorize(ctx, op, 'CLUSTER') ? 0 : 31;
}

/**
 * The transactional APIs (InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit): WRITE on
 * the transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53); 0 when allowed.
 */
export function transactionalIdDenial(ctx: RequestContext, transactionalId: string): number {
  return authorize(ctx, 'WRITE', 'TRANSACTIONAL_ID', transactionalId) ? 0 : 53;
}

/**
 * InitProducerId without a transactional id (an idempotent producer): IDEMPOTENT_WRITE on the cluster, or WRITE on
 * some topic (Kafka 3.0+, KIP-679), else CLUSTER_AUTHORIZATION_FAILED (31); 0 when allowed.
 */
export function idempotentDenial(ctx: RequestContext): number {
  if (ctx.broker.authorizer === null) return 0;
  if (authorize(ctx, 'IDEMPOTENT_WRITE', 'CLUSTER', CLUSTER_NAME, { log: false })) return 0;
  return authorizeAny(ctx, 'WRITE', 'TOPIC') ? 0 : 31;
}

/**
 * DescribeConfigs (DESCRIBE_CONFIGS) and AlterConfigs / IncrementalAlterConfigs (ALTER_CONFIGS) on a config
 * resource: a topic (29), a broker or broker logger (the cluster: 31), a group (30); 0 when allowed.
 */
export function configDenial(
  ctx: RequestContext,
  op: 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS',
  resourceType: number,
  resourceName: string,
): { errorCode: number; errorMessage: string } | null {
  if (ctx.broker.authorizer === null) return null;
  if (resourceType === 2) {
    return authorize(ctx, op, 'TOPIC', resourceName)
      ? null
      : { errorCode: 29, errorMessage: `Topic authorization failed for ${resourceName}` };
  }
  if (resourceType === 32) {
    return authorize(ctx, op, 'GROUP', resourceName)
      ? null
      : { errorCode: 30, errorMessage: `Group authorization failed for ${resourceName}` };
  }
  return authorize(ctx, op, 'CLUSTER')
    ? null
    : { errorCode: 31, errorMessage: 'Cluster authorization failed.' };
}
