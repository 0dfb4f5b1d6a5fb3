// The client's view of a cluster, shared by the producer, the consumer, the CLI and the perf tools:
// a bootstrap connection, metadata lookups and one connection per broker (partition leaders).
//
//   const cluster = await Cluster.connect({ bootstrap: '127.0.0.1:9092', clientId: 'me' });
//   const t = await cluster.topic('orders');          // { name, topicId, partitions: [{ partition, leader, ... }] }
//   const conn = await cluster.leaderFor('orders', 0); // KafkaConnection to the partition's leader
//   await cluster.request(ApiKey.CreateTopics, {...}); // any request, sent to the bootstrap broker
//   await cluster.controllerRequest(ApiKey.ElectLeaders, {...}); // sent to the active controller (retried on NOT_CONTROLLER)
//   cluster.close();
//
// Errors: a broker error code surfaces as KafkaError (code + Kafka's error name + the broker's message);
// transport problems as KafkaClientError from connection.ts.

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, errorName } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { MetadataResponse } from '../protocol/generated/metadata-response.js';
import { type ClientSecurity, type ConnectOptions, KafkaClientError, KafkaConnection } from './connection.js';

/** A Kafka error code returned by a broker. */
export class KafkaError extends Error {
  readonly errorName: string;
  constructor(
    readonly code: number,
    message?: string | null,
  ) {
    const name = errorName(code);
    super(message !== null && message !== undefined && message !== '' ? `${name}: ${message}` : name);
    this.errorName = name;
  }
}

/** Throws KafkaError unless code is NONE. */
export function check(code: number, message?: string | null): void {
  if (code !== ErrorCode.NONE) throw new KafkaError(code, message);
}

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port[,host:port...]" (IPv6 as [::1]:9092). */
export function parseBootstrap(spec: string): HostPort[] {
  const out: HostPort[] = [];
  for (const raw of spec.split(',')) {
    const s = raw.trim();
    if (s === '') continue;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
    if (m === null) throw new KafkaClientError(`bad bootstrap server "${s}": expected host:port`);
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new KafkaClientError(`bad port in bootstrap server "${s}"`);
    out.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port });
  }
  if (out.length === 0) throw new KafkaClientError('no bootstrap server given');
  return out;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionInfo[];
}

export interface ClusterOptions {
  /** "host:port[,host:port]" or parsed addresses. */
  bootstrap: string | HostPort[];
  clientId?: string;
  /** Connect timeout per broker (ms). */
  connectTimeoutMs?: number;
  /** TLS and SASL for every broker connection (Kafka's security.protocol, ssl.*, sasl.*). */
  security?: ClientSecurity;
}

export class Cluster {
  private readonly nodes = new Map<number, HostPort>();
  private readonly connections = new Map<number, Promise<KafkaConnection>>();
  private readonly topics = new Map<string, TopicInfo>();
  clusterId: string | null = null;
  /** The active controller as the last Metadata answer named it (-1: none known). */
  controllerId = -1;

  private constructor(
    /** The connection to the first reachable bootstrap broker; admin requests go here. */
    readonly bootstrap: KafkaConnection,
    private readonly connectOpts: Omit<ConnectOptions, 'host' | 'port'>,
  ) {}

  static async connect(opts: ClusterOptions): Promise<Cluster> {
    const addrs = typeof opts.bootstrap === 'string' ? parseBootstrap(opts.bootstrap) : opts.bootstrap;
    const connectOpts = {
      clientId: opts.clientId ?? 'samsa-client',
      timeoutMs: opts.connectTimeoutMs ?? 10_000,
      ...(opts.security === undefined ? {} : { security: opts.security }),
    };
    let last: Error | null = null;
    for (const a of addrs) {
      try {
        const conn = await KafkaConnection.connect({ ...a, ...connectOpts });
        return new Cluster(conn, connectOpts);
      } catch (e) {
        last = e as Error;
      }
    }
    throw last ?? new KafkaClientError('no bootstrap server reachable');
  }

  /** Sends a request to the bootstrap broker with the negotiated version. */
  request<T>(apiKey: number, body: unknown): Promise<T> {
    return this.bootstrap.request<T>(apiKey, body);
  }

  /** Metadata for the given topics (null = all); refreshes the cache of brokers and topics. */
  async metadata(topics: string[] | null, allowAutoTopicCreation = false): Promise<TopicInfo[]> {
    const res = await this.bootstrap.request<MetadataResponse>(ApiKey.Metadata, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: '0'.repeat(32) })),
      allowAutoTopicCreation,
    });
    this.noteBrokers(res);
    const out: TopicInfo[] = [];
    for (const t of res.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== ErrorCode.NONE) {
        this.topics.delete(t.name);
        if (topics !== null) throw new KafkaError(t.errorCode, `topic ${t.name}`);
        continue;
      }
      const info: TopicInfo = {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      };
      this.topics.set(t.name, info);
      out.push(info);
    }
    return out;
  }

  private noteBrokers(res: MetadataResponse): void {
    // v13+: a top-level error (REBOOTSTRAP_REQUIRED from a proxy or a moved address) makes the answer unusable.
    check(res.errorCode, 'Metadata');
    this.clusterId = res.clusterId;
    this.controllerId = res.controllerId;
    for (const b of res.brokers) this.nodes.set(b.nodeId, { host: b.host, port: b.port });
  }

  /** The live brokers (id, host, port, rack), from a fresh Metadata answer. */
  async brokers(): Promise<{ nodeId: number; host: string; port: number; rack: string | null }[]> {
    const res = await this.bootstrap.request<MetadataResponse>(ApiKey.Metadata, {
      topics: [],
      allowAutoTopicCreation: false,
    });
    this.noteBrokers(res);
    return res.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }));
  }

  /**
   * Sends a request only the active controller answers (AlterPartitionReassignments, ElectLeaders, ...), as
   * Kafka's admin client does: finds the controller through Metadata (controller_id) and asks again, after a
   * short pause, while the answer's top-level error is NOT_CONTROLLER, no controller is known or it cannot be
   * reached (a controller moving), until timeoutMs has passed.
   */
  async controllerRequest<T extends { errorCode: number }>(
    apiKey: number,
    body: unknown,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let pause = 50; ; pause = Math.min(1000, pause * 2)) {
      let why: string;
      await this.brokers();
      const id = this.controllerId;
      if (id < 0) {
        why = 'no controller is known';
      } else {
        try {
          const res = await (await this.connection(id)).request<T>(apiKey, body);
          if (res.errorCode !== ErrorCode.NOT_CONTROLLER) return res;
          why = `broker ${id} is no longer the controller`;
        } catch (e) {
          if (!(e instanceof KafkaClientError) && (e as NodeJS.ErrnoException).code === undefined) throw e;
          this.forget(id);
          why = `controller ${id}: ${(e as Error).message}`;
        }
      }
      if (Date.now() + pause > deadline) {
        throw new KafkaError(
          ErrorCode.NOT_CONTROLLER,
          `no controller answered within ${timeoutMs} ms (${why})`,
        );
      }
      await sleep(pause);
    }
  }

  /** Drops a broker's connection (after it failed); the next use opens a new one. */
  private forget(nodeId: number): void {
    const c = this.connections.get(nodeId);
    if (c === undefined) return;
    this.connections.delete(nodeId);
    c.then(
      (conn) => {
        if (conn !== this.bootstrap) conn.close();
      },
      () => {},
    );
  }

  /** A topic's metadata, from the cache unless refresh is set. Throws KafkaError for unknown topics. */
  async topic(name: string, refresh = false, allowAutoTopicCreation = false): Promise<TopicInfo> {
    const cached = this.topics.get(name);
    if (cached !== undefined && !refresh) return cached;
    const [t] = await this.metadata([name], allowAutoTopicCreation);
    if (t === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name}`);
    return t;
  }

  /** Name of the topic with this id, if the cache knows it. */
  topicNameById(topicId: string): string | undefined {
    for (const t of this.topics.values()) if (t.topicId === topicId) return t.name;
    return undefined;
  }

  /** The connection to a broker by node id (opened on first use; the bootstrap one when it is that node). */
  connection(nodeId: number): Promise<KafkaConnection> {
    let c = this.connections.get(nodeId);
    if (c === undefined) {
      const addr = this.nodes.get(nodeId);
      if (addr === undefined) return Promise.reject(new KafkaClientError(`unknown broker ${nodeId}`));
      const b = this.bootstrap.remote;
      c =
        b.host === addr.host && b.port === addr.port
          ? Promise.resolve(this.bootstrap)
          : KafkaConnection.connect({
              ...addr,
              ...this.connectOpts,
              ...(this.clusterId === null ? {} : { expect: { clusterId: this.clusterId, nodeId } }),
            });
      c.catch(() => this.connections.delete(nodeId));
      this.connections.set(nodeId, c);
    }
    return c;
  }

  async leaderFor(topic: string, partition: number): Promise<KafkaConnection> {
    const t = await this.topic(topic);
    const p = t.partitions[partition];
    if (p === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition}`);
    if (p.leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition}`);
    return this.connection(p.leader);
  }

  close(): void {
    for (const c of this.connections.values())
      c.then(
        (conn) => conn.close(),
        () => {},
      );
    this.connections.clear();
    this.bootstrap.close();
  }
}
