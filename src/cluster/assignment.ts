// Replica assignment for new topics and partitions: Kafka's AdminUtils.assignReplicasToBrokers.
//
// Goals, in Kafka's order: spread replicas evenly over the brokers; spread leaders (the first replica of
// each partition) evenly, so no broker leads much more than its share; with racks, put the replicas of a
// partition on as many distinct racks as possible (a rack lost loses at most one replica of each
// partition when there are at least replication-factor racks).
//
// Without racks: the first replica of partition p goes to broker (start + p) mod n; the followers of p
// follow at a shift that grows by one every n partitions, so two partitions led by the same broker do not
// keep the same followers. With racks: the brokers are first listed alternating between racks
// (r1 b1, r2 b3, r3 b5, r1 b2, ...), then the same walk skips a broker whose rack already holds a replica
// of the partition (until every rack does) or that already holds one.

export interface BrokerRack {
  id: number;
  rack: string | null;
}

export class AssignmentError extends Error {}

export interface AssignOptions {
  /** Index of the broker that leads partition `firstPartition` (Kafka picks it at random). */
  startIndex?: number;
  /** The follower shift for partition `firstPartition` (Kafka picks it at random). */
  replicaShift?: number;
  /** The partition number the assignment starts at (adding partitions to a topic). */
  firstPartition?: number;
}

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

function replicaIndex(first: number, shift: number, j: number, n: number): number {
  return (first + 1 + ((shift + j) % (n - 1))) % n;
}

/**
 * Replica lists for `partitions` partitions with `replicationFactor` replicas each, over the given brokers.
 * Racks are used when every broker has one; some brokers with a rack and others without is an error,
 * as in Kafka.
 */
export function assignReplicas(
  brokers: readonly BrokerRack[],
  partitions: number,
  replicationFactor: number,
  opts: AssignOptions = {},
): number[][] {
  if (partitions <= 0) throw new AssignmentError('number of partitions must be larger than 0');
  if (replicationFactor <= 0) throw new AssignmentError('replication factor must be larger than 0');
  if (replicationFactor > brokers.length) {
    throw new AssignmentError(
      `Replication factor: ${replicationFactor} larger than available brokers: ${brokers.length}.`,
    );
  }
  const withRack = brokers.filter((b) => b.rack !== null).length;
  if (withRack > 0 && withRack < brokers.length) {
    throw new AssignmentError('Not all brokers have rack information for replica rack aware assignment.');
  }
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  return withRack === 0
    ? assignWithoutRacks(
        sorted.map((b) => b.id),
        partitions,
        replicationFactor,
        opts,
      )
    : assignWithRacks(sorted, partitions, replicationFactor, opts);
}

function assignWithoutRacks(ids: number[], partitions: number, rf: number, opts: AssignOptions): number[][] {
  const n = ids.length;
  const start = opts.startIndex ?? randomInt(n);
  let shift = opts.replicaShift ?? randomInt(n);
  let current = opts.firstPartition ?? 0;
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    if (current > 0 && current % n === 0) shift++;
    const first = (current + start) % n;
    const replicas = [ids[first] as number];
    for (let j = 0; j < rf - 1; j++) replicas.push(ids[replicaIndex(first, shift, j, n)] as number);
    out.push(replicas);
    current++;
  }
  return out;
}

/** Brokers listed alternating between racks (racks sorted by name, brokers by id within a rack). */
export function rackAlternatedBrokers(brokers: readonly BrokerRack[]): number[] {
  const byRack = new Map<string, number[]>();
  for (const b of brokers) {
    const rack = b.rack ?? '';
    const list = byRack.get(rack) ?? [];
    list.push(b.id);
    byRack.set(rack, list);
  }
  const racks = [...byRack.keys()].sort();
  for (const r of racks) byRack.get(r)?.sort((a, b) => a - b);
  const out: number[] = [];
  for (let i = 0; out.length < brokers.length; i++) {
    for (const r of racks) {
      const list = byRack.get(r) as number[];
      if (i < list.length) out.push(list[i] as number);
    }
  }
  return out;
}

function assignWithRacks(
  brokers: BrokerRack[],
  partitions: number,
  rf: number,
  opts: AssignOptions,
): number[][] {
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack ?? '']));
  const arranged = rackAlternatedBrokers(brokers);
  const n = arranged.length;
  const numRacks = new Set(rackOf.values()).size;
  const start = opts.startIndex ?? randomInt(n);
  let shift = opts.replicaShift ?? randomInt(n);
  let current = opts.firstPartition ?? 0;
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    if (current > 0 && current % n === 0) shift++;
    const first = (current + start) % n;
    const leader = arranged[first] as number;
    const replicas = [leader];
    const racksUsed = new Set([rackOf.get(leader)]);
    const brokersUsed = new Set([leader]);
    let k = 0;
    for (let j = 0; j < rf - 1; j++) {
      let done = false;
      while (!done) {
        const broker = arranged[replicaIndex(first, shift * numRacks, k, n)] as number;
        const rack = rackOf.get(broker);
        // Kafka's rule: take the broker unless its rack already has a replica while some rack has none,
        // or the broker already has one while some broker has none.
        if (
          (!racksUsed.has(rack) || racksUsed.size === numRacks) &&
          (!brokersUsed.has(broker) || brokersUsed.size === n)
        ) {
          replicas.push(broker);
          racksUsed.add(rack);
          brokersUsed.add(broker);
          done = true;
        }
        k++;
      }
    }
    out.push(replicas);
    current++;
  }
  return out;
}
