// All partition logs of a broker, over one or more log dirs (Kafka's LogManager).
//
// Log dir layout:
//   <logDir>/<topic>-<partition>/           one PartitionLog each (topic names may contain '-': the partition
//                                           number is after the LAST '-')
//   <logDir>/<topic>-<partition>.<32 hex>-delete/   a deleted partition waiting for asynchronous removal
//   <logDir>/.kafka_cleanshutdown            present only between a clean close() and the next open()
//
// Clean shutdown protocol: open() reads the marker of each dir (present -> that dir's logs skip recovery), then
// removes it, so a crash from then on is seen as unclean. close() flushes and closes every log (segments
// fsynced, indexes and producer snapshots written) and only then writes the marker, fsynced.
// Background tasks (unref'd timers): retention every log.retention.check.interval.ms, flush of logs whose
// flush.ms elapsed, recovery-point checkpoints every log.flush.offset.checkpoint.interval.ms, and the log
// cleaner for compacted logs (cleaner.ts).
//
// Log dir failure (Kafka's LogDirFailureChannel): an I/O error other than a full disk in any log takes its whole
// log dir offline. Its logs answer KAFKA_STORAGE_ERROR, new partitions go to the other dirs, close() writes no
// clean-shutdown marker there; the broker keeps serving the other dirs. A restart brings the dir back (with
// recovery). Unlike Kafka, a broker whose every dir is offline keeps running and answering errors.

import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { fsyncDir } from './checkpoint.js';
import { type CleanerOptions, LogCleaner } from './cleaner.js';
import { defaultLogConfig, type LogConfig, validateLogConfig } from './config.js';
import { isIoError, isNoSpace, isOutOfDescriptors, KafkaStorageError } from './io-errors.js';
import { ensureDir } from './log-dirs.js';
import { PartitionLog } from './partition-log.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const DELETE_DIR_SUFFIX = '-delete';
/** Suffix of a partition dir set aside as stray (setAsideStrayLog): kept, never loaded. */
export const STRAY_DIR_SUFFIX = '-stray';
/** log.flush.offset.checkpoint.interval.ms: Kafka's default. */
export const RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60_000;

export interface LogManagerOptions {
  logDirs: string[];
  logger: Logger;
  /** Config for logs loaded from disk until the broker applies the topic's own (updateConfig). */
  defaultConfig?: LogConfig;
  /** The log cleaner's settings (log.cleaner.backoff.ms, ...). */
  cleaner?: CleanerOptions;
}

export interface BackgroundTaskOptions {
  /** log.retention.check.interval.ms (Kafka default 300000). */
  retentionCheckIntervalMs: number;
  /** log.flush.scheduler.interval.ms: how often logs are checked against their flush.ms. */
  flushIntervalMs: number;
  /** log.cleaner.enable (default true): compact logs whose cleanup.policy includes compact. */
  cleanerEnabled?: boolean;
  /** log.flush.offset.checkpoint.interval.ms: how often recovery points are checkpointed (default 60000). */
  recoveryPointCheckpointIntervalMs?: number;
}

/** Splits "<topic>-<partition>" at the last '-'; null for names that are not partition dirs. */
export function parseTopicPartitionDir(name: string): { topic: string; partition: number } | null {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (m === null) return null;
  const partition = Number(m[2]);
  if (!Number.isSafeInteger(partition) || partition > 2147483647) return null;
  return { topic: m[1]!, partition };
}

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class LogManager {
  private readonly logs = new Map<
    string,
    { topic: string; partition: number; logDir: string; log: PartitionLog }
  >();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** Log dirs taken offline by an I/O error, with the error. */
  private readonly offline = new Map<string, Error>();
  /** Compacts logs with cleanup.policy compact (started by startBackgroundTasks). */
  readonly cleaner: LogCleaner;

  private constructor(
    readonly logDirs: readonly string[],
    private readonly logger: Logger,
    private readonly defaultConfig: LogConfig,
    cleanerOptions: CleanerOptions,
  ) {
    this.cleaner = new LogCleaner(logger, cleanerOptions);
  }

  /** Loads every partition directory of every log dir. Synchronous (recovery included). */
  static open(options: LogManagerOptions): LogManager {
    const config = options.defaultConfig ?? { ...defaultLogConfig };
    const problems = validateLogConfig(config);
    if (problems.length > 0) throw new Error(`invalid log config: ${problems.join('; ')}`);
    if (options.logDirs.length === 0) throw new Error('log.dirs is empty: name at least one log directory');
    const mgr = new LogManager(options.logDirs, options.logger, config, options.cleaner ?? {});
    for (const logDir of options.logDirs) mgr.loadDir(logDir);
    return mgr;
  }

  private loadDir(logDir: string): void {
    ensureDir(logDir);
    const marker = path.join(logDir, CLEAN_SHUTDOWN_FILE);
    const clean = fs.existsSync(marker);
    const started = Date.now();
    let count = 0;
    for (const entry of fs.readdirSync(logDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(logDir, entry.name);
      if (entry.name.endsWith(DELETE_DIR_SUFFIX)) {
        fs.rm(full, { recursive: true, force: true }, () => {});
        continue;
      }
      const tp = parseTopicPartitionDir(entry.name);
      if (tp === null) continue;
      const k = key(tp.topic, tp.partition);
      if (this.logs.has(k)) {
        throw new Error(
          `partition ${k} exists in two log dirs (${this.logs.get(k)!.logDir} and ${logDir}); remove one copy`,
        );
      }
      const log = PartitionLog.open(full, this.defaultConfig, this.logger, {
        cleanShutdown: clean,
        onDirFailure: (e) => this.failDir(logDir, e),
      });
      this.logs.set(k, { ...tp, logDir, log });
      count++;
    }
    if (clean) fs.rmSync(marker, { force: true });
    this.logger.info('log dir loaded', {
      logDir,
      partitions: count,
      cleanShutdown: clean,
      ms: Date.now() - started,
    });
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition))?.log;
  }

  /** Creates the partition's log in the log dir holding the fewest partitions; returns the existing one if any. */
  createLog(topic: string, partition: number, config: LogConfig): PartitionLog {
    const existing = this.logs.get(key(topic, partition));
    if (existing !== undefined) {
      existing.log.updateConfig(config);
      return existing.log;
    }
    const problems = validateLogConfig(config);
    if (problems.length > 0)
      throw new Error(`invalid config for ${key(topic, partition)}: ${problems.join('; ')}`);
    const online = this.logDirs.filter((d) => !this.offline.has(d));
    if (online.length === 0) throw new KafkaStorageError('every log dir is offline');
    const counts = new Map<string, number>(online.map((d) => [d, 0]));
    for (const l of this.logs.values())
      if (counts.has(l.logDir)) counts.set(l.logDir, counts.get(l.logDir)! + 1);
    let logDir = online[0]!;
    for (const d of online) if (counts.get(d)! < counts.get(logDir)!) logDir = d;
    const dir = path.join(logDir, key(topic, partition));
    let log: PartitionLog | undefined;
    try {
      // A new partition: nothing to recover, but stale files of an earlier incarnation must not survive.
      fs.rmSync(dir, { recursive: true, force: true });
      log = PartitionLog.open(dir, config, this.logger, {
        cleanShutdown: true,
        onDirFailure: (e) => this.failDir(logDir, e),
      });
      fsyncDir(logDir);
    } catch (e) {
      // Nothing half-made stays: no descriptor, no directory (best effort: the disk may be failing).
      log?.closeForDelete();
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {}
      throw this.ioFailure(logDir, `creating the log of ${key(topic, partition)}`, e);
    }
    this.logs.set(key(topic, partition), { topic, partition, logDir, log });
    this.logger.info('log created', { topic, partition, dir });
    return log;
  }

  /** Closes the log, renames its dir to <name>.<uuid>-delete and removes it in the background. */
  deleteLog(topic: string, partition: number): void {
    const k = key(topic, partition);
    const entry = this.logs.get(k);
    if (entry === undefined) return;
    this.logs.delete(k);
    entry.log.closeForDelete();
    const from = entry.log.dir;
    const to = path.join(entry.logDir, `${k}.${randomUUID().replaceAll('-', '')}${DELETE_DIR_SUFFIX}`);
    try {
      fs.renameSync(from, to);
    } catch (e) {
      // The partition is gone from the broker either way; its files stay until they can be removed.
      const err = this.ioFailure(entry.logDir, `deleting the log of ${k}`, e);
      this.logger.warn('could not rename a deleted partition dir; left in place', { dir: from, error: err });
      return;
    }
    fs.rm(to, { recursive: true, force: true }, (err) => {
      if (err !== null) this.logger.warn('could not remove a deleted partition dir', { dir: to, error: err });
    });
    this.logger.info('log deleted', { topic, partition, dir: to });
  }

  /**
   * Closes a log that no replica assignment lists any more and renames its dir to
   * <name>.<uuid>-stray, where it stays until an operator removes it (Kafka 3.7's stray logs): a wrong
   * controller view can never delete data. Stray dirs are not loaded at start-up.
   */
  setAsideStrayLog(topic: string, partition: number): string | null {
    const k = key(topic, partition);
    const entry = this.logs.get(k);
    if (entry === undefined) return null;
    this.logs.delete(k);
    entry.log.close();
    const to = path.join(entry.logDir, `${k}.${randomUUID().replaceAll('-', '')}${STRAY_DIR_SUFFIX}`);
    try {
      fs.renameSync(entry.log.dir, to);
    } catch (e) {
      const err = this.ioFailure(entry.logDir, `setting aside the stray log of ${k}`, e);
      this.logger.warn('could not rename a stray partition dir; left in place', {
        dir: entry.log.dir,
        error: err,
      });
      return null;
    }
    this.logger.warn('stray log set aside (remove it by hand once you are sure it is not needed)', {
      topic,
      partition,
      dir: to,
    });
    return to;
  }

  /** Log dirs taken offline by an I/O error since start-up, with the error. */
  offlineLogDirs(): ReadonlyMap<string, Error> {
    return this.offline;
  }

  /**
   * Takes a log dir offline (any of its logs hit an I/O error other than a full disk): every log in it refuses
   * further operations with KAFKA_STORAGE_ERROR until the broker restarts.
   */
  failDir(logDir: string, cause: Error): void {
    if (this.offline.has(logDir)) return;
    this.offline.set(logDir, cause);
    let partitions = 0;
    for (const e of this.logs.values()) {
      if (e.logDir !== logDir) continue;
      e.log.health.markOffline(cause);
      partitions++;
    }
    this.logger.error(
      'log dir offline after an I/O error: its partitions answer KAFKA_STORAGE_ERROR until restart',
      {
        logDir,
        partitions,
        error: cause.message,
        onlineLogDirs: this.logDirs.filter((d) => !this.offline.has(d)),
      },
    );
  }

  /** An error of a LogManager operation on a dir: a failed dir goes offline; KafkaStorageError for callers. */
  private ioFailure(logDir: string, op: string, e: unknown): KafkaStorageError {
    if (e instanceof KafkaStorageError) return e;
    if (!isIoError(e)) throw e;
    if (isNoSpace(e)) return new KafkaStorageError(`${op} failed: ${e.message}`, true);
    if (isOutOfDescriptors(e)) {
      this.logger.error('out of file descriptors: the log dir stays online (raise ulimit -n)', {
        logDir,
        op,
        error: e.message,
      });
      return new KafkaStorageError(`${op} failed: ${e.message}`);
    }
    this.failDir(logDir, e);
    return new KafkaStorageError(`${op} failed, the log dir is offline: ${e.message}`);
  }

  allLogs(): Array<{ topic: string; partition: number; log: PartitionLog }> {
    return [...this.logs.values()].map(({ topic, partition, log }) => ({ topic, partition, log }));
  }

  /** Retention over all logs; returns segments deleted. */
  enforceRetention(now = Date.now()): number {
    let n = 0;
    for (const { log, topic, partition } of this.logs.values()) {
      try {
        n += log.enforceRetention(now);
      } catch (e) {
        // A storage error was logged by the log itself.
        if (!(e instanceof KafkaStorageError))
          this.logger.error('retention failed', { topic, partition, error: e });
      }
    }
    return n;
  }

  /** Flushes logs whose flush.ms elapsed. */
  flushDueLogs(now = Date.now()): void {
    for (const { log, topic, partition } of this.logs.values()) {
      try {
        log.flushIfDue(now);
      } catch (e) {
        if (!(e instanceof KafkaStorageError))
          this.logger.error('flush failed', { topic, partition, error: e });
      }
    }
  }

  /** Writes the recovery point of every log whose recovery point moved (log.flush.offset.checkpoint.interval.ms). */
  checkpointRecoveryPoints(): void {
    for (const { log, topic, partition } of this.logs.values()) {
      try {
        log.checkpointRecoveryPoint();
      } catch (e) {
        if (!(e instanceof KafkaStorageError)) {
          this.logger.error('recovery point checkpoint failed', { topic, partition, error: e });
        }
      }
    }
  }

  startBackgroundTasks(options: BackgroundTaskOptions): void {
    const every = (ms: number, fn: () => void): void => {
      if (!(ms > 0) || ms >= 2 ** 31) return;
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(options.retentionCheckIntervalMs, () => {
      const n = this.enforceRetention();
      if (n > 0) this.logger.info('retention deleted segments', { segments: n });
    });
    every(options.flushIntervalMs, () => this.flushDueLogs());
    every(options.recoveryPointCheckpointIntervalMs ?? RECOVERY_POINT_CHECKPOINT_INTERVAL_MS, () =>
      this.checkpointRecoveryPoints(),
    );
    if (options.cleanerEnabled ?? true) {
      this.cleaner.start(() => [...this.logs.values()].filter((e) => !e.log.isOffline));
    }
  }

  /**
   * Flushes and closes every log, then marks each log dir whose logs all closed cleanly shut down (never an
   * offline one: its logs are recovered at the next start).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.cleaner.stop();
    const unclean = new Set<string>(this.offline.keys());
    for (const { log, topic, partition, logDir } of this.logs.values()) {
      try {
        log.close();
      } catch (e) {
        unclean.add(logDir);
        this.logger.error('closing a log failed', { topic, partition, error: e });
      }
      if (log.isOffline) unclean.add(logDir);
    }
    this.logs.clear();
    const clean: string[] = [];
    for (const logDir of this.logDirs) {
      if (unclean.has(logDir)) {
        this.logger.warn(
          'not writing the clean shutdown marker: the dir is offline or a log failed to close',
          {
            logDir,
          },
        );
        continue;
      }
      try {
        const marker = path.join(logDir, CLEAN_SHUTDOWN_FILE);
        const fd = fs.openSync(marker, 'w');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fsyncDir(logDir);
        clean.push(logDir);
      } catch (e) {
        this.logger.error('could not write the clean shutdown marker', { logDir, error: e });
      }
    }
    if (clean.length === this.logDirs.length)
      this.logger.info('logs closed cleanly', { logDirs: this.logDirs });
  }
}
