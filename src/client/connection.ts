// The internal client's connection: one socket, pipelined requests matched to responses by
// correlation id, versions negotiated with ApiVersions on connect. Shared by the CLI, the perf
// tools, the tests and (later) broker-to-broker traffic.

import * as net from 'node:net';
import {
  ApiKey,
  apiSchemas,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../protocol/generated/apis.js';
import { encodeRequestHeader } from '../protocol/generated/request-header.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

export class KafkaClientError extends Error {}

/**
 * The newest version negotiated by default where a newer one changes what a request body must carry: Produce v13
 * and TxnOffsetCommit v6 name topics by id, not name. A caller that fills topic ids asks for the version itself.
 */
const DEFAULT_VERSION_CAP: ReadonlyMap<number, number> = new Map([
  [ApiKey.Produce, 12],
  [ApiKey.TxnOffsetCommit, 5],
]);

interface Pending {
  apiKey: number;
  version: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export interface ConnectOptions {
  host: string;
  port: number;
  clientId?: string;
  timeoutMs?: number;
  /** Largest response frame accepted. */
  responseBytesMax?: number;
}

export class KafkaConnection {
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: Error | null = null;
  private readonly versions = new Map<number, { min: number; max: number }>();
  readonly clientId: string;
  /** The broker address this connection was opened to. */
  readonly remote: { host: string; port: number };
  private readonly responseBytesMax: number;

  private constructor(
    private readonly socket: net.Socket,
    opts: ConnectOptions,
  ) {
    this.clientId = opts.clientId ?? 'samsa-client';
    this.remote = { host: opts.host, port: opts.port };
    this.responseBytesMax = opts.responseBytesMax ?? 256 * 1024 * 1024;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new KafkaClientError('connection closed by the broker')));
  }

  static async connect(opts: ConnectOptions): Promise<KafkaConnection> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new KafkaClientError(`timed out connecting to ${opts.host}:${opts.port}`));
      }, opts.timeoutMs ?? 10_000);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new KafkaClientError(`cannot connect to ${opts.host}:${opts.port}: ${e.message}`));
      });
    });
    const conn = new KafkaConnection(socket, opts);
    const res = (await conn.send(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'samsa',
      clientSoftwareVersion: '0.1.0',
    })) as {
      errorCode: number;
      apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
    };
    for (const k of res.apiKeys) conn.versions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
    return conn;
  }

  /** True when the broker advertised the API in ApiVersions. */
  supports(apiKey: number): boolean {
    return this.versions.has(apiKey);
  }

  /** The highest version of an API both sides support. */
  version(apiKey: number): number {
    const theirs = this.versions.get(apiKey);
    const ours = apiSchemas.get(apiKey);
    if (theirs === undefined || ours === undefined)
      throw new KafkaClientError(`the broker does not support API ${apiKey}`);
    const v = Math.min(
      theirs.max,
      ours.maxVersion,
      DEFAULT_VERSION_CAP.get(apiKey) ?? Number.MAX_SAFE_INTEGER,
    );
    if (v < Math.max(theirs.min, ours.minVersion))
      throw new KafkaClientError(`no common version for API ${apiKey}`);
    return v;
  }

  /** Sends a request with the negotiated version. */
  request<T = unknown>(apiKey: number, body: unknown, version = this.version(apiKey)): Promise<T> {
    return this.send(apiKey, version, body) as Promise<T>;
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  sendNoResponse(apiKey: number, body: unknown, version = this.version(apiKey)): void {
    this.write(apiKey, version, body, this.nextCorrelationId++);
  }

  send(apiKey: number, version: number, body: unknown): Promise<unknown> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      this.pending.set(correlationId, { apiKey, version, resolve, reject });
      this.write(apiKey, version, body, correlationId);
    });
  }

  /**
   * send() with a time limit: a peer that does not answer within timeoutMs has this connection closed (its
   * other requests fail too) and the promise rejects, naming `what` (e.g. the setting that sets the limit).
   */
  async sendWithin(
    apiKey: number,
    version: number,
    body: unknown,
    timeoutMs: number,
    what: string,
  ): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.send(apiKey, version, body),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.close();
            reject(
              new KafkaClientError(
                `no answer from ${this.remote.host}:${this.remote.port} within ${what} (${timeoutMs} ms)`,
              ),
            );
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Writes raw bytes (tests use this to send malformed frames). */
  writeRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  private write(apiKey: number, version: number, body: unknown, correlationId: number): void {
    const schema = apiSchemas.get(apiKey);
    if (schema === undefined) throw new KafkaClientError(`unknown API ${apiKey}`);
    const w = new Writer(256);
    const sizePos = w.reserveInt32();
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: this.clientId,
    });
    schema.encodeRequest(w, version, body as never);
    w.patchInt32(sizePos, w.length - 4);
    this.socket.cork();
    for (const c of w.toChunks()) this.socket.write(c);
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      let head = this.chunks[0] as Buffer;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const size = head.readInt32BE(0);
      if (size < 4 || size > this.responseBytesMax) {
        this.fail(new KafkaClientError(`response size ${size} out of bounds`));
        this.socket.destroy();
        return;
      }
      if (this.buffered < 4 + size) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (p === undefined) {
      this.fail(new KafkaClientError(`response with unknown correlation id ${correlationId}`));
      return;
    }
    this.pending.delete(correlationId);
    try {
      const r = new Reader(frame, 4);
      if (responseHeaderVersion(p.apiKey, p.version) >= 1) r.skipTaggedFields();
      const schema = apiSchemas.get(p.apiKey);
      if (schema === undefined) throw new KafkaClientError(`unknown API ${p.apiKey}`);
      p.resolve(schema.decodeResponse(r, p.version));
    } catch (e) {
      p.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private fail(err: Error): void {
    if (this.closedError === null) this.closedError = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Resolves when the broker closes the connection (tests of bad input). */
  closed(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  close(): void {
    this.socket.destroy();
  }
}
