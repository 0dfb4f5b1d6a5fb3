// `samsa transactions list|describe|describe-producers|abort|find-hanging`: Kafka's kafka-transactions.sh,
// same subcommands, options and table columns (padded, tab-separated, as Kafka prints them).
//
// list asks every broker (each lists the transactional ids it coordinates); describe asks the id's coordinator
// (FindCoordinator key type 1); describe-producers and abort go to the partition's leader (abort writes an abort
// marker there with WriteTxnMarkers, as Kafka's Admin.abortTransaction). find-hanging looks, as Kafka does, for
// transactions open on a partition for longer than --max-transaction-timeout whose producer the coordinators do
// not know, or whose coordinator does not list that partition in the producer's transaction.

import {
  abortTransaction,
  describeProducers,
  describeTransactions,
  listTransactions,
  type ProducerState,
  type TopicPartition,
} from '../client/admin.js';
import { type Cluster, KafkaError } from '../client/cluster.js';
import { ErrorCode } from '../protocol/errors.js';
import {
  CommandError,
  commonHelp,
  commonOptions,
  connect,
  describeError,
  intOption,
  parse,
  printHelp,
  required,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';

const help = `Usage: samsa transactions <command> [options]

Analyses the transactional state of producers; finds and aborts hanging transactions (kafka-transactions).

Commands:
  list                [--duration-filter MS] [--transactional-id-pattern REGEX]
                                     transactional ids, their coordinator, producer id and state
                                     (--duration-filter: only transactions open longer than MS; < 0 all;
                                     --transactional-id-pattern: ids the REGEX matches whole)
  describe            --transactional-id ID
                                     the state of a transactional id, its open transaction and its partitions
  describe-producers  --topic T --partition P [--broker-id B]
                                     the producers of a partition (on its leader, or on replica B)
  abort               --topic T --partition P (--start-offset O |
                      --producer-id X --producer-epoch E --coordinator-epoch C)
                                     aborts a hanging transaction on one partition (writes an abort marker)
  find-hanging        (--broker-id B | --topic T [--partition P]) [--max-transaction-timeout MINUTES]
                                     transactions open longer than the timeout (default 15 minutes) that
                                     their coordinator no longer tracks on that partition

Options:
${commonHelp}
`;

const options = {
  ...commonOptions,
  'transactional-id': { type: 'string' },
  'transactional-id-pattern': { type: 'string' },
  'duration-filter': { type: 'string' },
  topic: { type: 'string' },
  partition: { type: 'string' },
  'broker-id': { type: 'string' },
  'start-offset': { type: 'string' },
  'producer-id': { type: 'string' },
  'producer-epoch': { type: 'string' },
  'coordinator-epoch': { type: 'string' },
  'max-transaction-timeout': { type: 'string' },
} as const;

type Values = ReturnType<typeof parse<typeof options>>['values'];

/** The options of each command (besides --bootstrap-server and --help), as kafka-transactions.sh has them. */
const commandOptions: Record<string, readonly string[]> = {
  list: ['duration-filter', 'transactional-id-pattern'],
  describe: ['transactional-id'],
  'describe-producers': ['topic', 'partition', 'broker-id'],
  abort: ['topic', 'partition', 'start-offset', 'producer-id', 'producer-epoch', 'coordinator-epoch'],
  'find-hanging': ['broker-id', 'max-transaction-timeout', 'topic', 'partition'],
};
const commands = Object.keys(commandOptions);

export function runTransactions(args: string[]): Promise<number> {
  return runCommand('transactions', async () => {
    const { values, positionals } = parse(negativeValues(args), options);
    if (values.help === true) return printHelp(help);
    const [command, ...extra] = positionals;
    if (command === undefined) throw new UsageError(`a command is required: ${commands.join(', ')}`);
    if (!commands.includes(command))
      throw new UsageError(`unknown command '${command}' (${commands.join(', ')})`);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const allowed = new Set(['bootstrap-server', 'help', ...(commandOptions[command] ?? [])]);
    const stray = Object.keys(values).find((k) => !allowed.has(k));
    if (stray !== undefined) throw new UsageError(`--${stray} is not an option of ${command}`);
    // Options are checked before connecting, so bad usage never waits on the network.
    const run = plan(command, values);
    const cluster = await connect(values['bootstrap-server'], 'samsa-transactions', values['command-config']);
    try {
      return await run(cluster);
    } finally {
      cluster.close();
    }
  });
}

/**
 * `--coordinator-epoch -1` as `--coordinator-epoch=-1`: DescribeProducers prints -1 for a transaction without a
 * marker yet, and parseArgs would take "-1" for an option.
 */
function negativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (name in options && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function plan(command: string, v: Values): (c: Cluster) => Promise<number> {
  switch (command) {
    case 'list': {
      const durationFilterMs = intOption('duration-filter', v['duration-filter']) ?? -1;
      const pattern = v['transactional-id-pattern'];
      regex(pattern); // a usage error before connecting when it does not compile
      return (c) => list(c, durationFilterMs, pattern);
    }
    case 'describe': {
      const id = required('transactional-id', v['transactional-id']);
      return (c) => describe(c, id);
    }
    case 'describe-producers': {
      const tp = topicPartition(v);
      const brokerId = intOption('broker-id', v['broker-id'], 0);
      return (c) => producers(c, tp, brokerId);
    }
    case 'abort': {
      const tp = topicPartition(v);
      const startOffset = intOption('start-offset', v['start-offset'], 0);
      const producerId = intOption('producer-id', v['producer-id'], 0);
      if (startOffset === undefined && producerId === undefined) {
        throw new UsageError(
          'the transaction to abort must be identified either with --start-offset or with ' +
            '--producer-id, --producer-epoch and --coordinator-epoch',
        );
      }
      if (startOffset !== undefined) return (c) => abortAt(c, tp, startOffset);
      const producerEpoch = required('producer-epoch', intOption('producer-epoch', v['producer-epoch'], 0));
      // A transaction that hung before its first marker has coordinator epoch -1 in DescribeProducers; 0 is
      // <= any real coordinator epoch (Kafka's tool does the same).
      const coordinatorEpoch = Math.max(
        0,
        required('coordinator-epoch', intOption('coordinator-epoch', v['coordinator-epoch'])),
      );
      return (c) => abort(c, { ...tp, producerId: producerId!, producerEpoch, coordinatorEpoch });
    }
    default: {
      const brokerId = intOption('broker-id', v['broker-id'], 0);
      const topic = v.topic;
      const partition = intOption('partition', v.partition, 0);
      if (topic === undefined && brokerId === undefined)
        throw new UsageError('find-hanging needs --topic or --broker-id to limit the search');
      if (partition !== undefined && topic === undefined) throw new UsageError('--partition needs --topic');
      const maxTimeoutMin = intOption('max-transaction-timeout', v['max-transaction-timeout'], 0) ?? 15;
      return (c) => findHanging(c, { brokerId, topic, partition, maxTimeoutMs: maxTimeoutMin * 60_000 });
    }
  }
}

function regex(source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (e) {
    throw new UsageError(`--transactional-id-pattern: ${(e as Error).message}`);
  }
}

function topicPartition(v: Values): TopicPartition {
  return {
    topic: required('topic', v.topic),
    partition: required('partition', intOption('partition', v.partition, 0)),
  };
}

/** Kafka's prettyPrintTable: every cell padded to its column's width and followed by a tab. */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [headers, ...rows]
    .map((r) => `${r.map((cell, i) => `${cell.padEnd(widths[i] ?? 0)}\t`).join('')}\n`)
    .join('');
}

async function list(
  cluster: Cluster,
  durationFilterMs: number,
  pattern: string | undefined,
): Promise<number> {
  // The whole id must match (KIP-1152, as kafka-transactions.sh): the brokers filter (ListTransactions v2).
  const all = await listTransactions(cluster, {
    durationFilterMs,
    ...(pattern === undefined ? {} : { transactionalIdPattern: pattern }),
  });
  const rows = all.map((t) => [t.transactionalId, String(t.coordinatorId), String(t.producerId), t.state]);
  await writeOut(table(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], rows));
  return 0;
}

async function describe(cluster: Cluster, transactionalId: string): Promise<number> {
  let d: Awaited<ReturnType<typeof describeTransactions>>[number] | undefined;
  try {
    [d] = await describeTransactions(cluster, [transactionalId]);
    if (d === undefined) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer');
    if (d.errorCode !== ErrorCode.NONE) throw new KafkaError(d.errorCode);
  } catch (e) {
    throw new CommandError(
      `Failed to describe transaction state of transactional-id \`${transactionalId}\`: ${describeError(e)}`,
    );
  }
  const started = d.transactionStartTimeMs >= 0;
  const row = [
    String(d.coordinatorId),
    transactionalId,
    String(d.producerId),
    String(d.producerEpoch),
    d.state,
    String(d.transactionTimeoutMs),
    started ? String(d.transactionStartTimeMs) : 'None',
    started ? String(Date.now() - d.transactionStartTimeMs) : 'None',
    d.partitions.map((p) => `${p.topic}-${p.partition}`).join(','),
  ];
  const headers = [
    'CoordinatorId',
    'TransactionalId',
    'ProducerId',
    'ProducerEpoch',
    'TransactionState',
    'TransactionTimeoutMs',
    'CurrentTransactionStartTimeMs',
    'TransactionDurationMs',
    'TopicPartitions',
  ];
  await writeOut(table(headers, [row]));
  return 0;
}

async function producerStates(
  cluster: Cluster,
  tp: TopicPartition,
  brokerId: number | undefined,
): Promise<ProducerState[]> {
  try {
    return await describeProducers(cluster, tp.topic, tp.partition, brokerId);
  } catch (e) {
    const on = brokerId === undefined ? 'leader' : `broker ${brokerId}`;
    throw new CommandError(
      `Failed to describe producers for partition ${tp.topic}-${tp.partition} on ${on}: ${describeError(e)}`,
    );
  }
}

async function producers(
  cluster: Cluster,
  tp: TopicPartition,
  brokerId: number | undefined,
): Promise<number> {
  const states = await producerStates(cluster, tp, brokerId);
  const rows = states.map((s) => [
    String(s.producerId),
    String(s.producerEpoch),
    String(s.coordinatorEpoch),
    String(s.lastSequence),
    String(s.lastTimestamp),
    s.currentTxnStartOffset < 0 ? 'None' : String(s.currentTxnStartOffset),
  ]);
  const headers = [
    'ProducerId',
    'ProducerEpoch',
    'LatestCoordinatorEpoch',
    'LastSequence',
    'LastTimestamp',
    'CurrentTransactionStartOffset',
  ];
  await writeOut(table(headers, rows));
  return 0;
}

/** Aborts the transaction that starts at `startOffset` on the partition (found with DescribeProducers). */
async function abortAt(cluster: Cluster, tp: TopicPartition, startOffset: number): Promise<number> {
  const states = await producerStates(cluster, tp, undefined);
  const s = states.find((x) => x.currentTxnStartOffset === startOffset);
  if (s === undefined) {
    throw new CommandError(
      `Could not find any open transactions starting at offset ${startOffset} on partition ${tp.topic}-${tp.partition}`,
    );
  }
  return abort(cluster, {
    ...tp,
    producerId: s.producerId,
    producerEpoch: s.producerEpoch,
    coordinatorEpoch: Math.max(0, s.coordinatorEpoch),
  });
}

async function abort(
  cluster: Cluster,
  spec: TopicPartition & { producerId: number; producerEpoch: number; coordinatorEpoch: number },
): Promise<number> {
  const what =
    `producer ${spec.producerId} (epoch ${spec.producerEpoch}, coordinator epoch ${spec.coordinatorEpoch}) ` +
    `on ${spec.topic}-${spec.partition}`;
  try {
    await abortTransaction(cluster, spec);
  } catch (e) {
    throw new CommandError(`Failed to abort the transaction of ${what}: ${describeError(e)}`);
  }
  await writeOut(`Aborted the transaction of ${what}.\n`);
  return 0;
}

interface OpenTransaction extends TopicPartition {
  state: ProducerState;
}

async function findHanging(
  cluster: Cluster,
  o: {
    brokerId?: number | undefined;
    topic?: string | undefined;
    partition?: number | undefined;
    maxTimeoutMs: number;
  },
): Promise<number> {
  // The partitions to search: one, a topic's, or every (non-internal) topic's with a replica on the broker.
  let partitions: TopicPartition[];
  if (o.topic !== undefined && o.partition !== undefined) {
    partitions = [{ topic: o.topic, partition: o.partition }];
  } else {
    const topics = await cluster.metadata(o.topic === undefined ? null : [o.topic]);
    partitions = topics
      .filter((t) => o.topic !== undefined || !t.isInternal)
      .flatMap((t) =>
        t.partitions
          .filter((p) => o.brokerId === undefined || p.replicas.includes(o.brokerId))
          .map((p) => ({ topic: t.name, partition: p.partition })),
      );
  }
  // Candidates: transactions open on a partition for longer than the largest transaction timeout allowed.
  const now = Date.now();
  const candidates: OpenTransaction[] = [];
  for (const tp of partitions) {
    for (const state of await producerStates(cluster, tp, o.brokerId)) {
      if (state.currentTxnStartOffset >= 0 && now - state.lastTimestamp > o.maxTimeoutMs)
        candidates.push({ ...tp, state });
    }
  }
  const hanging: OpenTransaction[] = [];
  if (candidates.length > 0) {
    // A candidate hangs unless its producer's coordinator still has that partition in an open transaction.
    const producerIds = [...new Set(candidates.map((c) => c.state.producerId))];
    const listed = await listTransactions(cluster, { producerIds });
    const idOf = new Map(listed.map((l) => [l.producerId, l.transactionalId]));
    const ids = [...new Set(idOf.values())];
    const descriptions = new Map(
      (await describeTransactions(cluster, ids)).map((d) => [d.transactionalId, d]),
    );
    for (const c of candidates) {
      const id = idOf.get(c.state.producerId);
      const d = id === undefined ? undefined : descriptions.get(id);
      if (d === undefined || d.errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND) {
        hanging.push(c);
        continue;
      }
      if (d.errorCode !== ErrorCode.NONE)
        throw new CommandError(`Failed to describe ${id}: ${new KafkaError(d.errorCode).message}`);
      if (!d.partitions.some((p) => p.topic === c.topic && p.partition === c.partition)) hanging.push(c);
    }
  }
  const rows = hanging.map((h) => [
    h.topic,
    String(h.partition),
    String(h.state.producerId),
    String(h.state.producerEpoch),
    String(h.state.coordinatorEpoch),
    String(h.state.currentTxnStartOffset),
    String(h.state.lastTimestamp),
    String(Math.floor((now - h.state.lastTimestamp) / 60_000)),
  ]);
  const headers = [
    'Topic',
    'Partition',
    'ProducerId',
    'ProducerEpoch',
    'CoordinatorEpoch',
    'StartOffset',
    'LastTimestamp',
    'Duration(min)',
  ];
  await writeOut(table(headers, rows));
  return 0;
}
