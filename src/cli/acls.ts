// `samsa acls --add|--remove|--list`: Kafka's kafka-acls.sh, same options and output, through CreateAcls,
// DeleteAcls and DescribeAcls (so the broker needs authorizer.class.name; use --command-config to connect as
// a principal allowed to ALTER/DESCRIBE the cluster, e.g. a super user).

import { createInterface } from 'node:readline';
import { type Cluster, KafkaError } from '../client/cluster.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import {
  type AclBinding,
  CLUSTER_NAME,
  Operation,
  operationFromName,
  PatternType,
  Permission,
  type ResourcePattern,
  ResourceType,
  typeName,
} from '../security/acl.js';
import {
  commonHelp,
  commonOptions,
  connect,
  parse,
  printHelp,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';

const help = `Usage: samsa acls (--add | --remove | --list) [options]

Adds, removes and lists ACLs (kafka-acls). The broker must run with authorizer.class.name set.

Actions:
  --add                           add the ACLs described by the options below
  --remove                        remove them (all ACLs of the resources when no principal is given)
  --list                          list the ACLs of the resources (of every resource when none is given)

Resources (each may repeat):
  --topic NAME  --group NAME  --transactional-id ID  --cluster
  --resource-pattern-type TYPE    LITERAL (default), PREFIXED; for --list/--remove also ANY, MATCH

ACLs:
  --allow-principal P             e.g. User:alice, User:* (repeatable)
  --deny-principal P              (repeatable)
  --allow-host H / --deny-host H  an IP address or * (default *)
  --operation OP                  Read, Write, Create, Delete, Alter, Describe, ClusterAction,
                                  DescribeConfigs, AlterConfigs, IdempotentWrite, All (default All; repeatable)
  --principal P                   with --list: only the ACLs of this principal
  --producer                      WRITE, DESCRIBE, CREATE on the topics (and WRITE, DESCRIBE on the
                                  transactional ids; --idempotent: IDEMPOTENT_WRITE on the cluster)
  --consumer                      READ, DESCRIBE on the topics and READ on the groups (--group required)
  --idempotent                    with --producer
  --force                         do not ask before removing

Options:
${commonHelp}
`;

const options = {
  ...commonOptions,
  add: { type: 'boolean' },
  remove: { type: 'boolean' },
  list: { type: 'boolean' },
  topic: { type: 'string', multiple: true },
  group: { type: 'string', multiple: true },
  'transactional-id': { type: 'string', multiple: true },
  cluster: { type: 'boolean' },
  'resource-pattern-type': { type: 'string' },
  'allow-principal': { type: 'string', multiple: true },
  'deny-principal': { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true },
  'deny-host': { type: 'string', multiple: true },
  operation: { type: 'string', multiple: true },
  principal: { type: 'string', multiple: true },
  producer: { type: 'boolean' },
  consumer: { type: 'boolean' },
  idempotent: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parse<typeof options>>['values'];

const patternTypes: Record<string, number> = {
  LITERAL: PatternType.LITERAL,
  PREFIXED: PatternType.PREFIXED,
  ANY: PatternType.ANY,
  MATCH: PatternType.MATCH,
};

function patternTypeOf(v: Values, forAdd: boolean): number {
  const name = (v['resource-pattern-type'] ?? 'LITERAL').toUpperCase();
  const code = patternTypes[name];
  if (code === undefined || (forAdd && code !== PatternType.LITERAL && code !== PatternType.PREFIXED))
    throw new UsageError(`--resource-pattern-type ${name} is not valid${forAdd ? ' with --add' : ''}`);
  return code;
}

/** The resources named, each with the operations --producer/--consumer give it (undefined: --operation). */
function resources(v: Values, patternType: number): { pattern: ResourcePattern; ops?: number[] }[] {
  const out: { pattern: ResourcePattern; ops?: number[] }[] = [];
  const add = (resourceType: number, name: string, ops?: number[]) =>
    out.push({ pattern: { resourceType, patternType, name }, ...(ops === undefined ? {} : { ops }) });
  const O = Operation;
  const producer = v.producer === true;
  const consumer = v.consumer === true;
  const topicOps = [
    ...(producer ? [O.WRITE, O.DESCRIBE, O.CREATE] : []),
    ...(consumer ? [O.READ, O.DESCRIBE] : []),
  ].filter((o, i, a) => a.indexOf(o) === i);
  const convenience = producer || consumer;
  for (const t of v.topic ?? []) add(ResourceType.TOPIC, t, convenience ? topicOps : undefined);
  for (const g of v.group ?? [])
    add(ResourceType.GROUP, g, convenience ? (consumer ? [O.READ] : []) : undefined);
  for (const id of v['transactional-id'] ?? [])
    add(ResourceType.TRANSACTIONAL_ID, id, convenience ? (producer ? [O.WRITE, O.DESCRIBE] : []) : undefined);
  if (v.cluster === true || (producer && v.idempotent === true))
    add(
      ResourceType.CLUSTER,
      CLUSTER_NAME,
      producer && v.idempotent === true ? [O.IDEMPOTENT_WRITE] : undefined,
    );
  return out.filter((r) => r.ops === undefined || r.ops.length > 0);
}

function operations(v: Values): number[] {
  return (v.operation ?? ['All']).map((name) => {
    const code = operationFromName(name);
    if (code === undefined) throw new UsageError(`unknown --operation ${name}`);
    return code;
  });
}

function principalOf(p: string): string {
  if (!/^[^:]+:.+$/.test(p)) throw new UsageError(`a principal is Type:name (User:alice); got ${p}`);
  return p;
}

/** The entries --allow-principal/--deny-principal with their hosts and operations describe. */
function entries(v: Values, ops: readonly number[]): AclBinding['entry'][] {
  const out: AclBinding['entry'][] = [];
  for (const [principals, hosts, permissionType] of [
    [v['allow-principal'], v['allow-host'], Permission.ALLOW],
    [v['deny-principal'], v['deny-host'], Permission.DENY],
  ] as const) {
    for (const p of principals ?? [])
      for (const host of hosts ?? ['*'])
        for (const operation of ops) out.push({ principal: principalOf(p), host, operation, permissionType });
  }
  return out;
}

function upper(s: string): string {
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

export function formatPattern(p: ResourcePattern): string {
  const pt = p.patternType === PatternType.PREFIXED ? 'PREFIXED' : 'LITERAL';
  return `ResourcePattern(resourceType=${typeName(p.resourceType)}, name=${p.name}, patternType=${pt})`;
}

export function formatEntry(e: AclBinding['entry']): string {
  const op = Object.entries(Operation).find(([, c]) => c === e.operation)?.[0] ?? 'UNKNOWN';
  const perm = e.permissionType === Permission.ALLOW ? 'ALLOW' : 'DENY';
  return `(principal=${e.principal}, host=${e.host}, operation=${upper(op)}, permissionType=${perm})`;
}

interface DescribeResult {
  errorCode: number;
  errorMessage: string | null;
  resources: {
    resourceType: number;
    resourceName: string;
    patternType: number;
    acls: AclBinding['entry'][];
  }[];
}

async function describe(
  cluster: Cluster,
  filter: { resourceType: number; name: string | null; patternType: number; principal: string | null },
): Promise<DescribeResult['resources']> {
  const res = await cluster.request<DescribeResult>(ApiKey.DescribeAcls, {
    resourceTypeFilter: filter.resourceType,
    resourceNameFilter: filter.name,
    patternTypeFilter: filter.patternType,
    principalFilter: filter.principal,
    hostFilter: null,
    operation: Operation.ANY,
    permissionType: Permission.ANY,
  });
  if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, res.errorMessage);
  return res.resources;
}

async function printResources(list: DescribeResult['resources']): Promise<void> {
  const lines: string[] = [];
  for (const r of list) {
    lines.push(
      `Current ACLs for resource \`${formatPattern({ resourceType: r.resourceType, patternType: r.patternType, name: r.resourceName })}\`: `,
    );
    for (const e of r.acls) lines.push(` \t${formatEntry(e)} `);
    lines.push('');
  }
  await writeOut(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} (y/n)\n`, resolve);
      rl.once('close', () => resolve(''));
    });
    return answer.trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}

export function runAcls(args: string[]): Promise<number> {
  return runCommand('acls', async () => {
    const { values: v, positionals } = parse(args, options, false);
    if (v.help === true) return printHelp(help);
    const actions = [v.add, v.remove, v.list].filter((a) => a === true).length;
    if (actions !== 1) throw new UsageError('exactly one of --add, --remove, --list is required');
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (v.consumer === true && (v.group ?? []).length === 0) throw new UsageError('--consumer needs --group');
    const patternType = patternTypeOf(v, v.add === true);
    const res = resources(v, patternType);
    const principals = (v.principal ?? []).map(principalOf);
    if (v.add === true) {
      if (res.length === 0) throw new UsageError('--add needs a resource (--topic, --group, --cluster, ...)');
      const defaultOps = operations(v);
      const work = res.map((r) => ({ pattern: r.pattern, entries: entries(v, r.ops ?? defaultOps) }));
      if (work.every((w) => w.entries.length === 0))
        throw new UsageError('--add needs --allow-principal or --deny-principal');
      const cluster = await connect(v['bootstrap-server'], 'samsa-acls', v['command-config']);
      try {
        for (const w of work) {
          await writeOut(
            `Adding ACLs for resource \`${formatPattern(w.pattern)}\`: \n${w.entries.map((e) => ` \t${formatEntry(e)} `).join('\n')}\n\n`,
          );
        }
        const creations = work.flatMap((w) =>
          w.entries.map((e) => ({
            resourceType: w.pattern.resourceType,
            resourceName: w.pattern.name,
            resourcePatternType: w.pattern.patternType,
            ...e,
          })),
        );
        const created = await cluster.request<{
          results: { errorCode: number; errorMessage: string | null }[];
        }>(ApiKey.CreateAcls, { creations });
        for (const r of created.results)
          if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, r.errorMessage);
        for (const w of work)
          await printResources(
            await describe(cluster, { ...w.pattern, patternType: w.pattern.patternType, principal: null }),
          );
        return 0;
      } finally {
        cluster.close();
      }
    }
    const cluster = await connect(v['bootstrap-server'], 'samsa-acls', v['command-config']);
    try {
      if (v.list === true) {
        const filters =
          res.length === 0
            ? [{ resourceType: ResourceType.ANY, name: null, patternType: PatternType.ANY }]
            : res.map((r) => r.pattern);
        for (const f of filters) {
          for (const principal of principals.length === 0 ? [null] : principals)
            await printResources(await describe(cluster, { ...f, principal }));
        }
        return 0;
      }
      if (res.length === 0)
        throw new UsageError('--remove needs a resource (--topic, --group, --cluster, ...)');
      const specific = (v['allow-principal'] ?? []).length + (v['deny-principal'] ?? []).length > 0;
      const defaultOps = operations(v);
      const filters = res.flatMap((r): Record<string, number | string | null>[] => {
        const base = {
          resourceTypeFilter: r.pattern.resourceType,
          resourceNameFilter: r.pattern.name,
          patternTypeFilter: r.pattern.patternType,
        };
        if (!specific)
          return [
            {
              ...base,
              principalFilter: null,
              hostFilter: null,
              operation: Operation.ANY,
              permissionType: Permission.ANY,
            },
          ];
        return entries(v, r.ops ?? defaultOps).map((e) => ({
          ...base,
          principalFilter: e.principal,
          hostFilter: e.host,
          operation: e.operation,
          permissionType: e.permissionType,
        }));
      });
      if (v.force !== true) {
        const what = res.map((r) => formatPattern(r.pattern)).join(', ');
        if (!(await confirm(`Are you sure you want to remove ACLs from resource(s) ${what}?`))) return 0;
      }
      const deleted = await cluster.request<{
        filterResults: {
          errorCode: number;
          errorMessage: string | null;
          matchingAcls: { errorCode: number; errorMessage: string | null }[];
        }[];
      }>(ApiKey.DeleteAcls, { filters });
      for (const r of deleted.filterResults) {
        if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode, r.errorMessage);
        for (const m of r.matchingAcls)
          if (m.errorCode !== ErrorCode.NONE) throw new KafkaError(m.errorCode, m.errorMessage);
      }
      for (const r of res) await printResources(await describe(cluster, { ...r.pattern, principal: null }));
      return 0;
    } finally {
      cluster.close();
    }
  });
}
