// The listener: accepts sockets, enforces connection limits (max.connections, max.connections.per.ip,
// connections.max.idle.ms, socket.request.receive.timeout.ms, the connection creation rates of
// connection-quotas.ts) and hands each socket to a Connection.
//
// The acceptor (onAccept): Node accepts every socket; while a connection creation rate holds the listener back,
// new sockets wait in order, paused, up to limits.acceptQueueMax (Kafka's acceptor stops calling accept() and the
// kernel's backlog holds them), and are taken one by one as the throttle times pass.
//
// Two steps, so that start-up fails on a taken port before any log is loaded: bind() takes the port
// (sockets that arrive before start() wait, paused, up to max.connections), start(broker) serves.

import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as limits from '../limits.js';
import type { Logger } from '../logger.js';
import { type ListenerSecurity, PLAINTEXT_SECURITY } from '../security/listener-security.js';
import { SecuritySession } from '../security/session.js';
import { type ServerTls, tlsPrincipal, wrapServerSocket } from '../security/tls.js';
import type { Broker } from './broker.js';
import { ClientWarnings } from './client-warnings.js';
import { Connection } from './connection.js';
import { type ConnectionQuotas, normalizeIp } from './connection-quotas.js';
import type { Handler } from './handler.js';
import { RequestMemory } from './request-memory.js';

export interface ServerOptions {
  host: string;
  port: number;
  requestBytesMax: number;
  queuedRequestBytesMax: number;
  /** socket.request.receive.timeout.ms */
  requestReceiveTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  idleMs: number;
  /** The listener's name and security (TLS, SASL); PLAINTEXT when absent. */
  security?: ListenerSecurity;
  /** The connection creation rates (shared by the broker's listeners); none when absent. */
  connectionQuotas?: ConnectionQuotas;
}

export class Server {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  private readonly memory: RequestMemory;
  private broker: Broker | null = null;
  private handlers: ReadonlyMap<number, Handler<unknown, unknown>> = new Map();
  /** Sockets accepted between bind() and start(), paused. */
  private waiting: net.Socket[] = [];
  private boundPort = -1;
  /** Sockets accepted while the acceptor is throttled, in order (paused). */
  private acceptQueue: net.Socket[] = [];
  /** The acceptor's throttle: the socket it holds and the timer that takes it. */
  private acceptBlocked: { socket: net.Socket; timer: NodeJS.Timeout } | null = null;
  /** Sockets over their IP's connection_creation_rate, closed when their timer fires. */
  private readonly throttledSockets = new Map<net.Socket, NodeJS.Timeout>();
  private readonly receiveTimer: NodeJS.Timeout;
  /** Warnings about what clients send or do, rate-limited per client (client-warnings.ts). */
  readonly warnings: ClientWarnings;

  constructor(
    private readonly opts: ServerOptions,
    private readonly log: Logger,
  ) {
    this.warnings = new ClientWarnings(log);
    this.memory = new RequestMemory(opts.queuedRequestBytesMax, opts.requestBytesMax);
    this.server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
      this.onAccept(socket),
    );
    // Requests arriving too slowly are found by a sweep (a timer per partial request would be armed and cleared
    // for most produce requests, which span socket reads); it checks a few times per timeout, at most once a second.
    const timeoutMs = opts.requestReceiveTimeoutMs;
    this.receiveTimer = setInterval(
      () => {
        const now = performance.now();
        for (const c of this.connections) c.checkReceiveTimeout(now, timeoutMs);
      },
      Math.min(1000, Math.max(10, timeoutMs / 4)),
    );
    this.receiveTimer.unref();
  }

  /** Dynamic max.connections / max.connections.per.ip: new connections are checked against the new limits. */
  /** The listener's security (PLAINTEXT when none was given). */
  get security(): ListenerSecurity {
    return this.opts.security ?? PLAINTEXT_SECURITY('PLAINTEXT');
  }

  /**
   * A new TLS server side (a reloaded certificate or trust store): connections accepted from now on use it,
   * those already open keep the one they were accepted with.
   */
  replaceTls(tls: ServerTls): void {
    const current = this.opts.security;
    if (current?.tls === null || current === undefined) return;
    this.opts.security = { ...current, tls };
  }

  setConnectionLimits(maxConnections: number, maxConnectionsPerIp: number): void {
    this.opts.maxConnections = maxConnections;
    this.opts.maxConnectionsPerIp = maxConnectionsPerIp;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get queuedRequestBytes(): number {
    return this.memory.usedBytes;
  }

  get queuedRequestBytesPeak(): number {
    return this.memory.peakBytes;
  }

  /** Takes the port; resolves with the bound port. Connections wait (paused) until start(). */
  bind(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : this.opts.port;
        resolve(this.boundPort);
      });
    });
  }

  /** The bound port (-1 before bind()). */
  get port(): number {
    return this.boundPort;
  }

  /** Serves requests from now on, the connections that waited for start-up first. */
  start(broker: Broker, handlers: ReadonlyMap<number, Handler<unknown, unknown>>): void {
    this.broker = broker;
    this.handlers = handlers;
    const waiting = this.waiting;
    this.waiting = [];
    for (const socket of waiting) if (!socket.destroyed) this.onAccept(socket);
  }

  private get listenerName(): string {
    return this.opts.security?.listenerName ?? 'PLAINTEXT';
  }

  private onAccept(socket: net.Socket): void {
    if (this.broker !== null) {
      if (this.acceptBlocked === null) {
        this.admit(socket, this.broker);
        return;
      }
      // A socket that fails while it waits must not be an unhandled 'error'.
      socket.on('error', () => socket.destroy());
      if (this.acceptQueue.length >= limits.acceptQueueMax) {
        this.warnings.warn(
          { clientAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, clientId: null },
          'accept_queue_full',
          'refusing connection: the listener is throttled by max.connection.creation.rate and its queue is full',
          { listener: this.listenerName, queued: this.acceptQueue.length },
        );
        this.broker.metrics.connectionClosed('accept_queue_full');
        socket.destroy();
        return;
      }
      this.acceptQueue.push(socket);
      return;
    }
    if (this.waiting.length >= this.opts.maxConnections) {
      socket.destroy();
      return;
    }
    this.waiting.push(socket);
    socket.once('close', () => {
      const i = this.waiting.indexOf(socket);
      if (i >= 0) this.waiting.splice(i, 1);
    });
  }

  /**
   * Records the connection against the connection creation rates and serves it, at once or, when the rate says
   * to wait, once the throttle time has passed (the sockets that come meanwhile wait in acceptQueue).
   */
  private admit(socket: net.Socket, broker: Broker): void {
    const quotas = this.opts.connectionQuotas;
    const ms = quotas === undefined ? 0 : quotas.recordAccept(this.listenerName, Date.now());
    if (ms <= 0) {
      this.onSocket(socket, broker);
      return;
    }
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => {
      this.acceptBlocked = null;
      if (!socket.destroyed) this.onSocket(socket, broker);
      while (this.acceptBlocked === null && this.acceptQueue.length > 0) {
        const next = this.acceptQueue.shift() as net.Socket;
        if (!next.destroyed) this.admit(next, broker);
      }
    }, ms);
    this.acceptBlocked = { socket, timer };
  }

  private onSocket(socket: net.Socket, broker: Broker): void {
    const ip = socket.remoteAddress ?? '?';
    if (this.connections.size >= this.opts.maxConnections) {
      this.warnings.warn(
        { clientAddress: `${ip}:${socket.remotePort ?? '?'}`, clientId: null },
        'max_connections',
        'refusing connection: max.connections reached',
        { limit: this.opts.maxConnections },
      );
      broker.metrics.connectionClosed('max_connections');
      socket.destroy();
      return;
    }
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.opts.maxConnectionsPerIp) {
      this.warnings.warn(
        { clientAddress: `${ip}:${socket.remotePort ?? '?'}`, clientId: null },
        'max_connections_per_ip',
        'refusing connection: max.connections.per.ip reached',
        { limit: this.opts.maxConnectionsPerIp },
      );
      broker.metrics.connectionClosed('max_connections_per_ip');
      socket.destroy();
      return;
    }
    if (this.ipThrottled(socket, ip, broker)) return;
    this.perIp.set(ip, n + 1);
    const security = this.opts.security ?? PLAINTEXT_SECURITY('PLAINTEXT');
    const session = new SecuritySession(security, null);
    const raw = socket;
    if (security.tls !== null) {
      const t = security.tls;
      const secured: TLSSocket = wrapServerSocket(raw, t);
      let handshakeDone = false;
      secured.once('secure', () => {
        handshakeDone = true;
        if (security.protocol === 'SSL') session.principal = tlsPrincipal(secured, t);
      });
      secured.on('error', (err) => {
        if (handshakeDone) return;
        this.warnings.warn(
          { clientAddress: `${ip}:${raw.remotePort ?? '?'}`, clientId: null },
          'tls_handshake',
          'TLS handshake failed',
          { listener: security.listenerName, error: err.message },
        );
      });
      socket = secured;
    }
    const conn = new Connection(
      socket,
      broker,
      this.handlers,
      this.memory,
      { requestBytesMax: this.opts.requestBytesMax },
      this.log,
      this.warnings,
      session,
    );
    this.connections.add(conn);
    if (this.opts.idleMs > 0) {
      socket.setTimeout(this.opts.idleMs, () =>
        conn.close('idle longer than connections.max.idle.ms', 'idle'),
      );
    }
    socket.on('close', () => {
      this.connections.delete(conn);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
    raw.resume();
  }

  /**
   * The IP's connection_creation_rate: over it the socket is not served but held (paused) and closed when the
   * throttle time has passed, as Kafka delays closing it; true when so.
   */
  private ipThrottled(socket: net.Socket, ip: string, broker: Broker): boolean {
    const quotas = this.opts.connectionQuotas;
    if (quotas === undefined) return false;
    const { throttleMs, quota } = quotas.recordIp(broker.clientQuotas, normalizeIp(ip), Date.now());
    if (throttleMs <= 0) return false;
    this.warnings.warn(
      { clientAddress: `${ip}:${socket.remotePort ?? '?'}`, clientId: null },
      'connection_creation_rate',
      'closing connection after its throttle time: the IP is over its connection_creation_rate quota',
      { listener: this.listenerName, quota, throttleMs },
    );
    broker.metrics.connectionClosed('connection_creation_rate');
    if (this.throttledSockets.size >= limits.throttledSocketsMax) {
      socket.destroy();
      return true;
    }
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => {
      this.throttledSockets.delete(socket);
      socket.destroy();
    }, throttleMs);
    this.throttledSockets.set(socket, timer);
    return true;
  }

  /**
   * Stops accepting and stops reading requests; the requests already read are answered (long polls are cut
   * short), then each connection is closed once its responses are written, or when graceMs runs out.
   */
  async close(graceMs: number): Promise<void> {
    clearInterval(this.receiveTimer);
    for (const socket of this.waiting.splice(0)) socket.destroy();
    for (const socket of this.acceptQueue.splice(0)) socket.destroy();
    if (this.acceptBlocked !== null) {
      clearTimeout(this.acceptBlocked.timer);
      this.acceptBlocked.socket.destroy();
      this.acceptBlocked = null;
    }
    for (const [socket, timer] of this.throttledSockets) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.throttledSockets.clear();
    if (!this.server.listening) {
      this.warnings.close();
      return;
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = [...this.connections].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.onDrained = resolve;
          c.drain();
          if (c.idle || c.isClosed) resolve();
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(drained),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const c of this.connections) c.close('broker shutting down', 'shutdown');
    await closed;
    this.warnings.close();
  }
}
