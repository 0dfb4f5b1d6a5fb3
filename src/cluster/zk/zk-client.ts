// The ZooKeeper client the broker and the controller use (Kafka's ZooKeeperClient + the plumbing of
// KafkaZkClient): typed promises over node-zookeeper-client, a timeout on every call, a bounded number of
// requests in flight, and a new session made automatically when the old one expires.
//
// What node-zookeeper-client 1.1.3 does against ZooKeeper 3.8 (measured here, and what we do about it):
// - Session expiry is learnt, as with the Java client, only on reconnecting: the server answers the
//   ConnectRequest with timeout 0. The library then emits 'expired' (then 'disconnected') and stops for
//   good; a new session needs a new library client. Requests issued while disconnected stay in its queue
//   and never settle if the session then expires (an exists() hung forever) -> zk-session.ts rejects
//   everything in flight with SESSIONEXPIRED, and this file opens the new session.
// - It pings every 1/3 of the session timeout when idle but never times out a read: with the server
//   SIGSTOPped for 8 s (session timeout 3 s) it stayed "connected" for all 8 s. The Java client gives up
//   on a connection after 2/3 of the timeout without a byte read -> zk-session.ts does the same.
// - A ZooKeeper restart (kill -9, 2 s down) keeps the session: the client reconnects with the same id,
//   its ephemeral znodes are still there (the server restarts session timers when it loads), and the
//   watches it had are re-sent (SetWatches) and fire for changes made after the reconnect.
// - multi is atomic (a failing create in the middle left no trace of the first). A failed multi answers
//   each op: 0 before the failing one, its error, RUNTIMEINCONSISTENCY (-2) after. But Transaction's
//   check/setData/remove turn version 0 into -1 (`version || -1`): check('/a', 0) on version 2 passed ->
//   zk-session.ts builds the ops with the exact versions.
// - Watches are one-shot and set only by a successful call: getData/getChildren on a missing znode set
//   none (ZooKeeper's rule); exists() on a missing znode sets one that fires on its creation.
// - A request packet over jute.maxbuffer (1048575 bytes) is not refused: the server closes the connection
//   and the client sees CONNECTIONLOSS (the largest setData of "/a" that passed carried 1048553 bytes) ->
//   requests are checked here first (TOOLARGE), znode data against znodeDataBytesMax.
// - Error codes newer than its list (SESSIONMOVED, THROTTLEDOP, ...) make it throw inside its socket
//   handler, which would crash the process -> zk-session.ts keeps them as plain codes.
// - Calls are not retried (retries: 0): a CONNECTIONLOSS reaches the caller, who knows whether the call
//   is safe to repeat.
//
// Session model. Watches are one-shot (ZooKeeper semantics): a watcher fires at most once, for the first
// change after the call that set it; read again to keep watching. A watcher function set several times on
// one znode before it fires (getData and exists, say) is called once per event, as in the Java client.
// When a session expires, its ephemeral znodes and all its watches are gone: once the expiry is known, no
// watcher of it fires. The client emits 'expired', opens a new session (retrying with backoff until it
// succeeds or close()), and emits 'session': owners then re-create their ephemeral znodes and re-read what they watch (Kafka's
// StateChangeHandler.afterInitializingSession). Calls made meanwhile wait for the new session (within
// their timeout); calls that were in flight on the old one fail with SESSIONEXPIRED.
//
// sessionEpoch: the last zxid the server had applied when the session began (the first response's zxid).
// It grows with each new session of this client, but two clients' sessions may share a value; for a
// broker epoch use the czxid of the registration znode (createWithStat), as Kafka does.

import { EventEmitter } from 'node:events';
import * as limits from '../../limits.js';
import { createLogger, type Logger } from '../../logger.js';
import {
  isZkError,
  ZkConnectTimeoutError,
  ZkError,
  ZkMultiError,
  ZkNoNodeError,
  ZkSessionExpiredError,
  ZkTimeoutError,
  zkCodeNames,
  zkError,
} from './zk-errors.js';
import { parseConnectString, zkPathProblem } from './zk-paths.js';
import {
  type CreateMode,
  type SessionState,
  type Watcher,
  type ZkOp,
  type ZkOpResult,
  ZkSession,
  type ZkStat,
} from './zk-session.js';
import { Slots } from './zk-slots.js';

export * from './zk-errors.js';
export type {
  CreateMode,
  WatchEvent,
  WatchEventType,
  Watcher,
  ZkOp,
  ZkOpResult,
  ZkStat,
} from './zk-session.js';

export interface ZkClientOptions {
  /** zookeeper.session.timeout.ms; default 18000 (Kafka's); the server may grant another. */
  sessionTimeoutMs?: number;
  /** zookeeper.connection.timeout.ms: how long connect() waits for a session; default the session timeout. */
  connectionTimeoutMs?: number;
  /** How long one call may take, waiting for a session or an in-flight slot included; default 30 s. */
  requestTimeoutMs?: number;
  /** zookeeper.max.in.flight.requests; default 10. */
  maxInFlightRequests?: number;
  logger?: Logger;
}

export interface ZkClientEvents {
  /** A connection is up (after connect, a reconnect within the session, or a new session). */
  connected: [{ sessionId: string }];
  /** The connection broke; the session lives on while the client reconnects. */
  disconnected: [{ sessionId: string }];
  /** The session expired: its ephemeral znodes and watches are gone. A new one is being opened. */
  expired: [{ sessionId: string }];
  /** A new session replaced an expired one: re-create ephemerals, re-read and re-watch. */
  session: [{ sessionId: string; generation: number; epoch: number }];
  closed: [];
}

export type ZkClientState = SessionState | 'renewing';

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** Estimated bytes of one op in a request packet (header, path, data, ACL, flags). */
function opBytes(op: ZkOp): number {
  return 64 + Buffer.byteLength(op.path) + ('data' in op && op.data !== undefined ? op.data.length : 0);
}

export class ZkClient extends EventEmitter<ZkClientEvents> {
  readonly connectString: string;
  readonly chroot: string | undefined;
  private readonly logger: Logger;
  private readonly sessionTimeoutOpt: number;
  private readonly connectionTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private current: ZkSession | undefined;
  private generationValue = 0;
  private epochValue = 0;
  private closed = false;
  private renewing = false;
  /** Ends the wait between two attempts at a new session (close() calls it). */
  private cancelBackoff: (() => void) | undefined;
  /** Sessions being opened (connect, chroot, renewal): close() stops them too. */
  private readonly opening = new Set<ZkSession>();
  private readonly sessionWaiters = new Set<Waiter<ZkSession>>();
  private readonly slots: Slots;

  private constructor(connectString: string, opts: ZkClientOptions) {
    super();
    this.connectString = connectString;
    this.chroot = parseConnectString(connectString).chroot;
    this.logger = opts.logger ?? createLogger('zookeeper');
    this.sessionTimeoutOpt = opts.sessionTimeoutMs ?? 18_000;
    this.connectionTimeoutMs = opts.connectionTimeoutMs ?? this.sessionTimeoutOpt;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? limits.zkRequestTimeoutMsDefault;
    this.slots = new Slots(opts.maxInFlightRequests ?? limits.zkInFlightRequestsMaxDefault);
  }

  /**
   * Connects to `host:port[,...][/chroot]`. A chroot that does not exist yet is created first (through a
   * session without it), as Kafka does. Rejects with ZkConnectTimeoutError when no session is made within
   * the connection timeout.
   */
  static async connect(connectString: string, opts: ZkClientOptions = {}): Promise<ZkClient> {
    const client = new ZkClient(connectString, opts);
    const { hosts, chroot } = parseConnectString(connectString);
    if (chroot !== undefined) await client.createChroot(hosts, chroot);
    const session = await client.openSession(connectString);
    client.install(session);
    client.logger.info('connected to ZooKeeper', {
      connect: connectString,
      sessionId: session.sessionId,
      sessionTimeoutMs: session.timeoutMs,
    });
    return client;
  }

  private async createChroot(hosts: string, chroot: string): Promise<void> {
    const session = await this.openSession(hosts);
    try {
      let at = '';
      for (const part of chroot.slice(1).split('/')) {
        at += `/${part}`;
        await session.create(at, Buffer.alloc(0), 'persistent').then(
          () => this.logger.info('created ZooKeeper chroot path', { path: at }),
          (e: unknown) => {
            if (!isZkError(e, 'NODEEXISTS')) throw e;
          },
        );
      }
    } finally {
      await session.close();
    }
  }

  /** Opens a session and makes its first request (which also gives sessionEpoch). */
  private async openSession(connectString: string): Promise<ZkSession> {
    const session: ZkSession = new ZkSession(connectString, {
      sessionTimeoutMs: this.sessionTimeoutOpt,
      logger: this.logger,
      events: {
        connected: () => this.onConnected(session),
        disconnected: () => this.onDisconnected(session),
        expired: () => this.onExpired(session),
      },
    });
    this.opening.add(session);
    const deadline = Date.now() + this.connectionTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await session.open(this.connectionTimeoutMs);
      // The first answer; a server that accepted the session but never answers counts as a timeout.
      await Promise.race([
        session.exists('/'),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ZkTimeoutError('connect', undefined)),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]);
    } catch (e) {
      await session.close();
      if (isZkError(e, 'OPERATIONTIMEOUT'))
        throw new ZkConnectTimeoutError(connectString, this.connectionTimeoutMs);
      throw e;
    } finally {
      clearTimeout(timer);
      this.opening.delete(session);
    }
    return session;
  }

  private install(session: ZkSession): void {
    this.current = session;
    this.generationValue += 1;
    this.epochValue = session.lastZxid();
    for (const w of this.sessionWaiters) {
      clearTimeout(w.timer);
      w.resolve(session);
    }
    this.sessionWaiters.clear();
  }

  private onConnected(session: ZkSession): void {
    if (session !== this.current || this.closed) return;
    this.emit('connected', { sessionId: session.sessionId });
  }

  private onDisconnected(session: ZkSession): void {
    if (session !== this.current || this.closed) return;
    this.logger.warn('ZooKeeper connection lost; reconnecting', { sessionId: session.sessionId });
    this.emit('disconnected', { sessionId: session.sessionId });
  }

  private onExpired(session: ZkSession): void {
    if (session !== this.current || this.closed) return;
    this.logger.warn('ZooKeeper session expired; opening a new one', { sessionId: session.sessionId });
    this.emit('expired', { sessionId: session.sessionId });
    void this.renewSession();
  }

  /** Opens sessions until one works (or the client is closed), backing off from 100 ms to 5 s. */
  private async renewSession(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    let backoffMs = 100;
    try {
      while (!this.closed) {
        try {
          const session = await this.openSession(this.connectString);
          if (this.closed) {
            await session.close();
            return;
          }
          this.install(session);
          this.logger.info('new ZooKeeper session', {
            sessionId: session.sessionId,
            generation: this.generation,
          });
          this.emit('session', {
            sessionId: session.sessionId,
            generation: this.generation,
            epoch: this.epochValue,
          });
          this.emit('connected', { sessionId: session.sessionId });
          return;
        } catch (e) {
          this.logger.warn('could not open a new ZooKeeper session; retrying', { error: e, backoffMs });
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              this.cancelBackoff = undefined;
              resolve();
            }, backoffMs);
            this.cancelBackoff = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          backoffMs = Math.min(backoffMs * 2, limits.zkSessionRetryBackoffMsMax);
        }
      }
    } finally {
      this.renewing = false;
    }
  }

  /** Session id as ZooKeeper logs it (0x...). */
  get sessionId(): string {
    return this.current?.sessionId ?? '0x0';
  }

  /** 1 for the first session, +1 for each one that replaced an expired one. */
  get generation(): number {
    return this.generationValue;
  }

  /** See the notes at the top of this file. */
  get sessionEpoch(): number {
    return this.epochValue;
  }

  /** The session timeout the server granted. */
  get sessionTimeoutMs(): number {
    return this.current?.timeoutMs ?? this.sessionTimeoutOpt;
  }

  get state(): ZkClientState {
    if (this.closed) return 'closed';
    if (this.renewing) return 'renewing';
    return this.current?.state ?? 'connecting';
  }

  /** The current session's id and password (tests use them to take the session over and expire it). */
  sessionCredentials(): { id: Buffer; password: Buffer } {
    if (this.current === undefined) throw new ZkError('CLOSED', 'sessionCredentials', undefined);
    return this.current.credentials();
  }

  // ---- the calls ----

  /** Data and stat of a znode, or null when it does not exist. */
  async get(path: string): Promise<{ data: Buffer; stat: ZkStat } | null> {
    return this.run('getData', path, (s) => s.getData(path)).catch(nullOnNoNode);
  }

  /**
   * Like get(), and `watcher` fires once on the znode's next change or deletion. When the znode does not
   * exist this returns null and sets no watch (ZooKeeper's rule): use existsWithWatch() to await a creation.
   */
  async getWithWatch(path: string, watcher: Watcher): Promise<{ data: Buffer; stat: ZkStat } | null> {
    return this.run('getData', path, (s) => s.getData(path, watcher)).catch(nullOnNoNode);
  }

  /** Child names (not paths, unordered), or null when the znode does not exist. */
  async getChildren(path: string): Promise<string[] | null> {
    return this.run('getChildren', path, (s) => s.getChildren(path)).then((r) => r.children, nullOnNoNode);
  }

  /** Like getChildren(); `watcher` fires once when a child is added or removed, or the znode is deleted. */
  async getChildrenWithWatch(path: string, watcher: Watcher): Promise<string[] | null> {
    return this.run('getChildren', path, (s) => s.getChildren(path, watcher)).then(
      (r) => r.children,
      nullOnNoNode,
    );
  }

  async exists(path: string): Promise<ZkStat | null> {
    return this.run('exists', path, (s) => s.exists(path));
  }

  /** The stat or null; either way `watcher` fires once on the next create, delete or data change. */
  async existsWithWatch(path: string, watcher: Watcher): Promise<ZkStat | null> {
    return this.run('exists', path, (s) => s.exists(path, watcher));
  }

  /**
   * Creates a znode; returns its path (for a sequential one, with the sequence number ZooKeeper appended).
   * Throws ZkNodeExistsError, or ZkNoNodeError when the parent is missing.
   */
  async create(
    path: string,
    data: Buffer = Buffer.alloc(0),
    opts: { mode?: CreateMode } = {},
  ): Promise<string> {
    this.checkData('create', path, data);
    return this.run('create', path, (s) => s.create(path, data, opts.mode ?? 'persistent'));
  }

  /**
   * Creates a znode and returns its stat too, in one multi (create, then setData at version 0), as Kafka's
   * CheckedEphemeral does: the czxid of an ephemeral registration is the owner's epoch. Not for sequential
   * znodes (their final path is unknown to the second op).
   */
  async createWithStat(
    path: string,
    data: Buffer,
    opts: { mode?: 'persistent' | 'ephemeral' } = {},
  ): Promise<{ path: string; stat: ZkStat }> {
    const results = await this.multi([
      { type: 'create', path, mode: opts.mode ?? 'persistent' },
      { type: 'set', path, data, version: 0 },
    ]).catch((e: unknown) => {
      throw e instanceof ZkMultiError ? e.failure : e;
    });
    const [created, set] = results;
    if (created?.type !== 'create' || set?.type !== 'set') throw new ZkError('APIERROR', 'create', path);
    return { path: created.path, stat: set.stat };
  }

  /** Creates a znode and any missing parents (persistent, empty); throws ZkNodeExistsError if it exists. */
  async createRecursive(
    path: string,
    data: Buffer = Buffer.alloc(0),
    opts: { mode?: CreateMode } = {},
  ): Promise<string> {
    try {
      return await this.create(path, data, opts);
    } catch (e) {
      if (!isZkError(e, 'NONODE')) throw e;
    }
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '') {
      await this.createRecursive(parent).catch((e: unknown) => {
        if (!isZkError(e, 'NODEEXISTS')) throw e;
      });
    }
    return this.create(path, data, opts);
  }

  /**
   * Writes a znode's data if its version is `expectedVersion` (-1: any); returns the new version.
   * Throws ZkBadVersionError when the version differs, ZkNoNodeError when the znode is missing.
   */
  async set(path: string, data: Buffer, expectedVersion: number): Promise<number> {
    return (await this.setWithStat(path, data, expectedVersion)).version;
  }

  /** set() returning the whole new stat. */
  async setWithStat(path: string, data: Buffer, expectedVersion: number): Promise<ZkStat> {
    this.checkData('setData', path, data);
    return this.run('setData', path, (s) => s.setData(path, data, expectedVersion));
  }

  /** Deletes a znode at `version` (-1: any). Throws ZkNoNodeError, ZkBadVersionError or ZkNotEmptyError. */
  async delete(path: string, version = -1): Promise<void> {
    return this.run('delete', path, (s) => s.delete(path, version));
  }

  /**
   * Deletes a znode and everything below it, children first; a znode someone else deletes meanwhile is
   * skipped. Returns false when `path` did not exist.
   */
  async deleteRecursive(path: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const nodes = await this.subtree(path);
      if (nodes.length === 0) return false;
      try {
        for (let i = nodes.length - 1; i >= 0; i--) {
          await this.delete(nodes[i]!).catch((e: unknown) => {
            if (!isZkError(e, 'NONODE')) throw e;
          });
        }
        return true;
      } catch (e) {
        // A child created under us while we deleted: list again (a few times).
        if (!isZkError(e, 'NOTEMPTY') || attempt >= 3) throw e;
      }
    }
  }

  /** `path` and every znode below it, parents before children; empty when `path` does not exist. */
  private async subtree(path: string): Promise<string[]> {
    const out: string[] = [];
    const queue = [path];
    while (queue.length > 0) {
      const at = queue.shift()!;
      const children = await this.getChildren(at);
      if (children === null) continue;
      out.push(at);
      if (out.length + queue.length + children.length > limits.zkSubtreeNodesMax) {
        throw new ZkError('TOOLARGE', 'deleteRecursive', path, `over ${limits.zkSubtreeNodesMax} znodes`);
      }
      for (const c of children) queue.push(at === '/' ? `/${c}` : `${at}/${c}`);
    }
    return out;
  }

  /**
   * Runs `ops` atomically: all apply, or none. A check op ({ type: 'check', path, version }) fails the
   * multi when the znode's version differs. On failure throws ZkMultiError naming the failing op
   * (failedIndex, failure: that op's own typed error) with the code of every op.
   */
  async multi(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    if (ops.length === 0) return [];
    let bytes = 16;
    for (const op of ops) {
      const why = zkPathProblem(op.path);
      if (why !== undefined) throw new ZkError('BADPATH', 'multi', op.path, why);
      if ('data' in op && op.data !== undefined) this.checkData('multi', op.path, op.data);
      bytes += opBytes(op);
    }
    if (bytes > limits.zkJuteMaxBufferBytes) {
      throw new ZkError('TOOLARGE', 'multi', undefined, `~${bytes} bytes over jute.maxbuffer`);
    }
    const r = await this.run('multi', undefined, (s) => s.multi(ops));
    if (r.ok) return r.results;
    let failedIndex = r.codes.findIndex((c) => c !== 0 && c !== -2);
    if (failedIndex < 0)
      failedIndex = Math.max(
        0,
        r.codes.findIndex((c) => c !== 0),
      );
    const op = ops[failedIndex]!;
    const opName = { create: 'create', set: 'setData', delete: 'delete', check: 'check' }[op.type];
    const detail = 'version' in op && op.version >= 0 ? `expected version ${op.version}` : undefined;
    const failure = zkError(r.codes[failedIndex] ?? -1, opName, op.path, detail);
    throw new ZkMultiError(
      failedIndex,
      failure,
      r.codes.map((c) => (c === 0 ? 'OK' : (zkCodeNames.get(c) ?? `UNKNOWN(${c})`))),
    );
  }

  /** Closes the session (its ephemeral znodes go at once); calls in flight or waiting fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelBackoff?.();
    const closedError = (): ZkError => new ZkError('CLOSED', 'call', undefined, 'the client was closed');
    for (const w of this.sessionWaiters) {
      clearTimeout(w.timer);
      w.reject(closedError());
    }
    this.sessionWaiters.clear();
    this.slots.failWaiting(closedError);
    await Promise.all([...this.opening].map((s) => s.close()));
    await this.current?.close();
    this.emit('closed');
  }

  // ---- plumbing ----

  private checkData(op: string, path: string, data: Buffer): void {
    if (data.length > limits.znodeDataBytesMax) {
      throw new ZkError(
        'TOOLARGE',
        op,
        path,
        `${data.length} bytes of data, over ${limits.znodeDataBytesMax}`,
      );
    }
  }

  /**
   * Runs one call on the current session within the request timeout: waits for a session (while one is
   * being renewed) and for an in-flight slot, then for the answer.
   */
  private async run<T>(op: string, path: string | undefined, fn: (s: ZkSession) => Promise<T>): Promise<T> {
    if (path !== undefined) {
      const why = zkPathProblem(path);
      if (why !== undefined) throw new ZkError('BADPATH', op, path, why);
    }
    if (this.closed) throw new ZkError('CLOSED', op, path, 'the client was closed');
    const deadline = Date.now() + this.requestTimeoutMs;
    await this.slots.acquire(
      deadline,
      () =>
        new ZkTimeoutError(op, path, `${this.slots.max} requests in flight for ${this.requestTimeoutMs} ms`),
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      const session = await this.sessionFor(op, path, deadline);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ZkTimeoutError(op, path, `no answer within ${this.requestTimeoutMs} ms`)),
          Math.max(0, deadline - Date.now()),
        );
      });
      return await Promise.race([fn(session), timeout]);
    } finally {
      clearTimeout(timer);
      this.slots.release();
    }
  }

  /** The session to send on: the current one, or the next one while an expired one is being replaced. */
  private sessionFor(op: string, path: string | undefined, deadline: number): Promise<ZkSession> {
    if (this.closed) return Promise.reject(new ZkError('CLOSED', op, path, 'the client was closed'));
    const s = this.current;
    if (s !== undefined && s.state !== 'expired' && s.state !== 'closed') return Promise.resolve(s);
    return new Promise<ZkSession>((resolve, reject) => {
      const w: Waiter<ZkSession> = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.sessionWaiters.delete(w);
            reject(new ZkSessionExpiredError(op, path, `no new session within ${this.requestTimeoutMs} ms`));
          },
          Math.max(0, deadline - Date.now()),
        ),
      };
      this.sessionWaiters.add(w);
    });
  }
}

function nullOnNoNode(e: unknown): null {
  if (e instanceof ZkNoNodeError) return null;
  throw e;
}
