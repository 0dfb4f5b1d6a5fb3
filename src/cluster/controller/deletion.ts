// Topic deletion on the controller (Kafka's TopicDeletionManager, simplified): a topic marked under
// /admin/delete_topics is first announced deleted to every broker (UpdateMetadata with leader -2: they stop
// serving it and drop it from their metadata), then each live replica gets StopReplica(delete): it closes and
// deletes the partition's log. Once every live replica answered, the topic's znodes go. A replica on a broker
// that is down is set aside when that broker registers again: its FULL LeaderAndIsr no longer lists the
// partition, and the broker renames logs that are not listed to <dir>-stray (kept for the operator).

import { ErrorCode } from '../../protocol/errors.js';
import type { StopReplicaResponse } from '../../protocol/generated/stop-replica-response.js';
import { zkPaths } from '../zk/zk-data.js';
import type { ControllerCore } from './core.js';
import { RequestBatch } from './request-batch.js';
import { removeTopicZnodes } from './zk-state.js';

export class TopicDeleter {
  /** Topics whose StopReplica answers are awaited: the brokers still to answer. */
  private readonly inFlight = new Map<string, Set<number>>();

  constructor(
    private readonly core: ControllerCore,
    /** Runs a step as a controller event (StopReplica answers arrive outside the event queue). */
    private readonly schedule: (name: string, run: () => Promise<void>) => void,
    private readonly onDeleted: (topic: string) => void,
  ) {}

  clear(): void {
    this.inFlight.clear();
  }

  /** Takes the topics marked for deletion (children of /admin/delete_topics) and starts deleting new ones. */
  async process(marked: readonly string[]): Promise<void> {
    const core = this.core;
    const ctx = core.context();
    for (const topic of marked) {
      if (!ctx.topics.has(topic)) {
        // Marked for deletion but already gone (or never existed): drop the marker.
        await core.opts.zk.delete(zkPaths.deleteTopic(topic)).catch(() => {});
        continue;
      }
      ctx.deleting.add(topic);
    }
    for (const topic of ctx.deleting) {
      if (this.inFlight.has(topic)) continue;
      const t = ctx.topics.get(topic);
      if (t === undefined) continue;
      core.log.info('deleting topic', { topic, partitions: t.assignment.length });
      const batch = new RequestBatch(ctx, core.opts.brokerId);
      const waiting = new Set<number>();
      for (let p = 0; p < t.assignment.length; p++) {
        batch.addDeletedPartition(topic, p, t.topicId);
        for (const r of t.assignment[p] ?? []) {
          if (!ctx.isRegistered(r)) continue;
          batch.addStopReplica(r, { topic, partition: p, deletePartition: true });
          waiting.add(r);
        }
      }
      this.inFlight.set(topic, waiting);
      batch.send(core.channelsOrThrow(), (brokerId, res) =>
        this.schedule(`stop replica ${topic}`, () =>
          this.onStopReplica(topic, brokerId, res as StopReplicaResponse | null),
        ),
      );
      if (waiting.size === 0) await this.finish(topic);
    }
  }

  private async onStopReplica(
    topic: string,
    brokerId: number,
    res: StopReplicaResponse | null,
  ): Promise<void> {
    const waiting = this.inFlight.get(topic);
    if (waiting === undefined) return;
    if (res !== null && res.errorCode !== ErrorCode.NONE) {
      this.core.log.warn('a broker refused StopReplica for a deleted topic', {
        topic,
        broker: brokerId,
        errorCode: res.errorCode,
      });
    }
    // A dead broker (null) deletes the leftover log when it registers again (its full LeaderAndIsr omits it).
    waiting.delete(brokerId);
    if (waiting.size === 0) await this.finish(topic);
  }

  private async finish(topic: string): Promise<void> {
    const ctx = this.core.context();
    await removeTopicZnodes(this.core.opts.zk, ctx, topic);
    ctx.removeTopic(topic);
    this.inFlight.delete(topic);
    this.onDeleted(topic);
    this.core.log.info('topic deleted', { topic });
  }
}
