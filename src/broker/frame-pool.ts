// Recycled buffers for request frames (see FramePool); used by Connection.

/**
 * Buffers for request frames that arrive split across socket reads (Node reads at most 64 KiB at a time, so
 * every produce request larger than that, and many smaller ones, must be copied into one contiguous buffer).
 * A fresh ArrayBuffer per frame costs a malloc, often fresh pages, and external memory that drives V8 into
 * full mark-compact GCs (about a fifth of the broker's CPU under 128 KiB produce requests before this pool).
 * Buffers go back to the pool only when the request is known to be dead after its handler returned: a
 * Produce answered synchronously (its records were written to the log; the asynchronous recompression path
 * keeps them, so it is not recycled). Everything else is left to the GC, so a handler that keeps views of its
 * request stays correct.
 */
export class FramePool {
  private readonly free = new Map<number, Buffer[]>();
  private pooledBytes = 0;

  constructor(
    private readonly classMinBytes: number,
    private readonly classMaxBytes: number,
    private readonly pooledBytesMax: number,
  ) {}

  /** A buffer of at least n bytes (a power of two), or null when n is outside the pooled sizes. */
  alloc(n: number): Buffer | null {
    if (n > this.classMaxBytes) return null;
    let size = this.classMinBytes;
    while (size < n) size *= 2;
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf !== undefined) {
      this.pooledBytes -= buf.length;
      return buf;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  /** Takes back a buffer from alloc whose contents nobody references any more. */
  release(buf: Buffer): void {
    if (this.pooledBytes + buf.length > this.pooledBytesMax) return;
    let list = this.free.get(buf.length);
    if (list === undefined) {
      list = [];
      this.free.set(buf.length, list);
    }
    list.push(buf);
    this.pooledBytes += buf.length;
  }
}
