// JoinGroup (key 11), v0-9. The first phase of a classic rebalance (src/coordinator/group/): the
// request is parked until the join phase completes, then answered with the generation, the chosen
// protocol, the leader and (for the leader) every member's metadata. v0 has no rebalance timeout
// (the session timeout serves); v4+ makes a new dynamic member fetch its id first
// (MEMBER_ID_REQUIRED); v5+ static membership (group.instance.id); v7+ protocol type in the
// response (protocol name nullable); v8+ a reason; v9+ skipAssignment for a returning static leader.
// NOT_COORDINATOR when another broker coordinates the group (or it moves away while the request is
// parked), COORDINATOR_LOAD_IN_PROGRESS while its partition of __consumer_offsets loads.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { JoinGroupRequest } from '../../protocol/generated/join-group-request.js';
import type { JoinGroupResponseInput } from '../../protocol/generated/join-group-response.js';
import { groupDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

/** Kafka reports a member's host as InetAddress.toString() does: "/127.0.0.1". */
export function clientHostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return `/${i > 0 ? address.slice(0, i) : address}`;
}

export const joinGroup = defineHandler<JoinGroupRequest, JoinGroupResponseInput>({
  apiKey: ApiKey.JoinGroup,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req) {
    const v = ctx.apiVersion;
    const denied = groupDenial(ctx, 'READ', req.groupId);
    if (denied !== 0) return { throttleTimeMs: 0, errorCode: denied, memberId: req.memberId };
    const res = await ctx.broker.groups.join({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: v >= 5 ? req.groupInstanceId : null,
      clientId: ctx.clientId ?? '',
      clientHost: clientHostOf(ctx.clientAddress),
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: v >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      // Copies: the request frame is not kept alive for as long as the group remembers these.
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: v >= 4,
      supportsSkippingAssignment: v >= 9,
      reason: req.reason,
    });
    return {
      throttleTimeMs: 0,
      errorCode: res.errorCode,
      generationId: res.generationId,
      protocolType: res.protocolType,
      // Before v7 the protocol name is not nullable.
      protocolName: v < 7 ? (res.protocolName ?? '') : res.protocolName,
      leader: res.leader,
      skipAssignment: res.skipAssignment,
      memberId: res.memberId,
      members: res.members,
    };
  },
});
