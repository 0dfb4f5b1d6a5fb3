// The workload of the replication fault tests (test/cluster/replication-*.test.ts) and the chaos run: a producer
// writing continuously (idempotent, acks=all) to every partition of a topic and a consumer group member reading it
// and committing throughout, on a real client (test/helpers/workload-clients.ts: kafkajs in this process, or the
// Java client in a child process). This file holds what does not depend on the client:
//
// - the record of acknowledgements: every acknowledged record as (partition, offset, seq, value, at), the value
//   being "<tag>|<partition>|<seq>" with seq counting per partition, so a value names its partition and its
//   place in the producer's order; sends the client gave up on; nextAckAfter() and longestPause() for the
//   "failure -> next acknowledged write" figures;
// - the group's offsets read over the wire, each request on a fresh connection with a short timeout and any
//   broker that answers (a client library's connection to a partitioned broker may hang for long): committed()
//   (FindCoordinator + OffsetFetch) and logEnds() (Metadata + ListOffsets to each leader);
// - verifyTopic(): everything in the topic read back with Samsa's own consumer and checked (see its comment).

import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer } from '../../src/client/consumer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FindCoordinatorResponse } from '../../src/protocol/generated/find-coordinator-response.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/list-offsets-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/offset-fetch-response.js';
import { waitFor, withConnection } from './cluster.js';

export interface AckedRecord {
  partition: number;
  offset: number;
  seq: number;
  value: string;
  /** When the acknowledgement arrived (ms since the epoch). */
  at: number;
}

export interface WorkloadOptions {
  /** Brokers' host:port. */
  bootstrap: readonly string[];
  topic: string;
  partitions: number;
  groupId: string;
  /** Distinguishes this run's values; default random. */
  tag?: string;
  /** Records per second per partition the producer aims at (default 200; kafkajs: at most). */
  ratePerPartition?: number;
}

/** How long one request of committed()/logEnds() may take. */
const probeRequestMs = 5000;

/** A running workload: what it acknowledged, and the group's offsets. Subclasses drive a client. */
export abstract class Workload {
  readonly tag: string;
  readonly o: Required<WorkloadOptions>;
  /** Acknowledged records per partition, in the order the acknowledgements came. */
  readonly acked: AckedRecord[][];
  /** Records the client gave up on (not acknowledged): partition, seq range, error. */
  readonly failures: { partition: number; seqs: [number, number]; error: string; at: number }[] = [];
  /** Records the group's member has read. */
  consumed = 0;
  /** The client's warnings and errors (the last few hundred), for failure messages. */
  readonly clientLogs: string[] = [];
  private readonly events = new EventEmitter();

  protected constructor(opts: WorkloadOptions) {
    this.o = {
      ratePerPartition: 200,
      ...opts,
      tag: opts.tag ?? Math.random().toString(36).slice(2, 10),
    };
    this.tag = this.o.tag;
    this.acked = Array.from({ length: opts.partitions }, () => []);
    this.events.setMaxListeners(100);
  }

  /** Stops producing and consuming; throws when the client could not stop cleanly within timeoutMs. */
  abstract stop(timeoutMs?: number): Promise<void>;

  /** Which client drives the workload, for reports. */
  abstract readonly client: string;

  protected valueOf(partition: number, seq: number): string {
    return `${this.tag}|${partition}|${seq}`;
  }

  protected recordAck(partition: number, offset: number, seq: number, at: number): void {
    this.acked[partition]!.push({ partition, offset, seq, value: this.valueOf(partition, seq), at });
    this.events.emit('ack', partition, at);
  }

  protected recordFailure(partition: number, seqs: [number, number], error: string, at: number): void {
    this.failures.push({ partition, seqs, error, at });
  }

  protected log(line: string): void {
    this.clientLogs.push(`${new Date().toISOString()} ${line}`);
    if (this.clientLogs.length > 400) this.clientLogs.splice(0, this.clientLogs.length - 300);
  }

  /** Number of acknowledged records. */
  ackedCount(): number {
    return this.acked.reduce((n, l) => n + l.length, 0);
  }

  /** A copy of the acknowledgements so far. */
  snapshot(): AckedRecord[][] {
    return this.acked.map((l) => l.map((r) => ({ ...r })));
  }

  /**
   * Resolves with the ms from `since` to the first acknowledgement after it on one of `partitions` (default
   * all); rejects after timeoutMs.
   */
  nextAckAfter(since: number, partitions?: readonly number[], timeoutMs = 60_000): Promise<number> {
    const wanted = partitions ?? this.acked.map((_, p) => p);
    let best: number | undefined;
    for (const p of wanted) {
      const hit = this.acked[p]?.find((r) => r.at > since);
      if (hit !== undefined && (best === undefined || hit.at < best)) best = hit.at;
    }
    if (best !== undefined) return Promise.resolve(best - since);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('ack', on);
        reject(
          new Error(
            `no acknowledged write on partition(s) ${wanted.join(',')} within ${timeoutMs} ms` +
              ` (${this.client}; last failures: ${JSON.stringify(this.failures.slice(-3))};` +
              ` client log:\n${this.clientLogs.slice(-15).join('\n')})`,
          ),
        );
      }, timeoutMs);
      const on = (p: number, at: number): void => {
        if (!wanted.includes(p) || at <= since) return;
        clearTimeout(timer);
        this.events.off('ack', on);
        resolve(at - since);
      };
      this.events.on('ack', on);
    });
  }

  /**
   * The longest time without an acknowledgement on `partitions` that overlaps [from, to]: from the last
   * acknowledgement before `from` (or `from`) to the next one (or `to`).
   */
  longestPause(partitions: readonly number[], from: number, to: number): number {
    let longest = 0;
    for (const p of partitions) {
      let prev = from;
      for (const { at } of this.acked[p] ?? []) {
        if (at <= from) {
          prev = at;
          continue;
        }
        longest = Math.max(longest, Math.min(at, to) - prev);
        prev = at;
        if (at >= to) break;
      }
      if (prev < to) longest = Math.max(longest, to - prev);
    }
    return longest;
  }

  /** The group's committed offsets (FindCoordinator + OffsetFetch), partition -> offset (-1: none). */
  committed(timeoutMs = 30_000): Promise<Map<number, number>> {
    const { groupId, topic } = this.o;
    return waitFor(
      `the committed offsets of group ${groupId}`,
      () =>
        this.anyBroker(async (b) => {
          const found = await withConnection(
            b,
            (c) =>
              c.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, {
                key: groupId,
                keyType: 0,
                coordinatorKeys: [groupId],
              }),
            probeRequestMs,
          );
          const co = found.coordinators[0] ?? found;
          if (co.errorCode !== ErrorCode.NONE) throw new Error(`FindCoordinator: error ${co.errorCode}`);
          const topics = [{ name: topic, partitionIndexes: [...Array(this.o.partitions).keys()] }];
          const res = await withConnection(
            `${co.host}:${co.port}`,
            (c) =>
              // By name: v10 names topics by id only (see src/client/group-offsets.ts).
              c.request<OffsetFetchResponse>(
                ApiKey.OffsetFetch,
                {
                  groupId,
                  topics,
                  groups: [{ groupId, memberId: null, memberEpoch: -1, topics }],
                  requireStable: false,
                },
                Math.min(c.version(ApiKey.OffsetFetch), 9),
              ),
            probeRequestMs,
          );
          const g = res.groups[0];
          const code = g?.errorCode ?? res.errorCode;
          if (code !== ErrorCode.NONE) throw new Error(`OffsetFetch from broker ${co.nodeId}: error ${code}`);
          const out = new Map<number, number>();
          for (const t of g?.topics ?? res.topics) {
            for (const p of t.partitions) {
              if (p.errorCode !== ErrorCode.NONE)
                throw new Error(`OffsetFetch ${t.name}-${p.partitionIndex}: error ${p.errorCode}`);
              out.set(p.partitionIndex, p.committedOffset);
            }
          }
          return out;
        }),
      timeoutMs,
      250,
    );
  }

  /** Every partition's high watermark (Metadata, then ListOffsets latest to each leader). */
  logEnds(timeoutMs = 30_000): Promise<Map<number, number>> {
    const { topic } = this.o;
    return waitFor(
      `the log ends of ${topic}`,
      () =>
        this.anyBroker(async (b) => {
          const m = await withConnection(
            b,
            (c) =>
              c.request<MetadataResponse>(ApiKey.Metadata, {
                topics: [{ name: topic, topicId: '0'.repeat(32) }],
                allowAutoTopicCreation: false,
              }),
            probeRequestMs,
          );
          const out = new Map<number, number>();
          for (const p of m.topics[0]?.partitions ?? []) {
            const leader = m.brokers.find((x) => x.nodeId === p.leaderId);
            if (leader === undefined) throw new Error(`${topic}-${p.partitionIndex} has no live leader`);
            const res = await withConnection(
              `${leader.host}:${leader.port}`,
              (c) =>
                c.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
                  replicaId: -1,
                  isolationLevel: 0,
                  topics: [
                    {
                      name: topic,
                      partitions: [
                        {
                          partitionIndex: p.partitionIndex,
                          currentLeaderEpoch: -1,
                          timestamp: -1,
                          maxNumOffsets: 1,
                        },
                      ],
                    },
                  ],
                }),
              probeRequestMs,
            );
            const r = res.topics[0]?.partitions[0];
            if (r === undefined || r.errorCode !== ErrorCode.NONE) {
              throw new Error(
                `ListOffsets ${topic}-${p.partitionIndex} on ${p.leaderId}: error ${r?.errorCode}`,
              );
            }
            out.set(p.partitionIndex, r.offset);
          }
          if (out.size !== this.o.partitions)
            throw new Error(`metadata lists ${out.size} partitions of ${topic}`);
          return out;
        }),
      timeoutMs,
      250,
    );
  }

  /** fn's result from the first broker (in random order) that gives one; throws the last error. */
  private async anyBroker<T>(fn: (bootstrap: string) => Promise<T>): Promise<T> {
    const order = [...this.o.bootstrap].sort(() => Math.random() - 0.5);
    let last: unknown;
    for (const b of order) {
      try {
        return await fn(b);
      } catch (e) {
        last = e;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  /**
   * Checks the group's offsets against an earlier reading: none moved back, none past its partition's log
   * end. Returns the new reading; throws naming the partition otherwise.
   */
  async checkCommitted(before: Map<number, number>): Promise<Map<number, number>> {
    const now = await this.committed();
    const ends = await this.logEnds(); // after the offsets: log ends only grow
    for (const [p, was] of before) {
      const is = now.get(p) ?? -1;
      if (is < was) {
        throw new Error(
          `group ${this.o.groupId}: committed offset of partition ${p} went back from ${was} to ${is}`,
        );
      }
    }
    for (const [p, is] of now) {
      const end = ends.get(p) ?? -1;
      if (is > end) {
        throw new Error(
          `group ${this.o.groupId}: committed offset ${is} of partition ${p} is past its log end ${end}`,
        );
      }
    }
    return now;
  }

  /** Waits until some partition's committed offset passed `before` (the group commits again). */
  async waitForCommitProgress(before: Map<number, number>, timeoutMs = 60_000): Promise<number> {
    const began = Date.now();
    for (;;) {
      const now = await this.committed().catch(() => new Map<number, number>());
      if ([...now].some(([p, o]) => o > (before.get(p) ?? -1))) return Date.now() - began;
      if (Date.now() - began > timeoutMs) {
        throw new Error(
          `group ${this.o.groupId} committed nothing new within ${timeoutMs} ms (${this.client}; consumed ${this.consumed};` +
            ` offsets ${JSON.stringify([...now])}; client log:\n${this.clientLogs.slice(-15).join('\n')})`,
        );
      }
      await sleep(250);
    }
  }
}

export interface VerifyReport {
  acked: number;
  /** Records in the log (acknowledged or not). */
  inLog: number;
  /** Records in the log that were never acknowledged (sends that failed or were still waiting). */
  unacked: number;
}

/**
 * Reads every partition of `topic` from its log start to its high watermark (Samsa's consumer, no group) and
 * checks, against `acked` (taken before the read, so every one lies below the high watermark):
 * - every acknowledged record is at the offset it was acknowledged with, with its value;
 * - no value is in the log twice (the producer is idempotent: not even an unacknowledged one);
 * - within a partition, the lane's sequence numbers increase with the offset (order kept);
 * - every record is one of this run's values, in the partition it was sent to.
 * Throws with the first few violations.
 */
export async function verifyTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  tag: string,
  acked: AckedRecord[][],
  timeoutMs = 60_000,
): Promise<VerifyReport> {
  // A leader that moves during the read fails it (the consumer does not follow leaders): read again. So does a
  // high watermark still below an acknowledged record (a new leader learns it from its followers' next fetch).
  const deadline = Date.now() + timeoutMs;
  let logs: { offset: number; value: string }[][] | undefined;
  for (let attempt = 1; logs === undefined; attempt++) {
    try {
      const read = await readTopic(bootstrap, topic, partitions, deadline);
      const above = acked.flatMap((l, p) => l.filter((a) => a.offset >= (read.ends.get(p) ?? 0)));
      if (above.length === 0) logs = read.logs;
      else if (Date.now() > deadline) {
        throw new Error(
          `${above.length} acknowledged records stayed above the high watermark, e.g. ${JSON.stringify(above[0])}`,
        );
      }
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`reading ${topic} back failed ${attempt} times, last: ${e}`);
    }
    if (logs === undefined) await sleep(500);
  }

  const problems: string[] = [];
  const seen = new Map<string, string>();
  let inLog = 0;
  for (let p = 0; p < partitions; p++) {
    let lastSeq = -1;
    for (const r of logs[p]!) {
      inLog++;
      const where = `${topic}-${p}@${r.offset}`;
      const prior = seen.get(r.value);
      if (prior !== undefined) problems.push(`${r.value} is in the log twice: ${prior} and ${where}`);
      seen.set(r.value, where);
      const [t, lane, seqText] = r.value.split('|');
      const seq = Number(seqText);
      if (t !== tag || Number(lane) !== p || !Number.isInteger(seq)) {
        problems.push(`${where} holds '${r.value}', not a value of this run for partition ${p}`);
        continue;
      }
      if (seq <= lastSeq) problems.push(`${where}: seq ${seq} after seq ${lastSeq} (out of order)`);
      lastSeq = seq;
    }
  }
  let count = 0;
  for (let p = 0; p < partitions; p++) {
    const byOffset = new Map(logs[p]!.map((r) => [r.offset, r.value]));
    for (const a of acked[p] ?? []) {
      count++;
      const v = byOffset.get(a.offset);
      if (v !== a.value) {
        problems.push(
          `acknowledged ${a.value} at ${topic}-${p}@${a.offset} (acked ${new Date(a.at).toISOString()}): the log has ${v === undefined ? 'nothing' : `'${v}'`} there${seen.has(a.value) ? ` (the value is at ${seen.get(a.value)})` : ''}`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} violation(s) in ${topic} (acked ${count}, in log ${inLog}):\n  ${problems.slice(0, 20).join('\n  ')}`,
    );
  }
  return { acked: count, inLog, unacked: inLog - count };
}

/** Every record of the topic's partitions below the high watermarks (`ends`) as they were when the read began. */
async function readTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  deadline: number,
): Promise<{ logs: { offset: number; value: string }[][]; ends: Map<number, number> }> {
  const all = [...Array(partitions).keys()];
  const logs: { offset: number; value: string }[][] = all.map(() => []);
  const consumer = await Consumer.connect({ bootstrap, maxWaitMs: 200, autoOffsetReset: 'none' });
  try {
    await consumer.assign(topic, 'all', 'earliest');
    const ends = await consumer.listOffsets(topic, all, -1);
    const done = (): boolean => all.every((p) => consumer.position(topic, p) >= (ends.get(p) ?? 0));
    while (!done()) {
      if (Date.now() > deadline) {
        const at = all.map((p) => `${p}:${consumer.position(topic, p)}/${ends.get(p)}`);
        throw new Error(`reading ${topic} back timed out at ${at.join(' ')}`);
      }
      for (const r of await consumer.poll()) {
        if (r.offset >= (ends.get(r.partition) ?? 0)) continue;
        logs[r.partition]!.push({ offset: r.offset, value: r.value?.toString('utf8') ?? '<null>' });
      }
    }
    return { logs, ends };
  } finally {
    await consumer.close();
  }
}
