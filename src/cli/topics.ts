// `samsa topics create|list|describe|delete|alter`: Kafka's kafka-topics.sh. The action may also be given
// Kafka's way, as a flag (--create, --list, ...). describe adds what an operator looks at next: each
// partition's log start and end offsets (ListOffsets) and its size on disk (DescribeLogDirs).

import {
  createPartitions,
  createTopic,
  deleteTopic,
  describeConfigs,
  logDirSizes,
  ResourceType,
} from '../client/admin.js';
import type { Cluster, TopicInfo } from '../client/cluster.js';
import { KafkaError } from '../client/cluster.js';
import { Consumer, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../client/consumer.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  CommandError,
  commonHelp,
  commonOptions,
  connect,
  displayTopicId,
  intOption,
  parse,
  parseConfigList,
  printHelp,
  required,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';

const help = `Usage: samsa topics <action> [options]

Actions (or Kafka's flags --create, --list, --describe, --delete, --alter):
  create     --topic T [--partitions N] [--replication-factor N] [--config k=v ...] [--if-not-exists]
  list       [--exclude-internal]
  describe   [--topic T] [--exclude-internal]   every topic when --topic is not given
  delete     --topic T [--if-exists]
  alter      --topic T --partitions N            add partitions (never fewer)

Options:
  --topic T                   topic name
  --partitions N              partition count (create: default the broker's num.partitions)
  --replication-factor N      replicas per partition (create: default the broker's default.replication.factor)
  --config k=v[,k2=v2]        topic config override, repeatable; bracket list values: cleanup.policy=[compact,delete]
  --if-not-exists, --if-exists  succeed quietly when the topic already exists / does not exist
  --exclude-internal          leave out internal topics (__consumer_offsets, ...)
${commonHelp}

describe prints, per topic and partition (Kafka's format plus offsets and size):
  Topic: T  TopicId: ID  PartitionCount: N  ReplicationFactor: R  Configs: k=v,...
      Topic: T  Partition: P  Leader: L  Replicas: ...  Isr: ...  LogStartOffset: A  LogEndOffset: B  Size: BYTES
`;

const options = {
  ...commonOptions,
  topic: { type: 'string' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  config: { type: 'string', multiple: true },
  'if-not-exists': { type: 'boolean' },
  'if-exists': { type: 'boolean' },
  'exclude-internal': { type: 'boolean' },
  create: { type: 'boolean' },
  list: { type: 'boolean' },
  describe: { type: 'boolean' },
  delete: { type: 'boolean' },
  alter: { type: 'boolean' },
} as const;

const actions = ['create', 'list', 'describe', 'delete', 'alter'] as const;
type Action = (typeof actions)[number];

export function runTopics(args: string[]): Promise<number> {
  return runCommand('topics', async () => {
    const { values, positionals } = parse(args, options);
    if (values.help === true) return printHelp(help);
    const chosen = new Set<Action>(actions.filter((a) => values[a] === true));
    for (const p of positionals) {
      if (!(actions as readonly string[]).includes(p))
        throw new UsageError(`unknown action '${p}' (${actions.join(', ')})`);
      chosen.add(p as Action);
    }
    if (chosen.size !== 1) throw new UsageError(`give exactly one action: ${actions.join(', ')}`);
    const action = [...chosen][0] as Action;
    const cluster = await connect(values['bootstrap-server'], 'samsa-topics', values['command-config']);
    try {
      switch (action) {
        case 'create': {
          const topic = required('topic', values.topic);
          const configs = Object.fromEntries(parseConfigList(values.config ?? []));
          try {
            await createTopic(cluster, topic, {
              partitions: intOption('partitions', values.partitions, 1) ?? -1,
              replicationFactor: intOption('replication-factor', values['replication-factor'], 1) ?? -1,
              configs,
            });
          } catch (e) {
            if (
              values['if-not-exists'] === true &&
              e instanceof KafkaError &&
              e.code === ErrorCode.TOPIC_ALREADY_EXISTS
            ) {
              return 0;
            }
            throw e;
          }
          await writeOut(`Created topic ${topic}.\n`);
          return 0;
        }
        case 'list': {
          const topics = await cluster.metadata(null);
          const names = topics
            .filter((t) => !(values['exclude-internal'] === true && t.isInternal))
            .map((t) => t.name)
            .sort();
          await writeOut(names.map((n) => `${n}\n`).join(''));
          return 0;
        }
        case 'describe':
          return await describe(cluster, values.topic, values['exclude-internal'] === true);
        case 'delete': {
          const topic = required('topic', values.topic);
          try {
            await deleteTopic(cluster, topic);
          } catch (e) {
            if (
              values['if-exists'] === true &&
              e instanceof KafkaError &&
              e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            ) {
              return 0;
            }
            throw e;
          }
          await writeOut(`Deleted topic ${topic}.\n`);
          return 0;
        }
        case 'alter': {
          const topic = required('topic', values.topic);
          const count = intOption('partitions', required('partitions', values.partitions), 1) as number;
          if (values.config !== undefined) {
            throw new UsageError("topic configs are changed with 'samsa configs alter --entity-type topics'");
          }
          await createPartitions(cluster, topic, count);
          await writeOut(`Topic ${topic} now has ${count} partitions.\n`);
          return 0;
        }
      }
    } finally {
      cluster.close();
    }
  });
}

async function describe(
  cluster: Cluster,
  topic: string | undefined,
  excludeInternal: boolean,
): Promise<number> {
  let topics: TopicInfo[];
  try {
    topics = await cluster.metadata(topic === undefined ? null : [topic]);
  } catch (e) {
    if (e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      throw new CommandError(`Topic '${topic}' does not exist as expected`);
    }
    throw e;
  }
  topics = topics
    .filter((t) => !(excludeInternal && t.isInternal))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (topics.length === 0) return 0;
  const sizes = await logDirSizes(
    cluster,
    topics.map((t) => t.name),
  );
  const offsets = Consumer.on(cluster);
  const lines: string[] = [];
  for (const t of topics) {
    const configs = await describeConfigs(cluster, ResourceType.TOPIC, t.name);
    const overrides = configs
      .filter((c) => !c.isDefault && c.value !== null)
      .map((c) => `${c.name}=${c.value}`)
      .join(',');
    const parts = t.partitions.map((p) => p.partition);
    const [starts, ends] =
      parts.length === 0
        ? [new Map<number, number>(), new Map<number, number>()]
        : await Promise.all([
            offsets.listOffsets(t.name, parts, EARLIEST_TIMESTAMP),
            offsets.listOffsets(t.name, parts, LATEST_TIMESTAMP),
          ]);
    const rf = t.partitions[0]?.replicas.length ?? 0;
    lines.push(
      `Topic: ${t.name}\tTopicId: ${displayTopicId(t.topicId)}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${overrides}`,
    );
    for (const p of t.partitions) {
      const size = sizes.get(t.name)?.get(p.partition);
      lines.push(
        `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tLogStartOffset: ${starts.get(p.partition) ?? '?'}\tLogEndOffset: ${ends.get(p.partition) ?? '?'}\tSize: ${size ?? '?'}`,
      );
    }
  }
  await writeOut(`${lines.join('\n')}\n`);
  return 0;
}
