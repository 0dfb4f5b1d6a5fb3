// The files of `samsa sink` on disk: where a record goes, what a file is called, how a set of files is made
// visible at once, and what a restart finds.
//
// Layout (docs/sink.md)
//   DIR/<topic>/date=YYYY-MM-DD/hour=HH/<topic>-<partition>-<firstOffset>-<lastOffset>.<parquet|jsonl>
//   (--partition-by day drops hour=HH; none writes straight into DIR/<topic>/). Folders follow the record
//   timestamp in UTC; a record without one (-1) goes to date=1970-01-01.
//
// One flush of a partition covers the offsets firstOffset..lastOffset of that partition: every record fetched in
// that range is in exactly one file of the flush. Records of one flush may fall into several hour folders; the
// flush then writes one file per folder, all with the same name (the flush's range), so a file's rows lie
// within the range in its name.
//
// Crash safety (a "file set" is the files of one flush)
//   1. each file is written as `.<name>.inprogress` (a leading dot: Spark, Hive, pyarrow and DuckDB skip it),
//      fsynced, and the folders holding them fsynced;
//   2. only then is each renamed to <name>, and the folders fsynced again;
//   3. only then are the offsets committed to the group.
//   After a crash, a temporary file whose range has at least one final file was caught between 1 and 2 of a set
//   whose files were all complete: it is renamed (rolled forward). Any other temporary file is deleted: that
//   set never became visible, its records are fetched again from the committed offset. A restart resumes each
//   partition after the highest lastOffset among its final files when that is beyond the committed offset.

import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';

export type PartitionBy = 'hour' | 'day' | 'none';
export type SinkFormat = 'parquet' | 'jsonl';

const TEMP_PREFIX = '.';
const TEMP_SUFFIX = '.inprogress';
/** <topic>-<partition>-<first>-<last>.<ext>; the topic may itself hold '-' so the numbers are read from the end. */
const FINAL_RE = /^(.+)-(\d+)-(\d+)-(\d+)\.(parquet|jsonl)$/;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The folder of a record, relative to DIR/<topic>, for its timestamp (UTC). */
export function bucketOf(timestamp: number, by: PartitionBy): string {
  if (by === 'none') return '';
  const d = new Date(Math.max(timestamp, 0));
  const date = `date=${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  return by === 'day' ? date : `${date}/hour=${pad2(d.getUTCHours())}`;
}

export function fileName(
  topic: string,
  partition: number,
  first: number,
  last: number,
  format: SinkFormat,
): string {
  return `${topic}-${partition}-${first}-${last}.${format}`;
}

export interface FileRange {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
}

/** Parses a final file name (either format); null for anything else. */
export function parseFileName(name: string): FileRange | null {
  const m = FINAL_RE.exec(name);
  if (m === null) return null;
  return { topic: m[1] ?? '', partition: Number(m[2]), firstOffset: Number(m[3]), lastOffset: Number(m[4]) };
}

export function tempName(name: string): string {
  return `${TEMP_PREFIX}${name}${TEMP_SUFFIX}`;
}

function finalOfTemp(name: string): string | null {
  if (!name.startsWith(TEMP_PREFIX) || !name.endsWith(TEMP_SUFFIX)) return null;
  return name.slice(TEMP_PREFIX.length, -TEMP_SUFFIX.length);
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, constants.O_RDONLY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** mkdir -p that also fsyncs the parent of every folder it created (so the new folders survive a crash). */
async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  let d = path.resolve(dir);
  const stop = path.dirname(path.resolve(first));
  const toSync: string[] = [];
  while (d !== stop && d !== path.dirname(d)) {
    d = path.dirname(d);
    toSync.push(d);
  }
  for (const p of toSync) await fsyncDir(p);
}

export interface PendingFile {
  /** Absolute folder. */
  dir: string;
  name: string;
  chunks: (Buffer | Uint8Array)[];
}

/** Writes a file set (steps 1 and 2 above); resolves with the bytes written once every file is visible. */
export async function writeFileSet(files: PendingFile[]): Promise<number> {
  let bytes = 0;
  const dirs = new Set<string>();
  for (const f of files) {
    await ensureDir(f.dir);
    dirs.add(f.dir);
    const h = await open(path.join(f.dir, tempName(f.name)), 'w');
    try {
      for (const c of f.chunks) {
        await h.write(c);
        bytes += c.byteLength;
      }
      await h.sync();
    } finally {
      await h.close();
    }
  }
  for (const d of dirs) await fsyncDir(d);
  for (const f of files) await rename(path.join(f.dir, tempName(f.name)), path.join(f.dir, f.name));
  for (const d of dirs) await fsyncDir(d);
  return bytes;
}

export interface RecoveryResult {
  /** Highest lastOffset among the final files, per partition. */
  lastOffsets: Map<number, number>;
  finalFiles: number;
  rolledForward: string[];
  deleted: string[];
}

/** Every file under a topic folder (two levels of date/hour folders at most), as absolute paths. */
async function walk(dir: string, depth: number, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < 2) await walk(p, depth + 1, out);
    } else if (e.isFile()) out.push(p);
  }
}

/**
 * Recovery for some partitions of a topic (the ones this sink was just assigned): rolls interrupted file sets
 * forward, deletes temporary files of sets that never became visible, and reports the highest lastOffset found.
 * Files of other partitions are left alone (another sink of the group may be writing them).
 */
export async function recoverTopic(
  root: string,
  topic: string,
  partitions: Set<number>,
): Promise<RecoveryResult> {
  const files: string[] = [];
  await walk(path.join(root, topic), 0, files);
  const lastOffsets = new Map<number, number>();
  const finals = new Set<string>();
  const temps: { file: string; range: FileRange; final: string }[] = [];
  let finalFiles = 0;
  const rangeKey = (r: FileRange) => `${r.partition}:${r.firstOffset}:${r.lastOffset}`;
  for (const file of files) {
    const base = path.basename(file);
    const final = finalOfTemp(base);
    const range = parseFileName(final ?? base);
    if (range === null || range.topic !== topic || !partitions.has(range.partition)) continue;
    if (final !== null) {
      temps.push({ file, range, final });
      continue;
    }
    finalFiles++;
    finals.add(rangeKey(range));
    if ((lastOffsets.get(range.partition) ?? -1) < range.lastOffset)
      lastOffsets.set(range.partition, range.lastOffset);
  }
  const rolledForward: string[] = [];
  const deleted: string[] = [];
  const touched = new Set<string>();
  for (const t of temps) {
    const dir = path.dirname(t.file);
    if (finals.has(rangeKey(t.range))) {
      const to = path.join(dir, t.final);
      // A final file of that name already there (renamed, then the crash came before the temp's own entry was
      // gone) wins: the temporary copy is the same bytes.
      if (await exists(to)) await unlink(t.file);
      else await rename(t.file, to);
      rolledForward.push(to);
      finalFiles++;
    } else {
      await unlink(t.file);
      deleted.push(t.file);
    }
    touched.add(dir);
  }
  for (const d of touched) await fsyncDir(d);
  return { lastOffsets, finalFiles, rolledForward, deleted };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
