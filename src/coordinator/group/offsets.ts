// Committed offsets in memory: group -> topic -> partition -> OffsetAndMetadata, for the groups of the
// __consumer_offsets partitions loaded here. The copy on disk is __consumer_offsets (records.ts); this
// map is rebuilt from it when a partition loads and updated only once a write to it is committed, so
// OffsetFetch is served from here without touching the log.

import type { ClassicGroup } from './group.js';
import type { OffsetAndMetadata } from './records.js';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>();

  get(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.byGroup.get(groupId)?.get(topic)?.get(partition);
  }

  put(groupId: string, topic: string, partition: number, value: OffsetAndMetadata): void {
    let topics = this.byGroup.get(groupId);
    if (topics === undefined) {
      topics = new Map();
      this.byGroup.set(groupId, topics);
    }
    let partitions = topics.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    partitions.set(partition, value);
  }

  /**
   * Puts the value unless the offset held comes from a newer record of __consumer_offsets: completions of
   * writes and of transactions may run in another order than their records (Kafka's olderThan check).
   */
  putIfNewer(groupId: string, topic: string, partition: number, value: OffsetAndMetadata): void {
    const current = this.get(groupId, topic, partition);
    if (current === undefined || current.recordOffset < value.recordOffset)
      this.put(groupId, topic, partition, value);
  }

  /** A tombstone at recordOffset completed: deletes the offset unless a newer record put it there. */
  deleteIfOlder(groupId: string, topic: string, partition: number, recordOffset: number): void {
    const current = this.get(groupId, topic, partition);
    if (current !== undefined && current.recordOffset < recordOffset) this.delete(groupId, topic, partition);
  }

  delete(groupId: string, topic: string, partition: number): void {
    const topics = this.byGroup.get(groupId);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined) return;
    partitions.delete(partition);
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) this.byGroup.delete(groupId);
  }

  hasOffsets(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  groupIds(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  /** Every offset of the group, topics in commit order. */
  all(groupId: string): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    const topics = this.byGroup.get(groupId);
    if (topics === undefined) return out;
    for (const [topic, partitions] of topics) {
      for (const [partition, value] of partitions) out.push({ topic, partition, value });
    }
    return out;
  }

  deleteGroup(groupId: string): void {
    this.byGroup.delete(groupId);
  }
}

/**
 * The offsets of a group that retention removes now (Kafka's offsetExpirationCondition):
 * - a commit with its own expire timestamp expires at that time;
 * - an empty group's offsets expire offsets.retention.ms after the group became empty (after
 *   their commit when that time is unknown);
 * - a stable consumer group's offsets of topics it no longer subscribes to expire
 *   offsets.retention.ms after their commit;
 * - a group without a protocol (offsets committed without group management) expire
 *   offsets.retention.ms after their commit;
 * - other groups keep their offsets.
 */
export function expiredOffsets(
  group: ClassicGroup,
  offsets: readonly TopicPartitionOffset[],
  retentionMs: number,
  now: number,
): TopicPartitionOffset[] {
  let base: ((o: OffsetAndMetadata) => number) | null = null;
  let onlyUnsubscribed = false;
  if (group.protocolType === '') {
    base = (o) => o.commitTimestamp;
  } else if (group.is('Empty')) {
    const since = group.stateTimestamp;
    base = (o) => (since >= 0 ? since : o.commitTimestamp);
  } else if (group.usesConsumerProtocol() && group.subscribedTopics !== null && group.is('Stable')) {
    base = (o) => o.commitTimestamp;
    onlyUnsubscribed = true;
  }
  if (base === null) return [];
  const baseOf = base;
  return offsets.filter((o) => {
    if (onlyUnsubscribed && group.isSubscribedToTopic(o.topic)) return false;
    if (o.value.expireTimestamp >= 0) return now >= o.value.expireTimestamp;
    return now - baseOf(o.value) >= retentionMs;
  });
}
