// ZooKeeper paths: which strings are valid znode paths (ZooKeeper's PathUtils rules), the connect string
// (zookeeper.connect: host:port[,host:port...][/chroot]), and Kafka's znode layout (ZkData.scala); the
// formats of the znodes' data are in zk-data.ts.

import { topicNameProblem } from '../admin.js';

/** Splits `host:port[,host:port...][/chroot]`; throws a message naming zookeeper.connect. */
export function parseConnectString(connectString: string): { hosts: string; chroot: string | undefined } {
  const slash = connectString.indexOf('/');
  const hosts = slash < 0 ? connectString : connectString.slice(0, slash);
  const chrootRaw = slash < 0 ? '' : connectString.slice(slash);
  const bad = (why: string): Error => new Error(`zookeeper.connect '${connectString}' is invalid: ${why}`);
  const list = hosts.split(',');
  if (hosts === '' || list.some((h) => h.trim() === ''))
    throw bad('expected host:port[,host:port...][/chroot]');
  for (const h of list) {
    const m = /^(.+?)(?::(\d+))?$/.exec(h.trim());
    const port = m?.[2] === undefined ? 2181 : Number(m[2]);
    if (m === null || port < 1 || port > 65535) throw bad(`'${h}' is not host:port`);
  }
  const chroot = chrootRaw === '' || chrootRaw === '/' ? undefined : chrootRaw;
  if (chroot !== undefined) {
    const why = zkPathProblem(chroot);
    if (why !== undefined) throw bad(`chroot ${why}`);
  }
  return { hosts, chroot };
}

/** Why `path` is not a valid znode path (ZooKeeper's PathUtils rules), or undefined. */
export function zkPathProblem(path: string): string | undefined {
  if (path.length === 0 || path[0] !== '/') return `'${path}' must start with /`;
  if (path === '/') return undefined;
  if (path.endsWith('/')) return `'${path}' must not end with /`;
  for (const part of path.slice(1).split('/')) {
    if (part === '') return `'${path}' has an empty component`;
    if (part === '.' || part === '..') return `'${path}' has a relative component`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what ZooKeeper refuses
  if (/[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/.test(path)) {
    return `'${JSON.stringify(path)}' has a character ZooKeeper refuses`;
  }
  return undefined;
}

/** A znode whose content does not decode. */
export class ZkDataError extends Error {
  constructor(
    readonly znode: string,
    why: string,
  ) {
    super(`bad data in ZooKeeper ${znode}: ${why}`);
    this.name = 'ZkDataError';
  }
}

// ---- Kafka's layout ----

function topicSegment(topic: string): string {
  const why = topicNameProblem(topic);
  if (why !== null) throw new Error(`not a topic name for a ZooKeeper path: ${why}`);
  return topic;
}

function intSegment(n: number, what: string): string {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff)
    throw new Error(`${what} must be an int >= 0; got ${n}`);
  return String(n);
}

function entitySegment(entityType: string): string {
  if (!/^[a-z][a-z-]*$/.test(entityType)) throw new Error(`not a config entity type: '${entityType}'`);
  return entityType;
}

function entityNameSegment(name: string): string {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    zkPathProblem(`/${name}`) !== undefined
  ) {
    throw new Error(`not a config entity name for a ZooKeeper path: '${name}'`);
  }
  return name;
}

/** A group id as a znode name: percent-encoded (group ids may hold '/', '.' alone, any character). */
export function groupEntityName(group: string): string {
  return encodeURIComponent(group).replace(/\./g, '%2E').replace(/\*/g, '%2A');
}

/** Kafka's znode paths (ZkData.scala objects of the same names). Topic names are checked (no '/'). */
export const zkPaths = {
  clusterId: '/cluster/id',
  controller: '/controller',
  controllerEpoch: '/controller_epoch',
  brokers: '/brokers',
  brokerIds: '/brokers/ids',
  brokerId: (id: number): string => `/brokers/ids/${intSegment(id, 'broker id')}`,
  brokerSequenceId: '/brokers/seqid',
  topics: '/brokers/topics',
  topic: (topic: string): string => `/brokers/topics/${topicSegment(topic)}`,
  topicPartitions: (topic: string): string => `/brokers/topics/${topicSegment(topic)}/partitions`,
  topicPartition: (topic: string, partition: number): string =>
    `/brokers/topics/${topicSegment(topic)}/partitions/${intSegment(partition, 'partition')}`,
  partitionState: (topic: string, partition: number): string =>
    `/brokers/topics/${topicSegment(topic)}/partitions/${intSegment(partition, 'partition')}/state`,
  config: '/config',
  configEntityType: (entityType: string): string => `/config/${entitySegment(entityType)}`,
  topicConfig: (topic: string): string => `/config/topics/${topicSegment(topic)}`,
  /** /config/brokers/<id> or /config/brokers/<default> (dynamic broker configs), /config/groups/<group>. */
  entityConfig: (entityType: string, name: string): string =>
    `/config/${entitySegment(entityType)}/${entityNameSegment(name)}`,
  configChanges: '/config/changes',
  /** Create with mode persistentSequential; ZooKeeper appends the 10-digit sequence number. */
  configChangePrefix: '/config/changes/config_change_',
  admin: '/admin',
  deleteTopics: '/admin/delete_topics',
  deleteTopic: (topic: string): string => `/admin/delete_topics/${topicSegment(topic)}`,
  reassignPartitions: '/admin/reassign_partitions',
  preferredReplicaElection: '/admin/preferred_replica_election',
  isrChangeNotification: '/isr_change_notification',
  isrChangePrefix: '/isr_change_notification/isr_change_',
  latestProducerIdBlock: '/latest_producer_id_block',
  logDirEventNotification: '/log_dir_event_notification',
  logDirEventPrefix: '/log_dir_event_notification/log_dir_event_',
  feature: '/feature',
  consumers: '/consumers',
} as const;

/** Kafka's ConfigType names: the children of /config. */
export const configEntityTypes = ['topics', 'clients', 'users', 'brokers', 'ips'] as const;

/** Persistent znodes a Kafka broker makes sure exist at start-up (ZkData.PersistentZkPaths). */
export const persistentZkPaths: readonly string[] = [
  zkPaths.consumers,
  zkPaths.brokerIds,
  zkPaths.topics,
  zkPaths.configChanges,
  zkPaths.deleteTopics,
  zkPaths.brokerSequenceId,
  zkPaths.isrChangeNotification,
  zkPaths.latestProducerIdBlock,
  zkPaths.logDirEventNotification,
  ...configEntityTypes.map((t) => zkPaths.configEntityType(t)),
];

/** The sequence number of a sequential znode's name or path (the digits after `prefix`'s last part). */
export function sequenceNumber(name: string, prefix: string): string {
  const base = prefix.slice(prefix.lastIndexOf('/') + 1);
  const at = name.lastIndexOf(base);
  const seq = at < 0 ? '' : name.slice(at + base.length);
  if (!/^\d{1,19}$/.test(seq)) throw new ZkDataError(name, `not a ${base}<sequence> znode`);
  return seq;
}

/** A child of /brokers/ids (or a partition's name) as a number. */
export function parseIdSegment(name: string, znode: string): number {
  if (!/^(0|[1-9]\d{0,9})$/.test(name) || Number(name) > 0x7fffffff) {
    throw new ZkDataError(znode, `'${name}' is not an id`);
  }
  return Number(name);
}
