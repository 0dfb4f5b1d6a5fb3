// The embedded (single-node) metadata store: cluster id, topics, partitions and the producer id
// allocator, persisted as one JSON document.
//
// File: <first log dir>/samsa-metadata.json, written whole on every change: write to
// samsa-metadata.json.tmp, fsync, rename over the old file, fsync the directory. A crash leaves
// either the old or the new document, never a mix. Changes to topics are rare (create, delete,
// add partitions, alter configs), so rewriting the document is cheap and keeps the format obvious.
// Document: { version: 1, clusterId, nextProducerId, topics: [{ name, topicId, partitions,
// leaderEpochs: number[], configs: {key: value} }], brokerConfigs?: { <entity>: {key: value} },
// groupConfigs?: { <group id>: {key: value} }, userConfigs?: { <user>: {key: value} },
// quotaConfigs?: { <quota entity path>: {key: value} } }. brokerConfigs holds the dynamic broker configs by entity:
// the broker id, or '<default>' for the cluster-wide default (ZooKeeper's /config/brokers naming); both
// optional fields (and userConfigs, and acls: [{ pattern, entries }] for the ACL authorizer: SCRAM credentials as Kafka's /config/users) were added later within version 1 (absent = none), so older documents read unchanged.
//
// meta.properties (Kafka's file) is also written in every log dir with cluster.id and node.id so
// a data folder can be told apart from another cluster's.
//
// Every change is written first and adopted in memory only once the write succeeded, so a failed write
// (a full disk, a read-only file system) throws and leaves the store as it was; callers answer an error.
// Files whose content would not change are not rewritten at start-up (a broker starts on a full disk).

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AclEntry, patternKey, type ResourcePattern } from '../security/acl.js';
import { writeFileAtomic } from '../storage/checkpoint.js';
import { ensureDir } from '../storage/log-dirs.js';
import { refuseForeignDataDirs, SAMSA_META_MARKER } from './foreign-data.js';

export interface TopicRecord {
  name: string;
  topicId: string;
  partitions: number;
  /** Leader epoch per partition; bumped whenever leadership changes (a single node keeps 0). */
  leaderEpochs: number[];
  configs: Record<string, string>;
}

interface Document {
  version: 1;
  clusterId: string;
  nextProducerId: number;
  topics: TopicRecord[];
  brokerConfigs?: Record<string, Record<string, string>>;
  groupConfigs?: Record<string, Record<string, string>>;
  userConfigs?: Record<string, Record<string, string>>;
  /** Client quotas by entity path (security/client-quotas.ts: users/<u>[/clients/<c>], clients/<c>, ips/<ip>). */
  quotaConfigs?: Record<string, Record<string, string>>;
  /** ACLs by resource pattern (authorizer.ts); added later within version 1. */
  acls?: { pattern: ResourcePattern; entries: AclEntry[] }[];
}

/** Kafka prints cluster ids as URL-safe base64 of 16 random bytes. */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

export function newTopicId(): string {
  let id = randomBytes(16).toString('hex');
  // Zero and the "metadata topic" id are reserved by Kafka; astronomically unlikely, still excluded.
  while (/^0+$/.test(id) || id === '00000000000000000000000000000001') id = randomBytes(16).toString('hex');
  return id;
}

export class MetadataStore {
  private doc: Document;
  private readonly file: string;

  private constructor(file: string, doc: Document) {
    this.file = file;
    this.doc = doc;
  }

  /** The cluster id stored in the first log dir's metadata, if any (read-only; nothing is created). */
  static storedClusterId(logDirs: readonly string[]): string | null {
    const first = logDirs[0];
    if (first === undefined) return null;
    try {
      const doc = JSON.parse(fs.readFileSync(path.join(first, 'samsa-metadata.json'), 'utf8')) as {
        clusterId?: unknown;
      };
      return typeof doc.clusterId === 'string' ? doc.clusterId : null;
    } catch {
      return null;
    }
  }

  static open(logDirs: string[], nodeId: number, clusterIdConfig: string | null): MetadataStore {
    const first = logDirs[0];
    if (first === undefined) throw new Error('no log dir');
    refuseForeignDataDirs(logDirs);
    for (const dir of logDirs) ensureDir(dir);
    const file = path.join(first, 'samsa-metadata.json');
    let doc: Document;
    if (fs.existsSync(file)) {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Document;
      if (parsed.version !== 1)
        throw new Error(`${file}: unsupported metadata version ${String(parsed.version)}`);
      doc = parsed;
      if (clusterIdConfig !== null && clusterIdConfig !== doc.clusterId) {
        throw new Error(
          `cluster.id ${clusterIdConfig} does not match ${doc.clusterId} stored in ${file}; refusing to mix clusters`,
        );
      }
    } else {
      doc = { version: 1, clusterId: clusterIdConfig ?? newClusterId(), nextProducerId: 0, topics: [] };
    }
    const store = new MetadataStore(file, doc);
    writeIfChanged(file, serialize(doc));
    for (const dir of logDirs) {
      writeIfChanged(
        path.join(dir, 'meta.properties'),
        `${SAMSA_META_MARKER}\nversion=1\ncluster.id=${doc.clusterId}\nnode.id=${nodeId}\n`,
      );
    }
    return store;
  }

  get clusterId(): string {
    return this.doc.clusterId;
  }

  topics(): readonly TopicRecord[] {
    return this.doc.topics;
  }

  /** Adds or replaces a topic. Throws when the document cannot be written (nothing changes then). */
  putTopic(topic: TopicRecord): void {
    const topics = this.doc.topics.filter((t) => t.name !== topic.name);
    const i = this.doc.topics.findIndex((t) => t.name === topic.name);
    topics.splice(i >= 0 ? i : topics.length, 0, topic);
    this.commit({ ...this.doc, topics });
  }

  /** Throws when the document cannot be written (nothing changes then). */
  removeTopic(name: string): void {
    this.commit({ ...this.doc, topics: this.doc.topics.filter((t) => t.name !== name) });
  }

  /** The dynamic broker configs of an entity (a broker id or '<default>'); {} for none. */
  brokerConfigs(entity: string): Readonly<Record<string, string>> {
    return this.doc.brokerConfigs?.[entity] ?? {};
  }

  /** Replaces an entity's dynamic broker configs (empty removes it). Throws when the document cannot be written. */
  putBrokerConfigs(entity: string, configs: Record<string, string>): void {
    this.commit({ ...this.doc, brokerConfigs: withEntry(this.doc.brokerConfigs, entity, configs) });
  }

  /** A group's config overrides; {} for none. */
  groupConfigs(group: string): Readonly<Record<string, string>> {
    return this.doc.groupConfigs?.[group] ?? {};
  }

  /** The groups with config overrides, sorted. */
  configuredGroups(): string[] {
    return Object.entries(this.doc.groupConfigs ?? {})
      .filter(([, c]) => Object.keys(c).length > 0)
      .map(([g]) => g)
      .sort();
  }

  /** Replaces a group's config overrides (empty removes them). Throws when the document cannot be written. */
  putGroupConfigs(group: string, configs: Record<string, string>): void {
    this.commit({ ...this.doc, groupConfigs: withEntry(this.doc.groupConfigs, group, configs) });
  }

  /** A user entity's configs (SCRAM credentials by mechanism); {} for none. */
  userConfigs(user: string): Readonly<Record<string, string>> {
    return this.doc.userConfigs?.[user] ?? {};
  }

  userNames(): string[] {
    return Object.keys(this.doc.userConfigs ?? {}).sort();
  }

  /** Replaces a user's configs (empty removes them). Throws when the document cannot be written. */
  putUserConfigs(user: string, configs: Record<string, string>): void {
    this.commit({ ...this.doc, userConfigs: withEntry(this.doc.userConfigs, user, configs) });
  }

  /** Every client quota entity's values by entity path. */
  quotaConfigs(): Readonly<Record<string, Readonly<Record<string, string>>>> {
    return this.doc.quotaConfigs ?? {};
  }

  /** Replaces a quota entity's values (empty removes it). Throws when the document cannot be written. */
  putQuotaConfigs(path: string, configs: Record<string, string>): void {
    this.commit({ ...this.doc, quotaConfigs: withEntry(this.doc.quotaConfigs, path, configs) });
  }

  /** Every resource pattern's ACLs. */
  acls(): readonly { pattern: ResourcePattern; entries: readonly AclEntry[] }[] {
    return this.doc.acls ?? [];
  }

  /** Replaces a resource pattern's ACLs (empty removes it). Throws when the document cannot be written. */
  putAcls(pattern: ResourcePattern, entries: readonly AclEntry[]): void {
    const key = patternKey(pattern);
    const acls = (this.doc.acls ?? []).filter((a) => patternKey(a.pattern) !== key);
    if (entries.length > 0) acls.push({ pattern: { ...pattern }, entries: entries.map((e) => ({ ...e })) });
    this.commit({ ...this.doc, acls });
  }

  /** Reserves a block of producer ids; the block is persisted before any id of it is handed out. */
  allocateProducerIds(count: number): number {
    const first = this.doc.nextProducerId;
    this.commit({ ...this.doc, nextProducerId: first + count });
    return first;
  }

  /** Writes the new document, then adopts it. */
  private commit(next: Document): void {
    writeAtomic(this.file, serialize(next));
    this.doc = next;
  }
}

function withEntry(
  map: Record<string, Record<string, string>> | undefined,
  key: string,
  value: Record<string, string>,
): Record<string, Record<string, string>> {
  const next = { ...(map ?? {}) };
  if (Object.keys(value).length === 0) delete next[key];
  else next[key] = { ...value };
  return next;
}

function serialize(doc: Document): string {
  return `${JSON.stringify(doc, null, 1)}\n`;
}

function writeIfChanged(file: string, text: string): void {
  let current: string | null = null;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {}
  if (current !== text) writeAtomic(file, text);
}

export function writeAtomic(file: string, text: string): void {
  writeFileAtomic(file, Buffer.from(text, 'utf8'));
}
