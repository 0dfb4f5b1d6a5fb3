// The internal client's connection: one socket, pipelined requests matched to responses by
// correlation id, versions negotiated with ApiVersions on connect. Shared by the CLI, the perf
// tools, the tests and (later) broker-to-broker traffic.
//
// ApiVersions goes out at the highest version this client knows (v5, KIP-1242: with the cluster id and node
// id it means to reach when the caller knows them; a broker that is not that node answers
// REBOOTSTRAP_REQUIRED, and connect() fails with a KafkaClientError saying so). A broker that does not know
// that version answers UNSUPPORTED_VERSION in a v0 body with its own ApiVersions range (KIP-511), and the
// request is sent again at the highest version both know, as Kafka's clients do.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { FramePool } from '../broker/frame-pool.js';
import * as limits from '../limits.js';
import {
  ApiKey,
  apiSchemas,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../protocol/generated/apis.js';
import { encodeRequestHeader } from '../protocol/generated/request-header.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { ScramClient } from '../security/sasl/scram.js';
import { FrameReader } from './frame-reader.js';

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
  /** requestPooled: the response's frame comes from framePool and goes back with release(). */
  pooled: boolean;
  /** The pooled buffer the response was received into (set when its frame is allocated). */
  backing: Buffer | null;
}

/** A response whose frame memory is reused once release() says nothing holds it any more (see requestPooled). */
export interface PooledResponse<T> {
  body: T;
  /** Gives the frame back; after it, every Buffer in body (records, bytes fields) may be overwritten. */
  release(): void;
}

/**
 * Frames of requestPooled responses, shared by all connections of the process. Only opted-in responses take from
 * it and only their release() gives back, so a response of request() never shares memory with a later one.
 */
const framePool = new FramePool(
  limits.clientReadBufferBytes,
  limits.clientFramePoolBufferBytesMax,
  limits.clientFramePoolBytesMax,
);

export interface ConnectOptions {
  host: string;
  port: number;
  clientId?: string;
  timeoutMs?: number;
  /** Largest response frame accepted. */
  responseBytesMax?: number;
  /** TLS and SASL, as the listener connected to requires (PLAINTEXT when absent). */
  security?: ClientSecurity;
  /** The cluster and node this connection is meant to reach (ApiVersions v5 checks both; set both or neither). */
  expect?: { clusterId: string; nodeId: number };
}

/** A client's security settings (Kafka's security.protocol, ssl.*, sasl.mechanism and JAAS login). */
export interface ClientSecurity {
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  /** ca, cert, key, servername, checkServerIdentity... (Node's tls.connect options). */
  tls?: tls.ConnectionOptions;
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
}

const UNSUPPORTED_VERSION = 35;
const REBOOTSTRAP_REQUIRED = 129;

interface ApiVersionsAnswer {
  errorCode: number;
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
}

export class KafkaConnection {
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closedError: Error | null = null;
  private readonly versions = new Map<number, { min: number; max: number }>();
  readonly clientId: string;
  /** The broker address this connection was opened to. */
  readonly remote: { host: string; port: number };

  private constructor(
    private readonly socket: net.Socket,
    opts: ConnectOptions,
    reader: FrameReader,
  ) {
    this.clientId = opts.clientId ?? 'samsa-client';
    this.remote = { host: opts.host, port: opts.port };
    reader.sink = {
      allocFrame: (size, correlationId) => this.allocFrame(size, correlationId),
      onFrame: (frame) => this.onFrame(frame),
      onStreamError: (message) => {
        this.fail(new KafkaClientError(message));
        this.socket.destroy();
      },
    };
    socket.setNoDelay(true);
    // Only when onread was ignored (a socket passed in the TLS options): then data comes as chunks.
    socket.on('data', (c: Buffer) => reader.cut(c, 0, c.length));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new KafkaClientError('connection closed by the broker')));
  }

  static async connect(opts: ConnectOptions): Promise<KafkaConnection> {
    const sec = opts.security;
    const useTls = sec !== undefined && (sec.protocol === 'SSL' || sec.protocol === 'SASL_SSL');
    const reader = new FrameReader(opts.responseBytesMax ?? limits.clientResponseBytesMaxDefault);
    // Node's tls.connect takes onread as net.connect does (its typings omit it); it ignores it when given a socket.
    const onread = reader.onread();
    const tlsOptions: tls.ConnectionOptions & Pick<net.TcpSocketConnectOpts, 'onread'> = {
      servername: net.isIP(opts.host) === 0 ? opts.host : undefined,
      ...sec?.tls,
      host: opts.host,
      port: opts.port,
      onread,
    };
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = useTls ? tls.connect(tlsOptions) : net.connect({ host: opts.host, port: opts.port, onread });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new KafkaClientError(`timed out connecting to ${opts.host}:${opts.port}`));
      }, opts.timeoutMs ?? 10_000);
      s.once(useTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new KafkaClientError(`cannot connect to ${opts.host}:${opts.port}: ${e.message}`));
      });
    });
    const conn = new KafkaConnection(socket, opts, reader);
    const ours = apiSchemas.get(ApiKey.ApiVersions)?.maxVersion ?? 3;
    const body = {
      clientSoftwareName: 'samsa',
      clientSoftwareVersion: '0.1.0',
      clusterId: opts.expect?.clusterId ?? null,
      nodeId: opts.expect?.nodeId ?? -1,
    };
    let res = (await conn.send(ApiKey.ApiVersions, ours, body)) as ApiVersionsAnswer;
    if (res.errorCode === UNSUPPORTED_VERSION) {
      const theirs = res.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
      const v = Math.min(theirs?.maxVersion ?? 0, ours);
      res = (await conn.send(ApiKey.ApiVersions, v, body)) as ApiVersionsAnswer;
    }
    if (res.errorCode === REBOOTSTRAP_REQUIRED) {
      conn.close();
      throw new KafkaClientError(
        `${opts.host}:${opts.port} is not node ${opts.expect?.nodeId} of cluster ${opts.expect?.clusterId} (REBOOTSTRAP_REQUIRED)`,
      );
    }
    if (res.errorCode !== 0) {
      conn.close();
      throw new KafkaClientError(
        `ApiVersions to ${opts.host}:${opts.port} failed with error ${res.errorCode}`,
      );
    }
    for (const k of res.apiKeys) conn.versions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
    if (sec?.sasl !== undefined && (sec.protocol === 'SASL_PLAINTEXT' || sec.protocol === 'SASL_SSL')) {
      try {
        await conn.authenticate(sec.sasl);
      } catch (err) {
        conn.close();
        throw err;
      }
    }
    return conn;
  }

  /** SaslHandshake v1 and SaslAuthenticate with the mechanism's messages; throws KafkaClientError on failure. */
  async authenticate(sasl: NonNullable<ClientSecurity['sasl']>): Promise<void> {
    const hs = (await this.send(ApiKey.SaslHandshake, 1, { mechanism: sasl.mechanism })) as {
      errorCode: number;
      mechanisms: string[];
    };
    if (hs.errorCode !== 0) {
      throw new KafkaClientError(
        `SASL mechanism ${sasl.mechanism} refused (error ${hs.errorCode}); the listener offers ${hs.mechanisms.join(', ')}`,
      );
    }
    const step = async (bytes: Buffer): Promise<Buffer> => {
      const r = (await this.send(ApiKey.SaslAuthenticate, 2, { authBytes: bytes })) as {
        errorCode: number;
        errorMessage: string | null;
        authBytes: Uint8Array;
      };
      if (r.errorCode !== 0)
        throw new KafkaClientError(`SASL authentication failed: ${r.errorMessage ?? r.errorCode}`);
      return Buffer.from(r.authBytes);
    };
    if (sasl.mechanism === 'PLAIN') {
      await step(Buffer.from(`\u0000${sasl.username}\u0000${sasl.password}`, 'utf8'));
      return;
    }
    const scram = new ScramClient(sasl.mechanism, sasl.username, sasl.password);
    const serverFirst = await step(scram.first());
    scram.verify(await step(scram.final(serverFirst)));
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

  /**
   * request() whose response is received into pooled memory, reused for a later pooled response once the caller
   * calls release(). Byte fields of the body (a Fetch's records) are views of that memory: release only when
   * nothing holds them or anything cut from them (the perf consumer, after it walked the records). Unreleased
   * responses are left to the garbage collector, as with request().
   */
  async requestPooled<T = unknown>(
    apiKey: number,
    body: unknown,
    version = this.version(apiKey),
  ): Promise<PooledResponse<T>> {
    const pending = await this.sendPending(apiKey, version, body, true);
    let backing = pending.entry.backing;
    return {
      body: pending.body as T,
      release: () => {
        if (backing !== null) framePool.release(backing);
        backing = null;
      },
    };
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  sendNoResponse(apiKey: number, body: unknown, version = this.version(apiKey)): void {
    this.write(apiKey, version, body, this.nextCorrelationId++);
  }

  send(apiKey: number, version: number, body: unknown): Promise<unknown> {
    return this.sendPending(apiKey, version, body, false).then((p) => p.body);
  }

  private sendPending(
    apiKey: number,
    version: number,
    body: unknown,
    pooled: boolean,
  ): Promise<{ body: unknown; entry: Pending }> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        apiKey,
        version,
        resolve: (v) => resolve({ body: v, entry }),
        reject,
        pooled,
        backing: null,
      };
      this.pending.set(correlationId, entry);
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

  /** The buffer a response frame is received into: pooled for requestPooled, fresh otherwise. */
  private allocFrame(size: number, correlationId: number): Buffer {
    const p = this.pending.get(correlationId);
    if (p?.pooled === true) {
      const backing = framePool.alloc(size);
      if (backing !== null) {
        p.backing = backing;
        return backing.subarray(0, size);
      }
    }
    return Buffer.allocUnsafe(size);
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
      // A broker answers an ApiVersions version it does not know with UNSUPPORTED_VERSION in a v0 body.
      const unsupportedApiVersions =
        p.apiKey === ApiKey.ApiVersions &&
        r.remaining() >= 2 &&
        frame.readInt16BE(r.offset) === UNSUPPORTED_VERSION;
      p.resolve(schema.decodeResponse(r, unsupportedApiVersions ? 0 : p.version));
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
