// A moving window over a .log for sequential scans of batch headers (or whole batches): one positional read
// fills the buffer, later views inside it are free.

import * as fs from 'node:fs';

/** A moving window over a .log for sequential scans of headers (or whole batches). */
export class LogWindow {
  private start = 0;
  private len = 0;

  constructor(
    private readonly fd: number,
    private readonly fileSize: number,
    private buf: Buffer = Buffer.allocUnsafe(256 * 1024),
  ) {}

  /** Bytes [pos, pos + n) of the file, or null when the file ends first. Valid until the next call. */
  view(pos: number, n: number): Buffer | null {
    if (pos + n > this.fileSize) return null;
    if (pos >= this.start && pos + n <= this.start + this.len) {
      return this.buf.subarray(pos - this.start, pos - this.start + n);
    }
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
    const want = Math.min(this.buf.length, this.fileSize - pos);
    let got = 0;
    while (got < want) {
      const r = fs.readSync(this.fd, this.buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    this.start = pos;
    this.len = got;
    return got >= n ? this.buf.subarray(0, n) : null;
  }
}
