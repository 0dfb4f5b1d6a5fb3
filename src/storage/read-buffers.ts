// Buffers that segment reads land in. PERF-NOTES: the kernel copies page-cache data ~6x faster into a
// destination that starts on a 4 KiB boundary than into one 8-24 bytes past it, which is where a large
// Buffer.allocUnsafe lands (glibc's mmap chunk header). So reads are cut from one big slab at page boundaries.
//
// A slab of readSlabBytes from allocUnsafeSlow is always mmapped by glibc, so its byteOffset 0 sits at
// page + 16 and byteOffset 4080 on a page boundary (x86-64 glibc; elsewhere the slices are merely 4 KiB apart).
// Slices are handed out front to back and never reused: a slab is dropped when full and freed by the GC once
// the last slice taken from it (e.g. a fetch response still queued on a socket) is gone, so a slice stays valid
// for as long as anyone holds it. Recycling slabs would also avoid first-touch costs but needs the broker to say
// when a socket write completed; read() takes an `alloc` argument for that.

import { readSlabBytes } from '../limits.js';

const PAGE = 4096;
const GLIBC_MMAP_HEADER = 16;

export type ReadAlloc = (bytes: number) => Buffer;

export class ReadBufferPool {
  private slab: Buffer | null = null;
  private next = 0;

  constructor(private readonly slabBytes = readSlabBytes) {}

  /** A page-aligned buffer of exactly `bytes` (contents undefined). */
  alloc(bytes: number): Buffer {
    if (bytes > this.slabBytes / 4) return pageAligned(bytes);
    const rounded = Math.ceil(bytes / PAGE) * PAGE || PAGE;
    if (this.slab === null || this.next + rounded > this.slab.length) {
      this.slab = pageAligned(this.slabBytes);
      this.next = 0;
    }
    const out = this.slab.subarray(this.next, this.next + bytes);
    this.next += rounded;
    return out;
  }
}

function pageAligned(bytes: number): Buffer {
  const raw = Buffer.allocUnsafeSlow(bytes + PAGE);
  const start = PAGE - GLIBC_MMAP_HEADER;
  return raw.subarray(start, start + bytes);
}

/** The process-wide pool partition logs read into unless told otherwise. */
export const defaultReadBufferPool = new ReadBufferPool();
export const defaultReadAlloc: ReadAlloc = (n) => defaultReadBufferPool.alloc(n);
