// `samsa produce`: Kafka's console producer. Reads records from stdin, one per line, and sends them in
// batches (up to --batch-size records per request, several requests in flight, order kept).
//
// Line format, as Kafka's console producer reads it:
//   value                                  by default
//   key<sep>value                          with --property parse.key=true (key.separator, default TAB)
//   h1:v1,h2:v2<TAB>key<TAB>value          with --property parse.headers=true as well
// --header k=v adds a header to every record.
//
// A missing topic is created by the broker when it allows that (auto.create.topics.enable), as with
// Kafka's console producer; otherwise the command fails and says to run `samsa topics --create`.

import * as readline from 'node:readline';
import { type Cluster, KafkaError } from '../client/cluster.js';
import type { ProducerRecord } from '../client/producer.js';
import { type CompressionName, Producer } from '../client/producer.js';
import { ErrorCode } from '../protocol/errors.js';
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
} from './common.js';

const help = `Usage: samsa produce --topic T [options] < lines

Sends each line of stdin as one record.

Options:
  --topic T                         topic to write to
  --property parse.key=true         lines are key<separator>value
  --property key.separator=SEP      separator between key and value (default TAB; \\t escapes work)
  --key-separator SEP               same as the two properties above together
  --property parse.headers=true     lines start with h1:v1,h2:v2<TAB> (headers.delimiter, headers.separator,
                                    headers.key.separator change TAB, ',' and ':')
  --property null.marker=S          a key or value equal to S is sent as null
  --header k=v                      header added to every record (repeatable)
  --partition P                     send every record to partition P (default: by key, else sticky)
  --compression-codec C             none, gzip, snappy, lz4, zstd (default none)
  --acks A                          -1 or all (default), 1, 0; also --request-required-acks
  --batch-size N                    records per request (default 500)
${commonHelp}
`;

const options = {
  ...commonOptions,
  topic: { type: 'string' },
  property: { type: 'string', multiple: true },
  'key-separator': { type: 'string' },
  header: { type: 'string', multiple: true },
  partition: { type: 'string' },
  'compression-codec': { type: 'string' },
  acks: { type: 'string' },
  'request-required-acks': { type: 'string' },
  'batch-size': { type: 'string' },
} as const;

const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Requests in flight before reading waits for the oldest to be acknowledged. */
const IN_FLIGHT = 5;

interface LineFormat {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: string;
  headersKeySeparator: string;
  nullMarker: string | null;
  fixedHeaders: { key: string; value: string }[];
  partition: number | undefined;
}

function parseAcks(v: string | undefined): -1 | 0 | 1 {
  if (v === undefined || v === 'all' || v === '-1') return -1;
  if (v === '0') return 0;
  if (v === '1') return 1;
  throw new UsageError(`--acks must be -1, all, 0 or 1; got "${v}"`);
}

/** Splits one input line into a record (Kafka's LineMessageReader rules). */
export function lineToRecord(line: string, lineNumber: number, f: LineFormat): ProducerRecord {
  let rest = line;
  const headers: { key: string; value: string | null }[] = [...f.fixedHeaders];
  if (f.parseHeaders) {
    const i = rest.indexOf(f.headersDelimiter);
    if (i < 0) throw new CommandError(`no headers delimiter found on line number ${lineNumber}: '${line}'`);
    const spec = rest.slice(0, i);
    rest = rest.slice(i + f.headersDelimiter.length);
    if (spec !== '') {
      for (const h of spec.split(f.headersSeparator)) {
        const j = h.indexOf(f.headersKeySeparator);
        if (j < 0)
          throw new CommandError(`no header key separator found in '${h}' on line number ${lineNumber}`);
        const value = h.slice(j + f.headersKeySeparator.length);
        headers.push({ key: h.slice(0, j), value: value === f.nullMarker ? null : value });
      }
    }
  }
  let key: string | null = null;
  if (f.parseKey) {
    const i = rest.indexOf(f.keySeparator);
    if (i < 0) throw new CommandError(`no key separator found on line number ${lineNumber}: '${line}'`);
    key = rest.slice(0, i);
    rest = rest.slice(i + f.keySeparator.length);
    if (key === f.nullMarker) key = null;
  }
  const value = rest === f.nullMarker ? null : rest;
  const rec: ProducerRecord = { key, value, headers };
  if (f.partition !== undefined) rec.partition = f.partition;
  return rec;
}

/** How long a topic created on first use may report LEADER_NOT_AVAILABLE (Kafka does, briefly). */
const NEW_TOPIC_LEADER_WAIT_MS = 10_000;

/**
 * The topic's metadata, asking the broker to create it when missing (Metadata with
 * allow_auto_topic_creation, as Kafka's console producer and kcat do). A broker with
 * auto.create.topics.enable=false answers UNKNOWN_TOPIC_OR_PARTITION: the error says what to run instead.
 */
async function topicOrCreate(cluster: Cluster, topic: string): Promise<void> {
  const deadline = Date.now() + NEW_TOPIC_LEADER_WAIT_MS;
  for (;;) {
    try {
      await cluster.topic(topic, true, true);
      return;
    } catch (e) {
      if (e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        throw new CommandError(
          `topic '${topic}' does not exist and the broker does not create topics on first use ` +
            `(auto.create.topics.enable=false); create it with 'samsa topics --create --topic ${topic}'`,
        );
      }
      if (!(e instanceof KafkaError && e.code === ErrorCode.LEADER_NOT_AVAILABLE) || Date.now() > deadline)
        throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function runProduce(args: string[]): Promise<number> {
  return runCommand('produce', async () => {
    const { values } = parse(args, options, false);
    if (values.help === true) return printHelp(help);
    const topic = required('topic', values.topic);
    const props = parseProperties(values.property);
    const codec = values['compression-codec'] ?? 'none';
    if (!codecs.includes(codec))
      throw new UsageError(`--compression-codec must be one of ${codecs.join(', ')}`);
    const acks = parseAcks(values.acks ?? values['request-required-acks']);
    const batchSize = intOption('batch-size', values['batch-size'], 1) ?? 500;
    const format: LineFormat = {
      parseKey: props.get('parse.key') === 'true' || values['key-separator'] !== undefined,
      keySeparator: unescapeSeparator(values['key-separator'] ?? props.get('key.separator') ?? '\t'),
      parseHeaders: props.get('parse.headers') === 'true',
      headersDelimiter: unescapeSeparator(props.get('headers.delimiter') ?? '\t'),
      headersSeparator: unescapeSeparator(props.get('headers.separator') ?? ','),
      headersKeySeparator: unescapeSeparator(props.get('headers.key.separator') ?? ':'),
      nullMarker: props.has('null.marker') ? (props.get('null.marker') ?? null) : null,
      fixedHeaders: (values.header ?? []).map((h) => {
        const i = h.indexOf('=');
        if (i <= 0) throw new UsageError(`--header "${h}" must look like key=value`);
        return { key: h.slice(0, i), value: h.slice(i + 1) };
      }),
      partition: intOption('partition', values.partition, 0),
    };
    if (format.parseKey && format.keySeparator === '')
      throw new UsageError('the key separator must not be empty');

    const cluster = await connect(
      values['bootstrap-server'],
      'samsa-console-producer',
      values['command-config'],
    );
    const producer = Producer.on(cluster, { acks, compression: codec as CompressionName });
    const progress = new Progress();
    const started = Date.now();
    let sent = 0;
    let acked = 0;
    const inFlight: Promise<void>[] = [];
    let failure: unknown = null;
    const flush = (batch: ProducerRecord[]): void => {
      sent += batch.length;
      const p = producer.send(topic, batch).then(
        () => {
          acked += batch.length;
          progress.update(
            () => `${acked} records produced (${Math.round(acked / ((Date.now() - started) / 1000 || 1))}/s)`,
          );
        },
        (e: unknown) => {
          failure ??= e;
        },
      );
      inFlight.push(p);
    };
    try {
      // Learn the topic first so a missing topic fails before stdin is read.
      await topicOrCreate(cluster, topic);
      const rl = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      let batch: ProducerRecord[] = [];
      let lineNumber = 0;
      for await (const line of rl) {
        lineNumber++;
        batch.push(lineToRecord(line, lineNumber, format));
        if (batch.length >= batchSize) {
          flush(batch);
          batch = [];
          if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
        }
        if (failure !== null) break;
      }
      rl.close();
      if (batch.length > 0 && failure === null) flush(batch);
      await Promise.all(inFlight);
      if (failure !== null) throw failure;
      return 0;
    } finally {
      progress.done();
      if (process.stderr.isTTY === true && sent > 0)
        process.stderr.write(`${acked} records produced to ${topic}\n`);
      await producer.close();
    }
  });
}
