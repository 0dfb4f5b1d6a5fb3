// The fetcher's side of a fetch session (KIP-227, Kafka's FetchSessionHandler), for the replica fetcher: it
// remembers what the leader's session holds and turns the partitions wanted this round into a request that
// lists only what changed.
//
// States: no session (next request FULL at epoch 0, session id 0, or the old id to close it), then a session
// with the id the leader gave and the epoch it expects next. A full request sends every wanted partition; an
// incremental one sends the added partitions and those whose fetch position changed, and forgets those no
// longer wanted. FETCH_SESSION_ID_NOT_FOUND starts over without a session; any other error (a wrong epoch, a
// topic id mismatch, a lost connection) sends a full request naming the old session, which the leader closes.

import { ErrorCode } from '../protocol/errors.js';

const INITIAL_EPOCH = 0;

/** One partition as the fetcher asks for it. */
export interface SessionPartition {
  /** This fetcher's key for the partition (topic-partition). */
  key: string;
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
  lastFetchedEpoch: number;
  /** v18: the high watermark this follower knows (KIP-1166). */
  highWatermark: number;
}

export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  full: boolean;
  /** Partitions to put in the request. */
  send: SessionPartition[];
  /** Partitions the leader's session must drop. */
  forget: SessionPartition[];
}

function same(a: SessionPartition, b: SessionPartition): boolean {
  return (
    a.fetchOffset === b.fetchOffset &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.logStartOffset === b.logStartOffset &&
    a.partitionMaxBytes === b.partitionMaxBytes &&
    a.lastFetchedEpoch === b.lastFetchedEpoch &&
    a.highWatermark === b.highWatermark &&
    a.topicId === b.topicId
  );
}

export class FetchSessionHandler {
  private sessionId = 0;
  private epoch = INITIAL_EPOCH;
  private usesTopicIds = false;
  /** The partitions the leader's session holds, as last sent. */
  private partitions = new Map<string, SessionPartition>();
  /** Counts for tests and logs. */
  readonly counts = { full: 0, incremental: 0, sessionErrors: 0 };

  /** The session id the leader gave (0: none). */
  get id(): number {
    return this.sessionId;
  }

  build(wanted: readonly SessionPartition[], usesTopicIds: boolean): SessionRequest {
    if (usesTopicIds !== this.usesTopicIds) {
      // A session is tied to names or ids: switching starts a new one.
      this.epoch = INITIAL_EPOCH;
      this.usesTopicIds = usesTopicIds;
    }
    const next = new Map(wanted.map((p) => [p.key, p]));
    if (this.sessionId === 0 || this.epoch === INITIAL_EPOCH) {
      this.partitions = next;
      this.counts.full++;
      return {
        sessionId: this.sessionId,
        sessionEpoch: INITIAL_EPOCH,
        full: true,
        send: [...wanted],
        forget: [],
      };
    }
    const send: SessionPartition[] = [];
    const forget: SessionPartition[] = [];
    for (const [k, p] of this.partitions) if (!next.has(k)) forget.push(p);
    for (const p of wanted) {
      const prev = this.partitions.get(p.key);
      if (prev === undefined || !same(prev, p)) send.push(p);
    }
    this.partitions = next;
    this.counts.incremental++;
    return { sessionId: this.sessionId, sessionEpoch: this.epoch, full: false, send, forget };
  }

  /** Takes in the leader's answer; false when it was a session error (the next request is full). */
  handleResponse(req: SessionRequest, errorCode: number, sessionId: number): boolean {
    if (errorCode !== ErrorCode.NONE) {
      if (errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND) this.sessionId = 0;
      this.epoch = INITIAL_EPOCH;
      if (
        errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND ||
        errorCode === ErrorCode.INVALID_FETCH_SESSION_EPOCH ||
        errorCode === ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR
      )
        this.counts.sessionErrors++;
      return false;
    }
    if (sessionId === 0) {
      // No session (no slot, or the leader closed it): full requests until one is opened.
      this.sessionId = 0;
      this.epoch = INITIAL_EPOCH;
    } else if (req.full) {
      this.sessionId = sessionId;
      this.epoch = 1;
    } else {
      this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1;
    }
    return true;
  }

  /** The request failed (connection lost, timeout): the next one is full and closes the old session. */
  handleError(): void {
    this.epoch = INITIAL_EPOCH;
  }
}
