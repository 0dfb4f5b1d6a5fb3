// The bytes a connection has received and not yet handed on as requests: the socket's chunks in order, cut into
// `int32 size` + request frames. A frame inside one chunk is a view of it (no copy); a frame spanning chunks is
// copied once, into a pooled buffer (frame-pool.ts) when one is free, which the connection gives back once the
// request's bytes are provably unreferenced.
// Once the connection has checked the size of a frame still arriving (beginFrame), its bytes are copied into the
// frame's buffer as each socket read comes in (up to limits.frameEarlyAssemblyBytesMax across all connections):
// the reads (64 KiB each, external memory) then die young instead of waiting, up to 2 MiB of them per connection
// under 256 KiB batches, for the rest of the request. The copy is the same size, made while the read is in cache.
// An announced size reserves a pooled buffer only within that global bound (request memory counts bytes received).

import * as limits from '../limits.js';
import { apiSchemas, requestHeaderVersion } from '../protocol/generated/apis.js';
import { FramePool } from './frame-pool.js';

const framePool = new FramePool(16 * 1024, limits.framePoolBufferBytesMax, limits.framePoolBytesMax);
/** Bytes of the buffers frames are being assembled in early (beginFrame), across all connections. */
let earlyBytes = 0;

/** Bytes of the buffers frames are being assembled in early, across all connections (for tests and metrics). */
export function earlyAssemblyBytes(): number {
  return earlyBytes;
}

export class ReceiveBuffer {
  private chunks: Buffer[] = [];
  private _bytes = 0;
  /** The pooled buffer the last frame taken was assembled in, until release() or keep(). */
  private assembled: Buffer | null = null;
  /**
   * The frame being assembled as it arrives (beginFrame): its buffer holds the first earlyFilled of its
   * earlySize bytes, the front of what was received; chunks are empty until it is complete.
   */
  private early: Buffer | null = null;
  private earlySize = 0;
  private earlyFilled = 0;

  get bytes(): number {
    return this._bytes;
  }

  push(chunk: Buffer): void {
    this._bytes += chunk.length;
    let rest = chunk;
    if (this.early !== null && this.earlyFilled < this.earlySize) {
      const want = this.earlySize - this.earlyFilled;
      const n = Math.min(want, rest.length);
      rest.copy(this.early, this.earlyFilled, 0, n);
      this.earlyFilled += n;
      if (n === rest.length) return;
      rest = rest.subarray(n);
    }
    this.chunks.push(rest);
  }

  /**
   * The connection has checked the size of the frame at the front, n bytes with its size prefix, which has not
   * fully arrived: its bytes are copied into its own buffer from now on, as they come (when the early-assembly
   * budget allows and n is a pooled size).
   */
  beginFrame(n: number): void {
    if (this.early !== null || this._bytes >= n || n > limits.framePoolBufferBytesMax) return;
    if (earlyBytes + n > limits.frameEarlyAssemblyBytesMax) return;
    const backing = framePool.alloc(n);
    if (backing === null) return;
    let off = 0;
    for (const c of this.chunks) {
      c.copy(backing, off);
      off += c.length;
    }
    this.chunks = [];
    this.early = backing;
    this.earlySize = n;
    this.earlyFilled = off;
    earlyBytes += backing.length;
  }

  /** Ends early assembly, returning its buffer. */
  private endEarly(): Buffer {
    const early = this.early as Buffer;
    earlyBytes -= early.length;
    this.early = null;
    return early;
  }

  /** The int32 at the front (a frame's size); needs bytes >= 4. */
  peekInt32(): number {
    if (this.early !== null) return this.early.readInt32BE(0);
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
    if (this.early !== null) {
      if (n === this.earlySize && this.earlyFilled === n) {
        this._bytes -= n;
        this.assembled = this.endEarly();
        return this.assembled.subarray(0, n);
      }
      // Not the frame announced (the caller's mistake): its bytes go back to the chunks, the buffer to the GC.
      const filled = this.earlyFilled;
      this.chunks.unshift(this.endEarly().subarray(0, filled));
    }
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
    if (this.early !== null) framePool.release(this.endEarly());
    this.chunks = [];
    this._bytes = 0;
    return n;
  }

  /** What the first bytes of a partly received request say (size, API, client id), for the log. */
  describePartial(): Record<string, unknown> {
    const parts: Buffer[] = [];
    let length = 0;
    if (this.early !== null) {
      parts.push(this.early.subarray(0, this.earlyFilled));
      length += this.earlyFilled;
    }
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
