// The contract between the request pipeline and the per-API handlers in handlers/.
//
// A handler declares the API key and the version range it serves; the registry (handlers/index.ts)
// is the only source of the ApiVersions response. A handler gets the decoded request and returns
// the response body (or a promise of it, for long polls), or `null` when the API sends no response
// (Produce with acks=0).

import type { SecuritySession } from '../security/session.js';
import type { Broker } from './broker.js';

export interface RequestContext {
  readonly broker: Broker;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** host:port of the client, for log lines. */
  readonly clientAddress: string;
  /** Set when the connection closes, so long-running handlers can give up early. */
  readonly signal: AbortSignal;
  /**
   * Runs fn once the response's bytes have been handed to the kernel (or the write failed): the buffers the
   * response referenced may then be reused (Fetch recycles its read buffers this way). Not run when the
   * connection closes before the response is written; unreleased buffers are simply left to the GC.
   */
  afterResponseWritten(fn: () => void): void;
  /** The connection's listener, principal and SASL state (src/security/session.ts). */
  readonly session: SecuritySession;
  /** Closes the connection delayMs after this request's response is written (a failed authentication). */
  closeAfterResponse(reason: string, delayMs: number): void;
  /** The request's size in bytes (header and body, without the size prefix): what a produce quota counts. */
  readonly requestBytes: number;
  /**
   * Mutes the connection for ms (a client over its quota, KIP-219): responses still go out, no request is read
   * from it until then.
   */
  throttle(ms: number): void;
}

export interface Handler<Req = never, Res = unknown> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: Req): Res | null | Promise<Res | null>;
}

/** Declares a handler with its request and response types checked against the generated codecs. */
export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res> {
  return h;
}
