// What the perf tools need to know about a topic: its partitions, their leaders and one connection
// per leader node. Works against any Kafka-protocol broker (Samsa or Apache Kafka).

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../protocol/generated/create-topics-response.js';
import type { ListOffsetsResponse } from '../../protocol/generated/list-offsets-response.js';
import type { MetadataResponse } from '../../protocol/generated/metadata-response.js';
import { KafkaClientError, KafkaConnection } from '../connection.js';

export interface HostPort {
  host: string;
  port: number;
}

export function parseBootstrap(s: string): HostPort {
  const first = s.split(',')[0]?.trim() ?? '';
  const i = first.lastIndexOf(':');
  const port = Number(first.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new KafkaClientError(`--bootstrap-server must be host:port; got '${s}'`);
  }
  return { host: first.slice(0, i), port };
}

export interface TopicLayout {
  name: string;
  topicId: string;
  /** Partition index -> leader node id. */
  leaders: Map<number, number>;
  /** Node id -> connection (opened by the caller with connectLeaders). */
  nodes: Map<number, HostPort>;
}

async function metadata(conn: KafkaConnection, topic: string): Promise<MetadataResponse> {
  return conn.request<MetadataResponse>(ApiKey.Metadata, {
    topics: [{ name: topic, topicId: '0'.repeat(32) }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
}

export async function createTopic(
  conn: KafkaConnection,
  topic: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<void> {
  const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
    topics: [
      {
        name: topic,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
      },
    ],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  const t = res.topics[0];
  if (t !== undefined && t.errorCode !== ErrorCode.NONE && t.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
    throw new KafkaClientError(`cannot create topic ${topic}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
  }
}

/**
 * The topic's layout; when the topic does not exist and createPartitions > 0 it is created first.
 * Waits (up to 30 s) until every partition has a leader.
 */
export async function describeTopic(
  conn: KafkaConnection,
  topic: string,
  createPartitions = 0,
  configs: Record<string, string> = {},
): Promise<TopicLayout> {
  const deadline = Date.now() + 30_000;
  let created = false;
  for (;;) {
    const md = await metadata(conn, topic);
    const t = md.topics.find((x) => x.name === topic);
    const missing = t === undefined || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (missing && createPartitions > 0 && !created) {
      await createTopic(conn, topic, createPartitions, configs);
      created = true;
      continue;
    }
    if (missing && createPartitions === 0) throw new KafkaClientError(`topic ${topic} does not exist`);
    if (t !== undefined && t.errorCode === ErrorCode.NONE && t.partitions.length > 0) {
      const ready = t.partitions.every((p) => p.errorCode === ErrorCode.NONE && p.leaderId >= 0);
      if (ready) {
        const nodes = new Map<number, HostPort>();
        for (const b of md.brokers) nodes.set(b.nodeId, { host: b.host, port: b.port });
        const leaders = new Map<number, number>();
        for (const p of t.partitions) leaders.set(p.partitionIndex, p.leaderId);
        return { name: topic, topicId: t.topicId, leaders, nodes };
      }
    }
    if (Date.now() > deadline) {
      throw new KafkaClientError(`topic ${topic} has no leader for every partition after 30 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One connection per leader node of the layout. */
export async function connectLeaders(
  layout: TopicLayout,
  clientId: string,
): Promise<Map<number, KafkaConnection>> {
  const out = new Map<number, KafkaConnection>();
  for (const node of new Set(layout.leaders.values())) {
    const hp = layout.nodes.get(node);
    if (hp === undefined) throw new KafkaClientError(`leader node ${node} is not in the metadata`);
    out.set(node, await KafkaConnection.connect({ ...hp, clientId }));
  }
  return out;
}

/** ListOffsets for every partition: timestamp -2 = earliest, -1 = latest. */
export async function listOffsets(
  conns: Map<number, KafkaConnection>,
  layout: TopicLayout,
  timestamp: number,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const [node, conn] of conns) {
    const parts = [...layout.leaders].filter(([, leader]) => leader === node).map(([p]) => p);
    const res = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: layout.name,
          partitions: parts.map((p) => ({
            partitionIndex: p,
            currentLeaderEpoch: -1,
            timestamp,
            maxNumOffsets: 1,
          })),
        },
      ],
      timeoutMs: 30_000,
    });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) {
          throw new KafkaClientError(`ListOffsets ${layout.name}-${p.partitionIndex}: error ${p.errorCode}`);
        }
        out.set(p.partitionIndex, p.offset);
      }
    }
  }
  return out;
}
