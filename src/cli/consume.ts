// `samsa consume`: Kafka's console consumer. Prints records of a topic to stdout until --max-messages,
// --timeout-ms without a record, or Ctrl-C; then "Processed a total of N messages" on stderr, as Kafka does.
//
// Without --group, partitions are assigned directly (all, or --partition) and nothing is committed. With
// --group the consumer joins the group through the broker's group coordinator (FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat) and commits its offsets; the broker must support those APIs.

import { Consumer, type ConsumerRecord, type StartPosition } from '../client/consumer.js';
import { GroupConsumer } from '../client/group.js';
import { ApiKey } from '../protocol/generated/apis.js';
import {
  CommandError,
  commonHelp,
  commonOptions,
  connect,
  intOption,
  Progress,
  parse,
  parseProperties,
  printHelp,
  required,
  runCommand,
  UsageError,
  unescapeSeparator,
  writeOut,
} from './common.js';

const help = `Usage: samsa consume --topic T [options]

Prints the records of a topic, one per line.

Where to start (default: the end of each partition, i.e. only new records):
  --from-beginning             the earliest record of each partition
  --offset earliest|latest|N   this offset of each consumed partition
  --timestamp MS|ISO-8601      the first record at or after this time
  --group G                    join consumer group G: start from its committed offsets and commit as it goes
                               (no committed offset: --from-beginning or latest)

What to read:
  --topic T                    topic
  --partition P                only partition P (default: all; not with --group)
  --isolation-level L          read_uncommitted (default) or read_committed

When to stop (default: never, Ctrl-C):
  --max-messages N             after N records
  --timeout-ms MS              when no record arrived for MS milliseconds

Output:
  --format value|kv|json       value (default); kv = key<TAB>value; json = one object per line with
                               topic, partition, offset, timestamp, key, value, headers
  --property print.key=true    Kafka's formatter: also print.timestamp, print.partition, print.offset,
                               print.headers, key.separator (default TAB), null.literal (default null)
${commonHelp}
`;

const options = {
  ...commonOptions,
  topic: { type: 'string' },
  partition: { type: 'string' },
  offset: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  timestamp: { type: 'string' },
  group: { type: 'string' },
  'max-messages': { type: 'string' },
  'timeout-ms': { type: 'string' },
  format: { type: 'string' },
  property: { type: 'string', multiple: true },
  'isolation-level': { type: 'string' },
} as const;

type Format = (r: ConsumerRecord) => string;

function text(b: Buffer | null, nullLiteral: string): string {
  return b === null ? nullLiteral : b.toString('utf8');
}

function makeFormat(name: string, props: Map<string, string>): Format {
  const sep = unescapeSeparator(props.get('key.separator') ?? '\t');
  const nullLiteral = props.get('null.literal') ?? 'null';
  if (name === 'json') {
    return (r) =>
      JSON.stringify({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestampType: r.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
        key: r.key === null ? null : r.key.toString('utf8'),
        value: r.value === null ? null : r.value.toString('utf8'),
        headers: r.headers.map((h) => ({
          key: h.key,
          value: h.value === null ? null : h.value.toString('utf8'),
        })),
      });
  }
  if (name === 'kv') return (r) => `${text(r.key, nullLiteral)}${sep}${text(r.value, nullLiteral)}`;
  if (name !== 'value') throw new UsageError(`--format must be value, kv or json; got "${name}"`);
  const on = (k: string): boolean => props.get(k) === 'true';
  if (!['print.key', 'print.timestamp', 'print.partition', 'print.offset', 'print.headers'].some(on)) {
    return (r) => text(r.value, nullLiteral);
  }
  // Kafka's DefaultMessageFormatter: timestamp, partition, offset, headers, key, value.
  return (r) => {
    const parts: string[] = [];
    if (on('print.timestamp'))
      parts.push(`${r.timestampType === 1 ? 'LogAppendTime' : 'CreateTime'}:${r.timestamp}`);
    if (on('print.partition')) parts.push(`Partition:${r.partition}`);
    if (on('print.offset')) parts.push(`Offset:${r.offset}`);
    if (on('print.headers')) {
      parts.push(
        r.headers.length === 0
          ? 'NO_HEADERS'
          : r.headers.map((h) => `${h.key}:${text(h.value, nullLiteral)}`).join(','),
      );
    }
    if (on('print.key')) parts.push(text(r.key, nullLiteral));
    parts.push(text(r.value, nullLiteral));
    return parts.join(sep);
  };
}

function parseTimestamp(v: string): number {
  if (/^-?\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new UsageError(`--timestamp must be milliseconds since the epoch or an ISO-8601 date; got "${v}"`);
  return t;
}

export function runConsume(args: string[]): Promise<number> {
  return runCommand('consume', async () => {
    const { values } = parse(args, options, false);
    if (values.help === true) return printHelp(help);
    const topic = required('topic', values.topic);
    const props = parseProperties(values.property);
    const format = makeFormat(values.format ?? 'value', props);
    const maxMessages = intOption('max-messages', values['max-messages'], 1);
    const timeoutMs = intOption('timeout-ms', values['timeout-ms'], 1);
    const partition = intOption('partition', values.partition, 0);
    const iso = values['isolation-level'] ?? 'read_uncommitted';
    if (iso !== 'read_uncommitted' && iso !== 'read_committed') {
      throw new UsageError('--isolation-level must be read_uncommitted or read_committed');
    }
    const starts = [values['from-beginning'], values.offset, values.timestamp].filter((x) => x !== undefined);
    if (starts.length > 1)
      throw new UsageError('give at most one of --from-beginning, --offset, --timestamp');
    let start: StartPosition = 'latest';
    if (values['from-beginning'] === true) start = 'earliest';
    if (values.offset !== undefined) {
      const o = values.offset;
      start = o === 'earliest' || o === 'latest' ? o : { offset: intOption('offset', o, 0) as number };
    }
    if (values.timestamp !== undefined) start = { timestamp: parseTimestamp(values.timestamp) };
    if (
      values.group !== undefined &&
      (partition !== undefined || values.offset !== undefined || values.timestamp !== undefined)
    ) {
      throw new UsageError(
        '--group takes its partitions and offsets from the group: no --partition, --offset or --timestamp',
      );
    }

    const cluster = await connect(
      values['bootstrap-server'],
      'samsa-console-consumer',
      values['command-config'],
    );
    const fetchOpts = {
      maxWaitMs: Math.min(500, timeoutMs ?? 500),
      isolationLevel: (iso === 'read_committed' ? 1 : 0) as 0 | 1,
      autoOffsetReset: (start === 'earliest' ? 'earliest' : 'latest') as 'earliest' | 'latest',
    };
    let poll: () => Promise<ConsumerRecord[]>;
    let finish: () => Promise<void>;
    let consumed: (r: ConsumerRecord) => void = () => {};
    try {
      if (values.group !== undefined) {
        const needed = [
          ApiKey.FindCoordinator,
          ApiKey.JoinGroup,
          ApiKey.SyncGroup,
          ApiKey.Heartbeat,
          ApiKey.OffsetCommit,
          ApiKey.OffsetFetch,
        ];
        const missing = needed.filter((k) => !cluster.bootstrap.supports(k));
        if (missing.length > 0) {
          throw new CommandError(
            `this broker does not support consumer groups (missing API keys ${missing.join(', ')}); consume without --group`,
          );
        }
        const group = await GroupConsumer.join(cluster, {
          groupId: values.group,
          topics: [topic],
          ...fetchOpts,
        });
        poll = () => group.poll();
        finish = () => group.close();
        consumed = (r) => group.markConsumed(r);
      } else {
        const consumer = Consumer.on(cluster, fetchOpts);
        await consumer.assign(topic, partition === undefined ? 'all' : [partition], start);
        poll = () => consumer.poll();
        finish = () => consumer.close();
      }
    } catch (e) {
      cluster.close();
      throw e;
    }

    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let outputClosed = false;
    const onStdoutError = (e: NodeJS.ErrnoException): void => {
      if (e.code === 'EPIPE') {
        outputClosed = true;
        abort.abort();
      }
    };
    process.stdout.on('error', onStdoutError);
    const progress = new Progress();
    let count = 0;
    let lastRecordAt = Date.now();
    try {
      while (!abort.signal.aborted) {
        const records = await poll();
        if (records.length > 0) lastRecordAt = Date.now();
        let out = '';
        for (const r of records) {
          out += `${format(r)}\n`;
          consumed(r);
          count++;
          if (maxMessages !== undefined && count >= maxMessages) break;
        }
        if (out !== '' && !outputClosed) {
          progress.done();
          await writeOut(out);
        }
        progress.update(() => `${count} records consumed`);
        if (maxMessages !== undefined && count >= maxMessages) break;
        if (timeoutMs !== undefined && Date.now() - lastRecordAt >= timeoutMs) break;
      }
    } finally {
      progress.done();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await finish();
      process.stderr.write(`Processed a total of ${count} messages\n`);
    }
    return 0;
  });
}
