// What of a partition log is known to be on disk: the recovery point (offsets below it are fsynced) and what
// moves it: flush() (due by flush.messages, counted by appended(), or by flush.ms, isDue()), the fsync after
// each roll (background-flush.ts), and its checkpoint file, written when it moved. See "Durability" at the top
// of partition-log.ts.

import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { BackgroundFlush } from './background-flush.js';
import { writeCheckpoint } from './checkpoint.js';
import { isIoError } from './io-errors.js';
import type { LogHealth } from './log-health.js';
import { RECOVERY_POINT_CHECKPOINT } from './log-loader.js';
import type { LogSegments } from './log-segments.js';

export interface LogDurabilityOptions {
  dir: string;
  /** The partition's name, for log lines. */
  name: string;
  segments: LogSegments;
  health: LogHealth;
  logger: Logger;
  /** Offsets below it are on disk when the log opens. */
  recoveryPoint: number;
  now: number;
  /** The log end offset now. */
  logEndOffset(): number;
  /** False once the log is closed or offline: a background flush's result is dropped. */
  live(): boolean;
}

export class LogDurability {
  /** Offsets below this are fsynced. */
  recoveryPoint: number;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  /** The recovery point last written to recovery-point-offset-checkpoint (-1: none written by this process). */
  private checkpointed = -1;
  /** The fsync after each roll. */
  private readonly background: BackgroundFlush;

  private readonly dir: string;
  private readonly segments: LogSegments;
  private readonly health: LogHealth;

  constructor(o: LogDurabilityOptions) {
    this.dir = o.dir;
    this.segments = o.segments;
    this.health = o.health;
    this.recoveryPoint = o.recoveryPoint;
    this.lastFlushMs = o.now;
    this.background = new BackgroundFlush(o.dir, {
      filesBelow: (upTo) => o.segments.filesBelow(this.recoveryPoint, upTo),
      flushed: (upTo) => {
        const reached = Math.min(upTo, o.logEndOffset());
        if (this.recoveryPoint < reached) this.recoveryPoint = reached;
      },
      failed: (e) => {
        if (isIoError(e)) o.health.takeOffline('flush after a roll', e);
        else o.logger.error('flush after a roll failed', { partition: o.name, error: e });
      },
      live: o.live,
    });
  }

  /** Counts appended messages; true when flush.messages is reached. */
  appended(messages: number, flushIntervalMessages: number): boolean {
    this.unflushedMessages += messages;
    return this.unflushedMessages >= flushIntervalMessages;
  }

  /** flush.ms: messages wait and the last flush is at least flushIntervalMs old. */
  isDue(now: number, flushIntervalMs: number): boolean {
    return this.unflushedMessages !== 0 && now - this.lastFlushMs >= flushIntervalMs;
  }

  /**
   * fsyncs segments from the recovery point to the end (LogSegments.flushFrom); the recovery point becomes
   * logEndOffset. Throws KafkaStorageError on failure.
   */
  flush(logEndOffset: number, now: number): void {
    this.health.guard('flush', () => {
      this.segments.flushFrom(this.recoveryPoint);
    });
    if (this.recoveryPoint < logEndOffset) this.recoveryPoint = logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
  }

  /** A new segment starts at baseOffset: the ones below it are fsynced in the background. */
  rolled(baseOffset: number): void {
    this.background.request(baseOffset);
  }

  /** Writes the recovery point to its checkpoint file when it moved since the last write; throws on I/O errors. */
  checkpoint(): void {
    const rp = this.recoveryPoint;
    if (rp === this.checkpointed) return;
    writeCheckpoint(path.join(this.dir, RECOVERY_POINT_CHECKPOINT), [[rp]]);
    this.checkpointed = rp;
  }
}
