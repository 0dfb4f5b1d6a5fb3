// Kafka's ZooKeeper layout and znode formats (Kafka 2.x/3.x core/src/main/scala/kafka/zk/ZkData.scala),
// so that Kafka's tools and a Kafka broker would read what Samsa writes, and the other way round.
//
//   /cluster/id                        {"version":"1","id":"<cluster id>"}
//   /controller (ephemeral)            {"version":1,"brokerid":1,"timestamp":"<ms>"}
//                                      (Kafka 3.4+ writes version 2 with "kraftControllerEpoch":-1)
//   /controller_epoch                  the epoch as decimal text: 5
//   /brokers/ids/<id> (ephemeral)      {"features":{},"listener_security_protocol_map":
//                                      {"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://h:9092"],
//                                      "jmx_port":-1,"port":9092,"host":"h","version":5,"timestamp":"<ms>"}
//                                      (+ "rack" when set)
//   /brokers/topics/<t>                {"partitions":{"0":[1,2,3]},"topic_id":"<22-char base64url>",
//                                      "adding_replicas":{},"removing_replicas":{},"version":3}
//   /brokers/topics/<t>/partitions/<p>/state
//                                      {"controller_epoch":1,"leader":3,"version":1,"leader_epoch":55,
//                                      "isr":[1,2,3]} (+ "leader_recovery_state":1 while recovering)
//   /config/topics/<t>                 {"version":1,"config":{"retention.ms":"1000"}}
//   /config/changes/config_change_<seq>
//                                      {"version":2,"entity_path":"topics/<t>"}
//   /admin/delete_topics/<t>           no data
//   /admin/reassign_partitions         {"version":1,"partitions":[{"topic":"t","partition":0,
//                                      "replicas":[1,2]}]}
//   /admin/preferred_replica_election  {"version":1,"partitions":[{"topic":"t","partition":0}]}
//   /isr_change_notification/isr_change_<seq>
//                                      {"version":1,"partitions":[{"topic":"t","partition":0}]}
//   /latest_producer_id_block          {"version":1,"broker":1,"block_start":"0","block_end":"999"}
//   /log_dir_event_notification/log_dir_event_<seq>
//                                      {"version":1,"broker":1,"event":1}
//
// Encoders write the keys in the order Kafka's brokers were seen writing them (JSON key order carries no
// meaning; it only makes the bytes comparable). Decoders trust nothing: every field is type- and
// range-checked and a bad znode throws a ZkDataError naming the znode and the field.

import * as limits from '../../limits.js';
import { topicNameProblem } from '../admin.js';
import { ZkDataError, zkPaths } from './zk-paths.js';

export * from './zk-paths.js';

// ---- checked JSON reading ----

class Json {
  constructor(readonly znode: string) {}

  fail(why: string): never {
    throw new ZkDataError(this.znode, why);
  }

  parse(bytes: Buffer): Record<string, unknown> {
    if (bytes.length === 0) this.fail('empty');
    let v: unknown;
    try {
      v = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      this.fail(`not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    return this.object(v, 'the document');
  }

  object(v: unknown, what: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${what} must be an object`);
    return v as Record<string, unknown>;
  }

  int(v: unknown, what: string, min = -0x80000000, max = 0x7fffffff): number {
    if (typeof v !== 'number' || !Number.isInteger(v))
      this.fail(`${what} must be an integer; got ${show(v)}`);
    if (v < min || v > max) this.fail(`${what} must be in [${min}, ${max}]; got ${v}`);
    return v;
  }

  string(v: unknown, what: string): string {
    if (typeof v !== 'string') this.fail(`${what} must be a string; got ${show(v)}`);
    return v;
  }

  /** A non-negative integer Kafka writes as a decimal string ("timestamp", "block_start"). */
  decimalString(v: unknown, what: string): number {
    const s = this.string(v, what);
    if (!/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s)))
      this.fail(`${what} must be a decimal; got ${show(s)}`);
    return Number(s);
  }

  ids(v: unknown, what: string): number[] {
    if (!Array.isArray(v)) this.fail(`${what} must be an array; got ${show(v)}`);
    const out = v.map((x, i) => this.int(x, `${what}[${i}]`, 0));
    if (new Set(out).size !== out.length) this.fail(`${what} has a broker twice: ${show(v)}`);
    return out;
  }

  /** {"0":[1,2],...}: a partition-keyed map of broker id lists. */
  partitionMap(v: unknown, what: string): Map<number, number[]> {
    const o = this.object(v, what);
    const keys = Object.keys(o);
    if (keys.length > limits.partitionsPerTopicMax) this.fail(`${what} has ${keys.length} partitions`);
    const out = new Map<number, number[]>();
    for (const k of keys) {
      if (!/^(0|[1-9]\d{0,9})$/.test(k) || Number(k) > 0x7fffffff)
        this.fail(`${what} key ${show(k)} is not a partition`);
      out.set(Number(k), this.ids(o[k], `${what}["${k}"]`));
    }
    return out;
  }

  topicPartitions(
    v: unknown,
    what: string,
  ): Array<{ topic: string; partition: number; item: Record<string, unknown> }> {
    if (!Array.isArray(v)) this.fail(`${what} must be an array`);
    return v.map((x, i) => {
      const item = this.object(x, `${what}[${i}]`);
      const topic = this.string(item.topic, `${what}[${i}].topic`);
      const why = topicNameProblem(topic);
      if (why !== null) this.fail(`${what}[${i}].topic: ${why}`);
      return { topic, partition: this.int(item.partition, `${what}[${i}].partition`, 0), item };
    });
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v), 'utf8');
}

// ---- /cluster/id ----

export function encodeClusterId(id: string): Buffer {
  return json({ version: '1', id });
}

export function decodeClusterId(bytes: Buffer): string {
  const j: Json = new Json(zkPaths.clusterId);
  const id = j.string(j.parse(bytes).id, 'id');
  if (id === '') j.fail('id is empty');
  return id;
}

// ---- /controller, /controller_epoch ----

export interface ControllerRegistration {
  brokerId: number;
  /** When the controller was elected (ms), or null when absent. */
  timestamp: number | null;
  /** Kafka 3.4+ (migrating to KRaft): the KRaft controller's epoch when one holds the znode; else null. */
  kraftControllerEpoch: number | null;
}

/** Version 1, as Kafka 2.x writes it (no kraftControllerEpoch). */
export function encodeController(brokerId: number, timestamp: number): Buffer {
  return json({ version: 1, brokerid: brokerId, timestamp: String(timestamp) });
}

export function decodeController(bytes: Buffer): ControllerRegistration {
  const j: Json = new Json(zkPaths.controller);
  const o = j.parse(bytes);
  const kraft =
    o.kraftControllerEpoch === undefined ? -1 : j.int(o.kraftControllerEpoch, 'kraftControllerEpoch', -1);
  return {
    brokerId: j.int(o.brokerid, 'brokerid', 0),
    timestamp: o.timestamp === undefined ? null : j.decimalString(o.timestamp, 'timestamp'),
    kraftControllerEpoch: kraft === -1 ? null : kraft,
  };
}

export function encodeControllerEpoch(epoch: number): Buffer {
  return Buffer.from(String(epoch), 'utf8');
}

export function decodeControllerEpoch(bytes: Buffer): number {
  const s = bytes.toString('utf8');
  if (!/^\d{1,10}$/.test(s) || Number(s) > 0x7fffffff) {
    throw new ZkDataError(zkPaths.controllerEpoch, `not an epoch: ${show(s)}`);
  }
  return Number(s);
}

// ---- /brokers/ids/<id> ----

export interface BrokerEndpoint {
  /** Listener name, e.g. PLAINTEXT, CLIENT, REPLICATION. */
  listener: string;
  /** Empty for "every interface". */
  host: string;
  port: number;
  /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL. */
  securityProtocol: string;
}

export interface BrokerRegistration {
  /** JSON version (Samsa writes 5). */
  version: number;
  endpoints: BrokerEndpoint[];
  rack: string | null;
  jmxPort: number;
  /** Registration time (ms), or null when absent. */
  timestamp: number | null;
  /** Supported feature ranges: name -> { minVersion, maxVersion }. */
  features: Record<string, { minVersion: number; maxVersion: number }>;
}

const securityProtocols = new Set(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']);

function endpointString(e: BrokerEndpoint): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return `${e.listener}://${host}:${e.port}`;
}

/** Version 5 with the top-level host/port of the first PLAINTEXT endpoint (null/-1 without one), as Kafka. */
export function encodeBrokerRegistration(
  r: Omit<BrokerRegistration, 'version' | 'timestamp'> & { timestamp: number },
): Buffer {
  const plaintext = r.endpoints.find((e) => e.securityProtocol === 'PLAINTEXT');
  const features: Record<string, { min_version: number; max_version: number }> = {};
  for (const [name, v] of Object.entries(r.features)) {
    features[name] = { min_version: v.minVersion, max_version: v.maxVersion };
  }
  const protocolMap: Record<string, string> = {};
  for (const e of r.endpoints) protocolMap[e.listener] = e.securityProtocol;
  return json({
    features,
    listener_security_protocol_map: protocolMap,
    endpoints: r.endpoints.map(endpointString),
    jmx_port: r.jmxPort,
    port: plaintext?.port ?? -1,
    host: plaintext?.host ?? null,
    ...(r.rack === null ? {} : { rack: r.rack }),
    version: 5,
    timestamp: String(r.timestamp),
  });
}

export function decodeBrokerRegistration(brokerId: number, bytes: Buffer): BrokerRegistration {
  const j: Json = new Json(zkPaths.brokerId(brokerId));
  const o = j.parse(bytes);
  const version = j.int(o.version, 'version', 1);
  const jmxPort = j.int(o.jmx_port, 'jmx_port', -1, 65535);
  let endpoints: BrokerEndpoint[];
  if (version === 1) {
    const port = j.int(o.port, 'port', 0, 65535);
    endpoints = [
      { listener: 'PLAINTEXT', host: j.string(o.host, 'host'), port, securityProtocol: 'PLAINTEXT' },
    ];
  } else {
    const map = new Map<string, string>();
    if (o.listener_security_protocol_map !== undefined) {
      const m = j.object(o.listener_security_protocol_map, 'listener_security_protocol_map');
      for (const [listener, p] of Object.entries(m)) {
        const protocol = j.string(p, `listener_security_protocol_map.${listener}`);
        if (!securityProtocols.has(protocol)) j.fail(`unknown security protocol ${show(protocol)}`);
        map.set(listener, protocol);
      }
    }
    const list: unknown[] = Array.isArray(o.endpoints) ? o.endpoints : j.fail('endpoints must be an array');
    endpoints = list.map((v, i) => {
      const s = j.string(v, `endpoints[${i}]`);
      // Kafka's EndPoint regex: LISTENER://host:port, an IPv6 host in brackets.
      const m = /^([^:/]+):\/\/\[?([0-9a-zA-Z\-%._:]*)\]?:(\d{1,5})$/.exec(s);
      if (m === null) return j.fail(`endpoints[${i}] ${show(s)} is not LISTENER://host:port`);
      const listener = m[1]!;
      const port = Number(m[3]);
      if (port > 65535) j.fail(`endpoints[${i}] port ${port} is out of range`);
      const securityProtocol = map.get(listener) ?? (securityProtocols.has(listener) ? listener : undefined);
      if (securityProtocol === undefined) j.fail(`no security protocol for listener ${listener}`);
      return { listener, host: m[2]!, port, securityProtocol };
    });
  }
  const features: BrokerRegistration['features'] = {};
  if (o.features !== undefined) {
    for (const [name, v] of Object.entries(j.object(o.features, 'features'))) {
      const range = j.object(v, `features.${name}`);
      const minVersion = j.int(range.min_version, `features.${name}.min_version`, 0, 0x7fff);
      const maxVersion = j.int(range.max_version, `features.${name}.max_version`, minVersion, 0x7fff);
      Object.defineProperty(features, name, { value: { minVersion, maxVersion }, enumerable: true });
    }
  }
  return {
    version,
    endpoints,
    rack: o.rack === undefined || o.rack === null ? null : j.string(o.rack, 'rack'),
    jmxPort,
    timestamp: o.timestamp === undefined ? null : j.decimalString(o.timestamp, 'timestamp'),
    features,
  };
}

// ---- /brokers/topics/<t> ----

export interface ReplicaAssignment {
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

export interface TopicAssignment {
  /** 32 lowercase hex digits (Samsa's form; the znode holds Kafka's 22-character base64url), or null. */
  topicId: string | null;
  partitions: Map<number, ReplicaAssignment>;
}

/** Kafka's Uuid.toString: URL-safe base64 of the 16 bytes, no padding. */
export function topicIdToKafka(hex: string): string {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`topic id must be 32 hex digits; got '${hex}'`);
  return Buffer.from(hex, 'hex').toString('base64url');
}

export function topicIdFromKafka(s: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64url');
  return b.length === 16 ? b.toString('hex') : undefined;
}

/** Version 3 (topic_id), partitions in numeric order. */
export function encodeTopicAssignment(a: TopicAssignment): Buffer {
  const partitions: Record<string, number[]> = {};
  const adding: Record<string, number[]> = {};
  const removing: Record<string, number[]> = {};
  for (const [p, r] of [...a.partitions].sort(([x], [y]) => x - y)) {
    partitions[p] = r.replicas;
    if (r.addingReplicas.length > 0) adding[p] = r.addingReplicas;
    if (r.removingReplicas.length > 0) removing[p] = r.removingReplicas;
  }
  return json({
    partitions,
    ...(a.topicId === null ? {} : { topic_id: topicIdToKafka(a.topicId) }),
    adding_replicas: adding,
    removing_replicas: removing,
    version: 3,
  });
}

export function decodeTopicAssignment(topic: string, bytes: Buffer): TopicAssignment {
  const j: Json = new Json(zkPaths.topic(topic));
  const o = j.parse(bytes);
  let topicId: string | null = null;
  if (o.topic_id !== undefined) {
    const raw = j.string(o.topic_id, 'topic_id');
    topicId = topicIdFromKafka(raw) ?? j.fail(`topic_id ${show(raw)} is not a Kafka Uuid`);
  }
  const replicas =
    o.partitions === undefined ? new Map<number, number[]>() : j.partitionMap(o.partitions, 'partitions');
  const adding =
    o.adding_replicas === undefined ? new Map() : j.partitionMap(o.adding_replicas, 'adding_replicas');
  const removing =
    o.removing_replicas === undefined ? new Map() : j.partitionMap(o.removing_replicas, 'removing_replicas');
  const partitions = new Map<number, ReplicaAssignment>();
  for (const [p, r] of replicas) {
    partitions.set(p, {
      replicas: r,
      addingReplicas: adding.get(p) ?? [],
      removingReplicas: removing.get(p) ?? [],
    });
  }
  return { topicId, partitions };
}

// ---- /brokers/topics/<t>/partitions/<p>/state ----

export interface PartitionState {
  /** Broker id of the leader, -1 for none. */
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Epoch of the controller that wrote this state. */
  controllerEpoch: number;
  /** 0 RECOVERED, 1 RECOVERING (after an unclean election). */
  leaderRecoveryState: 0 | 1;
}

export function encodePartitionState(s: PartitionState): Buffer {
  return json({
    controller_epoch: s.controllerEpoch,
    leader: s.leader,
    version: 1,
    leader_epoch: s.leaderEpoch,
    isr: s.isr,
    ...(s.leaderRecoveryState === 0 ? {} : { leader_recovery_state: s.leaderRecoveryState }),
  });
}

export function decodePartitionState(topic: string, partition: number, bytes: Buffer): PartitionState {
  const j: Json = new Json(zkPaths.partitionState(topic, partition));
  const o = j.parse(bytes);
  const recovery =
    o.leader_recovery_state === undefined ? 0 : j.int(o.leader_recovery_state, 'leader_recovery_state', 0, 1);
  return {
    leader: j.int(o.leader, 'leader', -1),
    leaderEpoch: j.int(o.leader_epoch, 'leader_epoch', 0),
    isr: j.ids(o.isr, 'isr'),
    controllerEpoch: j.int(o.controller_epoch, 'controller_epoch', 0),
    leaderRecoveryState: recovery as 0 | 1,
  };
}

// ---- /config/<type>/<name>, /config/changes ----

export function encodeEntityConfig(config: Record<string, string>): Buffer {
  return json({ version: 1, config });
}

/** The config map of /config/<type>/<name>; empty for a znode with no data (Kafka's reading). */
export function decodeEntityConfig(znode: string, bytes: Buffer): Record<string, string> {
  if (bytes.length === 0) return {};
  const j: Json = new Json(znode);
  const o = j.parse(bytes);
  if (o.config === undefined) return {};
  const entries = Object.entries(j.object(o.config, 'config')).map(([k, v]) => [
    k,
    j.string(v, `config.${k}`),
  ]);
  return Object.fromEntries(entries) as Record<string, string>;
}

export interface ConfigChange {
  /** topics, clients, users, brokers, ips. */
  entityType: string;
  /** The entity's (sanitized) name; for users/<u>/clients/<c> everything after the type. */
  entityName: string;
}

/** Version 2: {"version":2,"entity_path":"topics/<t>"}. */
export function encodeConfigChange(entityType: string, entityName: string): Buffer {
  return json({ version: 2, entity_path: `${entityType}/${entityName}` });
}

/** Reads version 2 and the version 1 it replaced ({"version":1,"entity_type":...,"entity_name":...}). */
export function decodeConfigChange(znode: string, bytes: Buffer): ConfigChange {
  const j: Json = new Json(znode);
  const o = j.parse(bytes);
  const version = j.int(o.version, 'version', 1, 2);
  if (version === 1) {
    return {
      entityType: j.string(o.entity_type, 'entity_type'),
      entityName: j.string(o.entity_name, 'entity_name'),
    };
  }
  const path = j.string(o.entity_path, 'entity_path');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) j.fail(`entity_path ${show(path)} is not <type>/<name>`);
  return { entityType: path.slice(0, slash), entityName: path.slice(slash + 1) };
}

// ---- /admin, /isr_change_notification, /log_dir_event_notification ----

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

function encodePartitionList(version: number, partitions: readonly TopicPartitionRef[]): Buffer {
  return json({ version, partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })) });
}

function decodePartitionList(znode: string, bytes: Buffer): TopicPartitionRef[] {
  const j: Json = new Json(znode);
  return j
    .topicPartitions(j.parse(bytes).partitions, 'partitions')
    .map(({ topic, partition }) => ({ topic, partition }));
}

/** A broker's notice that ISRs changed (the controller re-reads those partitions' state). */
export function encodeIsrChange(partitions: readonly TopicPartitionRef[]): Buffer {
  return encodePartitionList(1, partitions);
}

export function decodeIsrChange(znode: string, bytes: Buffer): TopicPartitionRef[] {
  return decodePartitionList(znode, bytes);
}

export function encodePreferredReplicaElection(partitions: readonly TopicPartitionRef[]): Buffer {
  return encodePartitionList(1, partitions);
}

export function decodePreferredReplicaElection(bytes: Buffer): TopicPartitionRef[] {
  return decodePartitionList(zkPaths.preferredReplicaElection, bytes);
}

export interface PartitionReassignment extends TopicPartitionRef {
  replicas: number[];
}

/** The legacy (pre-2.4) reassignment request a tool writes to /admin/reassign_partitions. */
export function encodeReassignPartitions(reassignments: readonly PartitionReassignment[]): Buffer {
  return json({
    version: 1,
    partitions: reassignments.map((r) => ({ topic: r.topic, partition: r.partition, replicas: r.replicas })),
  });
}

export function decodeReassignPartitions(bytes: Buffer): PartitionReassignment[] {
  const j: Json = new Json(zkPaths.reassignPartitions);
  return j.topicPartitions(j.parse(bytes).partitions, 'partitions').map(({ topic, partition, item }, i) => ({
    topic,
    partition,
    replicas: j.ids(item.replicas, `partitions[${i}].replicas`),
  }));
}

/** A broker's notice that one of its log dirs failed (event 1, the only kind). */
export function encodeLogDirEvent(brokerId: number): Buffer {
  return json({ version: 1, broker: brokerId, event: 1 });
}

export function decodeLogDirEvent(znode: string, bytes: Buffer): number {
  const j: Json = new Json(znode);
  const o = j.parse(bytes);
  j.int(o.event, 'event', 1, 1);
  return j.int(o.broker, 'broker', 0);
}

// ---- /latest_producer_id_block ----

export interface ProducerIdBlock {
  /** The broker the block was given to. */
  brokerId: number;
  /** First producer id of the block. */
  blockStart: number;
  /** Last producer id of the block (inclusive). */
  blockEnd: number;
}

export function encodeProducerIdBlock(b: ProducerIdBlock): Buffer {
  return json({
    version: 1,
    broker: b.brokerId,
    block_start: String(b.blockStart),
    block_end: String(b.blockEnd),
  });
}

export function decodeProducerIdBlock(bytes: Buffer): ProducerIdBlock {
  const j: Json = new Json(zkPaths.latestProducerIdBlock);
  const o = j.parse(bytes);
  const blockStart = j.decimalString(o.block_start, 'block_start');
  const blockEnd = j.decimalString(o.block_end, 'block_end');
  if (blockEnd < blockStart) j.fail(`block_end ${blockEnd} is before block_start ${blockStart}`);
  return { brokerId: j.int(o.broker, 'broker', 0), blockStart, blockEnd };
}
