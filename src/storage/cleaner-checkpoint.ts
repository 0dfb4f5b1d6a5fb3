// Where the log cleaner stopped in one partition (Kafka's cleaner-offset-checkpoint, kept per partition directory
// like Samsa's other checkpoints). Kafka's text checkpoint format (checkpoint.ts) with one entry of two fields:
//
//   0\n1\n<firstDirtyOffset> <deleteHorizonMs>\n
//
// firstDirtyOffset: offsets below it were deduplicated by the last cleaning pass (the next pass maps keys from
// here). deleteHorizonMs: the earliest delete horizon among the cleaned batches that still hold tombstones, -1
// when there are none; once the clock passes it a pass is due even without dirty data, to drop those tombstones.
// Written atomically after each completed pass; a missing or unreadable file means "nothing cleaned yet".

import * as path from 'node:path';
import type { Logger } from '../logger.js';
import { intField, readCheckpoint, writeCheckpoint } from './checkpoint.js';

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

export interface CleanerCheckpoint {
  firstDirtyOffset: number;
  deleteHorizonMs: number;
}

export function readCleanerCheckpoint(dir: string, logger?: Logger): CleanerCheckpoint | null {
  const file = path.join(dir, CLEANER_OFFSET_CHECKPOINT);
  try {
    const rows = readCheckpoint(file, 2);
    if (rows === null || rows.length !== 1) return null;
    return { firstDirtyOffset: intField(file, rows[0]![0]), deleteHorizonMs: intField(file, rows[0]![1]) };
  } catch (e) {
    logger?.warn('cleaner checkpoint unreadable, ignoring it', { file, error: (e as Error).message });
    return null;
  }
}

export function writeCleanerCheckpoint(dir: string, cp: CleanerCheckpoint): void {
  writeCheckpoint(path.join(dir, CLEANER_OFFSET_CHECKPOINT), [[cp.firstDirtyOffset, cp.deleteHorizonMs]]);
}

/** After a truncation to `offset`: whatever is appended from there on is dirty again. */
export function lowerCleanerCheckpoint(dir: string, offset: number): void {
  const cp = readCleanerCheckpoint(dir);
  if (cp !== null && cp.firstDirtyOffset > offset)
    writeCleanerCheckpoint(dir, { ...cp, firstDirtyOffset: offset });
}
