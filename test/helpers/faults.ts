// Faults on a test cluster (test/helpers/cluster.ts) and the checks around them, shared by the replication
// fault tests (test/cluster/replication-faults*.test.ts) and the chaos run (test/chaos/chaos.ts):
//
//   await createReplicatedTopic(c, topic, 3);            // RF 3, min.insync.replicas=2, in sync everywhere
//   await waitInSync(c, [topic, '__consumer_offsets']);  // every replica back in every ISR, leaders live
//   const r = await observeFault(c, w, 'kill -9 broker 2', [0, 2], () => c.kill9(2), recover);
//
// observeFault() runs one fault between two readings of the workload (test/helpers/replication-workload.ts):
// the group's committed offsets before, then the fault, the time to the next acknowledged write (on the
// partitions the fault hit, and on any), recovery, and the same checks after: committed offsets not moved
// back nor past the log ends, the group committing again, every acknowledged record in the log once and in
// order (verifyTopic).

import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import { summarize, type TestCluster, withConnection } from './cluster.js';
import { type VerifyReport, verifyTopic, type Workload } from './replication-workload.js';

/** Broker keys for fault tests: quick ISR shrink and session expiry (Kafka's defaults are 30 s and 18 s). */
export const faultOverrides: Record<string, string> = {
  'zookeeper.session.timeout.ms': '6000',
  'replica.lag.time.max.ms': '4000',
};

/** Creates a topic with replication factor 3 and min.insync.replicas=2, and waits until it is in sync. */
export async function createReplicatedTopic(
  c: TestCluster,
  topic: string,
  partitions: number,
): Promise<void> {
  const via = c.running()[0]!;
  const res = await withConnection(c.bootstrapOf(via), (conn) =>
    conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        {
          name: topic,
          numPartitions: partitions,
          replicationFactor: 3,
          assignments: [],
          configs: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    }),
  );
  const t = res.topics[0];
  if (t?.errorCode !== ErrorCode.NONE)
    throw new Error(`CreateTopics ${topic}: ${JSON.stringify(res.topics)}`);
  await waitInSync(c, [topic]);
}

/**
 * Waits until every running broker lists the running brokers, and every partition of `topics` has a live
 * leader and all its replicas in the ISR, as every running broker sees it.
 */
export async function waitInSync(c: TestCluster, topics: string[], timeoutMs = 90_000): Promise<void> {
  await c.waitForMetadata(
    `${topics.join(', ')} fully in sync`,
    (m) => {
      const live = c.running();
      if (
        m.brokers
          .map((b) => b.nodeId)
          .sort((a, b) => a - b)
          .join(',') !== live.join(',')
      )
        return false;
      if (!live.includes(m.controllerId)) return false;
      for (const name of topics) {
        const t = m.topics.find((x) => x.name === name);
        if (t === undefined || t.errorCode !== ErrorCode.NONE || t.partitions.length === 0) return false;
        for (const p of t.partitions) {
          if (!live.includes(p.leaderId)) return false;
          if ([...p.isrNodes].sort().join(',') !== [...p.replicaNodes].sort().join(',')) return false;
        }
      }
      return true;
    },
    { topics, timeoutMs },
  );
}

/** Partition -> leader id, as broker `via` (default the first running one) sees it. */
export async function leadersOf(c: TestCluster, topic: string, via?: number): Promise<Map<number, number>> {
  const from = via ?? c.running()[0]!;
  const m = await c.metadata(from, [topic]);
  const t = m.topics[0];
  if (t === undefined || t.errorCode !== ErrorCode.NONE)
    throw new Error(`no metadata for ${topic}: ${summarize(m)}`);
  return new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId]));
}

export interface FaultReport {
  name: string;
  /**
   * ms from the fault (the signal, the cut) to the next acknowledged write on a partition it hit, through its
   * new leader when the step names a victim (else the first after the fault took effect); undefined: none hit.
   */
  hitAckMs?: number;
  /** ms from the fault to the first acknowledged write on any partition after the fault took effect. */
  anyAckMs: number;
  /** ms from the fault until the other brokers named new leaders for the hit partitions (victim steps). */
  failoverMs?: number;
  /** The longest pause in acknowledgements on the hit partitions (all when none was hit) during the fault. */
  pauseMs: number;
  /** ms from the fault until the cluster was fully in sync again. */
  recoveredMs: number;
  /** ms from recovery until the group committed something new. */
  commitAgainMs: number;
  verify: VerifyReport;
}

export interface FaultStep {
  /** What the fault is, for reports. */
  name: string;
  /** The partitions of the workload's topic the fault hits (whose leader it takes away), may be empty. */
  hit: number[];
  /** Causes the fault. The clock for the "next acknowledged write" starts when it resolves. */
  inject: () => Promise<void>;
  /** Undoes it (restart, heal); resolves when done. Recovery is then awaited with waitInSync. */
  recover: () => Promise<void>;
  /**
   * The broker the fault takes the hit partitions' leadership from. Before recovering, the fault then lasts
   * until the other brokers name new leaders for them, and the "next acknowledged write" on them is counted
   * from then on (not a late answer to a request sent before the fault).
   */
  victim?: number;
  /** Whether to wait for the next acknowledged write (and the failover) before recover() (default true). */
  ackBeforeRecover?: boolean;
}

/**
 * Runs one fault around the workload and checks the invariants after it (see the top of this file).
 * `topics` are those to wait in sync for (the workload's topic and __consumer_offsets).
 */
export async function observeFault(
  c: TestCluster,
  w: Workload,
  topics: string[],
  step: FaultStep,
  timeoutMs = 90_000,
): Promise<FaultReport> {
  const before = await w.committed();
  const t0 = Date.now();
  await step.inject();
  const effective = Date.now();
  const since = (from: number, p: Promise<number>): Promise<number> => p.then((ms) => ms + from - t0);
  const anyAck = since(effective, w.nextAckAfter(effective, undefined, timeoutMs));
  anyAck.catch(() => {}); // handled below; the other waits go on meanwhile
  const waitFirst = step.ackBeforeRecover !== false;
  let failoverMs: number | undefined;
  let hitAck: Promise<number> | undefined;
  if (step.hit.length > 0 && waitFirst && step.victim !== undefined) {
    await waitForNewLeaders(c, w.o.topic, step.hit, step.victim, timeoutMs);
    const moved = Date.now();
    failoverMs = moved - t0;
    hitAck = since(moved, w.nextAckAfter(moved, step.hit, timeoutMs));
  } else if (step.hit.length > 0) {
    hitAck = since(effective, w.nextAckAfter(effective, step.hit, timeoutMs));
  }
  hitAck?.catch(() => {});
  if (waitFirst) await Promise.all([hitAck, anyAck]);
  await step.recover();
  await waitInSync(c, topics, timeoutMs);
  const recoveredMs = Date.now() - t0;
  const [hitAckMs, anyAckMs] = await Promise.all([hitAck, anyAck]);
  const all = [...Array(w.o.partitions).keys()];
  const pauseMs = w.longestPause(step.hit.length > 0 ? step.hit : all, t0, t0 + recoveredMs);
  const after = await w.checkCommitted(before);
  const commitAgainMs = await w.waitForCommitProgress(after, timeoutMs);
  await w.checkCommitted(after);
  const verify = await verifyTopic(c.bootstrap(), w.o.topic, w.o.partitions, w.tag, w.snapshot());
  return { name: step.name, hitAckMs, anyAckMs, failoverMs, pauseMs, recoveredMs, commitAgainMs, verify };
}

/** Waits until every running broker but `victim` names a leader other than `victim` for each of `partitions`. */
async function waitForNewLeaders(
  c: TestCluster,
  topic: string,
  partitions: number[],
  victim: number,
  timeoutMs: number,
): Promise<void> {
  await c.waitForMetadata(
    `brokers other than ${victim} to name new leaders of ${topic} ${partitions.join(',')}`,
    (m) => {
      const t = m.topics.find((x) => x.name === topic);
      return partitions.every((p) => {
        const leader = t?.partitions.find((x) => x.partitionIndex === p)?.leaderId ?? -1;
        return leader >= 0 && leader !== victim;
      });
    },
    { topics: [topic], only: c.running().filter((id) => id !== victim), timeoutMs },
  );
}

/** One line for a test diagnostic. */
export function describeReport(r: FaultReport): string {
  const moved = r.failoverMs === undefined ? '' : `new leaders named ${r.failoverMs} ms, `;
  const hit = r.hitAckMs === undefined ? '' : `${moved}next ack on a hit partition ${r.hitAckMs} ms, `;
  const pause = `longest pause in acks on ${r.hitAckMs === undefined ? 'any' : 'a hit'} partition ${r.pauseMs} ms`;
  return (
    `${r.name}: failure -> ${hit}next ack on any partition ${r.anyAckMs} ms, ${pause}; in sync again after ${r.recoveredMs} ms; ` +
    `group committed again ${r.commitAgainMs} ms later; verified ${r.verify.acked} acked of ${r.verify.inLog} in the log`
  );
}
