// What /metrics reports of a broker (src/http/metrics.ts reads it at scrape time): partitions hosted here,
// network counters, committed offsets against high watermarks (consumer lag), log dir usage and
// under-replicated partitions (led here with fewer in-sync replicas than replicas). Empty until the broker has
// started: the endpoint is bound before the logs load.

import type { BrokerMetrics } from '../http/metrics.js';
import type { Broker } from './broker.js';

type MetricsSource = ConstructorParameters<typeof BrokerMetrics>[0];

export function brokerMetricsSource(ref: { broker: Broker | null }): MetricsSource {
  return {
    *partitions() {
      const replicas = ref.broker?.replicas;
      if (replicas === undefined) return;
      for (const p of replicas.all()) {
        const l = p.log;
        yield {
          topic: p.topic,
          partition: p.index,
          sizeBytes: l.sizeBytes,
          logStartOffset: l.logStartOffset,
          logEndOffset: l.logEndOffset,
          highWatermark: l.highWatermark,
        };
      }
    },
    network: () =>
      ref.broker?.networkCounters() ?? { connections: 0, queuedRequestBytes: 0, queuedRequestBytesPeak: 0 },
    groupOffsets: () => (ref.broker === null ? [] : committedOffsets(ref.broker)),
    logDirs: () => ref.broker?.config.logDirs() ?? [],
    quotaThrottles: () => {
      const q = ref.broker?.quotas;
      if (q === undefined) return [];
      const out: { type: string; responses: number; throttleTimeMs: number }[] = [
        q.produce,
        q.fetch,
        q.request,
      ].map((m) => ({
        type: m.type,
        responses: m.throttledResponses,
        throttleTimeMs: m.throttleTimeMsTotal,
      }));
      const c = ref.broker?.connectionQuotas;
      if (c !== undefined) {
        out.push(
          {
            type: 'ConnectionCreation',
            responses: c.acceptThrottles,
            throttleTimeMs: c.acceptThrottleMsTotal,
          },
          { type: 'IpConnectionCreation', responses: c.ipThrottles, throttleTimeMs: c.ipThrottleMsTotal },
        );
      }
      return out;
    },
    fetchSessions: () =>
      ref.broker?.fetchSessions.stats() ?? {
        sessions: 0,
        partitions: 0,
        evictions: 0,
        created: 0,
        incremental: 0,
      },
    underReplicatedPartitions: () => {
      let n = 0;
      for (const p of ref.broker?.replicas.all() ?? [])
        if (p.isLeader && p.isr.length < p.replicas.length) n++;
      return n;
    },
  };
}

/** Committed offsets of every group with the partition's high watermark (the lag metric). */
function* committedOffsets(broker: Broker): Generator<{
  group: string;
  topic: string;
  partition: number;
  offset: number;
  highWatermark: number;
}> {
  const offsets = broker.groups.offsets;
  for (const group of offsets.groupIds()) {
    for (const o of offsets.all(group)) {
      const p = broker.replicas.partition(o.topic, o.partition);
      if (p === undefined || !p.isLeader) continue;
      yield {
        group,
        topic: o.topic,
        partition: o.partition,
        offset: o.value.offset,
        highWatermark: p.log.highWatermark,
      };
    }
  }
}
