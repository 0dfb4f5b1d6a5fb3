// Assignments of the consumer group protocol (KIP-848): topic id -> partition indexes, with the helpers the
// assignors, the reconciliation and the records share. Topic ids are 32-char hex strings (CONTRACTS.md).

/** topic id -> partitions. An empty set is never kept (normalize). */
export type Assignment = Map<string, Set<number>>;

export function emptyAssignment(): Assignment {
  return new Map();
}

export function copyAssignment(a: Assignment): Assignment {
  const out: Assignment = new Map();
  for (const [t, ps] of a) if (ps.size > 0) out.set(t, new Set(ps));
  return out;
}

export function assignmentFromList(
  list: readonly { topicId: string; partitions: readonly number[] }[],
): Assignment {
  const out: Assignment = new Map();
  for (const { topicId, partitions } of list) {
    if (partitions.length === 0) continue;
    let s = out.get(topicId);
    if (s === undefined) {
      s = new Set();
      out.set(topicId, s);
    }
    for (const p of partitions) s.add(p);
  }
  return out;
}

/** Sorted by topic id then partition: the wire form (responses and records). */
export function assignmentToList(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a]
    .filter(([, ps]) => ps.size > 0)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((x, y) => x - y) }));
}

export function assignmentEquals(a: Assignment, b: Assignment): boolean {
  let na = 0;
  for (const [t, ps] of a) {
    if (ps.size === 0) continue;
    na++;
    const qs = b.get(t);
    if (qs === undefined || qs.size !== ps.size) return false;
    for (const p of ps) if (!qs.has(p)) return false;
  }
  let nb = 0;
  for (const ps of b.values()) if (ps.size > 0) nb++;
  return na === nb;
}

export function assignmentSize(a: Assignment): number {
  let n = 0;
  for (const ps of a.values()) n += ps.size;
  return n;
}

export function assignmentHas(a: Assignment, topicId: string, partition: number): boolean {
  return a.get(topicId)?.has(partition) === true;
}

export function addPartition(a: Assignment, topicId: string, partition: number): void {
  let s = a.get(topicId);
  if (s === undefined) {
    s = new Set();
    a.set(topicId, s);
  }
  s.add(partition);
}

/** Whether every partition of `sub` is in `of`. */
export function isSubset(sub: Assignment, of: Assignment): boolean {
  for (const [t, ps] of sub) for (const p of ps) if (!assignmentHas(of, t, p)) return false;
  return true;
}

/** Whether any partition is in both. */
export function intersects(a: Assignment, b: Assignment): boolean {
  for (const [t, ps] of a) for (const p of ps) if (assignmentHas(b, t, p)) return true;
  return false;
}
