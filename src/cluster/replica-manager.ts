// The partition replicas this broker hosts (Kafka's ReplicaManager): which it leads and which it follows, as
// the controller decides (LeaderAndIsr, StopReplica), and the high-watermark checkpoint.
//
// replication-offset-checkpoint (one per log dir, Kafka's name and checkpoint format, checkpoint.ts):
//   0\n<count>\n<topic> <partition> <highWatermark>\n...
// written every replica.high.watermark.checkpoint.interval.ms (off the event loop) and at shutdown. A log opens
// with its high watermark at min(checkpoint, log end): a follower that restarts does not expose records the
// leader never committed, and a leader that restarts does not serve past what its ISR had.
//
// Controller fencing: a LeaderAndIsr or StopReplica from a controller epoch older than the newest seen gets
// STALE_CONTROLLER_EPOCH; a partition state with an older leader epoch than the one held is ignored
// (per-partition STALE_CONTROLLER_EPOCH), as in Kafka.

import * as path from 'node:path';
import * as limits from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { readCheckpoint, writeCheckpoint, writeCheckpointAsync } from '../storage/checkpoint.js';
import type { LogConfig } from '../storage/config.js';
import type { LogManager } from '../storage/log-manager.js';
import { type MetadataCache, ZERO_UUID } from './metadata-cache.js';
import { type AlterIsr, type LeaderAndIsrState, Partition, type PartitionEnv } from './partition.js';
import { readPartitionMetadata, writePartitionMetadata } from './partition-metadata.js';

export const HIGH_WATERMARK_CHECKPOINT = 'replication-offset-checkpoint';

export interface PartitionStateRequest extends LeaderAndIsrState {
  topic: string;
  topicId: string;
  partition: number;
}

export interface LeaderAndIsrInput {
  controllerId: number;
  controllerEpoch: number;
  partitionStates: PartitionStateRequest[];
}

export interface PartitionError {
  topic: string;
  topicId: string;
  partition: number;
  errorCode: number;
}

/** Told when this broker starts or stops leading partitions (the group coordinator loads/unloads on it). */
export interface LeadershipListener {
  onBecomeLeader(partitions: readonly Partition[]): void;
  onBecomeFollower(partitions: readonly Partition[]): void;
}

/** The replica fetchers (issue 10): follow a leader from an offset, or stop following. */
export interface FollowerDriver {
  follow(partitions: readonly Partition[]): void;
  unfollow(partitions: readonly Partition[]): void;
}

export interface ReplicaManagerOptions {
  localBrokerId: number;
  logs: LogManager;
  metadata: MetadataCache;
  logger: Logger;
  /** replica.lag.time.max.ms */
  replicaLagTimeMaxMs: number;
  /** replica.high.watermark.checkpoint.interval.ms */
  highWatermarkCheckpointIntervalMs: number;
  /** The storage config for a topic's logs (topic overrides over broker defaults). */
  logConfigFor: (topic: string) => LogConfig;
  alterIsr: AlterIsr;
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly listeners: LeadershipListener[] = [];
  private followers: FollowerDriver | null = null;
  private readonly env: PartitionEnv;
  /** High watermarks read from the checkpoints at start, used when a partition's log is first taken on. */
  private readonly checkpointed = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** A background high-watermark checkpoint is being written. */
  private backgroundCheckpoint = false;
  /** The newest controller epoch seen in a LeaderAndIsr or StopReplica. */
  controllerEpoch = -1;

  constructor(private readonly opts: ReplicaManagerOptions) {
    this.env = {
      localBrokerId: opts.localBrokerId,
      logger: opts.logger,
      replicaLagTimeMaxMs: opts.replicaLagTimeMaxMs,
      alterIsr: opts.alterIsr,
      isBrokerAlive: (id) => opts.metadata.isAlive(id),
    };
    this.readHighWatermarkCheckpoints();
  }

  get localBrokerId(): number {
    return this.opts.localBrokerId;
  }

  addLeadershipListener(l: LeadershipListener): void {
    this.listeners.push(l);
  }

  setFollowerDriver(d: FollowerDriver): void {
    this.followers = d;
  }

  // ---- lookups -------------------------------------------------------------------------------

  partition(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(key(topic, partition));
  }

  all(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  /** Whether any partition of the topic is hosted here. */
  hasTopic(topic: string): boolean {
    for (const p of this.partitions.values()) if (p.topic === topic) return true;
    return false;
  }

  /**
   * After a FULL LeaderAndIsr (every replica this broker should hold): the logs of partitions not listed, left
   * by topics deleted while this broker was down or by replicas moved away, are set aside as stray
   * (<dir>-stray, kept for the operator to remove), never deleted: a mistaken controller view cannot lose data.
   */
  deleteStrayLogs(listed: ReadonlySet<string>): void {
    for (const { topic, partition } of this.opts.logs.allLogs()) {
      const k = key(topic, partition);
      if (listed.has(k)) continue;
      const p = this.partitions.get(k);
      if (p !== undefined) {
        this.partitions.delete(k);
        this.checkpointed.delete(k);
        p.markRemoved();
      }
      this.opts.logs.setAsideStrayLog(topic, partition);
    }
  }

  /**
   * The local leader replica of a partition, or the error a client gets: UNKNOWN_TOPIC_OR_PARTITION when the
   * cluster does not know the partition, NOT_LEADER_OR_FOLLOWER when another broker (or none) leads it,
   * KAFKA_STORAGE_ERROR when it is led here but its log dir is offline.
   */
  leaderFor(topic: string, partition: number): Partition | number {
    const p = this.partitions.get(key(topic, partition));
    if (p?.isLeader) return p.log.isOffline ? ErrorCode.KAFKA_STORAGE_ERROR : p;
    if (this.opts.metadata.partition(topic, partition) === undefined && p === undefined) {
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }

  // ---- LeaderAndIsr / StopReplica ----------------------------------------------------------

  /** Applies the controller's decisions; returns an error per partition (NONE where applied or unchanged). */
  becomeLeaderOrFollower(
    req: LeaderAndIsrInput,
    now = Date.now(),
  ): { errorCode: number; partitions: PartitionError[] } {
    if (req.controllerEpoch < this.controllerEpoch) {
      this.opts.logger.warn('ignoring LeaderAndIsr from a stale controller', {
        controllerId: req.controllerId,
        controllerEpoch: req.controllerEpoch,
        latestControllerEpoch: this.controllerEpoch,
      });
      return { errorCode: ErrorCode.STALE_CONTROLLER_EPOCH, partitions: [] };
    }
    this.controllerEpoch = req.controllerEpoch;
    const out: PartitionError[] = [];
    const leaders: Partition[] = [];
    const followers: Partition[] = [];
    for (const s of req.partitionStates) {
      const result = (errorCode: number): void => {
        out.push({ topic: s.topic, topicId: s.topicId, partition: s.partition, errorCode });
      };
      if (!s.replicas.includes(this.opts.localBrokerId)) {
        result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      const existing = this.partitions.get(key(s.topic, s.partition));
      if (existing !== undefined && existing.topicId !== s.topicId && s.topicId !== '0'.repeat(32)) {
        // A topic of the same name was deleted and created again while this broker did not hear of it.
        this.removePartition(existing, true);
      }
      const current = this.partitions.get(key(s.topic, s.partition));
      if (current !== undefined && s.leaderEpoch < current.leaderEpoch) {
        result(ErrorCode.STALE_CONTROLLER_EPOCH);
        continue;
      }
      let partition: Partition;
      try {
        partition = current ?? this.createPartition(s.topic, s.partition, s.topicId);
      } catch (err) {
        this.opts.logger.error('cannot open the log of a partition', {
          partition: key(s.topic, s.partition),
          error: err,
        });
        result(ErrorCode.KAFKA_STORAGE_ERROR);
        continue;
      }
      if (s.leader === this.opts.localBrokerId) {
        if (partition.makeLeader(s, now)) leaders.push(partition);
      } else if (partition.makeFollower(s)) {
        followers.push(partition);
      }
      result(ErrorCode.NONE);
    }
    if (followers.length > 0) this.followers?.follow(followers);
    if (leaders.length > 0) this.followers?.unfollow(leaders);
    for (const l of this.listeners) {
      if (leaders.length > 0) l.onBecomeLeader(leaders);
      if (followers.length > 0) l.onBecomeFollower(followers);
    }
    return { errorCode: ErrorCode.NONE, partitions: out };
  }

  /** StopReplica: stops serving the partitions (and deletes their logs when asked). */
  stopReplicas(
    controllerEpoch: number,
    partitions: readonly {
      topic: string;
      partition: number;
      deletePartition: boolean;
      leaderEpoch: number;
    }[],
  ): { errorCode: number; partitions: { topic: string; partition: number; errorCode: number }[] } {
    if (controllerEpoch < this.controllerEpoch)
      return { errorCode: ErrorCode.STALE_CONTROLLER_EPOCH, partitions: [] };
    this.controllerEpoch = controllerEpoch;
    const out: { topic: string; partition: number; errorCode: number }[] = [];
    const stopped: Partition[] = [];
    for (const s of partitions) {
      const p = this.partitions.get(key(s.topic, s.partition));
      if (p === undefined) {
        if (s.deletePartition) this.deleteStrayLog(s.topic, s.partition);
        out.push({ topic: s.topic, partition: s.partition, errorCode: ErrorCode.NONE });
        continue;
      }
      // -2 (deletion sentinel) and -1 (no epoch) always apply; otherwise an older epoch is stale.
      if (s.leaderEpoch >= 0 && s.leaderEpoch < p.leaderEpoch) {
        out.push({ topic: s.topic, partition: s.partition, errorCode: ErrorCode.FENCED_LEADER_EPOCH });
        continue;
      }
      stopped.push(p);
      this.removePartition(p, s.deletePartition);
      out.push({ topic: s.topic, partition: s.partition, errorCode: ErrorCode.NONE });
    }
    if (stopped.length > 0) {
      this.followers?.unfollow(stopped);
      for (const l of this.listeners) l.onBecomeFollower(stopped);
    }
    return { errorCode: ErrorCode.NONE, partitions: out };
  }

  private createPartition(topic: string, index: number, topicId: string): Partition {
    const config = this.opts.logConfigFor(topic);
    const existing = this.opts.logs.getLog(topic, index);
    if (existing !== undefined && topicId !== ZERO_UUID) {
      const stored = readPartitionMetadata(existing.dir);
      if (stored !== null && stored !== topicId) {
        // The log belongs to an earlier topic of the same name (deleted while this broker was away).
        this.opts.logger.warn('deleting the log of an earlier topic with the same name', {
          partition: key(topic, index),
          storedTopicId: stored,
          topicId,
        });
        this.opts.logs.deleteLog(topic, index);
      }
    }
    const log = this.opts.logs.getLog(topic, index) ?? this.opts.logs.createLog(topic, index, config);
    if (topicId !== ZERO_UUID) writePartitionMetadata(log.dir, topicId);
    log.updateConfig(config);
    const hw = this.checkpointed.get(key(topic, index));
    log.highWatermark = hw === undefined ? log.logEndOffset : Math.min(hw, log.logEndOffset);
    const p = new Partition(topic, index, topicId, log, this.env);
    this.partitions.set(key(topic, index), p);
    return p;
  }

  private removePartition(p: Partition, deleteLog: boolean): void {
    this.partitions.delete(key(p.topic, p.index));
    this.checkpointed.delete(key(p.topic, p.index));
    p.markRemoved();
    if (deleteLog) this.opts.logs.deleteLog(p.topic, p.index);
  }

  private deleteStrayLog(topic: string, partition: number): void {
    if (this.opts.logs.getLog(topic, partition) !== undefined) this.opts.logs.deleteLog(topic, partition);
  }

  /** Applies a topic's changed configs to the logs of its local partitions. */
  /** After the broker's topic defaults changed (dynamic broker configs): every log gets its topic's config again. */
  updateAllTopicConfigs(): void {
    const byTopic = new Map<string, ReturnType<typeof this.opts.logConfigFor>>();
    for (const p of this.partitions.values()) {
      let config = byTopic.get(p.topic);
      if (config === undefined) {
        config = this.opts.logConfigFor(p.topic);
        byTopic.set(p.topic, config);
      }
      p.log.updateConfig(config);
    }
  }

  updateTopicConfig(topic: string): void {
    const config = this.opts.logConfigFor(topic);
    for (const p of this.partitions.values()) if (p.topic === topic) p.log.updateConfig(config);
  }

  // ---- background: ISR expiry, high-watermark checkpoints ------------------------------------

  start(): void {
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, Math.max(ms, limits.replicaTaskIntervalMsMin));
      t.unref();
      this.timers.push(t);
    };
    // Kafka checks ISR expiry at half the lag time.
    every(this.opts.replicaLagTimeMaxMs / 2, () => {
      const now = Date.now();
      for (const p of this.partitions.values()) p.maybeShrinkIsr(now);
    });
    every(this.opts.highWatermarkCheckpointIntervalMs, () => this.checkpointHighWatermarksInBackground());
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.checkpointHighWatermarks();
    for (const p of this.partitions.values()) p.markRemoved();
  }

  private readHighWatermarkCheckpoints(): void {
    for (const dir of this.opts.logs.logDirs) {
      const file = path.join(dir, HIGH_WATERMARK_CHECKPOINT);
      let entries: string[][] | null;
      try {
        entries = readCheckpoint(file, 3);
      } catch (err) {
        this.opts.logger.warn('ignoring an unreadable high-watermark checkpoint', { file, error: err });
        continue;
      }
      for (const [topic, partition, hw] of entries ?? []) {
        const offset = Number(hw);
        if (topic === undefined || !Number.isSafeInteger(offset)) continue;
        this.checkpointed.set(`${topic}-${partition}`, offset);
      }
    }
  }

  private highWatermarksByDir(): Map<string, (string | number)[][]> {
    const byDir = new Map<string, (string | number)[][]>();
    for (const dir of this.opts.logs.logDirs) byDir.set(path.resolve(dir), []);
    for (const p of this.partitions.values()) {
      byDir.get(path.resolve(path.dirname(p.log.dir)))?.push([p.topic, p.index, p.log.highWatermark]);
    }
    return byDir;
  }

  /**
   * The periodic checkpoint, written off the event loop as Kafka writes it from a scheduler thread: its fsync
   * waits for the file system's journal, which under produce load also flushes the logs' new data (ext4
   * data=ordered) and took 50-100 ms in the cluster benchmark, stalling every request of the broker meanwhile.
   * One write at a time; its temporary file is its own, so a final synchronous checkpoint (stop()) cannot mix
   * with it. One still in flight at shutdown may land after the final one: the file then holds high watermarks
   * a few seconds older, which a checkpoint always may (it is a lower bound).
   */
  private checkpointHighWatermarksInBackground(): void {
    if (this.backgroundCheckpoint) return;
    this.backgroundCheckpoint = true;
    const writes = [...this.highWatermarksByDir()].map(([dir, entries]) => {
      const file = path.join(dir, HIGH_WATERMARK_CHECKPOINT);
      return writeCheckpointAsync(file, entries, `${file}.background.tmp`).catch((err: unknown) => {
        this.opts.logger.error('cannot write the high-watermark checkpoint', { dir, error: err });
      });
    });
    void Promise.all(writes).then(() => {
      this.backgroundCheckpoint = false;
    });
  }

  /** Writes every log dir's replication-offset-checkpoint now (shutdown). Errors are logged, never thrown. */
  checkpointHighWatermarks(): void {
    for (const [dir, entries] of this.highWatermarksByDir()) {
      try {
        writeCheckpoint(path.join(dir, HIGH_WATERMARK_CHECKPOINT), entries);
      } catch (err) {
        this.opts.logger.error('cannot write the high-watermark checkpoint', { dir, error: err });
      }
    }
  }
}
