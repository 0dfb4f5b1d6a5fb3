// What this broker knows of the cluster: the live brokers with their endpoints and racks, the controller,
// every topic with its id and per partition the leader, leader epoch, replicas, ISR and offline replicas
// (Kafka's ZkMetadataCache). Metadata, DescribeCluster, FindCoordinator and the admin APIs answer from it;
// it never decides anything.
//
// One writer: in the embedded single-node mode the local controller (local-controller.ts) writes it as it
// changes topics; in a ZooKeeper cluster the controller's UpdateMetadata requests do (handlers/06-update-
// metadata.ts), each carrying the live brokers in full and the partition states that changed. A partition
// state whose leader is LEADER_DURING_DELETE (-2) removes the partition, as in Kafka.

export const NO_LEADER = -1;
/** The leader id the controller sends for partitions of a topic being deleted. */
export const LEADER_DURING_DELETE = -2;

export interface Endpoint {
  /** Listener name, e.g. PLAINTEXT. */
  listener: string;
  host: string;
  port: number;
  /** Security protocol of the listener (PLAINTEXT until security lands). */
  securityProtocol: string;
}

export interface BrokerInfo {
  id: number;
  rack: string | null;
  endpoints: Endpoint[];
}

export interface PartitionInfo {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** The znode version of the partition's state (Kafka's partitionEpoch / zkVersion). */
  partitionEpoch: number;
  controllerEpoch: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  /** Indexed by partition number; a gap means the partition is unknown here (not yet told). */
  partitions: PartitionInfo[];
}

/** Kafka's own internal topics; only these are internal (Kafka's Topic.isInternal). */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  '__consumer_offsets',
  '__transaction_state',
  '__share_group_state',
]);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}

export class MetadataCache {
  private readonly brokersById = new Map<number, BrokerInfo>();
  private readonly topicsByName = new Map<string, TopicInfo>();
  private readonly topicsById = new Map<string, TopicInfo>();
  /** Topic config overrides by topic name (Kafka keeps them beside the assignment: /config/topics/<t>). */
  private readonly topicConfigs = new Map<string, Record<string, string>>();
  /** The controller this broker last heard from (-1: none known). */
  controllerId = -1;
  /** The highest controller epoch seen; requests from older controllers are refused. */
  controllerEpoch = -1;

  constructor(
    readonly clusterId: string,
    readonly localBrokerId: number,
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  brokers(): BrokerInfo[] {
    return [...this.brokersById.values()].sort((a, b) => a.id - b.id);
  }

  broker(id: number): BrokerInfo | undefined {
    return this.brokersById.get(id);
  }

  isAlive(id: number): boolean {
    return this.brokersById.has(id);
  }

  /** The broker's endpoint on the named listener, if it is alive and has one. */
  endpoint(id: number, listener: string): Endpoint | undefined {
    return this.brokersById.get(id)?.endpoints.find((e) => e.listener === listener);
  }

  topics(): IterableIterator<TopicInfo> {
    return this.topicsByName.values();
  }

  topicNames(): string[] {
    return [...this.topicsByName.keys()];
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicsByName.get(name);
  }

  topicById(topicId: string): TopicInfo | undefined {
    return this.topicsById.get(topicId);
  }

  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.topicsByName.get(topic)?.partitions[partition];
  }

  /** The number of partitions known for a topic (the highest known partition + 1), 0 if unknown. */
  partitionCount(topic: string): number {
    return this.topicsByName.get(topic)?.partitions.length ?? 0;
  }

  /** A topic's config overrides (empty when it has none or is unknown). */
  topicConfig(name: string): Readonly<Record<string, string>> {
    return this.topicConfigs.get(name) ?? {};
  }

  // ---- writes (one writer: the local controller or UpdateMetadata) ---------------------------

  setTopicConfig(name: string, overrides: Record<string, string>): void {
    this.topicConfigs.set(name, { ...overrides });
  }

  removeTopicConfig(name: string): void {
    this.topicConfigs.delete(name);
  }

  /** Replaces the set of live brokers. */
  setBrokers(brokers: readonly BrokerInfo[]): void {
    this.brokersById.clear();
    for (const b of brokers) this.brokersById.set(b.id, b);
  }

  /** Applies partition states; a state with leader LEADER_DURING_DELETE removes its partition. */
  updatePartitions(states: readonly (PartitionInfo & { topicId: string })[]): void {
    for (const s of states) {
      let topic = this.topicsByName.get(s.topic);
      if (s.leader === LEADER_DURING_DELETE) {
        if (topic === undefined) continue;
        delete topic.partitions[s.partition];
        while (topic.partitions.length > 0 && topic.partitions[topic.partitions.length - 1] === undefined) {
          topic.partitions.length--;
        }
        if (topic.partitions.length === 0) this.removeTopic(s.topic);
        continue;
      }
      if (topic !== undefined && topic.topicId !== s.topicId && s.topicId !== ZERO_UUID) {
        // The topic was deleted and created again under the same name.
        this.removeTopic(s.topic);
        topic = undefined;
      }
      if (topic === undefined) {
        topic = { name: s.topic, topicId: s.topicId, partitions: [] };
        this.topicsByName.set(s.topic, topic);
        this.topicsById.set(s.topicId, topic);
      }
      const { topicId: _id, ...info } = s;
      topic.partitions[s.partition] = info;
    }
  }

  removeTopic(name: string): void {
    const t = this.topicsByName.get(name);
    if (t === undefined) return;
    this.topicsByName.delete(name);
    if (this.topicsById.get(t.topicId) === t) this.topicsById.delete(t.topicId);
  }
}

export const ZERO_UUID = '0'.repeat(32);
