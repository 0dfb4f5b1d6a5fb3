// How the storage layer tells I/O failures apart (Kafka's LogDirFailureChannel, plus a "no space" state Kafka
// does not have):
//
//   - a write that failed for lack of space (ENOSPC, EDQUOT on write/open/rename/...): the operation did not
//     happen (a partial append is cut off again), so the log stays usable and the operation may be retried once
//     space is freed. Appends answer KAFKA_STORAGE_ERROR meanwhile.
//   - the process or the system out of file descriptors (EMFILE, ENFILE): the open did not happen, nothing was
//     written, and the disk is fine, so the log stays online (Kafka would take the whole dir offline). The
//     operation answers KAFKA_STORAGE_ERROR (a new partition is refused and undone) and works again once
//     descriptors are free or `ulimit -n` is raised. The broker holds one descriptor per log segment.
//   - any other error from the file system (EIO, EROFS, EBADF, a failed fsync even for lack of space: after a
//     failed fsync the page cache may have dropped the data): the log dir goes offline, as in Kafka. Its
//     partitions answer KAFKA_STORAGE_ERROR until the broker restarts; the other dirs keep serving.
//   - anything else thrown is a bug, not the disk, and is not caught here.

import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A storage operation failed on an I/O error (or the log is offline): KAFKA_STORAGE_ERROR for the client. */
export class KafkaStorageError extends Error {
  constructor(
    message: string,
    /** True when the cause was a full disk (the log resumes once space is back). */
    readonly noSpace = false,
  ) {
    super(message);
    this.name = 'KafkaStorageError';
  }
}

/** An error from a file system call (it carries errno code and syscall), as opposed to a bug. */
export function isIoError(e: unknown): e is NodeJS.ErrnoException {
  if (!(e instanceof Error)) return false;
  const err = e as NodeJS.ErrnoException;
  return typeof err.code === 'string' && typeof err.syscall === 'string';
}

/** Out of space (or quota) on anything but fsync: the write did not happen and may be retried later. */
export function isNoSpace(e: unknown): boolean {
  if (!isIoError(e)) return false;
  if (e.code !== 'ENOSPC' && e.code !== 'EDQUOT') return false;
  return e.syscall !== 'fsync' && e.syscall !== 'fdatasync';
}

/** The process (EMFILE) or the system (ENFILE) has no file descriptor left: retryable, the disk is fine. */
export function isOutOfDescriptors(e: unknown): boolean {
  return isIoError(e) && (e.code === 'EMFILE' || e.code === 'ENFILE');
}

/**
 * fsyncs the files (skipping those that no longer exist: a segment deleted or swapped meanwhile), then their
 * directory, without blocking the event loop. Rejects on the first I/O error.
 */
export async function fsyncFiles(files: readonly string[], dir: string): Promise<void> {
  for (const file of files) {
    let h: fsp.FileHandle;
    try {
      h = await fsp.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
  let d: fsp.FileHandle | undefined;
  try {
    d = await fsp.open(path.resolve(dir), 'r');
    await d.sync();
  } catch {
    // As fsyncDir (checkpoint.ts): some file systems refuse fsync on directories.
  } finally {
    await d?.close().catch(() => {});
  }
}
