// Log directories at start-up: created if missing and locked exclusively, before anything in them is read.
//
// Lock: `<logDir>/.lock`, Kafka's file name, held with an exclusive OS lock (flock-style, via
// fs-native-extensions) for the broker's whole life. The kernel drops it when the process dies, even by
// kill -9, so a crashed broker never leaves a stale lock behind; a second process (Samsa or Kafka-style
// tooling honouring the lock) that tries the same directory is refused at once. The file's content is
// informational only: the pid of the holder, for the operator reading the error.
//
// Creation: Node 20's recursive mkdir loops forever on some ENOENT cases (e.g. under /proc), so
// directories are created one path component at a time, and any failure ends start-up with the
// directory named.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

interface NativeLock {
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}
const native = createRequire(import.meta.url)('fs-native-extensions') as NativeLock;

export const LOCK_FILE = '.lock';

/** A log directory problem that stops start-up; the message names the directory. */
export class LogDirError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(message);
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String(err);
}

/** " (at <p>)" when the failing path is a parent of the directory, else nothing. */
function at(dir: string, p: string): string {
  return path.resolve(dir) === p ? '' : ` (at ${p})`;
}

/** Creates `dir` and its missing parents, one component at a time; throws LogDirError naming the directory. */
export function ensureDir(dir: string): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let p = target; ; p = path.dirname(p)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LogDirError(dir, `cannot access log directory ${dir}${at(dir, p)}: ${reason(err)}`);
      }
    }
    if (st !== undefined) {
      if (!st.isDirectory())
        throw new LogDirError(dir, `log directory ${dir}: ${p} exists and is not a directory`);
      break;
    }
    missing.push(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      fs.mkdirSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(p).isDirectory()) continue;
      throw new LogDirError(dir, `cannot create log directory ${dir}${at(dir, p)}: ${reason(err)}`);
    }
  }
  try {
    fs.accessSync(target, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw new LogDirError(dir, `log directory ${dir} is not readable and writable: ${reason(err)}`);
  }
}

/** The exclusive locks on a broker's log directories; release() drops them all. */
export class LogDirLocks {
  private constructor(private readonly held: Array<{ dir: string; fd: number }>) {}

  /** Creates each directory if missing and locks it; on any failure releases what it took and throws LogDirError. */
  static acquire(dirs: readonly string[]): LogDirLocks {
    const locks = new LogDirLocks([]);
    try {
      for (const dir of dirs) {
        ensureDir(dir);
        locks.lockOne(dir);
      }
    } catch (err) {
      locks.release();
      throw err;
    }
    return locks;
  }

  private lockOne(dir: string): void {
    const file = path.join(dir, LOCK_FILE);
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    } catch (err) {
      throw new LogDirError(dir, `cannot open the lock file ${file}: ${reason(err)}`);
    }
    let granted: boolean;
    try {
      granted = native.tryLock(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw new LogDirError(dir, `cannot lock ${file}: ${reason(err)}`);
    }
    if (!granted) {
      let holder = '';
      try {
        const pid = fs.readFileSync(file, 'utf8').trim();
        if (/^\d+$/.test(pid)) holder = ` (pid ${pid})`;
      } catch {
        // The holder's pid is only a hint for the message.
      }
      fs.closeSync(fd);
      throw new LogDirError(
        dir,
        `log directory ${path.resolve(dir)} is in use by another process${holder}: another broker holds ${LOCK_FILE}`,
      );
    }
    try {
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${process.pid}\n`, 0);
    } catch {
      // Informational content; the lock itself is what counts.
    }
    this.held.push({ dir, fd });
  }

  get dirs(): string[] {
    return this.held.map((h) => h.dir);
  }

  release(): void {
    for (const { fd } of this.held.splice(0)) {
      try {
        native.unlock(fd);
      } catch {
        // Closing the descriptor drops the lock anyway.
      }
      fs.closeSync(fd);
    }
  }
}
