// One client connection: framing, the request pipeline and back-pressure.
//
// Frames are `int32 size` + request. Requests are decoded and handed to their handler as they
// arrive (many in flight); responses are written strictly in request order, gathered into one
// corked write per flush. Reading pauses while
//   - the connection has too many requests in flight (limits.inFlightRequestsPerConnectionMax),
//   - the broker as a whole has too many request bytes queued (queued.max.request.bytes), or
//   - the client does not read its responses (limits.responseBytesBufferedMax waiting in the socket),
// so memory stays bounded however fast clients send. Request bytes count against queued.max.request.bytes
// as they arrive (src/broker/request-memory.ts): announcing a large request reserves nothing, and a client
// that sends its request too slowly is closed (socket.request.receive.timeout.ms, see checkReceiveTimeout).
// A connection that has handled limits.connectionTurnBytesMax of requests in one turn of the event loop yields
// to the other sockets, so a flood of produce requests on some connections cannot starve others' fetches.
//
// Anything malformed (oversized frame, unknown API key, unsupported version, undecodable body)
// is logged with the client's address and id and the connection is closed: Kafka's behaviour.
// A handler that throws is logged with its stack and answered with UNKNOWN_SERVER_ERROR (KAFKA_STORAGE_ERROR
// for a storage failure) in every error field of its response (error-response.ts); the connection is
// closed only when that response cannot carry an error.

import type { Socket } from 'node:net';
import type { ClosedReason } from '../http/metrics.js';
import * as limits from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode, ProtocolDecodeError } from '../protocol/errors.js';
import { encodeApiVersionsResponse } from '../protocol/generated/api-versions-response.js';
import type { ApiSchema } from '../protocol/generated/apis.js';
import {
  ApiKey,
  apiSchemas,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../protocol/generated/apis.js';
import { decodeRequestHeader } from '../protocol/generated/request-header.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { clusterApiDenial } from '../security/authorizer.js';
import { SaslFailure, type SecuritySession } from '../security/session.js';
import type { Broker } from './broker.js';
import { requestQuotaThrottle, responseHeldWhileThrottled } from './client-quota-manager.js';
import type { ClientWarnings } from './client-warnings.js';
import { errorCodeFor, errorResponse } from './error-response.js';
import type { Handler, RequestContext } from './handler.js';
import { ReceiveBuffer } from './receive-buffer.js';
import type { RequestMemory } from './request-memory.js';

interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
  /** Request bytes (size prefix included) this slot holds against the broker-wide budget until answered. */
  bytes: number;
  /** performance.now() when the request was decoded (request latency metric). */
  start: number;
  /** Callbacks for when the response is written (RequestContext.afterResponseWritten). */
  afterWrite?: (() => void)[];
  /** The handler's synchronous time in ms (what the request quota counts). */
  handlerMs?: number;
  /** A pre-KIP-219 request over a quota: its response waits this long once ready. */
  holdMs?: number;
}

export interface ConnectionLimits {
  requestBytesMax: number;
}

/** Turns of the event loop, counted by one setImmediate per turn in which some connection asked. */
let loopTurn = 0;
let loopTurnCounting = false;
const nextLoopTurn = (): void => {
  loopTurn++;
  loopTurnCounting = false;
};
function currentLoopTurn(): number {
  if (!loopTurnCounting) {
    loopTurnCounting = true;
    setImmediate(nextLoopTurn);
  }
  return loopTurn;
}

export class Connection {
  /** Received bytes not yet handed on as requests. */
  private readonly received = new ReceiveBuffer();
  private readonly queue: Slot[] = [];
  private inFlight = 0;
  /** The socket is not being read (see updateReading for why). */
  private paused = false;
  private closed = false;
  /** Set at shutdown: no new requests are read; in-flight ones are answered. */
  private draining = false;
  /**
   * How long the request now arriving has been on its way, in ms: receiveMs accumulated plus the time since
   * receiveSince (performance.now(), -1 while the clock is stopped). It runs only while the socket is read: time
   * the broker itself paused reading is not the client's.
   */
  private receiveMs = 0;
  private receiveSince = -1;
  /** Request bytes handled in the loop turn `turn`; at limits.connectionTurnBytesMax the connection yields. */
  private turnBytes = 0;
  private turn = -1;
  /** Set while the connection has yielded its turn (until a setImmediate in the next turn). */
  private yielded = false;
  private inDrainFrames = false;
  private readonly endYieldFn = (): void => {
    this.yielded = false;
    this.turnBytes = 0;
    this.maybeResume();
  };
  private readonly abort = new AbortController();
  readonly address: string;
  private readonly resumeFn = (): void => this.maybeResume();
  /** Set by onFrame when the request's bytes are provably unreferenced once it returns (see FramePool). */
  private frameDead = false;
  private flushQueued = false;
  private readonly flushFn = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  /** The client id of the latest request header decoded (null before one), for warnings. */
  private clientId: string | null = null;
  /** Set while the connection is muted for a client quota (RequestContext.throttle, KIP-219). */
  private throttledUntil = 0;
  private throttleTimer: NodeJS.Timeout | null = null;
  /** Releases of responses held for a throttle (pre-KIP-219 clients); a shutdown sends them at once. */
  private readonly held = new Set<() => void>();
  /** Called once the connection is draining and every request read has been answered. */
  onDrained: (() => void) | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly broker: Broker,
    private readonly handlers: ReadonlyMap<number, Handler<unknown, unknown>>,
    private readonly memory: RequestMemory,
    private readonly connLimits: ConnectionLimits,
    private readonly log: Logger,
    private readonly warnings: ClientWarnings,
    /** The client's principal and SASL state; this connection owns it. */
    private readonly session: SecuritySession,
  ) {
    this.address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      if (!this.closed) this.log.debug('connection error', { client: this.address, error: err.message });
    });
    socket.on('close', () => this.onClose());
    socket.on('drain', this.resumeFn);
    broker.metrics.connectionAccepted();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True when every request read has been answered (responses handed to the socket). */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  close(reason: string, kind: ClosedReason, fields: Record<string, unknown> = {}): void {
    if (this.closed) return;
    if (kind === 'shutdown' || kind === 'idle') {
      this.log.info(`closing connection: ${reason}`, { client: this.address, ...fields });
    } else if (kind === 'internal_error') {
      this.log.warn(`closing connection: ${reason}`, { client: this.address, ...fields });
    } else {
      // What the client sent: a client reconnecting to send it again must not flood the log.
      // The client id the request being refused carries (a partial header's), else the latest one seen.
      const clientId = typeof fields.clientId === 'string' ? fields.clientId : this.clientId;
      this.warnings.warn(
        { clientAddress: this.address, clientId },
        `connection: ${reason}`,
        `closing connection: ${reason}`,
        fields,
      );
    }
    this.broker.metrics.connectionClosed(kind);
    this.closed = true;
    if (kind === 'shutdown') {
      // Let queued responses reach the client; force it if the client does not read them.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    } else {
      this.socket.destroy();
    }
  }

  /**
   * Shutdown, step 1: stop reading requests and tell long-running handlers (long-poll fetches) to answer now.
   * The requests already read are still answered; close(..., 'shutdown') once idle.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.pause();
    this.abort.abort();
    for (const release of [...this.held]) release();
  }

  private onClose(): void {
    if (!this.closed) this.broker.metrics.connectionClosed('client');
    this.closed = true;
    this.abort.abort();
    if (this.throttleTimer !== null) clearTimeout(this.throttleTimer);
    for (const release of [...this.held]) release();
    this.memory.cancel(this.resumeFn);
    this.memory.requestEnded(this);
    let answering = 0;
    for (const s of this.queue) answering += s.bytes;
    this.queue.length = 0;
    if (answering > 0) this.memory.release(answering, true);
    const unread = this.received.clear();
    if (unread > 0) this.memory.release(unread, false);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.memory.acquire(chunk.length);
    this.received.push(chunk);
    this.drainFrames();
  }

  /**
   * Hands every complete frame received to onFrame (unless blocked, or until the connection has used its share
   * of this turn of the event loop), then decides whether to read on.
   */
  private drainFrames(): void {
    // Releasing memory below can wake this connection again (memory.onAvailable): the loop running goes on.
    if (this.inDrainFrames) return;
    this.inDrainFrames = true;
    try {
      this.drainFramesOnce();
    } finally {
      this.inDrainFrames = false;
    }
    if (!this.closed) this.updateReading();
  }

  private drainFramesOnce(): void {
    const turn = currentLoopTurn();
    if (this.turn !== turn) {
      this.turn = turn;
      this.turnBytes = 0;
    }
    while (!this.closed && !this.yielded && !this.blocked() && this.received.bytes >= 4) {
      const size = this.received.peekInt32();
      // Before a SASL client has authenticated, a frame is at most sasl.server.max.receive.size (Kafka's
      // SaslServerAuthenticator reads with that limit): an unknown client cannot park request memory.
      const sasl = this.session.listener.sasl;
      if (sasl !== null && !this.session.authenticated && size > sasl.maxReceiveSize) {
        this.close(
          'request size out of bounds before authentication (sasl.server.max.receive.size)',
          'oversized',
          {
            size,
            limit: sasl.maxReceiveSize,
          },
        );
        return;
      }
      if (size < 0 || size > this.connLimits.requestBytesMax) {
        this.close('request size out of bounds (socket.request.max.bytes)', 'oversized', {
          size,
          limit: this.connLimits.requestBytesMax,
        });
        return;
      }
      if (this.received.bytes < 4 + size) break;
      const n = 4 + size;
      const frame = this.received.take(n).subarray(4);
      this.receiveMs = 0;
      this.receiveSince = -1;
      this.memory.requestEnded(this);
      this.frameDead = false;
      if (this.onFrame(frame)) this.memory.settle(n);
      else this.memory.release(n, false);
      this.received.settleFrame(this.frameDead);
      this.turnBytes += n;
      if (this.turnBytes >= limits.connectionTurnBytesMax) {
        // Other sockets' requests (a consumer's fetch among them) get their turn first.
        this.yielded = true;
        setImmediate(this.endYieldFn);
      }
    }
  }

  /** Reasons to leave received requests unhandled (and the socket unread) until something changes. */
  private blocked(): boolean {
    return (
      this.draining ||
      this.throttleTimer !== null ||
      this.inFlight >= limits.inFlightRequestsPerConnectionMax ||
      this.socket.writableLength > limits.responseBytesBufferedMax
    );
  }

  /**
   * Reads on unless the connection is blocked (resumed by flush() or 'drain'), has yielded its turn (resumed by
   * endYieldFn) or the broker's request memory is spent (resumed by memory.onAvailable); runs the receive clock
   * while part of a request waits here.
   */
  private updateReading(): void {
    const blocked = this.blocked();
    const read = !blocked && !this.yielded && this.memory.mayRead(this, this.received.remaining());
    if (read && this.paused) {
      this.paused = false;
      this.socket.resume();
    } else if (!read && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (this.received.bytes > 0 && !this.paused) {
      if (this.receiveSince < 0) this.receiveSince = performance.now();
    } else if (this.receiveSince >= 0) {
      this.receiveMs += performance.now() - this.receiveSince;
      this.receiveSince = -1;
    }
    if (blocked) {
      // A blocked connection does not keep a finisher's overdraft.
      this.memory.requestEnded(this);
    } else if (!read && !this.yielded) {
      this.memory.onAvailable(this.resumeFn);
    }
  }

  /**
   * Closes the connection when the request arriving on it is overdue: it may take
   * socket.request.receive.timeout.ms plus one second per limits.requestReceiveBytesPerSecMin bytes received, so
   * a large request on a slow but steady link gets through while a client trickling bytes (or stopping halfway)
   * is dropped. The Server calls this periodically.
   */
  checkReceiveTimeout(now: number, timeoutMs: number): void {
    if (this.closed || this.received.bytes === 0) return;
    const elapsed = this.receiveMs + (this.receiveSince >= 0 ? now - this.receiveSince : 0);
    if (elapsed <= timeoutMs || this.received.remaining() === 0) return;
    const received = this.received.bytes;
    if (elapsed <= timeoutMs + (received / limits.requestReceiveBytesPerSecMin) * 1000) return;
    this.close('request not received in time (socket.request.receive.timeout.ms)', 'slow_request', {
      timeoutMs,
      elapsedMs: Math.round(elapsed),
      receivedBytes: received,
      ...this.received.describePartial(),
    });
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    if (this.receiveSince >= 0) {
      this.receiveMs += performance.now() - this.receiveSince;
      this.receiveSince = -1;
    }
  }

  /** Something that blocked reading changed (responses written, socket drained, memory released). */
  private maybeResume(): void {
    if (this.closed || this.draining) return;
    this.drainFrames();
  }

  /** Handles one frame; true when a slot now holds the frame's bytes against the budget. */
  private onFrame(frame: Buffer): boolean {
    if (this.session.raw) return this.onRawSaslToken(frame);
    if (frame.length < 8) {
      this.close('request frame shorter than a request header', 'malformed', { bytes: frame.length });
      return false;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const refusal = this.session.refusal(apiKey, performance.now());
    if (refusal !== null) {
      this.close(refusal, 'authentication', { apiKey, listener: this.session.listener.listenerName });
      return false;
    }
    const handler = this.handlers.get(apiKey);
    const schema = apiSchemas.get(apiKey);
    if (handler === undefined || schema === undefined) {
      this.close('unknown or unsupported API key', 'unsupported', { apiKey, apiVersion });
      return false;
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer with UNSUPPORTED_VERSION and our ranges in a v0 body so the client can retry.
        this.respondUnsupportedApiVersions(correlationId);
        return false;
      }
      this.close('unsupported API version', 'unsupported', {
        apiKey,
        apiVersion,
        min: handler.minVersion,
        max: handler.maxVersion,
      });
      return false;
    }
    let clientId: string | null = null;
    let request: unknown;
    try {
      const r = new Reader(frame);
      const header = decodeRequestHeader(r, requestHeaderVersion(apiKey, apiVersion));
      clientId = header.clientId;
      this.clientId = clientId;
      request = schema.decodeRequest(r, apiVersion);
    } catch (err) {
      if (err instanceof ProtocolDecodeError) {
        this.close('malformed request', 'malformed', { apiKey, apiVersion, clientId, error: err.message });
        return false;
      }
      throw err;
    }
    const slot: Slot = { done: false, chunks: null, bytes: frame.length + 4, start: performance.now() };
    this.queue.push(slot);
    this.inFlight++;
    this.broker.metrics.request(apiKey, apiVersion, frame.length + 4);
    const ctx: RequestContext = {
      broker: this.broker,
      apiKey,
      apiVersion,
      correlationId,
      clientId,
      clientAddress: this.address,
      signal: this.abort.signal,
      afterResponseWritten(fn) {
        if (slot.afterWrite === undefined) slot.afterWrite = [fn];
        else slot.afterWrite.push(fn);
      },
      session: this.session,
      closeAfterResponse: (reason, delayMs) => this.closeAfterResponse(slot, reason, delayMs),
      requestBytes: frame.length,
      throttle: (ms) => {
        if (ms > 0 && responseHeldWhileThrottled(apiKey, apiVersion))
          slot.holdMs = Math.max(slot.holdMs ?? 0, ms);
        this.throttle(ms);
      },
    };
    // APIs authorized on the cluster as a whole (authorizer.ts) are refused here, with the error everywhere.
    const denied = clusterApiDenial(ctx);
    if (denied !== 0) {
      this.refuse(slot, schema, ctx, request, denied);
      return true;
    }
    let result: unknown;
    try {
      result = handler.handle(ctx, request as never);
      slot.handlerMs = performance.now() - slot.start;
    } catch (err) {
      this.handlerFailed(slot, schema, ctx, request, err);
      return true;
    }
    if (result instanceof Promise) {
      result.then(
        (res: unknown) => this.complete(slot, schema, ctx, res, request),
        (err: unknown) => this.handlerFailed(slot, schema, ctx, request, err),
      );
    } else {
      // A Produce answered synchronously has copied its records into the log and keeps no view of them.
      this.frameDead = apiKey === ApiKey.Produce;
      this.complete(slot, schema, ctx, result, request);
    }
    return true;
  }

  /**
   * A handler threw (or its response did not encode): answers with the error in every error field of the
   * response; closes the connection only when there is no such answer. `request` is null on the second failure.
   */
  private handlerFailed(
    slot: Slot,
    schema: ApiSchema,
    ctx: RequestContext,
    request: unknown,
    err: unknown,
  ): void {
    const errorCode = errorCodeFor(err);
    let body: unknown;
    try {
      const adv = this.broker.advertised();
      body =
        request === null
          ? undefined
          : errorResponse(
              schema,
              { ...ctx, broker: { nodeId: this.broker.nodeId, ...adv } },
              request,
              errorCode,
            );
    } catch {
      body = undefined;
    }
    this.log.error('request handler failed', {
      client: this.address,
      clientId: ctx.clientId,
      apiKey: ctx.apiKey,
      apiVersion: ctx.apiVersion,
      answered: body === undefined ? 'connection closed' : errorCode,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    if (body === undefined) this.close('internal error while handling a request', 'internal_error');
    else this.complete(slot, schema, ctx, body, null);
  }

  /** Answers a request the authorizer refused with errorCode everywhere (or closes when it cannot be said). */
  private refuse(
    slot: Slot,
    schema: ApiSchema,
    ctx: RequestContext,
    request: unknown,
    errorCode: number,
  ): void {
    const adv = this.broker.advertised();
    const body = errorResponse(
      schema,
      { ...ctx, broker: { nodeId: this.broker.nodeId, ...adv } },
      request,
      errorCode,
    );
    if (body === undefined) this.close('request refused by the authorizer', 'unsupported');
    else this.complete(slot, schema, ctx, body, null);
  }

  /** Mutes the connection (no request read) for ms from now, or longer if it already is. */
  private throttle(ms: number): void {
    if (ms <= 0 || this.closed) return;
    const until = performance.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    if (this.throttleTimer !== null) clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => {
      this.throttleTimer = null;
      this.maybeResume();
    }, ms);
    if (!this.inDrainFrames) this.updateReading();
  }

  /** Stops reading now; closes the connection delayMs after the slot's response is written. */
  private closeAfterResponse(slot: Slot, reason: string, delayMs: number): void {
    this.draining = true;
    this.pause();
    const close = (): void => {
      setTimeout(() => this.close(reason, 'authentication'), delayMs).unref();
    };
    if (slot.afterWrite === undefined) slot.afterWrite = [close];
    else slot.afterWrite.push(close);
  }

  /** A raw SASL token after SaslHandshake v0: answered with a raw token (size + bytes), no Kafka header. */
  private onRawSaslToken(token: Buffer): boolean {
    let response: Buffer;
    try {
      response = this.session.authenticate(token, performance.now()).response;
    } catch (err) {
      if (!(err instanceof SaslFailure)) throw err;
      const delay = this.session.listener.sasl?.failedAuthDelayMs ?? 0;
      this.draining = true;
      this.pause();
      setTimeout(
        () => this.close(`SASL authentication failed: ${err.message}`, 'authentication'),
        delay,
      ).unref();
      return false;
    }
    const size = Buffer.alloc(4);
    size.writeInt32BE(response.length);
    // Even PLAIN's empty answer is sent (a zero size), as Kafka does: v0 clients wait for it.
    this.queue.push({ done: true, chunks: [size, response], bytes: 0, start: 0 });
    this.scheduleFlush();
    return false;
  }

  /** `request` is given for a handler's response (an encoding failure is then answered as an error). */
  private complete(
    slot: Slot,
    schema: ApiSchema,
    ctx: RequestContext,
    response: unknown,
    request: unknown,
  ): void {
    if (this.closed) return;
    if (slot.handlerMs !== undefined) requestQuotaThrottle(ctx, request, response, slot.handlerMs);
    let bytes = 0;
    if (response !== null) {
      const w = new Writer(256);
      const sizePos = w.reserveInt32();
      w.int32(ctx.correlationId);
      if (responseHeaderVersion(ctx.apiKey, ctx.apiVersion) >= 1) w.uvarint(0);
      try {
        schema.encodeResponse(w, ctx.apiVersion, response as never);
      } catch (err) {
        this.handlerFailed(slot, schema, ctx, request, err);
        return;
      }
      w.patchInt32(sizePos, w.length - 4);
      bytes = w.length;
      slot.chunks = w.toChunks();
    }
    this.broker.metrics.response(
      ctx.apiKey,
      ctx.apiVersion,
      (performance.now() - slot.start) / 1000,
      response,
      bytes,
    );
    if (slot.holdMs !== undefined) {
      // An old client that does not throttle itself: the response waits out the throttle (Kafka's behaviour).
      const release = (): void => {
        clearTimeout(timer);
        this.held.delete(release);
        slot.done = true;
        this.scheduleFlush();
      };
      const timer = setTimeout(release, slot.holdMs);
      this.held.add(release);
      return;
    }
    slot.done = true;
    this.scheduleFlush();
  }

  /**
   * Responses completed in the same turn of the event loop (every request of one socket read, or every
   * fetch woken by one append) go out in one corked write: one syscall instead of one per response.
   */
  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flushFn);
  }

  private respondUnsupportedApiVersions(correlationId: number): void {
    const w = new Writer(256);
    const sizePos = w.reserveInt32();
    w.int32(correlationId);
    encodeApiVersionsResponse(w, 0, {
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      apiKeys: this.broker.apiVersionRanges(),
    });
    w.patchInt32(sizePos, w.length - 4);
    this.queue.push({ done: true, chunks: w.toChunks(), bytes: 0, start: 0 });
    this.scheduleFlush();
  }

  private flush(): void {
    let released = 0;
    let corked = false;
    while (this.queue.length > 0 && (this.queue[0] as Slot).done) {
      const slot = this.queue.shift() as Slot;
      if (slot.bytes > 0) {
        released += slot.bytes;
        this.inFlight--;
      }
      if (slot.chunks !== null && !this.closed) {
        if (!corked) {
          this.socket.cork();
          corked = true;
        }
        const chunks = slot.chunks;
        const last = chunks.length - 1;
        for (let i = 0; i < last; i++) this.socket.write(chunks[i] as Buffer);
        const after = slot.afterWrite;
        if (after === undefined) this.socket.write(chunks[last] as Buffer);
        else this.socket.write(chunks[last] as Buffer, () => runAll(after));
      } else if (slot.afterWrite !== undefined) {
        runAll(slot.afterWrite);
      }
    }
    if (corked) this.socket.uncork();
    if (released > 0) {
      this.memory.release(released, true);
      this.maybeResume();
    }
    if (this.draining && this.queue.length === 0) this.onDrained?.();
  }
}

function runAll(fns: (() => void)[]): void {
  for (const fn of fns) fn();
}
