// What the active controller knows (Kafka's ControllerContext): the live brokers with their epochs, every
// topic's id and replica assignment, every partition's state as written in ZooKeeper (with the znode version,
// the partitionEpoch that conditional writes check), and the topics being deleted. Loaded from ZooKeeper when
// the controller takes over, then kept in step by the controller's own writes and by the watches it handles.
// One owner: the controller's event queue; nothing else reads or writes it.

import type { BrokerInfo } from '../metadata-cache.js';

export interface LiveBroker {
  info: BrokerInfo;
  /** The czxid of the broker's registration znode (Kafka's broker epoch). */
  epoch: number;
}

export interface PartitionState {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  controllerEpoch: number;
  leaderRecoveryState: 0 | 1;
  /** Version of the state znode: what the next conditional write expects (Kafka's partitionEpoch). */
  zkVersion: number;
}

export interface TopicState {
  topicId: string;
  /** Replica list per partition. */
  assignment: number[][];
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ControllerContext {
  /** The controller epoch this controller won, and the version of /controller_epoch it wrote. */
  epoch = 0;
  epochZkVersion = -1;
  readonly liveBrokers = new Map<number, LiveBroker>();
  /** Brokers in controlled shutdown: not chosen as leaders, dropped from ISRs as their partitions move. */
  readonly shuttingDown = new Set<number>();
  readonly topics = new Map<string, TopicState>();
  readonly states = new Map<string, PartitionState>();
  /** Topics marked for deletion (children of /admin/delete_topics) not yet removed. */
  readonly deleting = new Set<string>();
  /** Partitions being reassigned (reassignment.ts): target and original replicas, by tpKey. */
  readonly reassignments = new Map<string, { target: number[]; original: number[] }>();

  isLive(id: number): boolean {
    return this.liveBrokers.has(id) && !this.shuttingDown.has(id);
  }

  /** Live in the cluster (registered), shutting down or not. */
  isRegistered(id: number): boolean {
    return this.liveBrokers.has(id);
  }

  state(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(tpKey(topic, partition));
  }

  replicas(topic: string, partition: number): number[] {
    return this.topics.get(topic)?.assignment[partition] ?? [];
  }

  *partitions(): Generator<{ topic: string; partition: number; replicas: number[] }> {
    for (const [topic, t] of this.topics) {
      for (let p = 0; p < t.assignment.length; p++)
        yield { topic, partition: p, replicas: t.assignment[p] ?? [] };
    }
  }

  /** Partitions with a replica on the broker. */
  *partitionsOn(brokerId: number): Generator<{ topic: string; partition: number; replicas: number[] }> {
    for (const p of this.partitions()) if (p.replicas.includes(brokerId)) yield p;
  }

  removeTopic(topic: string): void {
    const t = this.topics.get(topic);
    if (t === undefined) return;
    for (let p = 0; p < t.assignment.length; p++) {
      this.states.delete(tpKey(topic, p));
      this.reassignments.delete(tpKey(topic, p));
    }
    this.topics.delete(topic);
    this.deleting.delete(topic);
  }
}
