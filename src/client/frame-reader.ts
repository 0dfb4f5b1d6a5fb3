// Cuts a connection's byte stream into response frames (`int32 size` + frame), reading the socket with Node's
// `onread` option so that the bytes of a large frame land where they belong: once a frame's size is known, reads go
// straight into a buffer of that size (no chunk list, no concatenation, no per-read buffer for the GC).
//
// States: between frames, reads go into a reusable scratch buffer; the 8-byte head (size + correlation id) is taken
// from it (gathered across reads when split). A frame wholly inside the scratch is copied out to a buffer of its
// own size (the scratch is overwritten by the next read). A frame larger than the rest of the read gets its buffer
// (allocFrame: the caller picks pooled or fresh memory by correlation id), the bytes read so far are copied in, and
// while at least a scratch's worth of it is missing the next reads go directly into its remainder; its tail and
// whatever follows are read into the scratch again.

import { clientReadBufferBytes } from '../limits.js';

/** Where the reader hands what it cut out. */
export interface FrameSink {
  /** A buffer of exactly size bytes for the frame with this correlation id (may be a view of a larger one). */
  allocFrame(size: number, correlationId: number): Buffer;
  /** A whole frame (from the correlation id on); it is the buffer allocFrame returned, now filled. */
  onFrame(frame: Buffer): void;
  /** The stream is unusable (a size out of bounds); nothing more is delivered. */
  onStreamError(message: string): void;
}

const HEAD_BYTES = 8;

export class FrameReader {
  sink: FrameSink | null = null;
  private scratch = Buffer.allocUnsafeSlow(clientReadBufferBytes);
  /** The 8-byte head (size, correlation id) while it arrives split across reads. */
  private readonly head = Buffer.alloc(HEAD_BYTES);
  private headLength = 0;
  /** The frame being filled; null between frames. */
  private frame: Buffer | null = null;
  private filled = 0;
  /** The buffer handed to the socket for its next read. */
  private readTarget: Buffer = this.scratch;
  private broken = false;

  constructor(private readonly frameBytesMax: number) {}

  /** Node's onread option for net.connect / tls.connect. */
  onread(): { buffer: () => Buffer; callback: (n: number, buf: Buffer) => boolean } {
    return {
      buffer: () => this.nextReadTarget(),
      callback: (n, buf) => {
        this.didRead(n, buf);
        return true;
      },
    };
  }

  private nextReadTarget(): Buffer {
    const f = this.frame;
    this.readTarget =
      f !== null && f.length - this.filled >= this.scratch.length ? f.subarray(this.filled) : this.scratch;
    return this.readTarget;
  }

  /** n bytes were read into buf (the buffer nextReadTarget returned last). */
  private didRead(n: number, buf: Buffer): void {
    if (this.broken) return;
    if (buf === this.scratch) {
      this.cut(buf, 0, n);
      return;
    }
    // A read straight into the frame's remainder.
    this.filled += n;
    const f = this.frame as Buffer;
    if (this.filled === f.length) this.complete();
  }

  /** Feeds bytes that are not in the frame's buffer yet (tests call this directly with any split). */
  cut(buf: Buffer, off: number, end: number): void {
    while (off < end && !this.broken) {
      if (this.frame === null) {
        let size: number;
        let correlationId: number;
        if (this.headLength === 0 && end - off >= HEAD_BYTES) {
          size = buf.readInt32BE(off);
          correlationId = buf.readInt32BE(off + 4);
          off += HEAD_BYTES;
        } else {
          const n = Math.min(HEAD_BYTES - this.headLength, end - off);
          buf.copy(this.head, this.headLength, off, off + n);
          this.headLength += n;
          off += n;
          // A size prefix is checked as soon as it is whole (a bad one must not wait for 4 more bytes).
          if (this.headLength >= 4 && !this.sizeValid(this.head.readInt32BE(0))) return;
          if (this.headLength < HEAD_BYTES) return;
          this.headLength = 0;
          size = this.head.readInt32BE(0);
          correlationId = this.head.readInt32BE(4);
        }
        if (!this.sizeValid(size)) return;
        const sink = this.sink;
        if (sink === null) {
          this.fail('a response arrived before any request was sent');
          return;
        }
        const f = sink.allocFrame(size, correlationId);
        f.writeInt32BE(correlationId, 0);
        this.frame = f;
        this.filled = 4;
      }
      const f = this.frame;
      const n = Math.min(f.length - this.filled, end - off);
      buf.copy(f, this.filled, off, off + n);
      this.filled += n;
      off += n;
      if (this.filled === f.length) this.complete();
    }
  }

  private sizeValid(size: number): boolean {
    if (size >= 4 && size <= this.frameBytesMax) return true;
    this.fail(`response size ${size} out of bounds`);
    return false;
  }

  private complete(): void {
    const f = this.frame as Buffer;
    this.frame = null;
    this.filled = 0;
    this.sink?.onFrame(f);
  }

  private fail(message: string): void {
    this.broken = true;
    this.frame = null;
    this.sink?.onStreamError(message);
  }
}
