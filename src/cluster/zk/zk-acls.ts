// ACLs in ZooKeeper, where Kafka's ZooKeeper-mode brokers keep them:
//
//   /kafka-acl/<ResourceType>/<name>                     LITERAL patterns
//   /kafka-acl-extended/prefixed/<ResourceType>/<name>   PREFIXED patterns
//
// each holding {"version":1,"acls":[{"principal","permissionType","operation","host"}]}. A change writes the
// znode (compare-and-set on its version, retried) and then a sequential change notification every broker
// follows: /kafka-acl-changes/acl_changes_<n> holding "<ResourceType>:<name>" for LITERAL patterns,
// /kafka-acl-extended-changes/acl_changes_<n> holding {"version":1,"resourceType","name","patternType"} for
// PREFIXED ones. Every broker loads all ACLs at start-up and re-reads the resource a notification names.
// As Kafka's ZkNodeChangeNotificationListener, every broker deletes the notifications older than the expiration
// (15 minutes, samsa.acl.change.notification.expiration.ms) after it processed new ones and on a timer, so the
// change roots do not grow forever; a broker starting later reads all ACLs anyway.
//
// Names are used as znode names as Kafka does; '%' and '/' (which a znode name cannot hold) are
// percent-encoded.

import { aclChangeNotificationPurgeIntervalMsMax } from '../../limits.js';
import type { Logger } from '../../logger.js';
import {
  type AclEntry,
  decodeAcls,
  encodeAcls,
  PatternType,
  type ResourcePattern,
  resourceTypeFromName,
  resourceTypeZkName,
} from '../../security/acl.js';
import type { ZkClient } from './zk-client.js';
import { isZkError } from './zk-errors.js';
import { sequenceNumber } from './zk-paths.js';

const LITERAL_ROOT = '/kafka-acl';
const PREFIXED_ROOT = '/kafka-acl-extended/prefixed';
const LITERAL_CHANGES = '/kafka-acl-changes';
const EXTENDED_CHANGES = '/kafka-acl-extended-changes';
const CHANGE_PREFIX = 'acl_changes_';
/** Compare-and-set attempts before giving up on a contended resource. */
const UPDATE_ATTEMPTS = 10;

function encodeName(name: string): string {
  return name.replace(/%/g, '%25').replace(/\//g, '%2F');
}

function decodeName(name: string): string {
  return name.replace(/%2F/gi, '/').replace(/%25/g, '%');
}

export function aclZnode(p: ResourcePattern): string {
  const root = p.patternType === PatternType.PREFIXED ? PREFIXED_ROOT : LITERAL_ROOT;
  return `${root}/${resourceTypeZkName(p.resourceType)}/${encodeName(p.name)}`;
}

export async function readResourceAcls(
  zk: ZkClient,
  p: ResourcePattern,
): Promise<{ entries: AclEntry[]; version: number }> {
  const r = await zk.get(aclZnode(p));
  return r === null ? { entries: [], version: -1 } : { entries: decodeAcls(r.data), version: r.stat.version };
}

/** Kafka's AclAuthorizer.updateResourceAcls: CAS on the znode, then the change notification. */
export async function updateResourceAcls(
  zk: ZkClient,
  p: ResourcePattern,
  update: (current: AclEntry[]) => AclEntry[],
): Promise<AclEntry[]> {
  const path = aclZnode(p);
  for (let attempt = 1; ; attempt++) {
    const current = await readResourceAcls(zk, p);
    const next = update(current.entries);
    try {
      if (next.length === 0) {
        if (current.version !== -1) await zk.delete(path, current.version);
      } else if (current.version === -1) {
        await zk.createRecursive(path, encodeAcls(next));
      } else {
        await zk.set(path, encodeAcls(next), current.version);
      }
    } catch (err) {
      const raced = isZkError(err, 'BADVERSION') || isZkError(err, 'NODEEXISTS') || isZkError(err, 'NONODE');
      if (raced && attempt < UPDATE_ATTEMPTS) continue;
      throw err;
    }
    await notifyChange(zk, p);
    return next;
  }
}

async function notifyChange(zk: ZkClient, p: ResourcePattern): Promise<void> {
  const type = resourceTypeZkName(p.resourceType);
  const [root, data] =
    p.patternType === PatternType.PREFIXED
      ? [
          EXTENDED_CHANGES,
          JSON.stringify({ version: 1, resourceType: type, name: p.name, patternType: 'PREFIXED' }),
        ]
      : [LITERAL_CHANGES, `${type}:${p.name}`];
  await zk.createRecursive(`${root}/${CHANGE_PREFIX}`, Buffer.from(data), { mode: 'persistentSequential' });
}

/** The resource pattern a change notification names, or null when unreadable. */
function parseChange(root: string, data: Buffer): ResourcePattern | null {
  const text = data.toString('utf8');
  if (root === LITERAL_CHANGES) {
    const i = text.indexOf(':');
    const resourceType = i < 0 ? undefined : resourceTypeFromName(text.slice(0, i));
    if (resourceType === undefined) return null;
    return { resourceType, patternType: PatternType.LITERAL, name: text.slice(i + 1) };
  }
  const doc = JSON.parse(text) as { resourceType?: unknown; name?: unknown; patternType?: unknown };
  const resourceType =
    typeof doc.resourceType === 'string' ? resourceTypeFromName(doc.resourceType) : undefined;
  if (resourceType === undefined || typeof doc.name !== 'string') return null;
  const prefixed = String(doc.patternType).toUpperCase() === 'PREFIXED';
  return {
    resourceType,
    patternType: prefixed ? PatternType.PREFIXED : PatternType.LITERAL,
    name: doc.name,
  };
}

/**
 * Deletes the change notifications under root created more than expirationMs before now (by ZooKeeper's clock,
 * the znode's ctime); a notification another broker deleted first is skipped. Answers how many this call deleted.
 */
export async function purgeObsoleteChanges(
  zk: ZkClient,
  root: string,
  now: number,
  expirationMs: number,
): Promise<number> {
  let deleted = 0;
  const children = ((await zk.getChildren(root)) ?? []).filter((c) => c.startsWith(CHANGE_PREFIX)).sort();
  for (const c of children) {
    const path = `${root}/${c}`;
    const stat = await zk.exists(path);
    // Sequential names sort by age: the first young enough ends the purge.
    if (stat === null) continue;
    if (now - stat.ctime <= expirationMs) break;
    try {
      await zk.delete(path);
      deleted++;
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
    }
  }
  return deleted;
}

/**
 * Keeps a broker's authorizer in step with ZooKeeper: load() reads every ACL; follow() watches both change
 * roots and re-reads the resources named by new notifications (call load() again after a new session).
 */
export class ZkAclFollower {
  private readonly last = new Map<string, number>([
    [LITERAL_CHANGES, -1],
    [EXTENDED_CHANGES, -1],
  ]);
  private stopped = false;
  private purgeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly zk: ZkClient,
    private readonly apply: (p: ResourcePattern, entries: AclEntry[]) => void,
    private readonly logger: Logger,
    /** Notifications older than this are deleted (samsa.acl.change.notification.expiration.ms). */
    private readonly expirationMs: number,
  ) {}

  async load(): Promise<void> {
    for (const [root, patternType] of [
      [LITERAL_ROOT, PatternType.LITERAL],
      [PREFIXED_ROOT, PatternType.PREFIXED],
    ] as const) {
      for (const typeName of (await this.zk.getChildren(root)) ?? []) {
        const resourceType = resourceTypeFromName(typeName);
        if (resourceType === undefined) continue;
        for (const child of (await this.zk.getChildren(`${root}/${typeName}`)) ?? []) {
          const p = { resourceType, patternType, name: decodeName(child) };
          try {
            this.apply(p, (await readResourceAcls(this.zk, p)).entries);
          } catch (err) {
            this.logger.warn('ignoring unreadable ACLs', { znode: aclZnode(p), error: err });
          }
        }
      }
    }
  }

  /** Loads everything, then follows the change notifications. */
  async start(): Promise<void> {
    for (const root of this.last.keys()) {
      const children = (await this.zk.getChildren(root)) ?? [];
      this.last.set(root, Math.max(-1, ...children.map((c) => seqOf(c))));
    }
    await this.load();
    for (const root of this.last.keys()) await this.watch(root);
    if (this.purgeTimer === null && !this.stopped) {
      const every = Math.min(this.expirationMs, aclChangeNotificationPurgeIntervalMsMax);
      this.purgeTimer = setInterval(() => {
        for (const root of this.last.keys()) this.purge(root);
      }, every);
      this.purgeTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.purgeTimer !== null) clearInterval(this.purgeTimer);
    this.purgeTimer = null;
  }

  /** Deletes root's expired notifications in the background; a failure is logged and tried again later. */
  private purge(root: string): void {
    if (this.stopped) return;
    purgeObsoleteChanges(this.zk, root, Date.now(), this.expirationMs).then(
      (n) => {
        if (n > 0) this.logger.debug('deleted expired ACL change notifications', { root, deleted: n });
      },
      (err: unknown) =>
        this.logger.warn('deleting expired ACL change notifications failed', { root, error: err }),
    );
  }

  private async watch(root: string): Promise<void> {
    if (this.stopped) return;
    const children =
      (await this.zk.getChildrenWithWatch(root, () => {
        void this.watch(root).catch((err: unknown) =>
          this.logger.warn('reading ACL change notifications failed', { error: err }),
        );
      })) ?? (await this.createRoot(root));
    const last = this.last.get(root) ?? -1;
    const fresh = children
      .map((c) => ({ name: c, seq: seqOf(c) }))
      .filter((c) => c.seq > last)
      .sort((a, b) => a.seq - b.seq);
    for (const c of fresh) {
      this.last.set(root, c.seq);
      try {
        const r = await this.zk.get(`${root}/${c.name}`);
        const p = r === null ? null : parseChange(root, r.data);
        if (p === null) continue;
        const entries = (await readResourceAcls(this.zk, p)).entries;
        this.apply(p, entries);
        this.logger.info('ACLs changed', { resource: aclZnode(p), acls: entries.length });
      } catch (err) {
        this.logger.warn('ignoring an unreadable ACL change notification', { znode: c.name, error: err });
      }
    }
    if (fresh.length > 0) this.purge(root);
  }

  /** A missing change root: created, then watched (so the first notification is seen). */
  private async createRoot(root: string): Promise<string[]> {
    await this.zk.createRecursive(root).catch((e: unknown) => {
      if (!isZkError(e, 'NODEEXISTS')) throw e;
    });
    await this.watch(root);
    return [];
  }
}

function seqOf(name: string): number {
  try {
    return Number(sequenceNumber(name, CHANGE_PREFIX));
  } catch {
    return -1;
  }
}
