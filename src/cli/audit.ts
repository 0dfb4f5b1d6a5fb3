// `samsa audit`: proves that no record was lost between two clusters (a mirrored topic): counts per window of
// record timestamps on the source and the target, and with --group what a group consumed on the target.
// Exit status 0 when the target holds at least the source's count in every window, 1 naming the windows where it
// holds fewer. Design and figures: docs/pipeline.md, "samsa audit"; the work is in src/pipeline/audit*.ts.

import type { Cluster } from '../client/cluster.js';
import { type AuditReport, audit } from '../pipeline/audit.js';
import { auditFromCounters, CountersError } from '../pipeline/audit-counters-read.js';
import { parseTime, parseWindow } from '../pipeline/audit-window.js';
import {
  CommandError,
  connect,
  parse,
  printHelp,
  required,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';

const help = `Usage: samsa audit --source HOST:PORT --target HOST:PORT --topic T [--window 1m] [--group G]
                   [--from TIME] [--to TIME] [--target-topic T2] [--use-counters] [--json]

Counts the records of a topic per window of record timestamps on a source and a target cluster and names every
window where the target holds fewer records than the source. Windows start on the minute/hour in UTC; only
windows holding records are listed. Only committed records are counted (read_committed): transaction markers
and the records of aborted transactions are not.

Options:
  --source HOST:PORT[,...]    the source cluster
  --target HOST:PORT[,...]    the target cluster
  --source-command-config FILE  Kafka client properties for the source (security.protocol, ssl.*, sasl.*;
                              docs/security.md)
  --target-command-config FILE  the same for the target
  --command-config FILE       the same for both (when the side's own is not given)
  --topic T                   the topic (on both clusters)
  --target-topic T2           the topic's name on the target (default: the same)
  --window DURATION           window length: 10s, 1m, 5m, 1h, 1d (default 1m)
  --group G                   also count what consumer group G on the target has consumed
                              (records below its committed offsets)
  --from TIME                 only records with a timestamp at or after TIME (ISO-8601 or epoch ms);
                              reading starts at the offset ListOffsets gives for TIME
  --to TIME                   only records with a timestamp before TIME; reading stops at the offset
                              ListOffsets gives for TIME
  --use-counters              compare the brokers' audit counters (topic __samsa_audit, kept when
                              samsa.audit.enable=true) instead of reading the logs; --window must be a
                              multiple of samsa.audit.window.ms; --from/--to select whole windows
  --json                      print {"topic": T, "windows": [{"start", "source", "target", "consumed", "missing"}]}
  -h, --help                  this help
  --version                   print the version

Exit status: 0 the target matches the source in every window, 1 it holds fewer in some window (or the audit
failed), 2 bad usage.
`;

const options = {
  source: { type: 'string' },
  target: { type: 'string' },
  topic: { type: 'string' },
  'target-topic': { type: 'string' },
  window: { type: 'string', default: '1m' },
  group: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  json: { type: 'boolean' },
  'use-counters': { type: 'boolean' },
  'command-config': { type: 'string' },
  'source-command-config': { type: 'string' },
  'target-command-config': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function timeOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTime(value);
  if (ms === null)
    throw new UsageError(`--${name} must be an ISO-8601 time or epoch milliseconds; got "${value}"`);
  return ms;
}

/** The counters' audit, its own problems phrased for the user. */
async function countersAudit(opts: Parameters<typeof auditFromCounters>[0]): Promise<AuditReport> {
  try {
    return await auditFromCounters(opts);
  } catch (e) {
    throw e instanceof CountersError ? new CommandError(e.message) : e;
  }
}

export function runAudit(args: string[]): Promise<number> {
  return runCommand('audit', async () => {
    const { values, positionals } = parse(args, options, false);
    if (values.help === true) return printHelp(help);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const source = required('source', values.source);
    const target = required('target', values.target);
    const topic = required('topic', values.topic);
    const windowMs = parseWindow(values.window);
    if (windowMs === null)
      throw new UsageError(`--window must be a duration like 10s, 1m, 5m, 1h; got "${values.window}"`);
    const fromMs = timeOption('from', values.from);
    const toMs = timeOption('to', values.to);
    if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs)
      throw new UsageError('--to must be after --from');
    const useCounters = values['use-counters'] === true;
    if (useCounters && values.group !== undefined)
      throw new UsageError('--group reads the target log: it does not go with --use-counters');

    const clusters: Cluster[] = [];
    const open = async (bootstrap: string, side: 'source' | 'target'): Promise<Cluster> => {
      const c = await connect(
        bootstrap,
        'samsa-audit',
        values[`${side}-command-config`] ?? values['command-config'],
      );
      clusters.push(c);
      return c;
    };
    try {
      // Both connections settle before anything fails: a side still connecting when the other failed would
      // otherwise be opened after the finally below and keep the process alive.
      const opened = await Promise.allSettled([open(source, 'source'), open(target, 'target')]);
      const [s, t] = opened.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      }) as [Cluster, Cluster];
      const report = await (useCounters ? countersAudit : audit)({
        source: s,
        target: t,
        topic,
        targetTopic: values['target-topic'],
        windowMs,
        group: values.group,
        fromMs,
        toMs,
      });
      await writeOut(values.json === true ? jsonReport(report) : textReport(report, values.window));
      if (report.short.length === 0) return 0;
      const missing = report.short.reduce((n, w) => n + w.missing, 0);
      throw new CommandError(
        `the target is missing ${missing} record(s) of topic ${topic} in ${report.short.length} window(s)`,
      );
    } finally {
      for (const c of clusters) c.close();
    }
  });
}

/** Exactly {"topic": ..., "windows": [{"start", "source", "target", "consumed", "missing"}]}. */
export function jsonReport(r: AuditReport): string {
  return `${JSON.stringify({
    topic: r.topic,
    windows: r.windows.map((w) => ({
      start: w.start,
      source: w.source,
      target: w.target,
      consumed: w.consumed,
      missing: w.missing,
    })),
  })}\n`;
}

export function textReport(r: AuditReport, window: string): string {
  const rows = [['WINDOW', 'SOURCE', 'TARGET', 'CONSUMED', 'MISSING']];
  for (const w of r.windows) {
    rows.push([
      w.start,
      String(w.source),
      String(w.target),
      w.consumed === null ? '-' : String(w.consumed),
      String(w.missing),
    ]);
  }
  const sum = (f: (w: (typeof r.windows)[number]) => number) => r.windows.reduce((n, w) => n + f(w), 0);
  rows.push([
    'TOTAL',
    String(sum((w) => w.source)),
    String(sum((w) => w.target)),
    r.windows.every((w) => w.consumed === null) ? '-' : String(sum((w) => w.consumed ?? 0)),
    String(sum((w) => w.missing)),
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [
    `Audit of topic ${r.topic} in windows of ${window} (committed records only: transaction markers and aborted transactions are not counted)`,
    ...rows.map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
    `Read in ${r.elapsedMs} ms: source ${r.sourceRead}; target ${r.targetRead}`,
  ];
  if (r.short.length === 0) {
    lines.push(`The target matches the source in all ${r.windows.length} window(s).`);
  } else {
    lines.push(`The target holds fewer records than the source in ${r.short.length} window(s):`);
    for (const w of r.short) lines.push(`  ${w.start} missing ${w.missing}`);
  }
  return `${lines.join('\n')}\n`;
}
