// A partition leader asking the transaction coordinator about the partitions of a transactional write before
// appending it (Kafka's AddPartitionsToTxnManager, KIP-890):
//   verify  (transaction version 1 producers, part 1) the partitions must already be in the producer's open
//           transaction (its AddPartitionsToTxn was written): a late or stray write cannot open a transaction the
//           coordinator does not know about (a hanging transaction, holding the last stable offset forever);
//   add     (transaction version 2, Produce v12 / TxnOffsetCommit v5, part 2) the coordinator adds them, the
//           producer no longer sends AddPartitionsToTxn itself.
// The coordinator of this broker is called directly; another broker's gets AddPartitionsToTxn v4+ (v5 for an add)
// on the inter-broker listener, one connection per coordinator broker.
//
// The answer per partition is what the producer gets, mapped as Kafka's leaders do: errors a producer might not
// retry (CONCURRENT_TRANSACTIONS, the coordinator moving or loading or unreachable) become NOT_ENOUGH_REPLICAS (it
// retries the write); PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH; TRANSACTION_ABORTABLE stays for producers
// that know it (Produce v11+, TxnOffsetCommit v4+) and is INVALID_TXN_STATE for older ones.

import { KafkaConnection } from '../client/connection.js';
import type { TxnPartitions } from '../coordinator/txn/metadata.js';
import * as limits from '../limits.js';
import { ErrorCode } from '../protocol/errors.js';
import type { AddPartitionsToTxnRequestInput } from '../protocol/generated/add-partitions-to-txn-request.js';
import type { AddPartitionsToTxnResponse } from '../protocol/generated/add-partitions-to-txn-response.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { Broker } from './broker.js';

export interface TxnWrite {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  partitions: TxnPartitions;
  /** 'add' for a TV2 producer (the partitions join the transaction), 'verify' for a TV1 one. */
  mode: 'verify' | 'add';
  /** Whether the requester knows TRANSACTION_ABORTABLE (Produce v11+, TxnOffsetCommit v4+). */
  abortableSupported: boolean;
}

/** Error code per topic and partition; a partition missing from it is NONE. */
export type TxnVerdict = Map<string, Map<number, number>>;

const RETRIABLE = new Set<number>([
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.REQUEST_TIMED_OUT,
]);

/** The coordinator's answer as the producer gets it. */
export function producerError(code: number, abortableSupported: boolean): number {
  if (RETRIABLE.has(code)) return ErrorCode.NOT_ENOUGH_REPLICAS;
  if (code === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
  if (code === ErrorCode.TRANSACTION_ABORTABLE && !abortableSupported) return ErrorCode.INVALID_TXN_STATE;
  return code;
}

function uniform(partitions: TxnPartitions, code: number): TxnVerdict {
  const out: TxnVerdict = new Map();
  for (const [topic, set] of partitions) out.set(topic, new Map([...set].map((p) => [p, code])));
  return out;
}

export class TxnVerifier {
  private readonly conns = new Map<number, Promise<KafkaConnection>>();
  private stopped = false;

  constructor(private readonly broker: Broker) {}

  /** Asks the coordinator; resolves with the producer's error per partition (never rejects). */
  async check(w: TxnWrite): Promise<TxnVerdict> {
    let raw: TxnVerdict;
    try {
      raw = await this.ask(w);
    } catch (err) {
      this.broker.log.warn('could not reach the transaction coordinator to verify a transactional write', {
        transactionalId: w.transactionalId,
        error: err instanceof Error ? err.message : String(err),
      });
      raw = uniform(w.partitions, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    for (const codes of raw.values())
      for (const [p, c] of codes) codes.set(p, producerError(c, w.abortableSupported));
    return raw;
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.conns.values()) void c.then((conn) => conn.close()).catch(() => undefined);
    this.conns.clear();
  }

  private async ask(w: TxnWrite): Promise<TxnVerdict> {
    const txns = this.broker.transactions;
    const where = txns.locate(w.transactionalId);
    if (typeof where === 'number') return uniform(w.partitions, where);
    if (where === 'local') {
      if (w.mode === 'add') {
        const err = await txns.addPartitions(
          w.transactionalId,
          w.producerId,
          w.producerEpoch,
          w.partitions,
          2,
        );
        return uniform(w.partitions, err);
      }
      const r = txns.verifyPartitions(w.transactionalId, w.producerId, w.producerEpoch, w.partitions);
      return typeof r === 'number' ? uniform(w.partitions, r) : r;
    }
    const conn = await this.connection(where.brokerId, where.host, where.port);
    const version = Math.min(conn.version(ApiKey.AddPartitionsToTxn), 5);
    if (version < 4) return uniform(w.partitions, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const req: AddPartitionsToTxnRequestInput = {
      transactions: [
        {
          transactionalId: w.transactionalId,
          producerId: w.producerId,
          producerEpoch: w.producerEpoch,
          verifyOnly: w.mode === 'verify',
          topics: [...w.partitions].map(([name, set]) => ({ name, partitions: [...set] })),
        },
      ],
    };
    let res: AddPartitionsToTxnResponse;
    try {
      res = (await conn.sendWithin(
        ApiKey.AddPartitionsToTxn,
        version,
        req,
        limits.txnVerifyRequestTimeoutMs,
        'the transaction verification timeout',
      )) as AddPartitionsToTxnResponse;
    } catch (err) {
      conn.close();
      this.conns.delete(where.brokerId);
      throw err;
    }
    if (res.errorCode !== ErrorCode.NONE) return uniform(w.partitions, res.errorCode);
    const out = uniform(w.partitions, ErrorCode.UNKNOWN_SERVER_ERROR);
    for (const t of res.resultsByTransaction) {
      if (t.transactionalId !== w.transactionalId) continue;
      for (const topic of t.topicResults) {
        const codes = out.get(topic.name);
        for (const p of topic.resultsByPartition) codes?.set(p.partitionIndex, p.partitionErrorCode);
      }
    }
    return out;
  }

  private connection(brokerId: number, host: string, port: number): Promise<KafkaConnection> {
    const known = this.conns.get(brokerId);
    if (known !== undefined) return known;
    const p = KafkaConnection.connect({
      host,
      port,
      clientId: `samsa-txn-verifier-${this.broker.nodeId}`,
      timeoutMs: limits.txnVerifyRequestTimeoutMs,
      ...(this.broker.interBrokerSecurity === undefined ? {} : { security: this.broker.interBrokerSecurity }),
    }).then((conn) => {
      if (this.stopped) conn.close();
      void conn.closed().then(() => {
        if (this.conns.get(brokerId) === p) this.conns.delete(brokerId);
      });
      return conn;
    });
    p.catch(() => {
      if (this.conns.get(brokerId) === p) this.conns.delete(brokerId);
    });
    this.conns.set(brokerId, p);
    return p;
  }
}

const verifiers = new WeakMap<Broker, TxnVerifier>();

/** The broker's verifier (created on first use; closed with the broker's connections when it stops). */
export function txnVerifier(broker: Broker): TxnVerifier {
  let v = verifiers.get(broker);
  if (v === undefined) {
    v = new TxnVerifier(broker);
    verifiers.set(broker, v);
  }
  return v;
}

/** Stops the broker's verifier, if it has one. */
export function stopTxnVerifier(broker: Broker): void {
  verifiers.get(broker)?.stop();
  verifiers.delete(broker);
}
