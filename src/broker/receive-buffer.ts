// The bytes a connection has received and not yet handed on as requests: the socket's chunks in order, cut into
// `int32 size` + request frames. A frame inside one chunk is a view of it (no copy); a frame spanning chunks is
// copied once, into a pooled buffer (frame-pool.ts) when one is free, which the connection gives back once the
// request's bytes are provably unreferenced.

import * as limits from '../limits.js';
import { apiSchemas, requestHeaderVersion } from '../protocol/generated/apis.js';
import { FramePool } from './frame-pool.js';

const framePool = new FramePool(16 * 1024, limits.framePoolBufferBytesMax, limits.framePoolBytesMax);

export class ReceiveBuffer {
  private chunks: Buffer[] = [];
  private _bytes = 0;
  /** The pooled buffer the last frame taken was assembled in, until release() or keep(). */
  private assembled: Buffer | null = null;

  get bytes(): number {
    return this._bytes;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this._bytes += chunk.length;
  }

  /** The int32 at the front (a frame's size); needs bytes >= 4. */
  peekInt32(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32BE(0);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.readInt32BE(0);
  }

  /** Bytes still to come of the frame being received; -1 between frames (or within a size prefix). */
  remaining(): number {
    if (this._bytes < 4) return -1;
    return Math.max(0, 4 + this.peekInt32() - this._bytes);
  }

  /** Removes n bytes from the front, copying only when they span chunks. */
  take(n: number): Buffer {
    this._bytes -= n;
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const backing = framePool.alloc(n);
    if (backing !== null) this.assembled = backing;
    const out = backing === null ? Buffer.allocUnsafe(n) : backing.subarray(0, n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Buffer;
      const want = n - off;
      if (c.length <= want) {
        c.copy(out, off);
        off += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, off, 0, want);
        this.chunks[0] = c.subarray(want);
        off += want;
      }
    }
    return out;
  }

  /**
   * After the last frame taken was handled: dead says its bytes are provably unreferenced, so a pooled buffer it
   * was assembled in goes back to the pool (otherwise the garbage collector has it).
   */
  settleFrame(dead: boolean): void {
    if (this.assembled === null) return;
    if (dead) framePool.release(this.assembled);
    this.assembled = null;
  }

  /** Drops everything; returns how many bytes were dropped. */
  clear(): number {
    const n = this._bytes;
    this.chunks = [];
    this._bytes = 0;
    return n;
  }

  /** What the first bytes of a partly received request say (size, API, client id), for the log. */
  describePartial(): Record<string, unknown> {
    const parts: Buffer[] = [];
    let length = 0;
    for (const c of this.chunks) {
      parts.push(c);
      length += c.length;
      if (length >= 4096) break; // the header (client ids are short); not a 100 MB copy
    }
    const head = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
    const out: Record<string, unknown> = {};
    if (head.length >= 4) out.size = head.readInt32BE(0);
    if (head.length < 12) return out;
    const apiKey = head.readInt16BE(4);
    const apiVersion = head.readInt16BE(6);
    out.apiKey = apiKey;
    out.apiVersion = apiVersion;
    out.correlationId = head.readInt32BE(8);
    const len = head.length >= 14 ? head.readInt16BE(12) : -2;
    const withClientId = apiSchemas.has(apiKey) && requestHeaderVersion(apiKey, apiVersion) >= 1;
    if (withClientId && len >= 0 && head.length >= 14 + len) {
      out.clientId = head.toString('utf8', 14, 14 + len);
    }
    return out;
  }
}
