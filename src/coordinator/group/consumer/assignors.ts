// The broker-side assignors of the consumer group protocol (Kafka's UniformAssignor and RangeAssignor, named
// by group.consumer.assignors; a member may ask for one with ServerAssignor). Both compute a target
// assignment from the members' subscriptions and the subscribed topics' partition counts; the coordinator
// runs one whenever the group epoch moved (heartbeat.ts).
//
//   uniform  balanced and sticky: each member keeps what its previous target gave it (up to its share), the
//            rest goes to the eligible member with the fewest partitions (the partitions with the fewest
//            eligible members first), then partitions move from the fullest to the emptiest eligible member
//            until no two eligible members differ by more than one. Works for different subscriptions too.
//   range    per topic, the members subscribed to it in member id order take consecutive ranges, the first
//            (partitions % members) one more; members with the same subscriptions get co-partitioned topics'
//            same partitions (as Kafka's range assignor).

import { type Assignment, addPartition, assignmentHas } from './assignment.js';

export interface AssignorMember {
  memberId: string;
  /** Subscribed topic names that exist (names and resolved regular expressions). */
  topics: ReadonlySet<string>;
}

export interface AssignorTopic {
  topicId: string;
  partitions: number;
}

export type Assignor = (
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
  previous: ReadonlyMap<string, Assignment>,
) => Map<string, Assignment>;

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map<string, Assignor>([
  ['uniform', uniformAssign],
  ['range', rangeAssign],
]);

/** Kafka's default: group.consumer.assignors' first entry (uniform, then range). */
export const DEFAULT_ASSIGNORS = ['uniform', 'range'];

function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

export function rangeAssign(
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
): Map<string, Assignment> {
  const sorted = sortedMembers(members);
  const out = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
  const names = [...topics.keys()].sort();
  for (const name of names) {
    const t = topics.get(name);
    if (t === undefined) continue;
    const subs = sorted.filter((m) => m.topics.has(name));
    if (subs.length === 0) continue;
    const per = Math.floor(t.partitions / subs.length);
    const extra = t.partitions % subs.length;
    let next = 0;
    subs.forEach((m, i) => {
      const n = per + (i < extra ? 1 : 0);
      const a = out.get(m.memberId) as Assignment;
      for (let p = next; p < next + n; p++) addPartition(a, t.topicId, p);
      next += n;
    });
  }
  return out;
}

export function uniformAssign(
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
  previous: ReadonlyMap<string, Assignment>,
): Map<string, Assignment> {
  const sorted = sortedMembers(members);
  const out = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
  const count = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
  // Every subscribed partition with the members that may take it.
  const partitions: { topicId: string; partition: number; eligible: AssignorMember[] }[] = [];
  for (const name of [...topics.keys()].sort()) {
    const t = topics.get(name) as AssignorTopic;
    const eligible = sorted.filter((m) => m.topics.has(name));
    if (eligible.length === 0) continue;
    for (let p = 0; p < t.partitions; p++) partitions.push({ topicId: t.topicId, partition: p, eligible });
  }
  if (sorted.length === 0) return out;
  const share = Math.ceil(partitions.length / sorted.length);
  const owner = new Map<string, string>();
  const give = (memberId: string, topicId: string, partition: number): void => {
    addPartition(out.get(memberId) as Assignment, topicId, partition);
    count.set(memberId, (count.get(memberId) ?? 0) + 1);
    owner.set(`${topicId}:${partition}`, memberId);
  };
  const take = (memberId: string, topicId: string, partition: number): void => {
    out.get(memberId)?.get(topicId)?.delete(partition);
    count.set(memberId, (count.get(memberId) ?? 0) - 1);
  };
  // 1. Stickiness: what each member had, up to its share.
  const unassigned: typeof partitions = [];
  for (const x of partitions) {
    const prev = x.eligible.find(
      (m) =>
        assignmentHas(previous.get(m.memberId) ?? new Map(), x.topicId, x.partition) &&
        (count.get(m.memberId) ?? 0) < share,
    );
    if (prev !== undefined) give(prev.memberId, x.topicId, x.partition);
    else unassigned.push(x);
  }
  // 2. The rest: partitions with the fewest candidates first, each to its least loaded candidate.
  unassigned.sort((a, b) => a.eligible.length - b.eligible.length);
  const leastLoaded = (eligible: AssignorMember[]): AssignorMember => {
    let best = eligible[0] as AssignorMember;
    for (const m of eligible) if ((count.get(m.memberId) ?? 0) < (count.get(best.memberId) ?? 0)) best = m;
    return best;
  };
  for (const x of unassigned) give(leastLoaded(x.eligible).memberId, x.topicId, x.partition);
  // 3. Balance: move from a fuller owner to an eligible member with at least two fewer partitions.
  for (let pass = 0; pass < 16; pass++) {
    let moved = false;
    for (const x of partitions) {
      const from = owner.get(`${x.topicId}:${x.partition}`) as string;
      const to = leastLoaded(x.eligible);
      if ((count.get(to.memberId) ?? 0) < (count.get(from) ?? 0) - 1) {
        take(from, x.topicId, x.partition);
        give(to.memberId, x.topicId, x.partition);
        moved = true;
      }
    }
    if (!moved) break;
  }
  for (const a of out.values()) for (const [t, ps] of a) if (ps.size === 0) a.delete(t);
  return out;
}
