// Kafka's JSON files for kafka-reassign-partitions.sh and kafka-leader-election.sh, as `samsa reassign` and
// `samsa leader-election` read and print them:
//
//   reassignment   {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3],"log_dirs":["any","any","any"]}]}
//   topics to move {"version":1,"topics":[{"topic":"t"}]}
//   partitions     {"partitions":[{"topic":"t","partition":0}]}
//
// "version" may be left out (1). log_dirs is optional; Samsa places a replica in the log dir it chooses, so
// only "any" is accepted. Problems with a file's content are CommandErrors naming the file.

import type { TopicPartition } from '../client/admin.js';
import { CommandError } from './common.js';

export interface PartitionMove extends TopicPartition {
  replicas: number[];
}

const ANY_LOG_DIR = 'any';

export function tpName(p: TopicPartition): string {
  return `${p.topic}-${p.partition}`;
}

/** Kafka's order for printing: by topic, then partition. */
export function comparePartitions(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

function parseJson(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CommandError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new CommandError(`${file}: expected a JSON object`);
  const version = (doc as { version?: unknown }).version;
  if (version !== undefined && version !== 1)
    throw new CommandError(`${file}: Not supported version field value ${JSON.stringify(version)}`);
  return doc as Record<string, unknown>;
}

function entries(doc: Record<string, unknown>, field: string, file: string): Record<string, unknown>[] {
  const list = doc[field];
  if (!Array.isArray(list)) throw new CommandError(`${file}: expected "${field}": [...]`);
  return list.map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      throw new CommandError(`${file}: ${field}[${i}] must be an object`);
    return e as Record<string, unknown>;
  });
}

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

function topicPartition(e: Record<string, unknown>, where: string, file: string): TopicPartition {
  if (typeof e.topic !== 'string' || e.topic === '')
    throw new CommandError(`${file}: ${where} needs "topic" (a string)`);
  if (!isId(e.partition)) throw new CommandError(`${file}: ${where} needs "partition" (an integer >= 0)`);
  return { topic: e.topic, partition: e.partition };
}

function noDuplicatePartitions(parts: readonly TopicPartition[], what: string, file: string): void {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const p of parts) {
    const k = tpName(p);
    if (seen.has(k)) dups.add(k);
    seen.add(k);
  }
  if (dups.size > 0)
    throw new CommandError(`${file}: ${what} contains duplicate topic partitions: ${[...dups].join(',')}`);
}

/** A reassignment file: the partitions with their target replicas (Kafka's checks: none empty, no duplicates). */
export function parseReassignmentJson(text: string, file: string): PartitionMove[] {
  const list = entries(parseJson(text, file), 'partitions', file);
  if (list.length === 0) throw new CommandError(`${file}: Partition reassignment list cannot be empty`);
  const moves = list.map((e, i) => {
    const where = `partitions[${i}]`;
    const tp = topicPartition(e, where, file);
    const replicas = e.replicas;
    if (!Array.isArray(replicas) || !replicas.every(isId))
      throw new CommandError(`${file}: ${where} needs "replicas" (a list of broker ids)`);
    if (replicas.length === 0)
      throw new CommandError(`${file}: Partition replica list cannot be empty (${tpName(tp)})`);
    const dups = [...new Set(replicas.filter((r, j) => replicas.indexOf(r) !== j))];
    if (dups.length > 0) {
      throw new CommandError(
        `${file}: Partition replica lists may not contain duplicate entries: ${tpName(tp)} contains multiple entries for ${dups.join(',')}`,
      );
    }
    const dirs = e.log_dirs;
    if (dirs !== undefined) {
      if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === 'string'))
        throw new CommandError(`${file}: ${where}: "log_dirs" must be a list of strings`);
      if (dirs.length !== replicas.length) {
        throw new CommandError(
          `${file}: Size of replicas list [${replicas.join(', ')}] is different from size of log dirs list [${dirs.join(', ')}] for partition ${tpName(tp)}`,
        );
      }
      const placed = dirs.filter((d) => d !== ANY_LOG_DIR);
      if (placed.length > 0) {
        throw new CommandError(
          `${file}: ${tpName(tp)}: moving replicas to a given log dir is not supported ("log_dirs" must be "any"; got ${placed.join(', ')})`,
        );
      }
    }
    return { ...tp, replicas: replicas as number[] };
  });
  noDuplicatePartitions(moves, 'Partition reassignment', file);
  return moves;
}

/** A topics-to-move file: topic names, without duplicates. */
export function parseTopicsToMoveJson(text: string, file: string): string[] {
  const list = entries(parseJson(text, file), 'topics', file);
  if (list.length === 0) throw new CommandError(`${file}: the list of topics is empty`);
  const topics = list.map((e, i) => {
    if (typeof e.topic !== 'string' || e.topic === '')
      throw new CommandError(`${file}: topics[${i}] needs "topic" (a string)`);
    return e.topic;
  });
  const dups = [...new Set(topics.filter((t, i) => topics.indexOf(t) !== i))];
  if (dups.length > 0)
    throw new CommandError(
      `${file}: List of topics to reassign contains duplicate entries: ${dups.join(',')}`,
    );
  return topics;
}

/** A partitions file (kafka-leader-election.sh --path-to-json-file). */
export function parsePartitionsJson(text: string, file: string): TopicPartition[] {
  const list = entries(parseJson(text, file), 'partitions', file);
  const parts = list.map((e, i) => topicPartition(e, `partitions[${i}]`, file));
  noDuplicatePartitions(parts, 'Replica election data', file);
  return parts;
}

/** Kafka's reassignment JSON on one line, partitions sorted, every log dir "any". */
export function formatAssignment(parts: readonly PartitionMove[]): string {
  return JSON.stringify({
    version: 1,
    partitions: [...parts].sort(comparePartitions).map((p) => ({
      topic: p.topic,
      partition: p.partition,
      replicas: p.replicas,
      log_dirs: p.replicas.map(() => ANY_LOG_DIR),
    })),
  });
}
