// `samsa configs describe|alter`: Kafka's kafka-configs.sh for topics, brokers and groups. alter uses
// IncrementalAlterConfigs (--add-config = SET, --delete-config = DELETE), as Kafka's tool does since 2.3.
// Brokers: --entity-name N (that broker's dynamic configs; the request goes to broker N) or --entity-default
// (the cluster-wide default); keys Kafka cannot change at runtime are refused by the broker with Kafka's
// "Cannot update these configs dynamically" (INVALID_REQUEST); describe shows every key with --all.
// Groups: KIP-848 group configs (consumer.session.timeout.ms, consumer.heartbeat.interval.ms).
// Users: SCRAM credentials (configs-users.ts); users, clients and ips: quotas (configs-quotas.ts), with repeated
// --entity-type/--entity-name for a user and client id together, as kafka-configs.sh.

import { alterConfigs, type ConfigEntry, describeConfigs, ResourceType } from '../client/admin.js';
import {
  commonHelp,
  commonOptions,
  connect,
  parse,
  parseConfigList,
  printHelp,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';
import { usersAndClients } from './configs-users.js';

const help = `Usage: samsa configs <describe|alter> --entity-type topics|brokers|groups|users|clients|ips --entity-name NAME [options]

Actions (or Kafka's flags --describe, --alter):
  describe   the entity's dynamic configs (topic or group overrides, dynamic broker configs); --all for
             every config with its source
  alter      --add-config k=v[,k2=v2] and/or --delete-config k[,k2]

Options:
  --entity-type topics|brokers|groups|users|clients|ips   what to configure
  --entity-name NAME             topic name, broker id, group id or user name
  (users: --add-config 'SCRAM-SHA-256=[iterations=8192,password=secret]', --delete-config SCRAM-SHA-512)
  (users, clients: quotas producer_byte_rate, consumer_byte_rate, request_percentage,
   controller_mutation_rate; --entity-type users --entity-name U --entity-type clients --entity-name C
   for a user and client id together; --entity-default for the type's default;
   shortcuts --user U, --client C, --user-defaults, --client-defaults)
  (ips: connection_creation_rate (KIP-612); --ip I, --ip-defaults)
  --topic T                      short for --entity-type topics --entity-name T
  --broker ID                    short for --entity-type brokers --entity-name ID
  --group G                      short for --entity-type groups --entity-name G
  --entity-default               the cluster-wide broker default; users, clients: the default entity
  --add-config k=v,...           set configs; bracket list values: cleanup.policy=[compact,delete]; repeatable
  --delete-config k,...          remove overrides (back to the default); repeatable
  --all                          describe: every config, not only the dynamic ones
${commonHelp}

Output of describe, like Kafka's:
  Dynamic configs for topic T are:
    retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.hours=168}
`;

const options = {
  ...commonOptions,
  'entity-type': { type: 'string', multiple: true },
  'entity-name': { type: 'string', multiple: true },
  user: { type: 'string' },
  client: { type: 'string' },
  'user-defaults': { type: 'boolean' },
  'client-defaults': { type: 'boolean' },
  ip: { type: 'string' },
  'ip-defaults': { type: 'boolean' },
  'entity-default': { type: 'boolean' },
  topic: { type: 'string' },
  broker: { type: 'string' },
  group: { type: 'string' },
  'add-config': { type: 'string', multiple: true },
  'delete-config': { type: 'string', multiple: true },
  all: { type: 'boolean' },
  describe: { type: 'boolean' },
  alter: { type: 'boolean' },
} as const;

function formatEntry(c: ConfigEntry): string {
  const value = c.isSensitive ? null : c.value;
  const synonyms = c.synonyms
    .map((s) => `${s.source}:${s.name}=${c.isSensitive ? null : s.value}`)
    .join(', ');
  return `  ${c.name}=${value} sensitive=${c.isSensitive} synonyms={${synonyms}}`;
}

export function runConfigs(args: string[]): Promise<number> {
  return runCommand('configs', async () => {
    const { values, positionals } = parse(args, options);
    if (values.help === true) return printHelp(help);
    const chosen = new Set<string>();
    if (values.describe === true) chosen.add('describe');
    if (values.alter === true) chosen.add('alter');
    for (const p of positionals) {
      if (p !== 'describe' && p !== 'alter') throw new UsageError(`unknown action '${p}' (describe, alter)`);
      chosen.add(p);
    }
    if (chosen.size !== 1) throw new UsageError('give exactly one action: describe or alter');
    const action = [...chosen][0];

    const types = values['entity-type'] ?? [];
    const quotaShortcut =
      values.user !== undefined ||
      values.client !== undefined ||
      values['user-defaults'] === true ||
      values['client-defaults'] === true ||
      values.ip !== undefined ||
      values['ip-defaults'] === true;
    if (
      quotaShortcut ||
      (types.length > 0 && types.every((t) => t === 'users' || t === 'clients' || t === 'ips'))
    ) {
      const cluster = await connect(values['bootstrap-server'], 'samsa-configs', values['command-config']);
      try {
        const del = (values['delete-config'] ?? [])
          .flatMap((d) => d.split(','))
          .map((d) => d.trim())
          .filter((d) => d !== '');
        const lines = await usersAndClients(
          cluster,
          args,
          action as 'describe' | 'alter',
          values['add-config'] ?? [],
          del,
        );
        await writeOut(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
        return 0;
      } finally {
        cluster.close();
      }
    }
    if (types.length > 1 || (values['entity-name'] ?? []).length > 1) {
      throw new UsageError('several --entity-type/--entity-name only for users and clients (quotas)');
    }
    let entityType = types[0];
    let entityName = values['entity-name']?.[0];
    if (values.topic !== undefined) {
      entityType = 'topics';
      entityName = values.topic;
    }
    if (values.broker !== undefined) {
      entityType = 'brokers';
      entityName = values.broker;
    }
    if (values.group !== undefined) {
      entityType = 'groups';
      entityName = values.group;
    }
    if (values['entity-default'] === true) {
      if (entityType !== 'brokers') throw new UsageError('--entity-default applies to --entity-type brokers');
      entityName = '';
    }
    if (entityType !== 'topics' && entityType !== 'brokers' && entityType !== 'groups') {
      throw new UsageError('--entity-type must be topics, brokers, groups, users, clients or ips');
    }
    if (entityName === undefined) throw new UsageError('--entity-name is required');
    if (entityType === 'brokers' && entityName !== '' && !/^\d+$/.test(entityName)) {
      throw new UsageError(`--entity-name for brokers must be a broker id; got '${entityName}'`);
    }
    const resourceType =
      entityType === 'topics'
        ? ResourceType.TOPIC
        : entityType === 'groups'
          ? ResourceType.GROUP
          : ResourceType.BROKER;
    const noun = entityType.slice(0, -1);
    const label = entityName === '' ? 'the default broker' : `${noun} ${entityName}`;
    // Kafka's ConfigCommand: the source a plain describe lists.
    const dynamicSource =
      entityType === 'topics'
        ? 'DYNAMIC_TOPIC_CONFIG'
        : entityType === 'groups'
          ? 'GROUP_CONFIG'
          : entityName === ''
            ? 'DYNAMIC_DEFAULT_BROKER_CONFIG'
            : 'DYNAMIC_BROKER_CONFIG';

    const cluster = await connect(values['bootstrap-server'], 'samsa-configs', values['command-config']);
    try {
      if (action === 'describe') {
        const entries = await describeConfigs(cluster, resourceType, entityName);
        const dynamic = entries.filter((c) => c.source === dynamicSource);
        const shown = values.all === true ? entries : dynamic;
        const lines = [
          entityName === '' && entityType === 'brokers'
            ? 'Default configs for brokers in the cluster are:'
            : `${values.all === true ? 'All' : 'Dynamic'} configs for ${label} are:`,
          ...shown.map(formatEntry),
        ];
        await writeOut(`${lines.join('\n')}\n`);
        return 0;
      }
      const set = Object.fromEntries(parseConfigList(values['add-config'] ?? []));
      const del = (values['delete-config'] ?? [])
        .flatMap((d) => d.split(','))
        .map((d) => d.trim())
        .filter((d) => d !== '');
      if (Object.keys(set).length === 0 && del.length === 0) {
        throw new UsageError('alter needs --add-config and/or --delete-config');
      }
      for (const k of del) if (k in set) throw new UsageError(`${k} is both added and deleted`);
      await alterConfigs(cluster, resourceType, entityName, { set, delete: del });
      await writeOut(
        entityName === '' && entityType === 'brokers'
          ? 'Completed updating default config for brokers in the cluster.\n'
          : `Completed updating config for ${label}.\n`,
      );
      return 0;
    } finally {
      cluster.close();
    }
  });
}
