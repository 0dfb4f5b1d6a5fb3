// Leader election rules (Kafka's PartitionLeaderElectionAlgorithms), pure functions of the replica list, the
// ISR and which brokers are alive. Replica order is preference order: the first replica is the preferred
// leader.

export interface Election {
  leader: number;
  isr: number[];
  /** True when the leader came from outside the ISR (unclean.leader.election.enable): data may be lost. */
  unclean: boolean;
}

/**
 * A partition without a live leader: the first live replica (in assignment order) that is in the ISR; with
 * unclean election allowed and no such replica, the first live replica at all. Null when none can lead.
 */
export function offlinePartitionLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isLive: (id: number) => boolean,
  uncleanAllowed: boolean,
): Election | null {
  const liveIsr = isr.filter(isLive);
  const clean = replicas.find((r) => isLive(r) && isr.includes(r));
  if (clean !== undefined) return { leader: clean, isr: liveIsr, unclean: false };
  if (!uncleanAllowed) return null;
  const any = replicas.find(isLive);
  if (any === undefined) return null;
  return { leader: any, isr: [any], unclean: true };
}

/** A new partition: the first live replica leads; the ISR is every live replica. */
export function newPartitionLeader(
  replicas: readonly number[],
  isLive: (id: number) => boolean,
): Election | null {
  const live = replicas.filter(isLive);
  const leader = live[0];
  return leader === undefined ? null : { leader, isr: live, unclean: false };
}

/** Preferred-replica election: the first replica, if it is live and in the ISR. */
export function preferredLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isLive: (id: number) => boolean,
): Election | null {
  const preferred = replicas[0];
  if (preferred === undefined || !isLive(preferred) || !isr.includes(preferred)) return null;
  return { leader: preferred, isr: [...isr], unclean: false };
}

/**
 * Controlled shutdown: the first live replica in the ISR that is not shutting down; the ISR loses the
 * brokers shutting down. Null when no other ISR member can lead.
 */
export function controlledShutdownLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isLive: (id: number) => boolean,
  shuttingDown: ReadonlySet<number>,
): Election | null {
  const liveIsr = isr.filter((id) => isLive(id) && !shuttingDown.has(id));
  const leader = replicas.find((r) => liveIsr.includes(r));
  return leader === undefined ? null : { leader, isr: liveIsr, unclean: false };
}

/**
 * A replica leaves the ISR (its broker died or shuts down): Kafka keeps the last ISR member even when it goes,
 * so a clean election stays possible when it comes back; the leader becomes -1 when it was that replica.
 */
export function withoutReplica(
  leader: number,
  isr: readonly number[],
  replica: number,
): { leader: number; isr: number[] } {
  const newIsr = isr.length === 1 && isr[0] === replica ? [...isr] : isr.filter((r) => r !== replica);
  return { leader: leader === replica ? -1 : leader, isr: newIsr };
}
