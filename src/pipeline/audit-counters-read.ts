// `samsa audit --use-counters`: compares the broker-side counters (audit-counters.ts) of two clusters instead of
// reading their logs. Each cluster's __samsa_audit is read whole (it is compacted and small: one record per
// partition, window and writer); the latest record of each key is kept for the audited topic only, and the counts
// are summed per --window, which must be a multiple of the counters' window (samsa.audit.window.ms).

import type { Cluster } from '../client/cluster.js';
import { KafkaError } from '../client/cluster.js';
import { Consumer, LATEST_TIMESTAMP } from '../client/consumer.js';
import { ErrorCode } from '../protocol/errors.js';
import { type AuditOptions, type AuditReport, compareWindows } from './audit.js';
import { AUDIT_TOPIC, decodeCounter } from './audit-counters.js';
import { WindowCounts } from './audit-window.js';

/** A problem with the counters themselves (none kept, windows that do not fit): the CLI's exit status 1. */
export class CountersError extends Error {}

export async function auditFromCounters(opts: AuditOptions): Promise<AuditReport> {
  const started = Date.now();
  const [source, target] = await Promise.all([
    readCounters(opts.source, 'source', opts.topic, opts),
    readCounters(opts.target, 'target', opts.targetTopic ?? opts.topic, opts),
  ]);
  return {
    topic: opts.topic,
    ...compareWindows(source.counts, target.counts, null),
    sourceRead: source.line,
    targetRead: target.line,
    sourceScan: null,
    targetScan: null,
    elapsedMs: Date.now() - started,
  };
}

async function readCounters(
  cluster: Cluster,
  side: string,
  topic: string,
  opts: AuditOptions,
): Promise<{ counts: WindowCounts; line: string }> {
  try {
    await cluster.topic(AUDIT_TOPIC, true);
  } catch (e) {
    if (e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      throw new CountersError(
        `the ${side} cluster has no ${AUDIT_TOPIC} topic: set samsa.audit.enable=true on its brokers`,
      );
    }
    throw e;
  }
  const consumer = Consumer.on(cluster, { maxWaitMs: 100 });
  const info = await cluster.topic(AUDIT_TOPIC);
  const partitions = info.partitions.map((p) => p.partition);
  const ends = await consumer.listOffsets(AUDIT_TOPIC, partitions, LATEST_TIMESTAMP);
  await consumer.assign(AUDIT_TOPIC, 'all', 'earliest');
  // key -> [window start, window length, count]; a later record of a key replaces an earlier one.
  const latest = new Map<string, [number, number, number]>();
  let records = 0;
  const done = () => partitions.every((p) => consumer.position(AUDIT_TOPIC, p) >= (ends.get(p) ?? 0));
  while (!done()) {
    for (const r of await consumer.poll()) {
      records++;
      const c = decodeCounter(r.key, r.value);
      if (c === null || c.topic !== topic) continue;
      latest.set(`${c.partition}\u0000${c.windowMs}\u0000${c.window}\u0000${c.writer}`, [
        c.window,
        c.windowMs,
        c.count,
      ]);
    }
  }
  const counts = new WindowCounts(opts.windowMs);
  const windowLengths = new Set<number>();
  for (const [window, windowMs, count] of latest.values()) {
    windowLengths.add(windowMs);
    if (opts.windowMs % windowMs !== 0) {
      throw new CountersError(
        `the ${side} cluster counts ${topic} in windows of ${windowMs} ms: --window must be a multiple of it`,
      );
    }
    if (opts.fromMs !== undefined && window < opts.fromMs) continue;
    if (opts.toMs !== undefined && window >= opts.toMs) continue;
    counts.add(window, count);
  }
  const line = `${counts.total()} records in ${latest.size} counters of ${AUDIT_TOPIC} (${records} records read; windows of ${[...windowLengths].join(', ') || '-'} ms)`;
  return { counts, line };
}
