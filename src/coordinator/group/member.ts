// One member of a classic consumer group (Kafka's ClassicGroupMember): its identity, timeouts,
// the protocols it offered in its last JoinGroup, its current assignment, and the JoinGroup or
// SyncGroup response it is parked on while a rebalance completes.

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
  skipAssignment: boolean;
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export function joinError(errorCode: number, memberId: string): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
    skipAssignment: false,
  };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class ClassicMember {
  assignment: Buffer = EMPTY_BYTES;
  /** Set while the member's JoinGroup is parked (it is "awaiting join"). */
  joinWaiter: ((r: JoinResult) => void) | null = null;
  /** Set while the member's SyncGroup is parked (it is "awaiting sync"). */
  syncWaiter: ((r: SyncResult) => void) | null = null;
  /** Joined but not yet through a completed join phase: its session is the new-member join timeout. */
  isNew = false;
  /** The pending session expiration; replaced on every heartbeat. */
  sessionTimer: NodeJS.Timeout | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: Protocol[],
  ) {}

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }

  /** The metadata the member offered for a protocol (empty when it did not offer it). */
  metadata(protocolName: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BYTES;
  }

  /** Whether a JoinGroup carries exactly the protocols (names, order, metadata) the member has. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => {
      const mine = this.protocols[i] as Protocol;
      return mine.name === p.name && mine.metadata.equals(p.metadata);
    });
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string | undefined {
    return this.protocols.find((p) => candidates.has(p.name))?.name;
  }

  completeJoin(result: JoinResult): void {
    const w = this.joinWaiter;
    this.joinWaiter = null;
    if (w !== null) w(result);
  }

  completeSync(result: SyncResult): void {
    const w = this.syncWaiter;
    this.syncWaiter = null;
    if (w !== null) w(result);
  }
}
