// Buffers that segment reads land in. PERF-NOTES: the kernel copies page-cache data ~6x faster into a
// destination that starts on a 4 KiB boundary than into one 8-24 bytes past it (where a large Buffer.allocUnsafe
// lands: glibc's mmap chunk header), and memory touched for the first time is ~6x slower again than reused
// memory. So reads are cut from big slabs at page boundaries, and slabs are recycled when their readers say so.
//
// A slab of readSlabBytes from allocUnsafeSlow is always mmapped by glibc, so its byteOffset 0 sits at
// page + 16 and byteOffset 4080 on a page boundary (x86-64 glibc; elsewhere slices are merely 4 KiB apart).
//
// Lifetime: slices are handed out front to back. A slice stays valid for as long as anyone holds it UNLESS it is
// passed to release(): then its memory may be handed out again. A slab whose slices were all released goes back
// to a small free list once it is full; a slab with slices never released is simply dropped and freed by the
// GC when the last of them is gone. So callers that never release are always safe (fresh memory per slab), and
// the broker releases a fetch's chunks in the socket write callback to get recycled, already-touched memory.

import { readSlabBytes } from '../limits.js';

const PAGE = 4096;
const GLIBC_MMAP_HEADER = 16;
const FREE_SLABS_MAX = 2;

interface Slab {
  buf: Buffer;
  next: number;
  outstanding: number;
}

export class ReadBufferPool {
  private current: Slab | null = null;
  private readonly free: Slab[] = [];
  /** Slices handed out and not yet released, with their slab. */
  private readonly owners = new WeakMap<Buffer, Slab>();

  constructor(private readonly slabBytes = readSlabBytes) {}

  /** A page-aligned buffer of exactly `bytes` (contents undefined). */
  alloc(bytes: number): Buffer {
    if (bytes > this.slabBytes / 4) return pageAligned(bytes);
    const rounded = Math.ceil(bytes / PAGE) * PAGE || PAGE;
    let slab = this.current;
    if (slab === null || slab.next + rounded > slab.buf.length) {
      if (slab !== null) this.retire(slab);
      slab = this.free.pop() ?? { buf: pageAligned(this.slabBytes), next: 0, outstanding: 0 };
      slab.next = 0;
      this.current = slab;
    }
    const out = slab.buf.subarray(slab.next, slab.next + bytes);
    slab.next += rounded;
    slab.outstanding++;
    this.owners.set(out, slab);
    return out;
  }

  /**
   * Hands the ownership of `from` (a slice from alloc) to `to` (a view of it, e.g. trimmed to whole batches):
   * releasing `to` then releases the slice. Returns `to`.
   */
  transfer(from: Buffer, to: Buffer): Buffer {
    const slab = this.owners.get(from);
    if (slab !== undefined && from !== to) {
      this.owners.delete(from);
      this.owners.set(to, slab);
    }
    return to;
  }

  /** The caller is done with buf (and every view of it): its memory may be reused. Unknown buffers are ignored. */
  release(buf: Buffer): void {
    const slab = this.owners.get(buf);
    if (slab === undefined) return;
    this.owners.delete(buf);
    slab.outstanding--;
    if (slab.outstanding === 0 && slab !== this.current) this.recycle(slab);
  }

  private retire(slab: Slab): void {
    this.current = null;
    if (slab.outstanding === 0) this.recycle(slab);
  }

  private recycle(slab: Slab): void {
    if (this.free.length < FREE_SLABS_MAX && !this.free.includes(slab)) this.free.push(slab);
  }
}

function pageAligned(bytes: number): Buffer {
  const raw = Buffer.allocUnsafeSlow(bytes + PAGE);
  const start = PAGE - GLIBC_MMAP_HEADER;
  return raw.subarray(start, start + bytes);
}

/** The process-wide pool partition logs read into unless told otherwise. */
export const defaultReadBufferPool = new ReadBufferPool();

/** Releases the chunks of a PartitionLog.read (read with the default pool) once they were written out. */
export function releaseReadBuffers(chunks: readonly Buffer[]): void {
  for (const c of chunks) defaultReadBufferPool.release(c);
}
