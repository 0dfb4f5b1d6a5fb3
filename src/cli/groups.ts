// `samsa groups list|describe|reset-offsets|delete`: Kafka's kafka-consumer-groups.sh. Group requests
// go to the group's coordinator (FindCoordinator); end offsets come from the partition leaders.
// reset-offsets is a dry run unless --execute is given, and refuses a group that has members (its
// consumers would overwrite the new offsets), as Kafka does.

import { type Cluster, check, KafkaError } from '../client/cluster.js';
import type { KafkaConnection } from '../client/connection.js';
import { Consumer, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../client/consumer.js';
import { commitOffsets, fetchCommitted } from '../client/group-offsets.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type {
  ConsumerGroupDescribeResponse,
  ConsumerGroupDescribeResponseAssignment,
  ConsumerGroupDescribeResponseDescribedGroup,
} from '../protocol/generated/consumer-group-describe-response.js';
import { decodeConsumerProtocolAssignment } from '../protocol/generated/consumer-protocol-assignment.js';
import type { DeleteGroupsResponse } from '../protocol/generated/delete-groups-response.js';
import type { DescribeGroupsResponse } from '../protocol/generated/describe-groups-response.js';
import type { FindCoordinatorResponse } from '../protocol/generated/find-coordinator-response.js';
import type { ListGroupsResponse } from '../protocol/generated/list-groups-response.js';
import { Reader } from '../protocol/reader.js';
import {
  CommandError,
  commonHelp,
  commonOptions,
  connect,
  parse,
  printHelp,
  required,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';

const help = `Usage: samsa groups <action> [options]

Actions:
  list            [--state]                      group ids (with --state: their type, classic or consumer, and state)
  describe        <group> | --group G            state, members and their assignments (consumer groups: epochs and
                                                 target assignments too), then per partition the committed offset,
                                                 log end offset and lag
  reset-offsets   --group G --topic T[:P,P...] (--to-earliest | --to-latest | --to-datetime ISO | --to-offset N)
                  [--execute]                    prints the new offsets; commits them only with --execute
                                                 (the group must have no members)
  delete          --group G                      deletes an empty group and its committed offsets

Options:
  --group G                   group id
  --topic T[:P,P...]          topic, optionally with partitions (default: all partitions)
  --to-datetime ISO           e.g. 2026-01-31T12:00:00.000 (local time) or with a zone, 2026-01-31T12:00:00Z
  --to-offset N               clamped to each partition's [log start, log end]
  --execute                   commit the new offsets (default: dry run)
  --state                     list: also print each group's type and state
${commonHelp}
`;

const options = {
  ...commonOptions,
  group: { type: 'string' },
  topic: { type: 'string' },
  'to-earliest': { type: 'boolean' },
  'to-latest': { type: 'boolean' },
  'to-datetime': { type: 'string' },
  'to-offset': { type: 'string' },
  execute: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  state: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parse<typeof options>>['values'];

export function runGroups(args: string[]): Promise<number> {
  return runCommand('groups', async () => {
    const { values, positionals } = parse(args, options);
    if (values.help === true) return printHelp(help);
    const [action, ...rest] = positionals;
    if (action === undefined)
      throw new UsageError('an action is required: list, describe, reset-offsets or delete');
    const cluster = await connect(values['bootstrap-server'], 'samsa-groups', values['command-config']);
    try {
      switch (action) {
        case 'list':
          return await list(cluster, values.state === true);
        case 'describe':
          return await describe(cluster, required('group', values.group ?? rest[0]));
        case 'reset-offsets':
          return await resetOffsets(cluster, values);
        case 'delete':
          return await deleteGroup(cluster, required('group', values.group ?? rest[0]));
        default:
          throw new UsageError(`unknown action '${action}' (list, describe, reset-offsets, delete)`);
      }
    } finally {
      cluster.close();
    }
  });
}

/** The connection to the group's coordinator. */
async function coordinator(cluster: Cluster, groupId: string): Promise<KafkaConnection> {
  const res = await cluster.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, {
    key: groupId,
    keyType: 0,
    coordinatorKeys: [groupId],
  });
  const c = res.coordinators[0] ?? res;
  check(c.errorCode, c.errorMessage);
  await cluster.metadata([]);
  return cluster.connection(c.nodeId);
}

/** Columns padded to their widest cell, Kafka's table style. */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, cell] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join(' ')
        .trimEnd(),
    )
    .join('\n');
}

async function list(cluster: Cluster, withState: boolean): Promise<number> {
  const res = await cluster.request<ListGroupsResponse>(ApiKey.ListGroups, {
    statesFilter: [],
    typesFilter: [],
  });
  check(res.errorCode);
  const groups = [...res.groups].sort((a, b) => a.groupId.localeCompare(b.groupId));
  if (!withState) {
    await writeOut(groups.map((g) => `${g.groupId}\n`).join(''));
    return 0;
  }
  const rows = [['GROUP', 'TYPE', 'PROTOCOL-TYPE', 'STATE']];
  for (const g of groups)
    rows.push([g.groupId, g.groupType || 'classic', g.protocolType || '-', g.groupState || '-']);
  await writeOut(`${table(rows)}\n`);
  return 0;
}

interface Assigned {
  memberId: string;
  clientId: string;
  host: string;
}

/** A consumer-protocol assignment as topic -> partitions; null when it is not one. */
function decodeAssignment(bytes: Buffer): Map<string, number[]> | null {
  if (bytes.length === 0) return new Map();
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    const a = decodeConsumerProtocolAssignment(r, Math.min(Math.max(version, 0), 3));
    return new Map(a.assignedPartitions.map((t) => [t.topic, [...t.partitions].sort((x, y) => x - y)]));
  } catch {
    return null;
  }
}

async function committedOffsets(
  cluster: Cluster,
  conn: KafkaConnection,
  groupId: string,
): Promise<Map<string, Map<number, number>>> {
  const res = await fetchCommitted(cluster, conn, groupId, null);
  const out = new Map<string, Map<number, number>>();
  check(res.errorCode);
  for (const o of res.offsets) {
    if (o.errorCode !== ErrorCode.NONE || o.offset < 0) continue;
    const m = out.get(o.topic) ?? new Map<number, number>();
    m.set(o.partition, o.offset);
    out.set(o.topic, m);
  }
  return out;
}

async function describe(cluster: Cluster, groupId: string): Promise<number> {
  const conn = await coordinator(cluster, groupId);
  const res = await conn.request<DescribeGroupsResponse>(ApiKey.DescribeGroups, {
    groups: [groupId],
    includeAuthorizedOperations: false,
  });
  const g = res.groups[0];
  if (g === undefined) throw new CommandError(`no description of group '${groupId}'`);
  // DescribeGroups v6+ answers an unknown group GROUP_ID_NOT_FOUND (KIP-1043); older versions say Dead.
  if (g.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND) check(g.errorCode);
  const committed = await committedOffsets(cluster, conn, groupId);
  if (g.groupState === 'Dead' && committed.size === 0)
    throw new CommandError(`Consumer group '${groupId}' does not exist.`);

  const lines: string[] = [];
  const protocol = g.protocolData === '' ? '' : `, protocol ${g.protocolData}`;
  // A KIP-848 consumer group: its epochs, and each member's epoch and target assignment.
  const cg = await consumerGroupDescription(conn, groupId);
  lines.push(
    cg === null
      ? `Group ${groupId}: state ${g.groupState}, protocol type ${g.protocolType || '-'}${protocol}, ${g.members.length} member(s)`
      : `Group ${groupId}: type consumer, state ${cg.groupState}, group epoch ${cg.groupEpoch}, assignment epoch ${cg.assignmentEpoch}, assignor ${cg.assignorName}, ${cg.members.length} member(s)`,
  );
  // Who owns what, from the members' assignments (consumer protocol only).
  const owner = new Map<string, Assigned>();
  if (g.members.length === 0) {
    lines.push(`Consumer group '${groupId}' has no active members.`);
  } else {
    const rows = [['CONSUMER-ID', 'GROUP-INSTANCE-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT']];
    if (cg !== null) rows[0]?.push('MEMBER-EPOCH', 'TARGET-ASSIGNMENT', 'PROTOCOL');
    for (const m of g.members) {
      const a = g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : null;
      let count = '-';
      let text = '-';
      if (a !== null) {
        const parts = [...a].sort(([x], [y]) => x.localeCompare(y));
        count = String(parts.reduce((n, [, ps]) => n + ps.length, 0));
        text = parts.map(([t, ps]) => `${t}(${ps.join(',')})`).join(' ') || '-';
        for (const [t, ps] of parts) {
          for (const p of ps)
            owner.set(`${t}:${p}`, { memberId: m.memberId, clientId: m.clientId, host: m.clientHost });
        }
      }
      const row = [m.memberId, m.groupInstanceId ?? '-', m.clientHost, m.clientId, count, text];
      const cm = cg?.members.find((x) => x.memberId === m.memberId);
      if (cg !== null)
        row.push(
          cm === undefined ? '-' : String(cm.memberEpoch),
          cm === undefined ? '-' : named(cm.targetAssignment),
          // A classic member (JoinGroup/SyncGroup) of a consumer group during an online migration.
          cm?.memberType === 0 ? 'classic' : cm?.memberType === 1 ? 'consumer' : '-',
        );
      rows.push(row);
    }
    lines.push('', table(rows));
  }

  // Per partition with a committed offset or an owner: committed offset, log end offset and lag.
  const byTopic = new Map<string, Set<number>>();
  for (const [t, ps] of committed) byTopic.set(t, new Set(ps.keys()));
  for (const k of owner.keys()) {
    const i = k.lastIndexOf(':');
    const t = k.slice(0, i);
    byTopic.set(t, (byTopic.get(t) ?? new Set()).add(Number(k.slice(i + 1))));
  }
  if (byTopic.size > 0) {
    const offsets = Consumer.on(cluster);
    const rows = [
      [
        'GROUP',
        'TOPIC',
        'PARTITION',
        'CURRENT-OFFSET',
        'LOG-END-OFFSET',
        'LAG',
        'CONSUMER-ID',
        'HOST',
        'CLIENT-ID',
      ],
    ];
    for (const t of [...byTopic.keys()].sort()) {
      const parts = [...(byTopic.get(t) ?? [])].sort((x, y) => x - y);
      let ends = new Map<number, number>();
      try {
        ends = await offsets.listOffsets(t, parts, LATEST_TIMESTAMP);
      } catch (e) {
        if (!(e instanceof KafkaError)) throw e;
      }
      for (const p of parts) {
        const cur = committed.get(t)?.get(p);
        const end = ends.get(p);
        const who = owner.get(`${t}:${p}`);
        rows.push([
          groupId,
          t,
          String(p),
          cur === undefined ? '-' : String(cur),
          end === undefined ? '-' : String(end),
          cur === undefined || end === undefined ? '-' : String(Math.max(end - cur, 0)),
          who?.memberId ?? '-',
          who?.host ?? '-',
          who?.clientId ?? '-',
        ]);
      }
    }
    lines.push('', table(rows));
  }
  await writeOut(`${lines.join('\n')}\n`);
  return 0;
}

/** ConsumerGroupDescribe (KIP-848) of the group, or null: not a consumer group, or the broker has no such API. */
async function consumerGroupDescription(
  conn: KafkaConnection,
  groupId: string,
): Promise<ConsumerGroupDescribeResponseDescribedGroup | null> {
  if (!conn.supports(ApiKey.ConsumerGroupDescribe)) return null;
  const res = await conn.request<ConsumerGroupDescribeResponse>(ApiKey.ConsumerGroupDescribe, {
    groupIds: [groupId],
    includeAuthorizedOperations: false,
  });
  const g = res.groups[0];
  return g !== undefined && g.errorCode === ErrorCode.NONE ? g : null;
}

/** "t(0,1) u(2)" */
function named(a: ConsumerGroupDescribeResponseAssignment): string {
  const parts = [...a.topicPartitions].sort((x, y) => x.topicName.localeCompare(y.topicName));
  return (
    parts.map((t) => `${t.topicName}(${[...t.partitions].sort((x, y) => x - y).join(',')})`).join(' ') || '-'
  );
}

/** "t" or "t:0,2,5". */
function parseTopicSpec(spec: string): { topic: string; partitions: number[] | null } {
  const i = spec.indexOf(':');
  if (i < 0) return { topic: spec, partitions: null };
  const partitions = spec
    .slice(i + 1)
    .split(',')
    .map((s) => s.trim());
  if (partitions.some((p) => !/^\d+$/.test(p)))
    throw new UsageError(`--topic ${spec}: partitions must be integers`);
  return { topic: spec.slice(0, i), partitions: partitions.map(Number) };
}

type Target =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'datetime'; ts: number }
  | { kind: 'offset'; offset: number };

function resetTarget(v: Values): Target {
  const chosen: Target[] = [];
  if (v['to-earliest'] === true) chosen.push({ kind: 'earliest' });
  if (v['to-latest'] === true) chosen.push({ kind: 'latest' });
  if (v['to-datetime'] !== undefined) {
    const ts = Date.parse(v['to-datetime']);
    if (Number.isNaN(ts))
      throw new UsageError(
        `--to-datetime: cannot parse "${v['to-datetime']}" (e.g. 2026-01-31T12:00:00.000)`,
      );
    chosen.push({ kind: 'datetime', ts });
  }
  if (v['to-offset'] !== undefined) {
    if (!/^\d+$/.test(v['to-offset'].trim()))
      throw new UsageError(`--to-offset must be a non-negative integer; got "${v['to-offset']}"`);
    chosen.push({ kind: 'offset', offset: Number(v['to-offset']) });
  }
  const [target, ...more] = chosen;
  if (target === undefined || more.length > 0) {
    throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset');
  }
  return target;
}

async function resetOffsets(cluster: Cluster, v: Values): Promise<number> {
  const groupId = required('group', v.group);
  const { topic, partitions: chosen } = parseTopicSpec(required('topic', v.topic));
  const target = resetTarget(v);
  const execute = v.execute === true && v['dry-run'] !== true;
  const info = await cluster.topic(topic);
  const all = info.partitions.map((p) => p.partition);
  const partitions = chosen ?? all;
  for (const p of partitions) {
    if (!all.includes(p)) throw new CommandError(`topic ${topic} has no partition ${p}`);
  }
  const conn = await coordinator(cluster, groupId);
  const res = await conn.request<DescribeGroupsResponse>(ApiKey.DescribeGroups, {
    groups: [groupId],
    includeAuthorizedOperations: false,
  });
  const state = res.groups[0]?.groupState ?? 'Dead';
  if (state !== 'Empty' && state !== 'Dead') {
    throw new CommandError(
      `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${state}.`,
    );
  }
  const offsets = Consumer.on(cluster);
  const [starts, ends] = await Promise.all([
    offsets.listOffsets(topic, partitions, EARLIEST_TIMESTAMP),
    offsets.listOffsets(topic, partitions, LATEST_TIMESTAMP),
  ]);
  let next: Map<number, number>;
  switch (target.kind) {
    case 'earliest':
      next = starts;
      break;
    case 'latest':
      next = ends;
      break;
    case 'datetime':
      next = await offsets.listOffsets(topic, partitions, target.ts);
      break;
    case 'offset':
      next = new Map(
        partitions.map((p) => [
          p,
          Math.min(Math.max(target.offset, starts.get(p) ?? 0), ends.get(p) ?? target.offset),
        ]),
      );
      break;
  }
  const plan = partitions.map((p) => ({ partition: p, offset: next.get(p) ?? ends.get(p) ?? 0 }));
  if (execute) {
    const commit = await commitOffsets(cluster, conn, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [
        {
          name: topic,
          partitions: plan.map((x) => ({ partitionIndex: x.partition, committedOffset: x.offset })),
        },
      ],
    });
    for (const p of commit) check(p.errorCode, `${p.topic}-${p.partition}`);
  }
  const rows = [['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET']];
  for (const x of plan) rows.push([groupId, topic, String(x.partition), String(x.offset)]);
  const note = execute ? '' : '\n(dry run: nothing was changed; add --execute to commit these offsets)';
  await writeOut(`${table(rows)}${note}\n`);
  return 0;
}

async function deleteGroup(cluster: Cluster, groupId: string): Promise<number> {
  const conn = await coordinator(cluster, groupId);
  const res = await conn.request<DeleteGroupsResponse>(ApiKey.DeleteGroups, { groupsNames: [groupId] });
  const r = res.results[0];
  if (r === undefined) throw new CommandError(`no answer for group '${groupId}'`);
  if (r.errorCode === ErrorCode.GROUP_ID_NOT_FOUND)
    throw new CommandError(`Consumer group '${groupId}' does not exist.`);
  if (r.errorCode === ErrorCode.NON_EMPTY_GROUP)
    throw new CommandError(`Consumer group '${groupId}' is not empty.`);
  check(r.errorCode, `group ${groupId}`);
  await writeOut(`Deletion of requested consumer groups ('${groupId}') was successful.\n`);
  return 0;
}
