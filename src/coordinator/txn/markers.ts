// The transaction marker sender (Kafka's TransactionMarkerChannelManager): once PrepareCommit or PrepareAbort
// is committed, every partition of the transaction gets a COMMIT or ABORT control batch, written by that
// partition's leader when it receives a WriteTxnMarkers request (handler 27). This broker's own partitions go
// through the network too, as in Kafka: one path for every broker.
//
// A job is one transaction's completion: its producer id and epoch, the coordinator epoch (so a leader refuses the
// markers of a deposed coordinator), the outcome and the partitions still without a marker. Its partitions are
// routed to their leaders' queues, one queue and one connection per broker on the inter-broker listener; a sender
// drains a queue into WriteTxnMarkers requests of at most txnMarkerPartitionsPerRequestMax partitions.
// Per partition of the answer:
//   NONE                                   marked; when the last one is, the job is done (onDone writes Complete*)
//   UNSUPPORTED_FOR_MESSAGE_FORMAT/VERSION marked (nothing can be written there; Kafka does the same)
//   INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED
//                                          this coordinator is fenced: the job is abandoned (a newer coordinator
//                                          or epoch owns the transaction and completes it)
//   anything else, or no answer            routed again after txnMarkerRetryBackoffMs, with fresh metadata
// A partition whose topic no longer exists is dropped from the job (its marker has nowhere to go); one without a
// live leader waits (parked) and is routed again after the backoff. A job whose coordinator no longer owns the
// transaction (valid() false: the partition moved or was reloaded) is dropped wherever it is.

import type { ClientSecurity } from '../../client/connection.js';
import { KafkaConnection } from '../../client/connection.js';
import * as limits from '../../limits.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { WriteTxnMarkersRequestInput } from '../../protocol/generated/write-txn-markers-request.js';
import type { WriteTxnMarkersResponse } from '../../protocol/generated/write-txn-markers-response.js';
import type { TxnPartitions } from './metadata.js';

export interface MarkerJob {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  /** The transaction's client transaction version (WriteTxnMarkers v2's TransactionVersion, KIP-1228). */
  transactionVersion: number;
  /** Partitions still without their marker; the channel removes them as they are marked. */
  remaining: TxnPartitions;
  /** False once this coordinator no longer owns the completion: the job is dropped. */
  valid(): boolean;
  /** Every partition is marked (or gone). */
  onDone(): void;
}

export interface MarkerHost {
  /** The partition's leader: a broker id, -1 when it has none now, null when the partition does not exist. */
  leaderOf(topic: string, partition: number): number | null;
  /** A broker's endpoint on the inter-broker listener, undefined when it is not alive. */
  endpoint(brokerId: number): { host: string; port: number } | undefined;
  /** TLS/SASL of the inter-broker listener; undefined for PLAINTEXT. */
  readonly security?: ClientSecurity | undefined;
}

interface Tracked {
  job: MarkerJob;
  settled: boolean;
}

interface Item {
  t: Tracked;
  topic: string;
  partition: number;
}

interface BrokerQueue {
  id: number;
  items: Item[];
  conn: KafkaConnection | null;
  running: boolean;
  /** Requests that failed in a row (logged at the first and every 20th). */
  failures: number;
}

export class TxnMarkerChannel {
  private readonly queues = new Map<number, BrokerQueue>();
  private parked: Item[] = [];
  private parkTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Partitions queued or parked (bounded by txnMarkersQueuedMax, checked by the coordinator before EndTxn). */
  queuedPartitions = 0;

  constructor(
    private readonly host: MarkerHost,
    private readonly nodeId: number,
    private readonly log: Logger,
  ) {}

  /** Whether there is room for `partitions` more markers. */
  hasRoom(partitions: number): boolean {
    return this.queuedPartitions + partitions <= limits.txnMarkersQueuedMax;
  }

  add(job: MarkerJob): void {
    const t: Tracked = { job, settled: false };
    const items: Item[] = [];
    for (const [topic, set] of job.remaining)
      for (const partition of set) items.push({ t, topic, partition });
    if (items.length === 0) {
      this.finish(t);
      return;
    }
    this.queuedPartitions += items.length;
    for (const item of items) this.route(item);
  }

  stop(): void {
    this.stopped = true;
    if (this.parkTimer !== null) clearTimeout(this.parkTimer);
    this.parkTimer = null;
    this.parked = [];
    for (const q of this.queues.values()) {
      q.items = [];
      q.conn?.close();
    }
    this.queues.clear();
    this.queuedPartitions = 0;
  }

  private finish(t: Tracked): void {
    if (t.settled) return;
    t.settled = true;
    t.job.onDone();
  }

  /** An item leaves the channel: marked (or its partition gone), or dropped with its job. */
  private release(item: Item, marked: boolean): void {
    this.queuedPartitions--;
    if (!marked || item.t.settled) return;
    const set = item.t.job.remaining.get(item.topic);
    set?.delete(item.partition);
    if (set !== undefined && set.size === 0) item.t.job.remaining.delete(item.topic);
    if (item.t.job.remaining.size === 0) this.finish(item.t);
  }

  private abandon(t: Tracked, why: string, fields: Record<string, unknown> = {}): void {
    if (t.settled) return;
    t.settled = true;
    this.log.warn('stopped sending transaction markers', {
      transactionalId: t.job.transactionalId,
      producerId: t.job.producerId,
      coordinatorEpoch: t.job.coordinatorEpoch,
      why,
      ...fields,
    });
  }

  private route(item: Item): void {
    if (this.stopped) return;
    if (item.t.settled || !item.t.job.valid()) {
      item.t.settled = true;
      this.release(item, false);
      return;
    }
    const leader = this.host.leaderOf(item.topic, item.partition);
    if (leader === null) {
      this.log.info('transaction marker dropped: the partition no longer exists', {
        transactionalId: item.t.job.transactionalId,
        topic: item.topic,
        partition: item.partition,
      });
      this.release(item, true);
      return;
    }
    if (leader < 0 || this.host.endpoint(leader) === undefined) {
      this.park(item);
      return;
    }
    let q = this.queues.get(leader);
    if (q === undefined) {
      q = { id: leader, items: [], conn: null, running: false, failures: 0 };
      this.queues.set(leader, q);
    }
    q.items.push(item);
    if (!q.running) this.start(q);
  }

  /** Routed again after the backoff (no leader now, or a retriable answer). */
  private park(item: Item): void {
    this.parked.push(item);
    if (this.parkTimer !== null || this.stopped) return;
    this.parkTimer = setTimeout(() => {
      this.parkTimer = null;
      const items = this.parked;
      this.parked = [];
      for (const i of items) this.route(i);
    }, limits.txnMarkerRetryBackoffMs);
    this.parkTimer.unref();
  }

  private async connection(q: BrokerQueue): Promise<KafkaConnection> {
    if (q.conn !== null) return q.conn;
    const ep = this.host.endpoint(q.id);
    if (ep === undefined) throw new Error(`broker ${q.id} is not alive`);
    const conn = await KafkaConnection.connect({
      host: ep.host,
      port: ep.port,
      clientId: `samsa-txn-coordinator-${this.nodeId}`,
      timeoutMs: limits.txnMarkerRequestTimeoutMs,
      ...(this.host.security === undefined ? {} : { security: this.host.security }),
    });
    if (this.stopped) {
      conn.close();
      throw new Error('stopped');
    }
    q.conn = conn;
    void conn.closed().then(() => {
      if (q.conn === conn) q.conn = null;
    });
    return conn;
  }

  private start(q: BrokerQueue): void {
    this.run(q).catch((err: unknown) => {
      // A bug: the queue's items stay where they are until the next route() starts the sender again.
      q.running = false;
      this.log.error('transaction marker sender failed', { broker: q.id, error: err });
    });
  }

  private async run(q: BrokerQueue): Promise<void> {
    q.running = true;
    while (!this.stopped && q.items.length > 0) {
      const batch: Item[] = [];
      while (q.items.length > 0 && batch.length < limits.txnMarkerPartitionsPerRequestMax) {
        const item = q.items.shift() as Item;
        if (item.t.settled || !item.t.job.valid()) {
          item.t.settled = true;
          this.release(item, false);
        } else batch.push(item);
      }
      if (batch.length === 0) continue;
      let res: WriteTxnMarkersResponse;
      try {
        const conn = await this.connection(q);
        // v1 is Kafka 4's oldest; v2 carries the transaction version of each marker (KIP-1228).
        const version = Math.min(conn.version(ApiKey.WriteTxnMarkers), 2);
        res = (await conn.sendWithin(
          ApiKey.WriteTxnMarkers,
          version,
          requestOf(batch),
          limits.txnMarkerRequestTimeoutMs,
          'the transaction marker request timeout',
        )) as WriteTxnMarkersResponse;
        q.failures = 0;
      } catch (err) {
        if (this.stopped) break;
        const failures = ++q.failures;
        q.conn?.close();
        q.conn = null;
        if (failures === 1 || failures % 20 === 0) {
          this.log.warn('transaction markers to a broker failed; retrying', {
            broker: q.id,
            partitions: batch.length,
            failures,
            error: err instanceof Error ? err.message : String(err),
          });
        }
        for (const item of batch) this.park(item);
        // The rest of this queue is routed again too: the broker may be gone for good.
        for (const item of q.items.splice(0)) this.park(item);
        break;
      }
      this.onResponse(q.id, batch, res);
    }
    q.running = false;
    if (!this.stopped && q.items.length > 0) this.start(q);
  }

  private onResponse(broker: number, batch: readonly Item[], res: WriteTxnMarkersResponse): void {
    const errors = new Map<string, number>();
    for (const m of res.markers) {
      for (const t of m.topics) {
        for (const p of t.partitions)
          errors.set(`${m.producerId}\u0000${t.name}\u0000${p.partitionIndex}`, p.errorCode);
      }
    }
    for (const item of batch) {
      const code = errors.get(`${item.t.job.producerId}\u0000${item.topic}\u0000${item.partition}`);
      switch (code) {
        case ErrorCode.NONE:
        case ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT:
        case ErrorCode.UNSUPPORTED_VERSION:
          this.release(item, true);
          break;
        case ErrorCode.INVALID_PRODUCER_EPOCH:
        case ErrorCode.TRANSACTION_COORDINATOR_FENCED:
          this.abandon(item.t, 'the partition leader refused the marker: this coordinator is fenced', {
            broker,
            topic: item.topic,
            partition: item.partition,
            errorCode: code,
          });
          this.release(item, false);
          break;
        default:
          if (code !== ErrorCode.NOT_LEADER_OR_FOLLOWER && code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
            this.log.debug('transaction marker not written; retrying', {
              broker,
              topic: item.topic,
              partition: item.partition,
              errorCode: code ?? null,
            });
          }
          this.park(item);
      }
    }
  }
}

/** One WriteTxnMarkers request: a marker per job, its partitions grouped by topic. */
function requestOf(batch: readonly Item[]): WriteTxnMarkersRequestInput {
  const byJob = new Map<Tracked, Map<string, number[]>>();
  for (const item of batch) {
    let topics = byJob.get(item.t);
    if (topics === undefined) {
      topics = new Map();
      byJob.set(item.t, topics);
    }
    const ps = topics.get(item.topic) ?? [];
    ps.push(item.partition);
    topics.set(item.topic, ps);
  }
  return {
    markers: [...byJob].map(([t, topics]) => ({
      producerId: t.job.producerId,
      producerEpoch: t.job.producerEpoch,
      transactionResult: t.job.commit,
      coordinatorEpoch: t.job.coordinatorEpoch,
      transactionVersion: t.job.transactionVersion,
      topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    })),
  };
}
