// How a broker writes its audit counters to __samsa_audit: as a client of its own cluster (the internal client,
// connected to this broker's advertised listener), so the records go to the topic's leader wherever it is, with
// acks=all. The topic is created on first use (compacted, auditTopicPartitions partitions, replication factor up to
// auditTopicReplicationFactorMax). A failed write drops the connection; the next flush connects again.

import { createTopic } from '../client/admin.js';
import { Cluster, KafkaError } from '../client/cluster.js';
import { Producer } from '../client/producer.js';
import type { BrokerConfig } from '../config/broker-config.js';
import {
  auditCountersMax,
  auditCountersStopTimeoutMs,
  auditTopicPartitions,
  auditTopicReplicationFactorMax,
} from '../limits.js';
import { createLogger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { AUDIT_TOPIC, AuditCounters, type CounterRecord } from './audit-counters.js';

/** The broker's audit counters per samsa.audit.* (null when samsa.audit.enable is false). */
export function brokerAuditCounters(
  config: BrokerConfig,
  nodeId: number,
  address: () => { host: string; port: number },
): AuditCounters | null {
  if (!config.bool('samsa.audit.enable')) return null;
  const writer = counterWriter(address, `samsa-audit-counters-${nodeId}`);
  return new AuditCounters({
    nodeId,
    windowMs: config.long('samsa.audit.window.ms'),
    flushIntervalMs: config.long('samsa.audit.flush.interval.ms'),
    write: writer.write,
    close: writer.close,
    logger: createLogger('audit-counters'),
    countersMax: auditCountersMax,
    stopTimeoutMs: auditCountersStopTimeoutMs,
  });
}

export function counterWriter(
  address: () => { host: string; port: number },
  clientId: string,
): { write: (records: CounterRecord[]) => Promise<void>; close: () => void } {
  let cluster: Cluster | null = null;
  let producer: Producer | null = null;
  const close = (): void => {
    cluster?.close();
    cluster = null;
    producer = null;
  };
  const write = async (records: CounterRecord[]): Promise<void> => {
    try {
      if (cluster === null || producer === null) {
        cluster = await Cluster.connect({ bootstrap: [address()], clientId });
        await ensureTopic(cluster);
        producer = Producer.on(cluster, { acks: -1 });
      }
      await producer.send(
        AUDIT_TOPIC,
        records.map((r) => ({ key: r.key, value: r.value })),
      );
    } catch (e) {
      close();
      throw e;
    }
  };
  return { write, close };
}

async function ensureTopic(cluster: Cluster): Promise<void> {
  try {
    await cluster.topic(AUDIT_TOPIC, true);
    return;
  } catch (e) {
    if (!(e instanceof KafkaError) || e.code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw e;
  }
  const brokers = (await cluster.brokers()).length;
  try {
    await createTopic(cluster, AUDIT_TOPIC, {
      partitions: auditTopicPartitions,
      replicationFactor: Math.max(1, Math.min(auditTopicReplicationFactorMax, brokers)),
      configs: { 'cleanup.policy': 'compact' },
    });
  } catch (e) {
    if (!(e instanceof KafkaError) || e.code !== ErrorCode.TOPIC_ALREADY_EXISTS) throw e;
  }
  await cluster.topic(AUDIT_TOPIC, true);
}
