// The transaction index of one segment: <baseOffset as 20 digits>.txnindex (Kafka's TransactionIndex), one entry
// per transaction aborted by a marker in that segment, in marker order. Big-endian, 34 bytes each, no header:
//
//    0 version           int16   0
//    2 producerId        int64
//   10 firstOffset       int64   the transaction's first offset (may lie in an earlier segment)
//   18 lastOffset        int64   the abort marker's offset
//   26 lastStableOffset  int64   the partition's last stable offset once this transaction was aborted
//
// Read_committed fetches return the entries whose transactions overlap the fetched range, so the consumer can
// drop the aborted records. Entries are appended when an abort marker is written (leader or follower) and are
// not checksummed: after an unclean stop the index of every recovered segment is rebuilt by replaying the log
// (PartitionLog.loadProducerState); a file whose length is not a multiple of 34, or an entry with another
// version or going backwards, is cut at the first bad entry (logged). The file exists only once an entry was
// written. It is loaded lazily, kept in memory (aborts are rare next to data), and deleted, truncated and
// renamed with its segment.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { readInt64, writeInt64 } from '../protocol/records.js';
import { writeFileAtomic } from './checkpoint.js';

export const TXN_INDEX_SUFFIX = '.txnindex';
export const ABORTED_TXN_BYTES = 34;
const VERSION = 0;

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

export interface AbortedTxnSearch {
  aborted: AbortedTxn[];
  /** True when no later segment can hold an entry overlapping the range (Kafka's TxnIndexSearchResult). */
  complete: boolean;
}

function encode(e: AbortedTxn): Buffer {
  const b = Buffer.alloc(ABORTED_TXN_BYTES);
  b.writeInt16BE(VERSION, 0);
  writeInt64(b, 2, e.producerId);
  writeInt64(b, 10, e.firstOffset);
  writeInt64(b, 18, e.lastOffset);
  writeInt64(b, 26, e.lastStableOffset);
  return b;
}

/**
 * The entries of a .txnindex file's bytes up to the first bad one (another version, out of order, a partial
 * entry at the end), and what is wrong there (null when nothing is).
 */
export function parseTxnIndex(buf: Buffer): { entries: AbortedTxn[]; problem: string | null } {
  const entries: AbortedTxn[] = [];
  let problem: string | null = null;
  let pos = 0;
  for (; pos + ABORTED_TXN_BYTES <= buf.length; pos += ABORTED_TXN_BYTES) {
    const version = buf.readInt16BE(pos);
    const e: AbortedTxn = {
      producerId: readInt64(buf, pos + 2),
      firstOffset: readInt64(buf, pos + 10),
      lastOffset: readInt64(buf, pos + 18),
      lastStableOffset: readInt64(buf, pos + 26),
    };
    const prev = entries[entries.length - 1];
    if (version !== VERSION) problem = `entry ${entries.length} has version ${version}`;
    else if (e.firstOffset > e.lastOffset || (prev !== undefined && e.lastOffset <= prev.lastOffset))
      problem = `entry ${entries.length} (first ${e.firstOffset}, last ${e.lastOffset}) is out of order`;
    if (problem !== null) break;
    entries.push(e);
  }
  if (problem === null && pos < buf.length) problem = `${buf.length - pos} trailing bytes`;
  return { entries, problem };
}

export class TransactionIndex {
  private entries: AbortedTxn[] | null = null;
  /** Entries appended since the last fsync. */
  private unsynced = false;

  constructor(
    public file: string,
    private readonly logger: Logger,
  ) {}

  private load(): AbortedTxn[] {
    if (this.entries !== null) return this.entries;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      buf = Buffer.alloc(0);
    }
    const { entries, problem } = parseTxnIndex(buf);
    this.entries = entries;
    if (problem !== null) {
      this.logger.warn('transaction index damaged, cut at the first bad entry', {
        file: this.file,
        problem,
        entriesKept: entries.length,
      });
      this.rewrite();
    }
    return entries;
  }

  /** Appends one entry (its marker must follow every entry already here). Throws on I/O errors. */
  append(e: AbortedTxn): void {
    const entries = this.load();
    const last = entries[entries.length - 1];
    if (last !== undefined && e.lastOffset <= last.lastOffset)
      throw new Error(
        `aborted transaction at ${e.lastOffset} does not follow ${last.lastOffset} in ${this.file}`,
      );
    fs.appendFileSync(this.file, encode(e));
    entries.push(e);
    this.unsynced = true;
  }

  /** Entries, oldest marker first. */
  all(): readonly AbortedTxn[] {
    return this.load();
  }

  /**
   * Transactions aborted in this segment that overlap [fetchOffset, upperBoundOffset): marker at or after
   * fetchOffset, first offset below upperBoundOffset (Kafka's collectAbortedTxns).
   */
  collect(fetchOffset: number, upperBoundOffset: number): AbortedTxnSearch {
    const aborted: AbortedTxn[] = [];
    for (const e of this.load()) {
      if (e.lastOffset >= fetchOffset && e.firstOffset < upperBoundOffset) aborted.push(e);
      if (e.lastStableOffset >= upperBoundOffset) return { aborted, complete: true };
    }
    return { aborted, complete: false };
  }

  /** Drops the entries whose marker is at or after offset (the segment was cut there). */
  truncateTo(offset: number): void {
    const entries = this.load();
    const keep = entries.filter((e) => e.lastOffset < offset);
    if (keep.length === entries.length) return;
    this.entries = keep;
    this.rewrite();
  }

  /** Forgets every entry (recovery then appends the ones its replay finds). */
  reset(): void {
    this.entries = [];
    this.rewrite();
  }

  /** Writes the file from memory (removed when there is no entry). */
  rewrite(): void {
    const entries = this.entries ?? [];
    if (entries.length === 0) fs.rmSync(this.file, { force: true });
    else writeFileAtomic(this.file, Buffer.concat(entries.map(encode)));
    this.unsynced = false;
  }

  /** Replaces the entries (the cleaner's output segment) and writes the file. */
  replaceAll(entries: readonly AbortedTxn[]): void {
    this.entries = [...entries];
    this.rewrite();
  }

  /** fsyncs the file when entries were appended since the last time. */
  flush(): void {
    if (!this.unsynced) return;
    const fd = fs.openSync(this.file, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.unsynced = false;
  }

  /** The file name for a segment stem (dir + 20 digits) and suffix (the cleaner's '.cleaned' / '.swap'). */
  static fileFor(dir: string, stem: string, fileSuffix = ''): string {
    return path.join(dir, stem + TXN_INDEX_SUFFIX + fileSuffix);
  }
}
