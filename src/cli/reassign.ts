// `samsa reassign`: Kafka's kafka-reassign-partitions.sh. Moves partitions to other brokers (and changes their
// replication factor) in a cluster; the controller copies the data to the new replicas, then drops the old
// ones (docs/operations.md, "Reassigning partitions and electing leaders").
//
//   --generate  proposes a move of whole topics onto a broker list (Kafka's replica assignment,
//               src/cluster/assignment.ts), printing the current assignment and the proposal; changes nothing
//   --execute   starts the moves of a reassignment JSON file (AlterPartitionReassignments), printing the
//               current assignment first (keep it to roll back)
//   --verify    per partition: completed, still in progress, or not what the file asks; exit status 0 only
//               when every move is complete
//   --cancel    cancels the moves in progress of the file's partitions: they go back to their old replicas
//   --list      the moves in progress (ListPartitionReassignments)
//
// The reassignment requests go to the active controller, found through Metadata (Cluster.controllerRequest).
// JSON formats are Kafka's (reassign-json.ts).

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  alterPartitionReassignments,
  listPartitionReassignments,
  type TopicPartition,
} from '../client/admin.js';
import type { Cluster, TopicInfo } from '../client/cluster.js';
import { AssignmentError, assignReplicas, type BrokerRack } from '../cluster/assignment.js';
import {
  CommandError,
  commonHelp,
  commonOptions,
  connect,
  parse,
  printHelp,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';
import {
  comparePartitions,
  formatAssignment,
  type PartitionMove,
  parseReassignmentJson,
  parseTopicsToMoveJson,
  tpName,
} from './reassign-json.js';

const help = `Usage: samsa reassign --generate --topics-to-move-json-file FILE --broker-list 1,2,3 [--disable-rack-aware]
       samsa reassign --execute --reassignment-json-file FILE [--additional]
       samsa reassign --verify --reassignment-json-file FILE
       samsa reassign --cancel --reassignment-json-file FILE
       samsa reassign --list

Moves partitions to other brokers (kafka-reassign-partitions.sh). The action may also be given as a word
(generate, execute, verify, cancel, list).

Actions:
  --generate                 propose a new assignment of whole topics over --broker-list (Kafka's replica
                             assignment; racks are used when every broker has one); prints the current
                             assignment and the proposal as JSON, changes nothing
  --execute                  start the moves in --reassignment-json-file; prints the current assignment first
                             (save it to roll back)
  --verify                   whether each move of --reassignment-json-file is complete; exit status 0 only
                             when all are
  --cancel                   cancel the moves in progress of --reassignment-json-file's partitions: they go
                             back to their replicas from before the move
  --list                     the moves in progress

Options:
  --reassignment-json-file FILE   {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3],
                                  "log_dirs":["any","any","any"]}]} (log_dirs optional, only "any")
  --topics-to-move-json-file FILE {"version":1,"topics":[{"topic":"t"}]}
  --broker-list 1,2,3             brokers to spread the topics over (--generate)
  --disable-rack-aware            --generate ignores broker.rack
  --additional                    --execute even while other moves are in progress
${commonHelp}
`;

const options = {
  ...commonOptions,
  generate: { type: 'boolean' },
  execute: { type: 'boolean' },
  verify: { type: 'boolean' },
  cancel: { type: 'boolean' },
  list: { type: 'boolean' },
  'reassignment-json-file': { type: 'string' },
  'topics-to-move-json-file': { type: 'string' },
  'broker-list': { type: 'string' },
  'disable-rack-aware': { type: 'boolean' },
  additional: { type: 'boolean' },
} as const;

const actions = ['generate', 'execute', 'verify', 'cancel', 'list'] as const;
type Action = (typeof actions)[number];

/** How long --verify looks again at a finished move whose new replicas have not reached Metadata yet. */
const metadataSettleMs = 3000;

function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CommandError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function parseBrokerList(spec: string): number[] {
  const ids = spec.split(',').map((s) => s.trim());
  for (const s of ids) {
    if (!/^\d+$/.test(s)) throw new UsageError(`--broker-list must be broker ids like 1,2,3; got "${spec}"`);
  }
  const out = ids.map(Number);
  const dups = [...new Set(out.filter((id, i) => out.indexOf(id) !== i))];
  if (dups.length > 0) throw new UsageError(`Broker list contains duplicate entries: ${dups.join(',')}`);
  return out;
}

export function runReassign(args: string[]): Promise<number> {
  return runCommand('reassign', async () => {
    const { values, positionals } = parse(args, options);
    if (values.help === true) return printHelp(help);
    const chosen = new Set<Action>(actions.filter((a) => values[a] === true));
    for (const p of positionals) {
      if (!(actions as readonly string[]).includes(p))
        throw new UsageError(`unknown action '${p}' (${actions.join(', ')})`);
      chosen.add(p as Action);
    }
    if (chosen.size !== 1)
      throw new UsageError('give exactly one of --generate, --execute, --verify, --cancel, --list');
    const action = [...chosen][0] as Action;
    const jsonFile = values['reassignment-json-file'];
    if ((action === 'execute' || action === 'verify' || action === 'cancel') && jsonFile === undefined)
      throw new UsageError(`--${action} needs --reassignment-json-file`);
    if (action !== 'execute' && action !== 'verify' && action !== 'cancel' && jsonFile !== undefined)
      throw new UsageError(`--reassignment-json-file goes with --execute, --verify or --cancel`);
    if (action === 'generate') {
      if (values['topics-to-move-json-file'] === undefined || values['broker-list'] === undefined)
        throw new UsageError('--generate needs --topics-to-move-json-file and --broker-list');
    } else if (values['topics-to-move-json-file'] !== undefined || values['broker-list'] !== undefined) {
      throw new UsageError('--topics-to-move-json-file and --broker-list go with --generate');
    }
    if (values['disable-rack-aware'] === true && action !== 'generate')
      throw new UsageError('--disable-rack-aware goes with --generate');
    if (values.additional === true && action !== 'execute')
      throw new UsageError('--additional goes with --execute');

    // Files and lists first, so a bad file fails before any connection.
    const moves = jsonFile === undefined ? [] : parseReassignmentJson(readFile(jsonFile), jsonFile);
    const brokerList = action === 'generate' ? parseBrokerList(values['broker-list'] as string) : [];
    const topicsToMove =
      action === 'generate'
        ? parseTopicsToMoveJson(
            readFile(values['topics-to-move-json-file'] as string),
            values['topics-to-move-json-file'] as string,
          )
        : [];

    const cluster = await connect(values['bootstrap-server'], 'samsa-reassign', values['command-config']);
    try {
      switch (action) {
        case 'generate':
          return await generate(cluster, topicsToMove, brokerList, values['disable-rack-aware'] !== true);
        case 'execute':
          return await execute(cluster, moves, values.additional === true);
        case 'verify':
          return await verify(cluster, moves);
        case 'cancel':
          return await cancel(cluster, moves);
        case 'list':
          return await list(cluster);
      }
    } finally {
      cluster.close();
    }
  });
}

/** The current replicas of the given topics' partitions (Metadata). */
async function currentAssignment(cluster: Cluster, topics: readonly string[]): Promise<TopicInfo[]> {
  return topics.length === 0 ? [] : await cluster.metadata([...new Set(topics)]);
}

async function generate(
  cluster: Cluster,
  topics: string[],
  brokerList: number[],
  rackAware: boolean,
): Promise<number> {
  const infos = await currentAssignment(cluster, topics);
  const live = await cluster.brokers();
  const known = new Set(live.map((b) => b.nodeId));
  const unknown = brokerList.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new CommandError(`Unknown broker id(s) ${unknown.join(', ')}`);
  const brokers: BrokerRack[] = live
    .filter((b) => brokerList.includes(b.nodeId))
    .map((b) => ({ id: b.nodeId, rack: rackAware ? b.rack : null }));
  const rackless = brokers.filter((b) => b.rack === null).length;
  if (rackless !== 0 && rackless !== brokers.length) {
    throw new CommandError(
      'Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.',
    );
  }
  const current: PartitionMove[] = [];
  const proposed: PartitionMove[] = [];
  for (const t of infos) {
    for (const p of t.partitions)
      current.push({ topic: t.name, partition: p.partition, replicas: p.replicas });
    const rf = t.partitions[0]?.replicas.length ?? 0;
    if (t.partitions.length === 0) continue;
    let lists: number[][];
    try {
      lists = assignReplicas(brokers, t.partitions.length, rf);
    } catch (e) {
      if (e instanceof AssignmentError) throw new CommandError(`${t.name}: ${e.message}`);
      throw e;
    }
    lists.forEach((replicas, partition) => {
      proposed.push({ topic: t.name, partition, replicas });
    });
  }
  await writeOut(
    `Current partition replica assignment\n${formatAssignment(current)}\n\nProposed partition reassignment configuration\n${formatAssignment(proposed)}\n`,
  );
  return 0;
}

/** Each move's current replicas; a partition the cluster does not have fails the command. */
async function replicasOf(cluster: Cluster, moves: readonly TopicPartition[]): Promise<PartitionMove[]> {
  const infos = await currentAssignment(
    cluster,
    moves.map((m) => m.topic),
  );
  const byName = new Map(infos.map((t) => [t.name, t]));
  return moves.map((m) => {
    const p = byName.get(m.topic)?.partitions.find((x) => x.partition === m.partition);
    if (p === undefined) throw new CommandError(`Unable to find partition ${tpName(m)}`);
    return { topic: m.topic, partition: m.partition, replicas: p.replicas };
  });
}

async function execute(cluster: Cluster, moves: PartitionMove[], additional: boolean): Promise<number> {
  if (!additional && (await listPartitionReassignments(cluster, null)).length > 0) {
    throw new CommandError(
      'Cannot execute because there is an existing partition assignment. Use --additional to override this and create a new partition assignment in addition to the existing one.',
    );
  }
  const known = new Set((await cluster.brokers()).map((b) => b.nodeId));
  const unknown = [...new Set(moves.flatMap((m) => m.replicas))].filter((id) => !known.has(id));
  if (unknown.length > 0) throw new CommandError(`Unknown broker id ${unknown.join(', ')}`);
  const current = await replicasOf(cluster, moves);
  await writeOut(
    `Current partition replica assignment\n\n${formatAssignment(current)}\n\nSave this to use as the --reassignment-json-file option during rollback\n`,
  );
  const errors = await alterPartitionReassignments(cluster, moves);
  if (errors.size > 0) {
    const detail = [...errors]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tp, e]) => `${tp}: ${e.message}`)
      .join('; ');
    throw new CommandError(`Error reassigning partition(s): ${detail}`);
  }
  const names = [...moves].sort(comparePartitions).map(tpName);
  await writeOut(
    `Successfully started partition reassignment${names.length === 1 ? '' : 's'} for ${names.join(',')}\n`,
  );
  return 0;
}

type State = { done: boolean; current: number[]; target: number[] };

async function reassignmentStates(cluster: Cluster, moves: PartitionMove[]): Promise<Map<string, State>> {
  const inProgress = new Map(
    (await listPartitionReassignments(cluster, moves)).map((r) => [tpName(r), r.replicas]),
  );
  const out = new Map<string, State>();
  const settled = moves.filter((m) => !inProgress.has(tpName(m)));
  // A topic that does not exist shows as an empty replica set (Kafka's tool does the same).
  const infos = new Map<string, TopicInfo>(
    settled.length === 0 ? [] : (await cluster.metadata(null)).map((t) => [t.name, t]),
  );
  for (const m of moves) {
    const moving = inProgress.get(tpName(m));
    if (moving !== undefined) {
      out.set(tpName(m), { done: false, current: moving, target: m.replicas });
      continue;
    }
    const p = infos.get(m.topic)?.partitions.find((x) => x.partition === m.partition);
    out.set(tpName(m), { done: true, current: p?.replicas ?? [], target: m.replicas });
  }
  return out;
}

const sameList = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

async function verify(cluster: Cluster, moves: PartitionMove[]): Promise<number> {
  // A move the controller has just finished reaches every broker's Metadata a moment later: look again
  // for a little while before saying its replicas differ from the file's.
  const deadline = Date.now() + metadataSettleMs;
  let states = await reassignmentStates(cluster, moves);
  while (
    [...states.values()].some((s) => s.done && !sameList(s.current, s.target)) &&
    Date.now() < deadline
  ) {
    await sleep(200);
    states = await reassignmentStates(cluster, moves);
  }
  const lines = ['Status of partition reassignment:'];
  let complete = true;
  for (const m of [...moves].sort(comparePartitions)) {
    const s = states.get(tpName(m)) as State;
    if (!s.done) {
      complete = false;
      lines.push(`Reassignment of partition ${tpName(m)} is still in progress.`);
    } else if (sameList(s.current, s.target)) {
      lines.push(`Reassignment of partition ${tpName(m)} is completed.`);
    } else {
      complete = false;
      lines.push(
        `There is no active reassignment of partition ${tpName(m)}, but replica set is ${s.current.join(',')} rather than ${s.target.join(',')}.`,
      );
    }
  }
  await writeOut(`${lines.join('\n')}\n`);
  return complete ? 0 : 1;
}

async function cancel(cluster: Cluster, moves: PartitionMove[]): Promise<number> {
  const active = (await listPartitionReassignments(cluster, moves))
    .filter((r) => r.adding.length > 0 || r.removing.length > 0)
    .sort(comparePartitions);
  if (active.length === 0) {
    await writeOut('None of the specified partition reassignments are active.\n');
    return 0;
  }
  const errors = await alterPartitionReassignments(
    cluster,
    active.map((r) => ({ topic: r.topic, partition: r.partition, replicas: null })),
  );
  if (errors.size > 0) {
    const detail = [...errors]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tp, e]) => `${tp}: ${e.message}`)
      .join('; ');
    throw new CommandError(
      `Error cancelling partition reassignment${errors.size === 1 ? '' : 's'} for: ${detail}`,
    );
  }
  await writeOut(
    `Successfully cancelled partition reassignment${active.length === 1 ? '' : 's'} for: ${active.map(tpName).join(',')}\n`,
  );
  return 0;
}

async function list(cluster: Cluster): Promise<number> {
  const moving = (await listPartitionReassignments(cluster, null)).sort(comparePartitions);
  if (moving.length === 0) {
    await writeOut('No partition reassignments found.\n');
    return 0;
  }
  const lines = moving.map(
    (r) =>
      `${tpName(r)}: replicas: ${r.replicas.join(',')}.${r.adding.length === 0 ? '' : ` adding: ${r.adding.join(',')}.`}${r.removing.length === 0 ? '' : ` removing: ${r.removing.join(',')}.`}`,
  );
  await writeOut(`Current partition reassignments:\n${lines.join('\n')}\n`);
  return 0;
}
