// The embedded single-node mode's controller: with no zookeeper.connect, this broker is the whole cluster.
// It keeps the metadata in the local store (metadata-store.ts), and applies every change the way a
// ZooKeeper controller's requests would: partition states to the metadata cache (as UpdateMetadata does)
// and to the replica manager (as LeaderAndIsr / StopReplica do). Every partition has one replica, this
// broker, which leads it with the leader epoch kept in the store; the ISR is this broker alone.

import type { BrokerConfig } from '../config/broker-config.js';
import { DEFAULT_BROKER_ENTITY, loadDynamicBrokerConfigs } from '../config/dynamic-broker-config.js';
import { redactSensitive } from '../config/security-config.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { type AclEntry, patternKey, type ResourcePattern } from '../security/acl.js';
import {
  applyConfigChanges,
  type ClusterAdmin,
  type ConfigChange,
  type ConfigOutcome,
  type CreatePartitionsSpec,
  type CreateTopicSpec,
  outcome,
  planBrokerConfigs,
  planGroupConfigs,
  planPartitions,
  planTopic,
  type TopicOutcome,
} from './admin.js';
import {
  type BrokerInfo,
  isInternalTopic,
  LEADER_DURING_DELETE,
  type MetadataCache,
} from './metadata-cache.js';
import { type MetadataStore, newTopicId, type TopicRecord } from './metadata-store.js';
import type { PartitionStateRequest, ReplicaManager } from './replica-manager.js';

const CONTROLLER_EPOCH = 0;

export class LocalController implements ClusterAdmin {
  constructor(
    private readonly config: BrokerConfig,
    private readonly store: MetadataStore,
    private readonly cache: MetadataCache,
    private readonly replicas: ReplicaManager,
    private readonly self: BrokerInfo,
    private readonly logger: Logger,
    /** Applies dynamic broker configs (this broker's, the cluster-wide default) to the running broker. */
    private readonly applyBrokerConfigs: (
      perBroker: Readonly<Record<string, string>>,
      clusterDefault: Readonly<Record<string, string>>,
    ) => void,
  ) {}

  /** The stored dynamic broker configs, read leniently (invalid entries dropped with a warning each). */
  storedBrokerConfigs(): { perBroker: Record<string, string>; clusterDefault: Record<string, string> } {
    const load = (brokerId: number | null): Record<string, string> => {
      const entity = brokerId === null ? DEFAULT_BROKER_ENTITY : String(brokerId);
      const r = loadDynamicBrokerConfigs(brokerId, this.store.brokerConfigs(entity));
      for (const why of r.dropped)
        this.logger.warn('ignoring a stored dynamic broker config', { entity, why });
      return r.configs;
    };
    return { perBroker: load(this.self.id), clusterDefault: load(null) };
  }

  /** Publishes this broker and every stored topic, and takes leadership of every partition. */
  start(): void {
    this.cache.setBrokers([this.self]);
    this.cache.controllerId = this.self.id;
    this.cache.controllerEpoch = CONTROLLER_EPOCH;
    const states: PartitionStateRequest[] = [];
    for (const rec of this.store.topics()) {
      this.cache.setTopicConfig(rec.name, rec.configs);
      for (let p = 0; p < rec.partitions; p++) states.push(this.stateOf(rec, p));
    }
    this.apply(states);
  }

  private stateOf(rec: TopicRecord, partition: number): PartitionStateRequest {
    const id = this.self.id;
    return {
      topic: rec.name,
      topicId: rec.topicId,
      partition,
      controllerEpoch: CONTROLLER_EPOCH,
      leader: id,
      leaderEpoch: rec.leaderEpochs[partition] ?? 0,
      isr: [id],
      partitionEpoch: 0,
      replicas: [id],
      addingReplicas: [],
      removingReplicas: [],
      isNew: false,
    };
  }

  /** Applies states to the cache and the replicas; returns how many partitions could not be brought online. */
  private apply(states: PartitionStateRequest[]): number {
    if (states.length === 0) return 0;
    this.cache.updatePartitions(
      states.map((s) => ({
        topic: s.topic,
        topicId: s.topicId,
        partition: s.partition,
        leader: s.leader,
        leaderEpoch: s.leaderEpoch,
        replicas: s.replicas,
        isr: s.isr,
        offlineReplicas: [],
        partitionEpoch: s.partitionEpoch,
        controllerEpoch: s.controllerEpoch,
      })),
    );
    const res = this.replicas.becomeLeaderOrFollower({
      controllerId: this.self.id,
      controllerEpoch: CONTROLLER_EPOCH,
      partitionStates: states,
    });
    let failures = 0;
    for (const p of res.partitions) {
      if (p.errorCode !== ErrorCode.NONE) {
        failures++;
        this.logger.error('a partition could not be brought online', {
          partition: `${p.topic}-${p.partition}`,
          errorCode: p.errorCode,
        });
      }
    }
    return failures;
  }

  /** Undoes a topic (or the partitions from `from` on) whose logs could not be created: nothing half-made stays. */
  private rollBack(rec: TopicRecord, from: number, restore: TopicRecord | null): void {
    try {
      if (restore === null) this.store.removeTopic(rec.name);
      else this.store.putTopic(restore);
    } catch (err) {
      this.logger.error('cannot undo a topic change in the metadata store', { topic: rec.name, error: err });
    }
    this.removePartitions(rec, from, restore === null);
  }

  /** Takes partitions [from, count) of a topic off this broker: gone from the metadata, logs deleted. */
  private removePartitions(rec: TopicRecord, from: number, wholeTopic: boolean): void {
    const partitions = Array.from({ length: rec.partitions - from }, (_, i) => from + i);
    this.cache.updatePartitions(
      partitions.map((partition) => ({
        topic: rec.name,
        topicId: rec.topicId,
        partition,
        leader: LEADER_DURING_DELETE,
        leaderEpoch: -1,
        replicas: [],
        isr: [],
        offlineReplicas: [],
        partitionEpoch: -1,
        controllerEpoch: CONTROLLER_EPOCH,
      })),
    );
    if (wholeTopic) this.cache.removeTopicConfig(rec.name);
    this.replicas.stopReplicas(
      CONTROLLER_EPOCH,
      partitions.map((partition) => ({ topic: rec.name, partition, deletePartition: true, leaderEpoch: -2 })),
    );
  }

  /** Writes the store; a failure (a full disk) becomes KAFKA_STORAGE_ERROR for the caller, logged here. */
  private persist(name: string, write: () => void): TopicOutcome | null {
    try {
      write();
      return null;
    } catch (err) {
      this.logger.error('cannot write the metadata store', { topic: name, error: err });
      return outcome(name, ErrorCode.KAFKA_STORAGE_ERROR, `cannot write the metadata store: ${String(err)}`);
    }
  }

  private record(name: string): TopicRecord | undefined {
    return this.store.topics().find((t) => t.name === name);
  }

  async createTopics(specs: CreateTopicSpec[], validateOnly: boolean): Promise<TopicOutcome[]> {
    const out: TopicOutcome[] = [];
    for (const spec of specs) {
      const plan = planTopic(spec, this.config, this.cache.topicNames(), [this.self]);
      if ('errorCode' in plan) {
        out.push(plan);
        continue;
      }
      const partitions = plan.assignment.length;
      if (validateOnly) {
        out.push({ ...outcome(spec.name, ErrorCode.NONE), numPartitions: partitions, replicationFactor: 1 });
        continue;
      }
      const rec: TopicRecord = {
        name: spec.name,
        topicId: newTopicId(),
        partitions,
        leaderEpochs: new Array<number>(partitions).fill(0),
        configs: { ...plan.configs },
      };
      const failed = this.persist(spec.name, () => this.store.putTopic(rec));
      if (failed !== null) {
        out.push(failed);
        continue;
      }
      this.cache.setTopicConfig(rec.name, rec.configs);
      if (this.apply(Array.from({ length: partitions }, (_, p) => this.stateOf(rec, p))) > 0) {
        this.rollBack(rec, 0, null);
        out.push(
          outcome(spec.name, ErrorCode.KAFKA_STORAGE_ERROR, 'the partition logs could not be created'),
        );
        continue;
      }
      this.logger.info('topic created', {
        topic: rec.name,
        topicId: rec.topicId,
        partitions,
        configs: rec.configs,
      });
      out.push({
        ...outcome(spec.name, ErrorCode.NONE),
        topicId: rec.topicId,
        numPartitions: partitions,
        replicationFactor: 1,
      });
    }
    return out;
  }

  async deleteTopics(names: string[]): Promise<TopicOutcome[]> {
    const out: TopicOutcome[] = [];
    for (const name of names) {
      const rec = this.record(name);
      if (rec === undefined) {
        out.push(
          outcome(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.'),
        );
        continue;
      }
      if (!this.config.bool('delete.topic.enable')) {
        out.push(outcome(name, ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.'));
        continue;
      }
      if (isInternalTopic(name)) {
        out.push(outcome(name, ErrorCode.INVALID_TOPIC_EXCEPTION, 'Internal topics cannot be deleted'));
        continue;
      }
      const failed = this.persist(name, () => this.store.removeTopic(name));
      if (failed !== null) {
        out.push(failed);
        continue;
      }
      this.removePartitions(rec, 0, true);
      this.logger.info('topic deleted', { topic: name, topicId: rec.topicId });
      out.push({ ...outcome(name, ErrorCode.NONE), topicId: rec.topicId });
    }
    return out;
  }

  async createPartitions(specs: CreatePartitionsSpec[], validateOnly: boolean): Promise<TopicOutcome[]> {
    const out: TopicOutcome[] = [];
    for (const spec of specs) {
      const rec = this.record(spec.name);
      if (rec === undefined) {
        out.push(
          outcome(spec.name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.'),
        );
        continue;
      }
      const current = Array.from({ length: rec.partitions }, () => [this.self.id]);
      const plan = planPartitions(spec, current, [this.self]);
      if (!Array.isArray(plan)) {
        out.push(plan);
        continue;
      }
      if (validateOnly) {
        out.push(outcome(spec.name, ErrorCode.NONE));
        continue;
      }
      const next: TopicRecord = {
        ...rec,
        partitions: spec.count,
        leaderEpochs: [...rec.leaderEpochs, ...new Array<number>(spec.count - rec.partitions).fill(0)],
      };
      const failed = this.persist(spec.name, () => this.store.putTopic(next));
      if (failed !== null) {
        out.push(failed);
        continue;
      }
      const states: PartitionStateRequest[] = [];
      for (let p = rec.partitions; p < spec.count; p++) states.push(this.stateOf(next, p));
      if (this.apply(states) > 0) {
        this.rollBack(next, rec.partitions, rec);
        out.push(
          outcome(spec.name, ErrorCode.KAFKA_STORAGE_ERROR, 'the partition logs could not be created'),
        );
        continue;
      }
      this.logger.info('partitions added', { topic: spec.name, from: rec.partitions, to: spec.count });
      out.push(outcome(spec.name, ErrorCode.NONE));
    }
    return out;
  }

  async alterTopicConfigs(
    name: string,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<TopicOutcome> {
    const rec = this.record(name);
    if (rec === undefined) {
      return outcome(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.');
    }
    const next = applyConfigChanges(name, rec.configs, changes, incremental, this.config);
    if ('refused' in next) return next.refused;
    const configs = next.configs;
    if (validateOnly) return outcome(name, ErrorCode.NONE);
    const failed = this.persist(name, () => this.store.putTopic({ ...rec, configs }));
    if (failed !== null) return failed;
    this.cache.setTopicConfig(name, configs);
    this.replicas.updateTopicConfig(name);
    this.logger.info('topic configs altered', { topic: name, configs });
    return outcome(name, ErrorCode.NONE);
  }

  async alterBrokerConfigs(
    brokerId: number | null,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigOutcome> {
    const entity = brokerId === null ? DEFAULT_BROKER_ENTITY : String(brokerId);
    const plan = planBrokerConfigs(
      this.config,
      brokerId,
      this.store.brokerConfigs(entity),
      changes,
      incremental,
    );
    if ('refused' in plan) return plan.refused;
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const failed = this.persist(entity, () => this.store.putBrokerConfigs(entity, plan.configs));
    if (failed !== null) return failed;
    this.logger.info('dynamic broker configs altered', { entity, configs: redactSensitive(plan.configs) });
    const stored = this.storedBrokerConfigs();
    this.applyBrokerConfigs(stored.perBroker, stored.clusterDefault);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  async alterGroupConfigs(
    group: string,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigOutcome> {
    const plan = planGroupConfigs(this.config, this.store.groupConfigs(group), changes, incremental);
    if ('refused' in plan) return plan.refused;
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const failed = this.persist(group, () => this.store.putGroupConfigs(group, plan.configs));
    if (failed !== null) return failed;
    this.logger.info('group configs altered', { group, configs: plan.configs });
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  async groupConfigs(group: string): Promise<Record<string, string>> {
    return { ...this.store.groupConfigs(group) };
  }

  async configuredGroups(): Promise<string[]> {
    return this.store.configuredGroups();
  }

  async allocateProducerIds(count: number): Promise<number> {
    return this.store.allocateProducerIds(count);
  }

  async userConfigs(user: string): Promise<Record<string, string>> {
    return { ...this.store.userConfigs(user) };
  }

  async userNames(): Promise<string[]> {
    return this.store.userNames();
  }

  async putUserConfigs(user: string, configs: Record<string, string>): Promise<void> {
    this.store.putUserConfigs(user, configs);
    this.onUserConfigs?.(user, configs);
  }

  async putQuotaConfigs(path: string, quotas: Record<string, string>): Promise<void> {
    this.store.putQuotaConfigs(path, quotas);
    this.onQuotaConfigs?.(path, quotas);
  }

  /** Called after a client quota entity's values change (the broker's quota cache follows). */
  onQuotaConfigs: ((path: string, quotas: Readonly<Record<string, string>>) => void) | null = null;

  async updateAcls(pattern: ResourcePattern, update: (current: AclEntry[]) => AclEntry[]): Promise<void> {
    const current = this.store.acls().find((a) => patternKey(a.pattern) === patternKey(pattern));
    const next = update(current === undefined ? [] : [...current.entries]);
    this.store.putAcls(pattern, next);
    this.onAcls?.(pattern, next);
  }

  /** Called after a resource pattern's ACLs change (the broker's authorizer follows). */
  onAcls: ((pattern: ResourcePattern, entries: readonly AclEntry[]) => void) | null = null;

  /** Called after a user's configs change (the broker's SCRAM credential cache follows). */
  onUserConfigs: ((user: string, configs: Readonly<Record<string, string>>) => void) | null = null;
}
