// partition.metadata (Kafka's PartitionMetadataFile), in each partition directory:
//   version: 0
//   topic_id: <Kafka's base64url topic id>
// It ties the log to its topic's id, so a log left by a topic that was deleted (while this broker was away)
// and created again under the same name is recognised as the old topic's and not served as the new one's.
// Written atomically (checkpoint.ts); an unreadable file counts as absent.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../storage/checkpoint.js';

export const PARTITION_METADATA_FILE = 'partition.metadata';

/** The topic id (32 hex digits) recorded in the directory, or null when there is none. */
export function readPartitionMetadata(dir: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, PARTITION_METADATA_FILE), 'utf8');
  } catch {
    return null;
  }
  const m = /^topic_id: ([A-Za-z0-9_-]{22})$/m.exec(text);
  if (m === null) return null;
  const b = Buffer.from(m[1] as string, 'base64url');
  return b.length === 16 ? b.toString('hex') : null;
}

/** Records the topic id unless the file already says so. */
export function writePartitionMetadata(dir: string, topicId: string): void {
  if (readPartitionMetadata(dir) === topicId) return;
  const id = Buffer.from(topicId, 'hex').toString('base64url');
  writeFileAtomic(
    path.join(dir, PARTITION_METADATA_FILE),
    Buffer.from(`version: 0\ntopic_id: ${id}\n`, 'utf8'),
  );
}
