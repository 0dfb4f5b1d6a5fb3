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
// flush.ms elapsed, recovery-point checkpoints, and the log cleaner for compacted logs (cleaner.ts).

import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { fsyncDir } from './checkpoint.js';
import { type CleanerOptions, LogCleaner } from './cleaner.js';
import { defaultLogConfig, type LogConfig, validateLogConfig } from './config.js';
import { ensureDir } from './log-dirs.js';
import { PartitionLog } from './partition-log.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const DELETE_DIR_SUFFIX = '-delete';
const RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60_000;

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
      const log = PartitionLog.open(full, this.defaultConfig, this.logger, { cleanShutdown: clean });
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
    const counts = new Map<string, number>(this.logDirs.map((d) => [d, 0]));
    for (const l of this.logs.values()) counts.set(l.logDir, (counts.get(l.logDir) ?? 0) + 1);
    let logDir = this.logDirs[0]!;
    for (const d of this.logDirs) if ((counts.get(d) ?? 0) < (counts.get(logDir) ?? 0)) logDir = d;
    const dir = path.join(logDir, key(topic, partition));
    // A new partition: nothing to recover, but stale files of an earlier incarnation must not survive.
    fs.rmSync(dir, { recursive: true, force: true });
    const log = PartitionLog.open(dir, config, this.logger, { cleanShutdown: true });
    fsyncDir(logDir);
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
    fs.renameSync(from, to);
    fs.rm(to, { recursive: true, force: true }, (err) => {
      if (err !== null) this.logger.warn('could not remove a deleted partition dir', { dir: to, error: err });
    });
    this.logger.info('log deleted', { topic, partition, dir: to });
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
        this.logger.error('flush failed', { topic, partition, error: e });
      }
    }
  }

  checkpointRecoveryPoints(): void {
    for (const { log, topic, partition } of this.logs.values()) {
      try {
        log.checkpointRecoveryPoint();
      } catch (e) {
        this.logger.error('recovery point checkpoint failed', { topic, partition, error: e });
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
    every(RECOVERY_POINT_CHECKPOINT_INTERVAL_MS, () => this.checkpointRecoveryPoints());
    if (options.cleanerEnabled ?? true) this.cleaner.start(() => this.logs.values());
  }

  /** Flushes and closes every log, then marks each log dir cleanly shut down. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.cleaner.stop();
    let failures = 0;
    for (const { log, topic, partition } of this.logs.values()) {
      try {
        log.close();
      } catch (e) {
        failures++;
        this.logger.error('closing a log failed', { topic, partition, error: e });
      }
    }
    this.logs.clear();
    if (failures > 0) {
      this.logger.warn('not writing the clean shutdown marker: some logs failed to close', { failures });
      return;
    }
    for (const logDir of this.logDirs) {
      const marker = path.join(logDir, CLEAN_SHUTDOWN_FILE);
      const fd = fs.openSync(marker, 'w');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fsyncDir(logDir);
    }
    this.logger.info('logs closed cleanly', { logDirs: this.logDirs });
  }
}
