// Collects the requests one controller decision sends (Kafka's ControllerBrokerRequestBatch): LeaderAndIsr to
// the replicas of changed partitions, UpdateMetadata to every live broker, StopReplica to replicas leaving,
// then sends them all, per broker in that order, stamped with the controller epoch and each broker's epoch.

import { ApiKey } from '../../protocol/generated/apis.js';
import { LEADER_DURING_DELETE } from '../metadata-cache.js';
import type { ChannelManager } from './channel-manager.js';
import { type ControllerContext, type PartitionState, tpKey } from './context.js';

export const LEADER_AND_ISR_VERSION = 6;
export const UPDATE_METADATA_VERSION = 7;
export const STOP_REPLICA_VERSION = 3;
const FULL = 1;
const INCREMENTAL = 0;
const SECURITY_PROTOCOL_PLAINTEXT = 0;

interface LaiEntry {
  topic: string;
  partition: number;
  state: PartitionState;
  isNew: boolean;
}

export interface StopReplicaEntry {
  topic: string;
  partition: number;
  deletePartition: boolean;
}

export class RequestBatch {
  private readonly leaderAndIsr = new Map<number, Map<string, LaiEntry>>();
  /** Partitions whose metadata every live broker must learn. */
  private readonly metadataPartitions = new Set<string>();
  /** Brokers that get every partition's metadata (new brokers; everyone after a failover). */
  private readonly fullMetadataTo = new Set<number>();
  /** The live brokers changed: every broker gets an UpdateMetadata, even without partition changes. */
  private brokersChanged = false;
  private readonly deletedPartitions = new Map<
    string,
    { topic: string; partition: number; topicId: string }
  >();
  private readonly stopReplica = new Map<number, StopReplicaEntry[]>();
  private readonly fullFor = new Set<number>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly controllerId: number,
  ) {}

  /** LeaderAndIsr for the partition to each of its live replicas (and its metadata to every broker). */
  addLeaderAndIsr(brokerIds: Iterable<number>, topic: string, partition: number, isNew = false): void {
    const state = this.ctx.state(topic, partition);
    if (state === undefined) return;
    for (const id of brokerIds) {
      if (!this.ctx.isRegistered(id)) continue;
      let m = this.leaderAndIsr.get(id);
      if (m === undefined) {
        m = new Map();
        this.leaderAndIsr.set(id, m);
      }
      m.set(tpKey(topic, partition), { topic, partition, state, isNew });
    }
    this.addMetadata(topic, partition);
  }

  /** Marks the LeaderAndIsr to this broker as the full list of its replicas (it deletes logs not listed). */
  markFull(brokerId: number): void {
    this.fullFor.add(brokerId);
    if (!this.leaderAndIsr.has(brokerId)) this.leaderAndIsr.set(brokerId, new Map());
  }

  addMetadata(topic: string, partition: number): void {
    this.metadataPartitions.add(tpKey(topic, partition));
  }

  /** Every partition's metadata to the given brokers (new brokers, or everyone after a failover). */
  addFullMetadata(brokerIds: Iterable<number>): void {
    for (const id of brokerIds) this.fullMetadataTo.add(id);
  }

  /** The set of live brokers changed: tell every broker. */
  markBrokersChanged(): void {
    this.brokersChanged = true;
  }

  /** Tells every broker the partition is being deleted (leader LEADER_DURING_DELETE). */
  addDeletedPartition(topic: string, partition: number, topicId: string): void {
    this.deletedPartitions.set(tpKey(topic, partition), { topic, partition, topicId });
  }

  addStopReplica(brokerId: number, entry: StopReplicaEntry): void {
    if (!this.ctx.isRegistered(brokerId)) return;
    const list = this.stopReplica.get(brokerId) ?? [];
    list.push(entry);
    this.stopReplica.set(brokerId, list);
  }

  /** Sends everything collected; onStopReplica is told each StopReplica response (or null if unanswered). */
  send(channels: ChannelManager, onStopReplica?: (brokerId: number, response: unknown | null) => void): void {
    const ctx = this.ctx;
    const controllerEpoch = ctx.epoch;
    const liveBrokers = [...ctx.liveBrokers.values()].map((b) => ({
      id: b.info.id,
      v0Host: '',
      v0Port: -1,
      endpoints: b.info.endpoints.map((e) => ({
        port: e.port,
        host: e.host,
        listener: e.listener,
        securityProtocol: SECURITY_PROTOCOL_PLAINTEXT,
      })),
      rack: b.info.rack,
    }));
    for (const [brokerId, entries] of this.leaderAndIsr) {
      const broker = ctx.liveBrokers.get(brokerId);
      if (broker === undefined) continue;
      const byTopic = new Map<string, LaiEntry[]>();
      for (const e of entries.values()) {
        const list = byTopic.get(e.topic) ?? [];
        list.push(e);
        byTopic.set(e.topic, list);
      }
      const leaders = new Set([...entries.values()].map((e) => e.state.leader));
      channels.send(brokerId, {
        apiKey: ApiKey.LeaderAndIsr,
        version: LEADER_AND_ISR_VERSION,
        body: {
          controllerId: this.controllerId,
          controllerEpoch,
          brokerEpoch: broker.epoch,
          type: this.fullFor.has(brokerId) ? FULL : INCREMENTAL,
          topicStates: [...byTopic].map(([topic, list]) => ({
            topicName: topic,
            topicId: ctx.topics.get(topic)?.topicId ?? '0'.repeat(32),
            partitionStates: list.map((e) => ({
              topicName: topic,
              partitionIndex: e.partition,
              controllerEpoch: e.state.controllerEpoch,
              leader: e.state.leader,
              leaderEpoch: e.state.leaderEpoch,
              isr: e.state.isr,
              partitionEpoch: e.state.zkVersion,
              replicas: ctx.replicas(topic, e.partition),
              ...this.reassignmentSets(topic, e.partition),
              isNew: e.isNew,
              leaderRecoveryState: e.state.leaderRecoveryState,
            })),
          })),
          liveLeaders: [...leaders].flatMap((id) => {
            const b = ctx.liveBrokers.get(id);
            const ep = b?.info.endpoints[0];
            return ep === undefined ? [] : [{ brokerId: id, hostName: ep.host, port: ep.port }];
          }),
        },
      });
    }
    const delta = this.deltaStates();
    const anyDelta = delta.size > 0 || this.deletedPartitions.size > 0 || this.brokersChanged;
    for (const [brokerId, broker] of ctx.liveBrokers) {
      const full = this.fullMetadataTo.has(brokerId);
      if (!full && !anyDelta) continue;
      channels.send(brokerId, {
        apiKey: ApiKey.UpdateMetadata,
        version: UPDATE_METADATA_VERSION,
        body: {
          controllerId: this.controllerId,
          controllerEpoch,
          brokerEpoch: broker.epoch,
          topicStates: this.topicStates(full ? this.allStates() : delta),
          liveBrokers,
        },
      });
    }
    for (const [brokerId, entries] of this.stopReplica) {
      const broker = ctx.liveBrokers.get(brokerId);
      if (broker === undefined) continue;
      const byTopic = new Map<string, StopReplicaEntry[]>();
      for (const e of entries) {
        const list = byTopic.get(e.topic) ?? [];
        list.push(e);
        byTopic.set(e.topic, list);
      }
      channels.send(brokerId, {
        apiKey: ApiKey.StopReplica,
        version: STOP_REPLICA_VERSION,
        body: {
          controllerId: this.controllerId,
          controllerEpoch,
          brokerEpoch: broker.epoch,
          topicStates: [...byTopic].map(([topic, list]) => ({
            topicName: topic,
            partitionStates: list.map((e) => ({
              partitionIndex: e.partition,
              // -2 tells the broker the partition is being deleted: apply whatever epoch it holds.
              leaderEpoch: e.deletePartition ? -2 : (ctx.state(topic, e.partition)?.leaderEpoch ?? -1),
              deletePartition: e.deletePartition,
            })),
          })),
        },
        onResponse: (res) => onStopReplica?.(brokerId, res),
      });
    }
  }

  /** The adding/removing replica sets of a partition being reassigned (empty otherwise). */
  private reassignmentSets(
    topic: string,
    partition: number,
  ): { addingReplicas: number[]; removingReplicas: number[] } {
    const r = this.ctx.reassignments.get(tpKey(topic, partition));
    if (r === undefined) return { addingReplicas: [], removingReplicas: [] };
    return {
      addingReplicas: r.target.filter((b) => !r.original.includes(b)),
      removingReplicas: r.original.filter((b) => !r.target.includes(b)),
    };
  }

  private deltaStates(): Map<string, { topic: string; partition: number }> {
    const out = new Map<string, { topic: string; partition: number }>();
    for (const k of this.metadataPartitions) {
      const [topic, p] = k.split('\u0000') as [string, string];
      out.set(k, { topic, partition: Number(p) });
    }
    return out;
  }

  private allStates(): Map<string, { topic: string; partition: number }> {
    const out = new Map<string, { topic: string; partition: number }>();
    for (const { topic, partition } of this.ctx.partitions())
      out.set(tpKey(topic, partition), { topic, partition });
    return out;
  }

  private topicStates(states: Map<string, { topic: string; partition: number }>): unknown[] {
    const ctx = this.ctx;
    const byTopic = new Map<string, unknown[]>();
    const push = (topic: string, entry: unknown): void => {
      const list = byTopic.get(topic) ?? [];
      list.push(entry);
      byTopic.set(topic, list);
    };
    for (const { topic, partition } of states.values()) {
      const s = ctx.state(topic, partition);
      if (s === undefined || this.deletedPartitions.has(tpKey(topic, partition))) continue;
      const replicas = ctx.replicas(topic, partition);
      push(topic, {
        topicName: topic,
        partitionIndex: partition,
        controllerEpoch: s.controllerEpoch,
        leader: ctx.deleting.has(topic) ? LEADER_DURING_DELETE : s.leader,
        leaderEpoch: s.leaderEpoch,
        isr: s.isr,
        zkVersion: s.zkVersion,
        replicas,
        offlineReplicas: replicas.filter((r) => !ctx.isRegistered(r)),
      });
    }
    for (const d of this.deletedPartitions.values()) {
      push(d.topic, {
        topicName: d.topic,
        partitionIndex: d.partition,
        controllerEpoch: ctx.epoch,
        leader: LEADER_DURING_DELETE,
        leaderEpoch: -1,
        isr: [],
        zkVersion: -1,
        replicas: [],
        offlineReplicas: [],
      });
    }
    return [...byTopic].map(([topic, partitionStates]) => ({
      topicName: topic,
      topicId: ctx.topics.get(topic)?.topicId ?? this.deletedTopicId(topic),
      partitionStates,
    }));
  }

  private deletedTopicId(topic: string): string {
    for (const d of this.deletedPartitions.values()) if (d.topic === topic) return d.topicId;
    return '0'.repeat(32);
  }
}
