// One ZooKeeper session over node-zookeeper-client: the adapter that zk-client.ts builds on. It turns
// the library's callbacks into promises with typed errors (zk-errors.ts) and fixes what the library gets
// wrong (measured against ZooKeeper 3.8, see the notes at the top of zk-client.ts):
//
// - Dead connections: the library pings when idle but never notices an unanswered ping, so a hung or
//   partitioned server goes unseen until TCP gives up. Like the Java client (readTimeout = 2/3 of the
//   session timeout), a socket that has read nothing for that long is closed here, and the library
//   reconnects on its own (same session).
// - Requests queued while disconnected never settle when the session then expires; in-flight calls are
//   tracked here and rejected with SESSIONEXPIRED (or CLOSED) instead.
// - Transaction.check/setData/remove turn version 0 into -1 ("any version"); multi() builds its
//   operations itself with the exact versions.
// - A response the library cannot parse (e.g. an error code it does not know) would throw out of its
//   socket handler and crash the process; that is caught here and the connection is reset instead.
//
// States: connecting -> connected <-> disconnected (same session; the library reconnects)
//         -> expired | closed.
// A session never comes back from expired or closed; zk-client.ts opens a new one.

import type { Socket } from 'node:net';
import zookeeper from 'node-zookeeper-client';
import type { Logger } from '../../logger.js';
import { ZkError, ZkSessionExpiredError, ZkTimeoutError, zkError } from './zk-errors.js';

/** A znode's Stat. zxids are numbers: epoch << 32 | counter stays below 2^53 for 2 million leader epochs. */
export interface ZkStat {
  /** zxid of the create: the znode's birth (Kafka's broker epoch is its registration znode's czxid). */
  czxid: number;
  /** zxid of the last data change. */
  mzxid: number;
  /** zxid of the last change to the children. */
  pzxid: number;
  /** Creation time, ms since the epoch (the leader's clock). */
  ctime: number;
  mtime: number;
  /** Data version: bumped by every setData; what conditional writes check. */
  version: number;
  /** Children version. */
  cversion: number;
  aversion: number;
  /** Session id (0x... hex) owning this ephemeral znode, or null for a persistent one. */
  ephemeralOwner: string | null;
  dataLength: number;
  numChildren: number;
}

export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

export interface WatchEvent {
  type: WatchEventType;
  /** The znode the watch was set on (chroot stripped). */
  path: string;
}

export type Watcher = (event: WatchEvent) => void;

export type CreateMode = 'persistent' | 'ephemeral' | 'persistentSequential' | 'ephemeralSequential';

const createModes: Record<CreateMode, number> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  persistentSequential: zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
  ephemeralSequential: zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

export type ZkOp =
  | { type: 'create'; path: string; data?: Buffer; mode?: CreateMode }
  | { type: 'set'; path: string; data: Buffer; version: number }
  | { type: 'delete'; path: string; version: number }
  | { type: 'check'; path: string; version: number };

export type ZkOpResult =
  | { type: 'create'; path: string }
  | { type: 'set'; stat: ZkStat }
  | { type: 'delete' }
  | { type: 'check' };

/** world:anyone with every permission: Kafka's ACL without zookeeper.set.acl. */
const openAcl = (zookeeper.ACL as unknown as { OPEN_ACL_UNSAFE: unknown[] }).OPEN_ACL_UNSAFE;

/** ZooKeeper's operation codes for multi (OpCode). */
const opCode = { create: 1, delete: 2, set: 5, check: 13, error: -1 } as const;

export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface SessionEvents {
  connected(): void;
  disconnected(): void;
  expired(): void;
}

/** The parts of the library's ConnectionManager this file relies on (node-zookeeper-client 1.1.3). */
interface LibConnectionManager {
  socket?: Socket;
  zxid: Buffer;
  connect(): void;
  onSocketData(buf: Buffer): void;
  onSocketConnected(): void;
}

interface LibStat {
  czxid: Buffer;
  mzxid: Buffer;
  pzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
}

interface LibException {
  code: number;
}

type LibCallback = (error: LibException | Error | null, ...results: unknown[]) => void;

// The library validates error codes against its own (pre-3.5) list and throws on others, inside its socket
// handler; make unknown codes into plain exceptions carrying the number (zk-errors.ts names them).
{
  const Exception = zookeeper.Exception as unknown as {
    create: (code: number, path?: string) => unknown;
    prototype: object;
  };
  const create = Exception.create;
  Exception.create = (code: number, path?: string): unknown => {
    try {
      return create(code, path);
    } catch {
      return Object.assign(Object.create(Exception.prototype) as object, {
        code,
        name: `UNKNOWN(${code})`,
        path,
        message: `Exception: UNKNOWN[${code}]`,
      });
    }
  };
}

function long(b: Buffer): number {
  return Number(b.readBigInt64BE(0));
}

/** A session id as ZooKeeper logs it: 0x and lowercase hex without leading zeros. */
export function sessionIdHex(b: Buffer): string {
  return `0x${b.readBigUInt64BE(0).toString(16)}`;
}

function toStat(s: LibStat): ZkStat {
  const owner = s.ephemeralOwner.readBigUInt64BE(0);
  return {
    czxid: long(s.czxid),
    mzxid: long(s.mzxid),
    pzxid: long(s.pzxid),
    ctime: long(s.ctime),
    mtime: long(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: owner === 0n ? null : `0x${owner.toString(16)}`,
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

const eventTypes: Record<number, WatchEventType> = {
  [zookeeper.Event.NODE_CREATED]: 'created',
  [zookeeper.Event.NODE_DELETED]: 'deleted',
  [zookeeper.Event.NODE_DATA_CHANGED]: 'dataChanged',
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: 'childrenChanged',
};

type LibWatcher = (e: zookeeper.Event) => void;

/**
 * The library function standing for `watcher` on `path`. One per (watcher, path), so that, as with the
 * Java client, a watcher set several times on a znode (getData and exists, or twice) fires once per event:
 * the library dedups a function per path and kind, and hands every kind the same event object.
 */
function libWatcher(
  cache: WeakMap<Watcher, Map<string, LibWatcher>>,
  watcher: Watcher,
  path: string,
  logger: Logger,
): LibWatcher {
  let byPath = cache.get(watcher);
  if (byPath === undefined) {
    byPath = new Map();
    cache.set(watcher, byPath);
  }
  const known = byPath.get(path);
  if (known !== undefined) return known;
  let last: zookeeper.Event | undefined;
  const fn: LibWatcher = (e) => {
    if (e === last) return;
    last = e;
    const type = eventTypes[e.getType()];
    if (type === undefined) return;
    try {
      watcher({ type, path });
    } catch (err) {
      logger.error('ZooKeeper watcher threw', { path, type, error: err });
    }
  };
  byPath.set(path, fn);
  return fn;
}

interface Pending {
  op: string;
  path: string | undefined;
  reject(e: Error): void;
}

export interface SessionOptions {
  sessionTimeoutMs: number;
  logger: Logger;
  events: SessionEvents;
  /** Resume this session instead of starting one (tests use it to take a session over and expire it). */
  resume?: { id: Buffer; password: Buffer };
}

export class ZkSession {
  private readonly client: zookeeper.Client;
  private readonly cm: LibConnectionManager | undefined;
  private stateValue: SessionState = 'connecting';
  private readonly pending = new Set<Pending>();
  private lastReadAt = 0;
  /** Set while a TCP connection is up; the liveness check only looks at such sockets. */
  private socketUp = false;
  private liveness: NodeJS.Timeout | undefined;
  private idBuf: Buffer = Buffer.alloc(8);
  private readonly watchers = new WeakMap<Watcher, Map<string, LibWatcher>>();
  /** Fails a pending open() (when closed first). */
  private abortOpen: ((e: Error) => void) | undefined;

  constructor(
    /** host:port[,host:port...][/chroot] */
    readonly connectString: string,
    private readonly opts: SessionOptions,
  ) {
    this.client = zookeeper.createClient(connectString, {
      sessionTimeout: opts.sessionTimeoutMs,
      spinDelay: 250, // reconnect attempts spread over 0-250 ms once every server was tried
      retries: 0, // retrying is the caller's decision (a lost write may have been applied)
      ...(opts.resume === undefined
        ? {}
        : { sessionId: opts.resume.id, sessionPassword: opts.resume.password }),
    });
    this.cm = (this.client as unknown as { connectionManager?: LibConnectionManager }).connectionManager;
    this.patchConnectionManager();
    this.client.on('state', (s: zookeeper.State) => this.onLibState(s));
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** The session id (0x... hex), known once connected. */
  get sessionId(): string {
    return sessionIdHex(this.idBuf);
  }

  /** The session id and password, e.g. for a test to take the session over and expire it. */
  credentials(): { id: Buffer; password: Buffer } {
    return { id: this.client.getSessionId(), password: this.client.getSessionPassword() };
  }

  /** The session timeout the server granted (ms). */
  get timeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  /** The highest zxid this session has seen in a response. */
  lastZxid(): number {
    return this.cm === undefined ? 0 : long(this.cm.zxid);
  }

  private patchConnectionManager(): void {
    const cm = this.cm;
    if (
      cm === undefined ||
      typeof cm.onSocketData !== 'function' ||
      typeof cm.onSocketConnected !== 'function'
    ) {
      this.opts.logger.warn(
        'node-zookeeper-client internals differ from 1.1.3: no dead-connection detection',
      );
      return;
    }
    const onData = cm.onSocketData;
    const onConnected = cm.onSocketConnected;
    const logger = this.opts.logger;
    const self = this;
    // The library binds these when it makes each socket, so patching them before connect() covers all.
    cm.onSocketData = function (this: LibConnectionManager, buf: Buffer) {
      self.lastReadAt = Date.now();
      try {
        onData.call(this, buf);
      } catch (e) {
        logger.error('ZooKeeper response could not be parsed; reconnecting', { error: e });
        this.socket?.destroy();
      }
    };
    cm.onSocketConnected = function (this: LibConnectionManager) {
      self.socketUp = true;
      self.lastReadAt = Date.now();
      const socket = this.socket;
      socket?.once('close', () => {
        if (this.socket === socket) self.socketUp = false;
      });
      onConnected.call(this);
    };
  }

  private startLiveness(): void {
    if (this.liveness !== undefined || this.cm === undefined) return;
    this.liveness = setInterval(
      () => {
        const readTimeoutMs = (this.timeoutMs * 2) / 3;
        if (this.socketUp && Date.now() - this.lastReadAt > readTimeoutMs) {
          this.opts.logger.warn('ZooKeeper server silent; closing the connection to reconnect', {
            sessionId: this.sessionId,
            silentMs: Date.now() - this.lastReadAt,
          });
          this.socketUp = false;
          this.cm?.socket?.destroy();
        }
      },
      Math.max(50, Math.floor(this.timeoutMs / 10)),
    );
    this.liveness.unref();
  }

  private onLibState(s: zookeeper.State): void {
    if (this.stateValue === 'closed' || this.stateValue === 'expired') return;
    if (s === zookeeper.State.SYNC_CONNECTED) {
      this.idBuf = this.client.getSessionId();
      this.stateValue = 'connected';
      this.startLiveness();
      this.opts.events.connected();
    } else if (s === zookeeper.State.DISCONNECTED) {
      if (this.stateValue !== 'connected') return; // still connecting: not a change anyone waits for
      this.stateValue = 'disconnected';
      this.opts.events.disconnected();
    } else if (s === zookeeper.State.EXPIRED) {
      this.stateValue = 'expired';
      this.failPending((p) => new ZkSessionExpiredError(p.op, p.path, `session ${this.sessionId} expired`));
      this.shutdown();
      this.opts.events.expired();
    }
  }

  /** Connects; resolves when the session is established, rejects after `timeoutMs` (and closes). */
  open(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (e?: Error): void => {
        clearTimeout(timer);
        this.client.removeListener('connected', onConnected);
        this.abortOpen = undefined;
        if (e === undefined) resolve();
        else reject(e);
      };
      const timer = setTimeout(() => {
        settle(new ZkTimeoutError('connect', undefined, `no session within ${timeoutMs} ms`));
        void this.close();
      }, timeoutMs);
      const onConnected = (): void => settle();
      this.abortOpen = settle;
      this.client.once('connected', onConnected);
      this.client.connect();
    });
  }

  /** Runs one library call, tracking it so expiry and close settle it. */
  private call<T>(
    op: string,
    path: string | undefined,
    start: (cb: LibCallback) => void,
    done: (results: unknown[]) => T,
    detail?: string,
  ): Promise<T> {
    if (this.stateValue === 'closed') return Promise.reject(new ZkError('CLOSED', op, path));
    if (this.stateValue === 'expired') {
      return Promise.reject(new ZkSessionExpiredError(op, path, `session ${this.sessionId} expired`));
    }
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { op, path, reject };
      this.pending.add(p);
      try {
        start((error, ...results) => {
          if (!this.pending.delete(p)) return; // already settled by expiry or close
          if (error === null || error === undefined) {
            try {
              resolve(done(results));
            } catch (e) {
              reject(new ZkError('MARSHALLINGERROR', op, path, e instanceof Error ? e.message : String(e)));
            }
            return;
          }
          const code = typeof (error as LibException).code === 'number' ? (error as LibException).code : -1;
          reject(zkError(code, op, path, detail));
        });
      } catch (e) {
        this.pending.delete(p);
        reject(new ZkError('BADARGUMENTS', op, path, e instanceof Error ? e.message : String(e)));
      }
    });
  }

  private failPending(make: (p: Pending) => Error): void {
    const all = [...this.pending];
    this.pending.clear();
    for (const p of all) p.reject(make(p));
  }

  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }> {
    const w = watcher === undefined ? undefined : libWatcher(this.watchers, watcher, path, this.opts.logger);
    return this.call(
      'getData',
      path,
      (cb) => (w === undefined ? this.client.getData(path, cb) : this.client.getData(path, w, cb)),
      ([data, stat]) => ({ data: (data as Buffer | null) ?? Buffer.alloc(0), stat: toStat(stat as LibStat) }),
    );
  }

  /** The znode's stat, or null when it does not exist (a watch is then set on its creation). */
  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    const w = watcher === undefined ? undefined : libWatcher(this.watchers, watcher, path, this.opts.logger);
    return this.call(
      'exists',
      path,
      (cb) => (w === undefined ? this.client.exists(path, cb) : this.client.exists(path, w, cb)),
      ([stat]) => (stat === null || stat === undefined ? null : toStat(stat as LibStat)),
    );
  }

  getChildren(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: ZkStat }> {
    const w = watcher === undefined ? undefined : libWatcher(this.watchers, watcher, path, this.opts.logger);
    return this.call(
      'getChildren',
      path,
      (cb) => (w === undefined ? this.client.getChildren(path, cb) : this.client.getChildren(path, w, cb)),
      ([children, stat]) => ({ children: (children as string[]) ?? [], stat: toStat(stat as LibStat) }),
    );
  }

  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.call(
      'create',
      path,
      (cb) => this.client.create(path, data, createModes[mode], cb),
      ([created]) => created as string,
    );
  }

  setData(path: string, data: Buffer, version: number): Promise<ZkStat> {
    return this.call(
      'setData',
      path,
      (cb) => this.client.setData(path, data, version, cb),
      ([stat]) => toStat(stat as LibStat),
      version >= 0 ? `expected version ${version}` : undefined,
    );
  }

  delete(path: string, version: number): Promise<void> {
    return this.call(
      'delete',
      path,
      (cb) => this.client.remove(path, version, cb),
      () => undefined,
      version >= 0 ? `expected version ${version}` : undefined,
    );
  }

  /** Raw multi: each op's result, or (nothing applied) each op's result code (see zk-client.ts). */
  async multi(
    ops: readonly ZkOp[],
  ): Promise<{ ok: true; results: ZkOpResult[] } | { ok: false; codes: number[] }> {
    const transaction = this.client.transaction() as unknown as {
      ops: unknown[];
      commit(cb: LibCallback): void;
    };
    for (const op of ops) {
      if (op.type === 'create') {
        transaction.ops.push({
          type: opCode.create,
          path: op.path,
          data: op.data ?? Buffer.alloc(0),
          acls: openAcl,
          mode: createModes[op.mode ?? 'persistent'],
        });
      } else if (op.type === 'set') {
        transaction.ops.push({ type: opCode.set, path: op.path, data: op.data, version: op.version });
      } else {
        transaction.ops.push({ type: opCode[op.type], path: op.path, version: op.version });
      }
    }
    type LibResult = { type: number; path?: string; stat?: LibStat; err?: number };
    type Raw = { ok: true; results: LibResult[] } | { ok: false; codes: number[] };
    const raw = await this.call(
      'multi',
      undefined,
      (cb) =>
        transaction.commit((error, results) => {
          // A failed multi answers every op with an error result; the library also reports the first.
          if (Array.isArray(results) && results.some((r: LibResult) => r.type === opCode.error)) {
            cb(null, { ok: false, codes: (results as LibResult[]).map((r) => r.err ?? 0) });
          } else cb(error, { ok: true, results });
        }),
      ([r]) => r as Raw,
    );
    if (!raw.ok) return raw;
    return {
      ok: true,
      results: raw.results.map((x, i): ZkOpResult => {
        const op = ops[i]!;
        if (op.type === 'create') return { type: 'create', path: x.path ?? op.path };
        if (op.type === 'set') return { type: 'set', stat: toStat(x.stat as LibStat) };
        return { type: op.type };
      }),
    };
  }

  /** Closes the session (its ephemeral znodes go at once) and settles whatever is in flight with CLOSED. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    const wasConnected = this.stateValue === 'connected';
    this.stateValue = 'closed';
    this.abortOpen?.(new ZkError('CLOSED', 'connect', undefined, 'the client was closed'));
    this.failPending((p) => new ZkError('CLOSED', p.op, p.path, 'the client was closed'));
    const socket = this.cm?.socket;
    if (wasConnected && socket !== undefined && !socket.destroyed) {
      // closeSession: the server removes the session's ephemerals, answers, and closes the socket.
      const closed = new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        setTimeout(resolve, 2000).unref();
      });
      try {
        this.client.close();
      } catch (e) {
        this.opts.logger.warn('ZooKeeper close failed', { error: e });
      }
      await closed;
    }
    this.shutdown();
  }

  /** Stops the library for good: no reconnect, no late socket, no timers. */
  private shutdown(): void {
    if (this.liveness !== undefined) clearInterval(this.liveness);
    this.liveness = undefined;
    const cm = this.cm;
    if (cm === undefined) return;
    cm.connect = () => {};
    cm.onSocketConnected = function (this: LibConnectionManager) {
      this.socket?.destroy(); // a connection attempt already under way when we stopped
    };
    cm.socket?.destroy();
  }
}
