// Broker-wide accounting of request bytes (queued.max.request.bytes).
//
// Bytes count from the moment they arrive from a socket, not from the moment a size prefix announces them: a
// client that announces a 100 MB request and sends ten bytes holds ten bytes. They stay counted while the
// request is received, decoded and handled, until its response has been handed to the socket.
//
// Reading pauses when the budget is spent. A connection in the middle of a request cannot always wait for
// memory to come back, though: if every byte held belongs to half-received requests, nothing would ever be
// released. So while the budget is spent, connections in the middle of a request may finish it (and only it)
// as finishers: each promises the bytes still missing from its request, and a connection becomes one when its
// rest fits, with what the others promised, in an overdraft of socket.request.max.bytes beyond the budget, or
// when nobody else can free memory (no complete request held, no finisher). A finisher that stops sending is
// closed by socket.request.receive.timeout.ms (see Connection) and its promise is returned. Memory held stays
// below queued.max.request.bytes + socket.request.max.bytes + one socket read per connection.

/** The party asking for memory (a Connection); compared by identity. */
export type MemoryUser = object;

export class RequestMemory {
  private used = 0;
  /** Bytes of complete requests (decoded, waiting for or being handled); the rest are still arriving. */
  private complete = 0;
  private peak = 0;
  /** Connections finishing a request while the budget is spent, with the bytes still missing from it. */
  private readonly finishers = new Map<MemoryUser, number>();
  /** The sum of finishers' missing bytes. */
  private promised = 0;
  private readonly waiting = new Set<() => void>();

  constructor(
    readonly bytesMax: number,
    /** How far finishers may take the total beyond bytesMax (socket.request.max.bytes). */
    readonly overdraftBytesMax: number,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  /** The most ever held at once (metrics, tests of the bound). */
  get peakBytes(): number {
    return this.peak;
  }

  overLimit(): boolean {
    return this.used >= this.bytesMax;
  }

  /** Bytes that arrived from a socket. */
  acquire(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  /** Arrived bytes that now form a complete request, held until it is answered (release(bytes, true)). */
  settle(bytes: number): void {
    this.complete += bytes;
  }

  release(bytes: number, complete: boolean): void {
    this.used -= bytes;
    if (complete) this.complete -= bytes;
    this.wake();
  }

  /**
   * Whether `user` may read more from its socket now. `remaining` is what is still missing from the request it
   * is receiving (-1 between requests: then it never overdraws).
   */
  mayRead(user: MemoryUser, remaining: number): boolean {
    const promised = this.finishers.get(user);
    if (promised !== undefined) {
      const rest = Math.max(0, remaining);
      this.promised += rest - promised;
      this.finishers.set(user, rest);
      return true;
    }
    if (this.used < this.bytesMax) return true;
    if (remaining < 0) return false;
    const fits = this.used + this.promised + remaining <= this.bytesMax + this.overdraftBytesMax;
    if (fits || (this.complete === 0 && this.finishers.size === 0)) {
      this.finishers.set(user, remaining);
      this.promised += remaining;
      return true;
    }
    return false;
  }

  /** `user` received the whole request it was finishing (or gave up on it): its promise is returned. */
  requestEnded(user: MemoryUser): void {
    const promised = this.finishers.get(user);
    if (promised === undefined) return;
    this.finishers.delete(user);
    this.promised -= promised;
    this.wake();
  }

  /** Calls fn once when memory may be available again (after a release or a finisher's end). */
  onAvailable(fn: () => void): void {
    this.waiting.add(fn);
  }

  cancel(fn: () => void): void {
    this.waiting.delete(fn);
  }

  private wake(): void {
    if (this.waiting.size === 0) return;
    const ws = [...this.waiting];
    this.waiting.clear();
    for (const w of ws) w();
  }
}
