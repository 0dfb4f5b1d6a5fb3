// Broker configuration with Kafka's server.properties keys.
//
// Sources, lowest precedence first: the built-in defaults below, a server.properties file,
// `--override key=value` on the command line. Every key is validated at start-up; an unknown key or
// an invalid value stops the broker with a message that names the key and says what is expected.
// Keys Kafka has that make no sense here (thread pool sizes, KRaft controller settings, ...) are
// accepted and ignored with a warning, so an existing server.properties works unchanged.

import { readFileSync } from 'node:fs';
import * as limits from '../limits.js';

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

type Kind = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'double';

interface Definition {
  kind: Kind;
  default: string | null;
  min?: number;
  max?: number;
  oneOf?: readonly string[];
  /** A key whose value, when this one is unset, supplies it (Kafka's log.retention.hours -> .ms style). */
  doc?: string;
}

const LONG_MAX = '9223372036854775807';

/** Keys Samsa implements, with Kafka's defaults unless noted. */
export const definitions: Record<string, Definition> = {
  'node.id': { kind: 'int', default: '0', min: 0 },
  'broker.id': { kind: 'int', default: null, min: -1 },
  'broker.rack': { kind: 'string', default: null },
  // Kafka's default listener binds all interfaces; Samsa's embedded default stays on loopback.
  listeners: { kind: 'list', default: 'PLAINTEXT://127.0.0.1:9092' },
  'advertised.listeners': { kind: 'list', default: null },
  'listener.security.protocol.map': { kind: 'list', default: 'PLAINTEXT:PLAINTEXT' },
  'inter.broker.listener.name': { kind: 'string', default: null },
  'log.dirs': { kind: 'list', default: null },
  // Kafka's default is /tmp/kafka-logs; Samsa keeps data beside where it was started.
  'log.dir': { kind: 'string', default: './data' },
  'num.partitions': { kind: 'int', default: '1', min: 1, max: limits.partitionsPerTopicMax },
  'default.replication.factor': { kind: 'int', default: '1', min: 1 },
  'auto.create.topics.enable': { kind: 'boolean', default: 'true' },
  'delete.topic.enable': { kind: 'boolean', default: 'true' },
  'message.max.bytes': { kind: 'int', default: String(limits.messageBytesMaxDefault), min: 0 },
  'log.segment.bytes': { kind: 'int', default: String(1024 * 1024 * 1024), min: 14 },
  'log.roll.ms': { kind: 'long', default: null, min: 1 },
  'log.roll.hours': { kind: 'int', default: '168', min: 1 },
  'log.retention.ms': { kind: 'long', default: null, min: -1 },
  'log.retention.minutes': { kind: 'int', default: null, min: -1 },
  'log.retention.hours': { kind: 'int', default: '168', min: -1 },
  'log.retention.bytes': { kind: 'long', default: '-1', min: -1 },
  'log.retention.check.interval.ms': { kind: 'long', default: '300000', min: 1 },
  'log.flush.interval.messages': { kind: 'long', default: LONG_MAX, min: 1 },
  'log.flush.interval.ms': { kind: 'long', default: null, min: 0 },
  'log.flush.scheduler.interval.ms': { kind: 'long', default: LONG_MAX, min: 0 },
  'log.index.interval.bytes': { kind: 'int', default: '4096', min: 0 },
  'log.index.size.max.bytes': { kind: 'int', default: String(10 * 1024 * 1024), min: 4 },
  'log.message.timestamp.type': {
    kind: 'string',
    default: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
  },
  'log.cleanup.policy': { kind: 'list', default: 'delete' },
  'log.cleaner.delete.retention.ms': { kind: 'long', default: '86400000', min: 0 },
  'log.cleaner.enable': { kind: 'boolean', default: 'true' },
  'log.cleaner.backoff.ms': { kind: 'long', default: '15000', min: 0 },
  'log.cleaner.min.compaction.lag.ms': { kind: 'long', default: '0', min: 0 },
  'log.cleaner.max.compaction.lag.ms': { kind: 'long', default: LONG_MAX, min: 1 },
  'log.cleaner.min.cleanable.ratio': { kind: 'double', default: '0.5', min: 0, max: 1 },
  'log.segment.delete.delay.ms': { kind: 'long', default: '60000', min: 0 },
  'compression.type': {
    kind: 'string',
    default: 'producer',
    oneOf: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
  },
  'min.insync.replicas': { kind: 'int', default: '1', min: 1 },
  'socket.request.max.bytes': { kind: 'int', default: String(limits.requestBytesMaxDefault), min: 1 },
  // Kafka's default (-1) is unbounded; Samsa always bounds what it buffers.
  'queued.max.request.bytes': { kind: 'long', default: String(limits.queuedRequestBytesMaxDefault), min: 1 },
  // Samsa's own (Kafka has none): a request must arrive within this, plus 1 s per MiB received.
  'socket.request.receive.timeout.ms': {
    kind: 'long',
    default: String(limits.requestReceiveTimeoutMsDefault),
    min: 1,
  },
  'max.connections': { kind: 'int', default: '2147483647', min: 0 },
  'max.connections.per.ip': { kind: 'int', default: '2147483647', min: 0 },
  'connections.max.idle.ms': { kind: 'long', default: '600000', min: -1 },
  'offsets.topic.num.partitions': { kind: 'int', default: '50', min: 1 },
  'offsets.topic.replication.factor': { kind: 'int', default: '1', min: 1 },
  'offsets.topic.segment.bytes': { kind: 'int', default: String(100 * 1024 * 1024), min: 1 },
  'offsets.retention.minutes': { kind: 'int', default: '10080', min: 1 },
  'offsets.retention.check.interval.ms': { kind: 'long', default: '600000', min: 1 },
  'offset.metadata.max.bytes': { kind: 'int', default: '4096', min: 0 },
  'group.initial.rebalance.delay.ms': { kind: 'int', default: '3000', min: 0 },
  'group.min.session.timeout.ms': { kind: 'int', default: '6000', min: 0 },
  'group.max.session.timeout.ms': { kind: 'int', default: '1800000', min: 0 },
  'group.max.size': { kind: 'int', default: '2147483647', min: 1 },
  'transaction.state.log.num.partitions': { kind: 'int', default: '50', min: 1 },
  'transaction.state.log.replication.factor': { kind: 'int', default: '1', min: 1 },
  'transactional.id.expiration.ms': { kind: 'int', default: '604800000', min: 1 },
  'transaction.max.timeout.ms': { kind: 'int', default: '900000', min: 1 },
  'producer.id.expiration.ms': { kind: 'int', default: '86400000', min: 1 },
  'cluster.id': { kind: 'string', default: null },
  'zookeeper.connect': { kind: 'string', default: null },
  'metrics.http.port': { kind: 'int', default: '-1', min: -1, max: 65535 },
  'metrics.http.host': { kind: 'string', default: '127.0.0.1' },
};

/** Kafka keys accepted for compatibility and ignored (with a warning) because Samsa has no use for them. */
const ignoredKafkaKeys = new Set([
  'num.network.threads',
  'num.io.threads',
  'num.recovery.threads.per.data.dir',
  'num.replica.fetchers',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'process.roles',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'controller.listener.names',
  'group.coordinator.rebalance.protocols',
  'share.coordinator.state.topic.replication.factor',
  'share.coordinator.state.topic.min.isr',
  'transaction.state.log.min.isr',
  'zookeeper.connection.timeout.ms',
  'log.cleaner.threads',
  'queued.max.requests',
  'replica.fetch.max.bytes',
]);

export type RawConfig = Map<string, string>;

/** Parses Java .properties text: `key=value` or `key: value` lines, `#`/`!` comments, `\` continuations. */
export function parseProperties(text: string): RawConfig {
  const out: RawConfig = new Map();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + (lines[++i] ?? '').trim();
    }
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m === null) out.set(line, '');
    else out.set(m[1] as string, (m[2] as string).trim());
  }
  return out;
}

export function readPropertiesFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config file', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseProperties(text);
}

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export function parseListener(key: string, spec: string): Listener {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(spec.trim());
  if (m === null) throw new ConfigError(key, `expected NAME://host:port, got "${spec}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(key, `port must be 0..65535; got ${port}`);
  let host = m[2] as string;
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { name: (m[1] as string).toUpperCase(), host, port };
}

function validate(key: string, def: Definition, value: string): string {
  switch (def.kind) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(key, `expected an integer; got "${value}"`);
      const n = Number(value.trim());
      if (def.kind === 'int' && (n > 2147483647 || n < -2147483648)) {
        throw new ConfigError(key, `must fit in a 32-bit integer; got ${value}`);
      }
      if (def.min !== undefined && n < def.min)
        throw new ConfigError(key, `must be >= ${def.min}; got ${value}`);
      if (def.max !== undefined && n > def.max)
        throw new ConfigError(key, `must be <= ${def.max}; got ${value}`);
      return value.trim();
    }
    case 'double':
      if (Number.isNaN(Number(value))) throw new ConfigError(key, `expected a number; got "${value}"`);
      return value.trim();
    case 'boolean': {
      const v = value.trim().toLowerCase();
      if (v !== 'true' && v !== 'false') throw new ConfigError(key, `expected true or false; got "${value}"`);
      return v;
    }
    default:
      if (def.oneOf !== undefined && !def.oneOf.includes(value.trim())) {
        throw new ConfigError(key, `must be one of ${def.oneOf.join(', ')}; got "${value}"`);
      }
      return value.trim();
  }
}

/** Validated broker configuration: raw values by key plus typed accessors for what the broker uses. */
export class BrokerConfig {
  private readonly values: Map<string, string>;
  /** Keys explicitly set (file or override), for DescribeConfigs' source reporting. */
  readonly explicit: ReadonlySet<string>;

  private constructor(values: Map<string, string>, explicit: Set<string>) {
    this.values = values;
    this.explicit = explicit;
  }

  /**
   * Builds the configuration from a file's entries and command-line overrides.
   * Returns the config and the warnings to log (ignored keys).
   */
  static from(
    file: RawConfig,
    overrides: RawConfig = new Map(),
  ): { config: BrokerConfig; warnings: string[] } {
    const merged = new Map<string, string>();
    const warnings: string[] = [];
    const explicit = new Set<string>();
    for (const source of [file, overrides]) {
      for (const [key, value] of source) {
        if (ignoredKafkaKeys.has(key)) {
          warnings.push(`${key} is a Kafka setting Samsa does not use; ignored`);
          continue;
        }
        const def = definitions[key];
        if (def === undefined) {
          throw new ConfigError(
            key,
            'unknown configuration key (see docs/configuration.md for the supported keys)',
          );
        }
        merged.set(key, validate(key, def, value));
        explicit.add(key);
      }
    }
    for (const [key, def] of Object.entries(definitions)) {
      if (!merged.has(key) && def.default !== null) merged.set(key, def.default);
    }
    const config = new BrokerConfig(merged, explicit);
    config.check();
    return { config, warnings };
  }

  private check(): void {
    this.listeners();
    this.advertisedListeners();
    if (this.int('message.max.bytes') > this.int('socket.request.max.bytes')) {
      throw new ConfigError('message.max.bytes', 'must not exceed socket.request.max.bytes');
    }
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  int(key: string): number {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`config ${key} has no value`);
    return Number(v);
  }

  /** A long config as a JS number; Long.MAX_VALUE maps to Number.MAX_SAFE_INTEGER. */
  long(key: string): number {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`config ${key} has no value`);
    return Math.min(Number(v), Number.MAX_SAFE_INTEGER);
  }

  bool(key: string): boolean {
    return this.values.get(key) === 'true';
  }

  string(key: string): string {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`config ${key} has no value`);
    return v;
  }

  list(key: string): string[] {
    const v = this.values.get(key);
    if (v === undefined || v === '') return [];
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  get nodeId(): number {
    return this.has('broker.id') && this.int('broker.id') >= 0 ? this.int('broker.id') : this.int('node.id');
  }

  listeners(): Listener[] {
    const ls = this.list('listeners').map((s) => parseListener('listeners', s));
    if (ls.length === 0) throw new ConfigError('listeners', 'at least one listener is required');
    for (const l of ls) {
      if (l.name !== 'PLAINTEXT') {
        throw new ConfigError('listeners', `only PLAINTEXT listeners are supported so far; got ${l.name}`);
      }
    }
    return ls;
  }

  advertisedListeners(): Listener[] {
    if (!this.has('advertised.listeners')) {
      return this.listeners().map((l) => ({
        ...l,
        host: l.host === '' || l.host === '0.0.0.0' || l.host === '::' ? '127.0.0.1' : l.host,
      }));
    }
    return this.list('advertised.listeners').map((s) => parseListener('advertised.listeners', s));
  }

  logDirs(): string[] {
    const dirs = this.list('log.dirs');
    return dirs.length > 0 ? dirs : [this.string('log.dir')];
  }

  /** log.retention.ms, else minutes, else hours (Kafka's precedence). */
  retentionMs(): number {
    if (this.has('log.retention.ms')) return this.long('log.retention.ms');
    if (this.has('log.retention.minutes')) {
      const m = this.int('log.retention.minutes');
      return m < 0 ? -1 : m * 60_000;
    }
    const h = this.int('log.retention.hours');
    return h < 0 ? -1 : h * 3_600_000;
  }

  rollMs(): number {
    if (this.has('log.roll.ms')) return this.long('log.roll.ms');
    return this.int('log.roll.hours') * 3_600_000;
  }

  flushIntervalMs(): number {
    if (this.has('log.flush.interval.ms')) return this.long('log.flush.interval.ms');
    return this.long('log.flush.scheduler.interval.ms');
  }
}

/** Parses `key=value` as given to --override. */
export function parseOverride(arg: string): [string, string] {
  const i = arg.indexOf('=');
  if (i <= 0) throw new ConfigError(arg, 'an override must look like key=value');
  return [arg.slice(0, i).trim(), arg.slice(i + 1)];
}
