// The I/O health of one partition log (see io-errors.ts for how errors are told apart):
//
//   online ──a write fails for lack of space──▶ noSpace ──an append succeeds──▶ online
//   online | noSpace ──any other I/O error (EIO, EROFS, a failed fsync)──▶ offline (until the broker restarts)
//   out of file descriptors (EMFILE, ENFILE): the operation fails, the state does not change
//
// While noSpace, appends answer KAFKA_STORAGE_ERROR and each one first checks the segment's tail, then tries
// again, so appends resume by themselves once space is freed. Going offline calls onDirFailure once, which the
// LogManager uses to take every other log of the same dir offline too (Kafka's LogDirFailureChannel).

import type { Logger } from '../logger.js';
import { isIoError, isNoSpace, isOutOfDescriptors, KafkaStorageError } from './io-errors.js';
import type { LogSegment } from './segment.js';

export class LogHealth {
  private offline: Error | null = null;
  private noSpace: Error | null = null;
  /** Set by the LogManager: take the rest of the log dir offline. */
  onDirFailure: ((cause: Error) => void) | null = null;

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
    /** Called once when the log goes offline (the log aborts what runs on its segments). */
    private readonly onOffline: () => void,
  ) {}

  get isOffline(): boolean {
    return this.offline !== null;
  }

  /** Why the log is offline, null when it is not. */
  get offlineCause(): Error | null {
    return this.offline;
  }

  /** True while appends fail for lack of disk space. */
  get outOfSpace(): boolean {
    return this.noSpace !== null;
  }

  /** Throws KafkaStorageError when the log is offline. */
  checkOnline(op: string): void {
    if (this.offline !== null) {
      throw new KafkaStorageError(`${op} on ${this.name}: the log dir is offline (${this.offline.message})`);
    }
  }

  /** Runs fn, turning I/O errors into KafkaStorageError (see classify); refuses when offline. */
  guard<T>(op: string, fn: () => T): T {
    this.checkOnline(op);
    try {
      return fn();
    } catch (e) {
      throw this.classify(op, e);
    }
  }

  /**
   * Classifies an error thrown by file I/O: a full disk sets noSpace, any other I/O error takes the log (and its
   * dir) offline. Anything that is not an I/O error is a bug and is rethrown as it is.
   */
  classify(op: string, e: unknown): KafkaStorageError {
    if (e instanceof KafkaStorageError) return e;
    if (!isIoError(e)) throw e;
    if (isOutOfDescriptors(e)) {
      this.logger.error(
        'out of file descriptors: the operation failed, the log stays online (raise ulimit -n)',
        {
          partition: this.name,
          op,
          error: e.message,
        },
      );
      return new KafkaStorageError(`${op} failed: ${e.message}`);
    }
    if (isNoSpace(e)) {
      if (this.noSpace === null) {
        this.logger.error('out of disk space: appends fail with KAFKA_STORAGE_ERROR until space is freed', {
          partition: this.name,
          op,
          error: e.message,
        });
      }
      this.noSpace = e;
      return new KafkaStorageError(`${op} failed: ${e.message}`, true);
    }
    this.takeOffline(op, e);
    return new KafkaStorageError(`${op} failed, the log dir is offline: ${e.message}`);
  }

  /** An append succeeded: leaves the noSpace state. */
  appended(): void {
    if (this.noSpace === null) return;
    this.noSpace = null;
    this.logger.info('appends resumed: disk space is available again', { partition: this.name });
  }

  /** An I/O error of this log: it goes offline, then the rest of its dir (onDirFailure). */
  takeOffline(op: string, cause: Error): void {
    if (this.offline !== null) return;
    this.logger.error('I/O error: taking the log offline', {
      partition: this.name,
      op,
      error: cause.message,
    });
    this.markOffline(cause);
    this.onDirFailure?.(cause);
  }

  /** The log's dir is offline (this log's error or another's): every operation fails from now on. */
  markOffline(cause: Error): void {
    if (this.offline !== null) return;
    this.offline = cause;
    this.onOffline();
  }

  /**
   * Before appending after a write failed for lack of space: the failed write cut its partial batch off, but that
   * cut may have failed too. Bytes past the last complete batch are removed; a file shorter than the log thinks
   * lost data and takes the log offline.
   */
  checkTail(seg: LogSegment): void {
    const onDisk = seg.sizeOnDisk();
    if (onDisk > seg.size) {
      this.logger.warn('cutting the partial batch a failed append left', {
        partition: this.name,
        file: seg.logFile,
        bytes: onDisk - seg.size,
      });
      seg.cutToSize();
    } else if (onDisk < seg.size) {
      const err = new Error(`${seg.logFile} is ${onDisk} bytes on disk, ${seg.size} expected: data was lost`);
      this.takeOffline('append', err);
      throw new KafkaStorageError(err.message);
    }
  }
}
