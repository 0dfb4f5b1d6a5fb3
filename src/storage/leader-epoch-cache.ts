// Leader epoch cache of one partition (Kafka's LeaderEpochFileCache): the offset at which each leader epoch
// started, used to answer OffsetForLeaderEpoch and to truncate a diverged replica.
//
// File leader-epoch-checkpoint in the partition directory, Kafka's checkpoint text format (checkpoint.ts):
//   0\n<count>\n<epoch> <startOffset>\n ...       entries ascending in both fields
// Rewritten atomically whenever an epoch is added or the cache is truncated.

import type { Logger } from '../logger.js';
import { intField, readCheckpoint, writeCheckpoint } from './checkpoint.js';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** Loads the checkpoint; a malformed file is reported and treated as empty. */
  load(): void {
    try {
      const rows = readCheckpoint(this.file, 2) ?? [];
      const entries = rows.map((r) => ({
        epoch: intField(this.file, r[0]),
        startOffset: intField(this.file, r[1]),
      }));
      for (let i = 1; i < entries.length; i++) {
        if (
          entries[i]!.epoch <= entries[i - 1]!.epoch ||
          entries[i]!.startOffset < entries[i - 1]!.startOffset
        ) {
          throw new Error(`${this.file}: entries are not increasing at line ${i + 3}`);
        }
      }
      this.entries = entries;
    } catch (e) {
      this.logger.warn('leader epoch checkpoint unreadable, starting empty', {
        file: this.file,
        error: (e as Error).message,
      });
      this.entries = [];
    }
  }

  all(): readonly EpochEntry[] {
    return this.entries;
  }

  latestEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? UNDEFINED_EPOCH;
  }

  /** Records that `epoch` starts at `startOffset` (ignored unless epoch is newer than the latest). */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0 || epoch <= this.latestEpoch()) return;
    // An older entry starting at or after this offset can only come from a truncated log: drop it.
    const next = this.entries.filter((e) => e.startOffset < startOffset);
    next.push({ epoch, startOffset });
    this.replace(next);
  }

  /**
   * Kafka's endOffsetFor: for the latest epoch the log end offset; for an older one the start offset of the
   * first larger epoch, paired with the largest known epoch <= the requested one (or the requested epoch when
   * none is smaller); (-1, -1) for an epoch newer than all, for an undefined epoch, or for an empty cache.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { leaderEpoch: number; endOffset: number } {
    const undefinedAnswer = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH || this.entries.length === 0) return undefinedAnswer;
    if (requestedEpoch === this.latestEpoch())
      return { leaderEpoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return undefinedAnswer;
    let floor: EpochEntry | undefined;
    for (const e of this.entries) if (e.epoch <= requestedEpoch) floor = e;
    return { leaderEpoch: floor?.epoch ?? requestedEpoch, endOffset: higher.startOffset };
  }

  /** Drops entries starting at or after endOffset (the log was truncated to it). */
  truncateFromEnd(endOffset: number): void {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length !== this.entries.length) this.replace(kept);
  }

  /** The log now starts at startOffset: entries before it collapse into one starting there. */
  truncateFromStart(startOffset: number): void {
    let lastBefore = -1;
    for (let i = 0; i < this.entries.length; i++)
      if (this.entries[i]!.startOffset <= startOffset) lastBefore = i;
    if (lastBefore < 0) return;
    const kept = this.entries.slice(lastBefore);
    if (kept[0]!.startOffset === startOffset && lastBefore === 0) return;
    kept[0] = { epoch: kept[0]!.epoch, startOffset };
    this.replace(kept);
  }

  persist(): void {
    writeCheckpoint(
      this.file,
      this.entries.map((e) => [e.epoch, e.startOffset]),
    );
  }

  /** Writes the new entries, then adopts them: a failed write (a full disk) leaves the cache as it was. */
  private replace(entries: EpochEntry[]): void {
    writeCheckpoint(
      this.file,
      entries.map((e) => [e.epoch, e.startOffset]),
    );
    this.entries = entries;
  }
}
