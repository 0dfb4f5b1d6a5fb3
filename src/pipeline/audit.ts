// The audit (`samsa audit`; design in docs/pipeline.md, "samsa audit"): proves that no record was lost between two
// clusters by counting, per window of record timestamps, the records a topic holds on the source and on the
// target (and, with a group, how many of the target's the group has consumed), and naming the windows where
// the target holds fewer.
//
//   const report = await audit({ source, target, topic: 'orders', windowMs: 60_000, group: 'billing' });
//   report.windows   // [{ start: '2026-12-06T01:41:00Z', startMs, source, target, consumed, missing }]
//   report.short     // the windows with missing > 0
//
// What is read: each partition's committed records (read_committed) from its log start offset, or from the first
// offset with a timestamp at or after fromMs (ListOffsets by timestamp), up to the last stable offset taken when
// the audit starts, or the first offset with a timestamp at or after toMs. Both clusters are read at once, each
// with one fetch in flight per leader; only counts per window are kept (audit-scan.ts).

import { CoordinatorType, findCoordinator } from '../client/admin.js';
import type { Cluster } from '../client/cluster.js';
import { check } from '../client/cluster.js';
import { Consumer, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../client/consumer.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { OffsetFetchResponse } from '../protocol/generated/offset-fetch-response.js';
import { type ScanRange, type ScanResult, scanTopic } from './audit-scan.js';
import { formatWindow, type WindowCounts } from './audit-window.js';

export interface AuditOptions {
  source: Cluster;
  target: Cluster;
  topic: string;
  /** The topic's name on the target; default the same. */
  targetTopic?: string;
  windowMs: number;
  /** A consumer group on the target whose consumption is counted too. */
  group?: string;
  fromMs?: number;
  toMs?: number;
  /** Fetch sizes (limits.ts by default). */
  fetchBytes?: number;
  partitionFetchBytes?: number;
}

export interface AuditWindow {
  start: string;
  startMs: number;
  source: number;
  target: number;
  /** Records of the window below the group's committed offsets; null without a group. */
  consumed: number | null;
  /** source - target when the target holds fewer, else 0. */
  missing: number;
}

export interface AuditReport {
  topic: string;
  windows: AuditWindow[];
  /** Windows where the target holds fewer records than the source. */
  short: AuditWindow[];
  /** What was read on each side, for the report's last lines. */
  sourceRead: string;
  targetRead: string;
  /** The log scans (null when the broker-side counters were compared). */
  sourceScan: ScanResult | null;
  targetScan: ScanResult | null;
  elapsedMs: number;
}

/** The windows holding records on either side, with what the target lacks. */
export function compareWindows(
  source: WindowCounts,
  target: WindowCounts,
  consumed: WindowCounts | null,
): { windows: AuditWindow[]; short: AuditWindow[] } {
  const starts = new Set([...source.counts.keys(), ...target.counts.keys()]);
  const windows = [...starts]
    .sort((a, b) => a - b)
    .map((startMs): AuditWindow => {
      const s = source.get(startMs);
      const t = target.get(startMs);
      return {
        start: formatWindow(startMs),
        startMs,
        source: s,
        target: t,
        consumed: consumed === null ? null : consumed.get(startMs),
        missing: Math.max(0, s - t),
      };
    });
  return { windows, short: windows.filter((w) => w.missing > 0) };
}

function scanLine(s: ScanResult): string {
  const mib = (s.bytes / (1024 * 1024)).toFixed(1);
  return `${s.records.total()} records, ${mib} MiB, ${s.batchesByHeader} batches counted by header, ${s.batchesWalked} walked (${s.batchesDecompressed} decompressed)`;
}

export async function audit(opts: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const targetTopic = opts.targetTopic ?? opts.topic;
  const [sourceRanges, targetRanges, committed] = await Promise.all([
    offsetRanges(opts.source, opts.topic, opts.fromMs, opts.toMs),
    offsetRanges(opts.target, targetTopic, opts.fromMs, opts.toMs),
    opts.group === undefined ? undefined : committedOffsets(opts.target, opts.group, targetTopic),
  ]);
  const common = {
    windowMs: opts.windowMs,
    fromMs: opts.fromMs,
    toMs: opts.toMs,
    fetchBytes: opts.fetchBytes,
    partitionFetchBytes: opts.partitionFetchBytes,
  };
  const [sourceScan, targetScan] = await Promise.all([
    scanTopic(opts.source, { ...common, topic: opts.topic, ranges: sourceRanges }),
    scanTopic(opts.target, { ...common, topic: targetTopic, ranges: targetRanges, consumedBelow: committed }),
  ]);
  return {
    topic: opts.topic,
    ...compareWindows(sourceScan.records, targetScan.records, targetScan.consumed),
    sourceRead: scanLine(sourceScan),
    targetRead: scanLine(targetScan),
    sourceScan,
    targetScan,
    elapsedMs: Date.now() - started,
  };
}

/**
 * Per partition, the offsets to read: [log start, last stable offset), or from the first offset at or after
 * fromMs to the first at or after toMs (ListOffsets by timestamp, read_committed).
 */
export async function offsetRanges(
  cluster: Cluster,
  topic: string,
  fromMs?: number,
  toMs?: number,
): Promise<ScanRange[]> {
  const info = await cluster.topic(topic, true);
  const partitions = info.partitions.map((p) => p.partition);
  const consumer = Consumer.on(cluster, { isolationLevel: 1 });
  const [starts, stable, ends] = await Promise.all([
    consumer.listOffsets(topic, partitions, fromMs ?? EARLIEST_TIMESTAMP),
    consumer.listOffsets(topic, partitions, LATEST_TIMESTAMP),
    toMs === undefined ? undefined : consumer.listOffsets(topic, partitions, toMs),
  ]);
  return partitions.map((partition) => {
    const lso = stable.get(partition) ?? 0;
    return {
      partition,
      start: starts.get(partition) ?? 0,
      end: Math.min(lso, ends?.get(partition) ?? lso),
    };
  });
}

/** The committed offsets of a group for one topic: partition -> offset (partitions without one are left out). */
export async function committedOffsets(
  cluster: Cluster,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const node = await findCoordinator(cluster, CoordinatorType.GROUP, groupId);
  const conn = await cluster.connection(node);
  const res = await conn.request<OffsetFetchResponse>(ApiKey.OffsetFetch, {
    groupId,
    topics: null,
    groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
    requireStable: false,
  });
  const group = res.groups[0];
  check(group?.errorCode ?? res.errorCode, `OffsetFetch ${groupId}`);
  const topicId = (await cluster.topic(topic)).topicId;
  const out = new Map<number, number>();
  for (const t of group?.topics ?? res.topics) {
    const named = (t as { name?: string }).name;
    const id = (t as { topicId?: string }).topicId;
    if (named !== topic && id !== topicId) continue;
    for (const p of t.partitions) {
      if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0)
        out.set(p.partitionIndex, p.committedOffset);
    }
  }
  return out;
}
