// The request side of ConsumerGroupHeartbeat: its shape, Kafka's validation of it
// (throwIfConsumerGroupHeartbeatRequestIsInvalid), the error a refused heartbeat answers, and the small
// comparisons of members the heartbeat and the classic-protocol members (classic.ts) share.

import { ErrorCode } from '../../../protocol/errors.js';
import { assignmentEquals } from './assignment.js';
import { type ConsumerMember, LEAVE_GROUP_STATIC_MEMBER_EPOCH } from './group.js';
import { compileTopicRegex } from './topics.js';

export interface ConsumerHeartbeatRequest {
  apiVersion: number;
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: { topicId: string; partitions: number[] }[] | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

export class HeartbeatError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function fail(errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatResult {
  return {
    errorCode,
    errorMessage,
    memberId: null,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

/** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid. */
export function requestProblem(
  req: ConsumerHeartbeatRequest,
  assignors: readonly string[],
): HeartbeatError | null {
  const invalid = (msg: string) => new HeartbeatError(ErrorCode.INVALID_REQUEST, msg);
  if (req.groupId === '') return invalid("GroupId can't be empty.");
  if (req.memberId === '' && (req.apiVersion >= 1 || req.memberEpoch !== 0))
    return invalid("MemberId can't be empty.");
  if (req.instanceId === '') return invalid("InstanceId can't be empty.");
  if (req.rackId === '') return invalid("RackId can't be empty.");
  if (req.memberEpoch === 0) {
    if (req.rebalanceTimeoutMs === -1)
      return invalid('RebalanceTimeoutMs must be provided in first request.');
    if (req.topicPartitions === null || req.topicPartitions.length > 0)
      return invalid('TopicPartitions must be empty when (re-)joining.');
    if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null)
      return invalid(
        'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.',
      );
  } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    if (req.instanceId === null) return invalid("InstanceId can't be null.");
  } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    return invalid(`MemberEpoch ${req.memberEpoch} is invalid.`);
  }
  if (req.serverAssignor !== null && !assignors.includes(req.serverAssignor)) {
    return new HeartbeatError(
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${assignors.join(', ')}.`,
    );
  }
  if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== '') {
    if (compileTopicRegex(req.subscribedTopicRegex) === null) {
      return new HeartbeatError(
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression.`,
      );
    }
  }
  return null;
}

export function newMemberId(): string {
  // Kafka's Uuid.randomUuid().toString(): 22 characters of URL-safe base64.
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
}

export function metadataChanged(a: ConsumerMember | undefined, b: ConsumerMember): boolean {
  return (
    a === undefined ||
    a.instanceId !== b.instanceId ||
    a.rackId !== b.rackId ||
    a.clientId !== b.clientId ||
    a.clientHost !== b.clientHost ||
    a.rebalanceTimeoutMs !== b.rebalanceTimeoutMs
  );
}

export function sameCurrent(a: ConsumerMember, b: ConsumerMember): boolean {
  return (
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    a.state === b.state &&
    assignmentEquals(a.assignedPartitions, b.assignedPartitions) &&
    assignmentEquals(a.partitionsPendingRevocation, b.partitionsPendingRevocation)
  );
}
