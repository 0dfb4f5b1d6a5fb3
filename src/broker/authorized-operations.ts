// The authorized-operations bitfields of Metadata, DescribeCluster and DescribeTopicPartitions (KIP-430).
//
// Kafka answers with one bit per AclOperation code (Utils.to32BitField) for each operation the resource type
// supports (AclEntry.supportedOperations) that the authorizer allows; with no authorizer configured every
// supported operation is allowed (src/security/authorizer.ts answers from the ACLs). A
// field the client did not ask for stays at the schema default, AUTHORIZED_OPERATIONS_OMITTED.

import { authorizedOperationBits } from '../security/authorizer.js';
import type { RequestContext } from './handler.js';

/** Kafka's AclOperation codes. */
export const AclOperation = {
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

/** The schemas' default (Integer.MIN_VALUE): the client did not ask for the operations. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

const op = AclOperation;

/** AclEntry.supportedOperations for the resource types these APIs describe. */
export const topicOperations: readonly number[] = [
  op.READ,
  op.WRITE,
  op.CREATE,
  op.DESCRIBE,
  op.DELETE,
  op.ALTER,
  op.DESCRIBE_CONFIGS,
  op.ALTER_CONFIGS,
];
export const clusterOperations: readonly number[] = [
  op.CREATE,
  op.CLUSTER_ACTION,
  op.DESCRIBE_CONFIGS,
  op.ALTER_CONFIGS,
  op.IDEMPOTENT_WRITE,
  op.ALTER,
  op.DESCRIBE,
];

/** Utils.to32BitField: bit n set for operation code n. */
export function operationsBitfield(ops: readonly number[]): number {
  let bits = 0;
  for (const code of ops) bits |= 1 << code;
  return bits;
}

/** What a topic answers: the operations a topic supports that the request's principal may do on it. */
export function topicAuthorizedOperations(topic: string, ctx: RequestContext | null = null): number {
  return authorizedOperationBits(ctx, 'TOPIC', topic, topicOperations);
}

/** AclEntry.supportedOperations of a group: READ, DELETE, DESCRIBE. */
export const groupOperations: readonly number[] = [op.READ, op.DELETE, op.DESCRIBE];

/** What a group answers (DescribeGroups, ConsumerGroupDescribe): its operations the principal may do. */
export function groupAuthorizedOperations(group: string, ctx: RequestContext | null = null): number {
  return authorizedOperationBits(ctx, 'GROUP', group, groupOperations);
}

/** What the cluster answers: the operations the cluster supports that the request's principal may do. */
export function clusterAuthorizedOperations(ctx: RequestContext | null = null): number {
  return authorizedOperationBits(ctx, 'CLUSTER', 'kafka-cluster', clusterOperations);
}
