// The target side of a consumer group (KIP-848): which topics its members subscribe to (names and regular
// expressions resolved against the cluster's topics), the hash of those topics' ids and partition counts
// (a change bumps the group epoch), and the target assignment the group's assignor computes for a new
// group epoch. Each function appends the records of what it changed.

import { isInternalTopic } from '../../../cluster/metadata-cache.js';
import type { GroupCoordinator } from '../coordinator.js';
import type { EncodedRecord } from '../records.js';
import { type Assignment, assignmentEquals } from './assignment.js';
import { ASSIGNORS, type AssignorMember, type AssignorTopic } from './assignors.js';
import type { ConsumerGroup } from './group.js';
import { groupMetadataRecord, regexRecord, targetMemberRecord, targetMetadataRecord } from './records.js';
import { compileTopicRegex, metadataHash } from './topics.js';

/** The configured assignors Samsa has (group.consumer.assignors), the first the default. */
export function assignorNames(c: GroupCoordinator): string[] {
  return c.config.consumerAssignors.filter((a) => ASSIGNORS.has(a));
}

/**
 * Resolves the group's regular expressions against the cluster's topics (internal topics excluded);
 * true when one resolves to other topics than before. Records the resolutions, tombstones unused ones.
 */
export function refreshRegexes(
  c: GroupCoordinator,
  group: ConsumerGroup,
  records: EncodedRecord[],
  now: number,
): boolean {
  const { regexes } = group.subscriptions();
  let changed = false;
  for (const old of [...group.resolvedRegexes.keys()]) {
    if (!regexes.has(old)) {
      group.resolvedRegexes.delete(old);
      records.push(regexRecord(group.groupId, old, null));
      changed = true;
    }
  }
  if (regexes.size === 0) return changed;
  const names = c.host.topicNames().filter((t) => !isInternalTopic(t));
  for (const regex of regexes) {
    const re = compileTopicRegex(regex);
    const topics = re === null ? [] : names.filter((t) => re.test(t)).sort();
    const prev = group.resolvedRegexes.get(regex);
    if (prev !== undefined && sameNames(prev.topics, topics)) continue;
    const v = { topics, version: (prev?.version ?? 0) + 1, timestamp: now };
    group.resolvedRegexes.set(regex, v);
    records.push(regexRecord(group.groupId, regex, v));
    changed = true;
  }
  return changed;
}

/** The subscribed topics that exist, with their ids and partition counts, and their hash. */
export function subscribedTopics(
  c: GroupCoordinator,
  group: ConsumerGroup,
): { topics: Map<string, AssignorTopic>; hash: number } {
  const topics = new Map<string, AssignorTopic>();
  for (const m of group.members.values()) {
    for (const name of group.memberTopics(m)) {
      if (topics.has(name)) continue;
      const t = c.host.topic(name);
      if (t !== undefined && t.partitions > 0) topics.set(name, t);
    }
  }
  return { topics, hash: metadataHash(topics) };
}

/**
 * After a member's subscription is recorded: resolves the group's regular expressions again, bumps the
 * group epoch when `subscriptionChanged`, a regex resolves to other topics or the subscribed topics'
 * metadata hash changed, and computes a new target assignment when the group epoch is ahead of it.
 */
export function bumpEpochAndAssign(
  c: GroupCoordinator,
  group: ConsumerGroup,
  subscriptionChanged: boolean,
  records: EncodedRecord[],
  now: number,
): void {
  let bump = subscriptionChanged;
  if (refreshRegexes(c, group, records, now)) bump = true;
  const { topics, hash } = subscribedTopics(c, group);
  if (hash !== group.metadataHash) bump = true;
  if (bump) {
    group.groupEpoch++;
    group.metadataHash = hash;
    records.push(groupMetadataRecord(group.groupId, { epoch: group.groupEpoch, metadataHash: hash }));
  }
  if (group.groupEpoch > group.assignmentEpoch) assignTargets(c, group, topics, records, now);
}

/** Runs the assignor for the group epoch and records the target assignment's changes. */
export function assignTargets(
  c: GroupCoordinator,
  group: ConsumerGroup,
  topics: ReadonlyMap<string, AssignorTopic>,
  records: EncodedRecord[],
  now: number,
): void {
  const name = group.preferredAssignor(assignorNames(c)[0] ?? 'uniform');
  const assignor = ASSIGNORS.get(name) ?? ASSIGNORS.get('uniform');
  if (assignor === undefined) return;
  const members: AssignorMember[] = [...group.members.values()].map((m) => ({
    memberId: m.memberId,
    topics: new Set([...group.memberTopics(m)].filter((t) => topics.has(t))),
  }));
  const next = assignor(members, topics, group.targetAssignment);
  for (const m of members) {
    const a: Assignment = next.get(m.memberId) ?? new Map();
    const prev = group.targetAssignment.get(m.memberId);
    if (prev === undefined || !assignmentEquals(prev, a))
      records.push(targetMemberRecord(group.groupId, m.memberId, a));
    group.targetAssignment.set(m.memberId, a);
  }
  group.assignmentEpoch = group.groupEpoch;
  records.push(targetMetadataRecord(group.groupId, group.assignmentEpoch, now));
  c.log.debug('consumer group target assignment computed', {
    group: group.groupId,
    assignor: name,
    assignmentEpoch: group.assignmentEpoch,
    members: members.length,
  });
}

export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
