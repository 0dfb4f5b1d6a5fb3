// Which topics the mirror copies, and their twins on the target (MirrorMaker 2's MirrorSourceConnector topic
// handling, without its remote-topic prefix by default).
//
// - A source topic is mirrored when its name matches the topics regex (whole name, as MM2's `topics`), does
//   not match topics.exclude, and is not internal (__consumer_offsets, __transaction_state, any `__` name).
// - Its target name is rename.format with {topic} replaced (default '{topic}': the same name; MM2 would use
//   '{source}.{topic}'; {source} is the source alias here too).
// - A missing target topic is created with the source's partition count and the source topic's own configs
//   (DescribeConfigs entries whose source is DYNAMIC_TOPIC_CONFIG; broker defaults are left to the target's
//   brokers), replication factor replication.factor (-1: the target's default.replication.factor). A target
//   topic with fewer partitions than its source gets CreatePartitions up to the source count; one with more
//   keeps them (nothing is written there).
// - Configs are copied when the mirror creates the topic; later changes are not followed (MM2 syncs them every
//   sync.topic.configs.interval.seconds).

import { setTimeout as sleep } from 'node:timers/promises';
import { createPartitions, createTopic, describeConfigs, ResourceType } from '../client/admin.js';
import { type Cluster, KafkaError, type TopicInfo } from '../client/cluster.js';
import { createLogger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';

const log = createLogger('mirror');

export interface TopicFilter {
  topics: RegExp;
  exclude: RegExp | null;
  renameFormat: string;
  sourceAlias: string;
}

export function targetName(f: TopicFilter, topic: string): string {
  return f.renameFormat.replaceAll('{topic}', topic).replaceAll('{source}', f.sourceAlias);
}

export function isMirrored(f: TopicFilter, t: { name: string; isInternal: boolean }): boolean {
  if (t.isInternal || t.name.startsWith('__')) return false;
  if (!fullMatch(f.topics, t.name)) return false;
  return f.exclude === null || !fullMatch(f.exclude, t.name);
}

function fullMatch(re: RegExp, s: string): boolean {
  const m = re.exec(s);
  return m !== null && m.index === 0 && m[0].length === s.length;
}

/** A source topic and the partition count mirrored for it. */
export interface MirroredTopic {
  source: TopicInfo;
  target: string;
}

/** The source topics to mirror, from a fresh Metadata of every topic. */
export async function discover(source: Cluster, f: TopicFilter): Promise<MirroredTopic[]> {
  const all = await source.metadata(null);
  return all
    .filter((t) => isMirrored(f, t))
    .map((t) => ({ source: t, target: targetName(f, t.name) }))
    .sort((a, b) => a.source.name.localeCompare(b.source.name));
}

/**
 * Makes the target topics ready: created (with the source's partitions and topic configs) or grown to the
 * source's partition count; waits until each has a leader for every mirrored partition.
 */
export async function ensureTargets(
  source: Cluster,
  target: Cluster,
  topics: MirroredTopic[],
  replicationFactor: number,
  timeoutMs: number,
): Promise<void> {
  if (topics.length === 0) return;
  const existing = new Map((await target.metadata(null)).map((t) => [t.name, t]));
  for (const t of topics) {
    const want = t.source.partitions.length;
    const have = existing.get(t.target);
    if (have === undefined) {
      const configs: Record<string, string> = {};
      for (const c of await describeConfigs(source, ResourceType.TOPIC, t.source.name)) {
        if (c.source === 'DYNAMIC_TOPIC_CONFIG' && c.value !== null && !c.isSensitive)
          configs[c.name] = c.value;
      }
      try {
        await createTopic(target, t.target, { partitions: want, replicationFactor, configs });
        log.info('created target topic', {
          topic: t.target,
          source: t.source.name,
          partitions: want,
          configs,
        });
      } catch (e) {
        if (!(e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw e;
      }
    } else if (have.partitions.length < want) {
      try {
        await createPartitions(target, t.target, want);
        log.info('added target partitions', { topic: t.target, from: have.partitions.length, to: want });
      } catch (e) {
        if (!(e instanceof KafkaError && e.code === ErrorCode.INVALID_PARTITIONS)) throw e;
      }
    } else if (have.partitions.slice(0, want).every((p) => p.leader >= 0)) {
      continue;
    }
    await waitForLeaders(target, t.target, want, timeoutMs);
  }
}

/** Polls the target's metadata until partitions 0..count-1 of the topic have leaders. */
async function waitForLeaders(
  target: Cluster,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 20; ; pause = Math.min(500, pause * 2)) {
    try {
      const info = await target.topic(topic, true);
      if (info.partitions.length >= count && info.partitions.slice(0, count).every((p) => p.leader >= 0))
        return;
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
    }
    if (Date.now() + pause > deadline) {
      throw new KafkaError(
        ErrorCode.LEADER_NOT_AVAILABLE,
        `target topic ${topic}: no leaders after ${timeoutMs} ms`,
      );
    }
    await sleep(pause);
  }
}
