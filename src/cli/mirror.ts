// samsa mirror: copies matching topics from one cluster to another until SIGTERM/SIGINT (MirrorMaker 2's
// source connector as one process). The behaviour lives in src/pipeline/mirror.ts; docs/pipeline.md is the
// user's guide. Options given on the command line win over the --config file (Java properties, the keys
// below in brackets).

import { ClientConfigError, clientSecurity } from '../client/client-security.js';
import type { ClientSecurity } from '../client/connection.js';
import { readPropertiesFile } from '../config/broker-config.js';
import { ConfigError } from '../config/config-error.js';
import { configureLogging } from '../logger.js';
import { Mirror, type MirrorOptions } from '../pipeline/mirror.js';
import { MirrorMetrics, progressLine } from '../pipeline/mirror-metrics.js';
import { CommandError, commandConfigSecurity, parse, printHelp, runCommand, UsageError } from './common.js';

const help = `Usage: samsa mirror --from HOST:PORT --to HOST:PORT --topics REGEX [options]

Copies every record of the source topics matching REGEX (key, value, headers, timestamp) into the same
partition of a topic on the target cluster, creating target topics as needed, until SIGTERM or SIGINT.

  --from HOST:PORT[,...]        source cluster [source.bootstrap.servers]
  --to HOST:PORT[,...]          target cluster [target.bootstrap.servers]
  --source-command-config FILE  Kafka client properties for the source: security.protocol, ssl.*,
                                sasl.mechanism, sasl.jaas.config (docs/security.md) [source.security.protocol,
                                source.ssl.*, source.sasl.*]; --consumer.config FILE is the same (MirrorMaker 1)
  --target-command-config FILE  the same for the target [target.security.protocol, target.ssl.*,
                                target.sasl.*]; --producer.config FILE is the same (MirrorMaker 1)
  --topics REGEX                source topics to copy, matched against the whole name [topics; a comma
                                list of regexes in the file, as MirrorMaker 2]
  --topics-exclude REGEX        source topics not to copy [topics.exclude]
  --group ID                    group keeping the progress (default samsa-mirror) [group.id]
  --exactly-once                copy and commit progress in transactions on the target: nothing is
                                copied twice (needs transactions on the target) [exactly.once=true]
  --transactional-id ID         transactional.id on the target (default: the group id) [transactional.id]
  --rename-format FMT           target topic name; {topic} and {source} are replaced (default '{topic}';
                                MirrorMaker 2 names them '{source}.{topic}') [rename.format]
  --source-alias NAME           what {source} stands for (default source) [source.cluster.alias]
  --replication-factor N        of created target topics (default -1: the target's default) [replication.factor]
  --metadata-max-age-ms MS      how often source topics are listed again (default 30000) [metadata.max.age.ms]
  --commit-interval-ms MS       how often progress is committed (default 1000) [offset.flush.interval.ms]
  --metrics-port PORT           serve Prometheus metrics on GET /metrics (0: any free port; default off)
                                [metrics.port]
  --metrics-host HOST           address the metrics listen on (default 127.0.0.1) [metrics.host]
  --report-interval-ms MS       progress line on stderr every MS (default 5000; 0: none)
  --config FILE                 Java properties with the keys in brackets, and fetch.max.wait.ms,
                                fetch.max.bytes, max.partition.fetch.bytes, transaction.timeout.ms,
                                retry.backoff.ms, client.id
  -h, --help                    this help

Progress: without --exactly-once the source offsets are committed to the group on the source after the
target acknowledged the records; a restart (even after kill -9) copies again at most what was acknowledged
since the last commit (one commit interval). With --exactly-once they are committed on the target, in the
transaction that wrote the records. Exit status 0 after a clean stop.`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  topics: { type: 'string' },
  'topics-exclude': { type: 'string' },
  group: { type: 'string' },
  'exactly-once': { type: 'boolean' },
  'transactional-id': { type: 'string' },
  'rename-format': { type: 'string' },
  'source-alias': { type: 'string' },
  'replication-factor': { type: 'string' },
  'metadata-max-age-ms': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  'report-interval-ms': { type: 'string' },
  'source-command-config': { type: 'string' },
  'target-command-config': { type: 'string' },
  'consumer.config': { type: 'string' },
  'producer.config': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A client security key of the --config file, prefixed with the cluster it is for (MirrorMaker 2's form). */
const SECURITY_KEY = /^(source|target)\.(security\.protocol|ssl\..+|sasl\..+)$/;

/**
 * One side's security: its client properties file (flag) wins, else the --config file's <side>.* keys.
 */
function sideSecurity(
  side: 'source' | 'target',
  flagName: string,
  flagFile: string | undefined,
  file: ReadonlyMap<string, string>,
): ClientSecurity | undefined {
  if (flagFile !== undefined) return commandConfigSecurity(flagFile, flagName);
  const props = new Map<string, string>();
  for (const [k, v] of file) {
    const m = SECURITY_KEY.exec(k);
    if (m?.[1] === side && m[2] !== undefined) props.set(m[2], v);
  }
  if (props.size === 0) return undefined;
  try {
    return clientSecurity(props);
  } catch (err) {
    if (err instanceof ClientConfigError) throw new CommandError(`${side}.${err.message}`);
    throw err;
  }
}

/** Keys of the --config file, and the flag that overrides each. */
const fileKeys: Record<string, string | null> = {
  'source.bootstrap.servers': 'from',
  'target.bootstrap.servers': 'to',
  topics: 'topics',
  'topics.exclude': 'topics-exclude',
  'group.id': 'group',
  'exactly.once': 'exactly-once',
  'transactional.id': 'transactional-id',
  'rename.format': 'rename-format',
  'source.cluster.alias': 'source-alias',
  'replication.factor': 'replication-factor',
  'metadata.max.age.ms': 'metadata-max-age-ms',
  'offset.flush.interval.ms': 'commit-interval-ms',
  'metrics.port': 'metrics-port',
  'metrics.host': 'metrics-host',
  'fetch.max.wait.ms': null,
  'fetch.max.bytes': null,
  'max.partition.fetch.bytes': null,
  'transaction.timeout.ms': null,
  'retry.backoff.ms': null,
  'client.id': null,
};

function regex(name: string, s: string): RegExp {
  try {
    return new RegExp(s);
  } catch (e) {
    throw new UsageError(`${name} is not a valid regular expression: ${(e as Error).message}`);
  }
}

function int(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`${name} must be an integer; got "${v}"`);
  const n = Number(v);
  if (n < min) throw new UsageError(`${name} must be >= ${min}; got ${v}`);
  return n;
}

/** The mirror's options from the flags and the config file (flags win). */
export function mirrorOptions(args: string[]): {
  opts: MirrorOptions;
  metricsPort: number;
  metricsHost: string;
  reportIntervalMs: number;
} {
  const { values: v } = parse(args, options, false);
  const file = new Map<string, string>();
  if (v.config !== undefined) {
    try {
      for (const [k, val] of readPropertiesFile(v.config)) {
        if (!(k in fileKeys) && !SECURITY_KEY.test(k))
          throw new UsageError(`${v.config}: unknown key ${k} (known: ${Object.keys(fileKeys).join(', ')})`);
        file.set(k, val);
      }
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
  }
  const flag = (f: string): string | undefined => {
    const fromFlag = (v as Record<string, string | boolean | undefined>)[f];
    if (typeof fromFlag === 'string') return fromFlag;
    if (fromFlag === true) return 'true';
    const key = Object.keys(fileKeys).find((k) => fileKeys[k] === f);
    return key === undefined ? undefined : file.get(key);
  };
  const from = flag('from');
  const to = flag('to');
  if (from === undefined) throw new UsageError('--from (source.bootstrap.servers) is required');
  if (to === undefined) throw new UsageError('--to (target.bootstrap.servers) is required');
  let topics = v.topics;
  if (topics === undefined && file.has('topics')) {
    topics = (file.get('topics') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => `(?:${s})`)
      .join('|');
  }
  if (topics === undefined || topics === '') throw new UsageError('--topics (topics) is required');
  const exclude = flag('topics-exclude');
  const exactly = flag('exactly-once');
  if (exactly !== undefined && exactly !== 'true' && exactly !== 'false')
    throw new UsageError(`exactly.once must be true or false; got "${exactly}"`);
  const renameFormat = flag('rename-format') ?? '{topic}';
  if (!renameFormat.includes('{topic}'))
    throw new UsageError(`--rename-format must contain {topic}; got "${renameFormat}"`);
  const groupId = flag('group') ?? 'samsa-mirror';
  if (groupId === '') throw new UsageError('--group must not be empty');
  const opts: MirrorOptions = {
    source: from,
    target: to,
    filter: {
      topics: regex('--topics', topics),
      exclude: exclude === undefined ? null : regex('--topics-exclude', exclude),
      renameFormat,
      sourceAlias: flag('source-alias') ?? 'source',
    },
    groupId,
    exactlyOnce: exactly === 'true',
    transactionalId: flag('transactional-id') ?? groupId,
    metadataMaxAgeMs: int('metadata.max.age.ms', flag('metadata-max-age-ms'), 30_000, 100),
    commitIntervalMs: int('offset.flush.interval.ms', flag('commit-interval-ms'), 1000, 0),
    replicationFactor: int('replication.factor', flag('replication-factor'), -1, -1),
    transactionTimeoutMs: int('transaction.timeout.ms', file.get('transaction.timeout.ms'), 60_000, 1000),
    retryBackoffMs: int('retry.backoff.ms', file.get('retry.backoff.ms'), 500, 10),
    fetch: {
      maxWaitMs: int('fetch.max.wait.ms', file.get('fetch.max.wait.ms'), 500, 0),
      minBytes: 1,
      maxBytes: int('fetch.max.bytes', file.get('fetch.max.bytes'), 50 * 1024 * 1024, 1024),
      partitionMaxBytes: int(
        'max.partition.fetch.bytes',
        file.get('max.partition.fetch.bytes'),
        1024 * 1024,
        1024,
      ),
    },
    clientId: file.get('client.id') ?? 'samsa-mirror',
  };
  const sourceFile = v['source-command-config'] ?? v['consumer.config'];
  const targetFile = v['target-command-config'] ?? v['producer.config'];
  const sourceSecurity = sideSecurity(
    'source',
    v['source-command-config'] !== undefined ? 'source-command-config' : 'consumer.config',
    sourceFile,
    file,
  );
  const targetSecurity = sideSecurity(
    'target',
    v['target-command-config'] !== undefined ? 'target-command-config' : 'producer.config',
    targetFile,
    file,
  );
  if (sourceSecurity !== undefined) opts.sourceSecurity = sourceSecurity;
  if (targetSecurity !== undefined) opts.targetSecurity = targetSecurity;
  return {
    opts,
    metricsPort: int('metrics.port', flag('metrics-port'), -1, -1),
    metricsHost: flag('metrics-host') ?? '127.0.0.1',
    reportIntervalMs: int('--report-interval-ms', v['report-interval-ms'], 5000, 0),
  };
}

export function runMirror(args: string[]): Promise<number> {
  return runCommand('mirror', async () => {
    if (args.includes('--help') || args.includes('-h')) return printHelp(help);
    const { opts, metricsPort, metricsHost, reportIntervalMs } = mirrorOptions(args);
    configureLogging(null, 'auto');
    let metrics: MirrorMetrics | null = null;
    const mirror = new Mirror(opts, { copied: (t, r, b) => metrics?.copied(t, r, b) });
    if (metricsPort >= 0) {
      metrics = new MirrorMetrics(() => mirror.stats);
      const port = await metrics.listen(metricsPort, metricsHost);
      process.stderr.write(`mirror: metrics on http://${metricsHost}:${port}/metrics\n`);
    }
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`mirror: ${sig} again, exiting without a last commit\n`);
        process.exit(1);
      }
      process.stderr.write(`mirror: ${sig}, committing and stopping\n`);
      mirror.stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    let prev = { records: 0, bytes: 0, at: Date.now() };
    const report =
      reportIntervalMs > 0
        ? setInterval(() => {
            const now = Date.now();
            process.stderr.write(progressLine(mirror.stats, prev, now));
            prev = { records: mirror.stats.records, bytes: mirror.stats.bytes, at: now };
          }, reportIntervalMs)
        : null;
    try {
      await mirror.run();
    } finally {
      if (report !== null) clearInterval(report);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await metrics?.close();
    }
    const s = mirror.stats;
    process.stderr.write(`mirror: stopped; ${s.records} records copied, ${s.commits} commits\n`);
    return 0;
  });
}
