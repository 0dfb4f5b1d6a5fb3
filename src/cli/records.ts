// `samsa records delete`: Kafka's kafka-delete-records.sh. Moves a partition's log start offset forward
// (DeleteRecords); records below it are no longer readable and whole segments below it are removed.
// The partitions come from --topic/--partition/--before, or from Kafka's JSON file:
//   {"partitions": [{"topic": "t", "partition": 0, "offset": 42}], "version": 1}

import { readFileSync } from 'node:fs';
import { deleteRecords } from '../client/admin.js';
import {
  CommandError,
  commonHelp,
  commonOptions,
  connect,
  intOption,
  parse,
  printHelp,
  runCommand,
  UsageError,
  writeOut,
} from './common.js';

const help = `Usage: samsa records delete --topic T --partition P --before OFFSET
       samsa records delete --offset-json-file FILE

Deletes the records of a partition below OFFSET (the log start offset becomes OFFSET; -1 = everything up
to the high watermark).

Options:
  --topic T                 topic
  --partition P             partition (default 0)
  --before OFFSET           first offset to keep
  --offset-json-file FILE   Kafka's format: {"partitions":[{"topic":"t","partition":0,"offset":42}],"version":1}
${commonHelp}
`;

const options = {
  ...commonOptions,
  topic: { type: 'string' },
  partition: { type: 'string' },
  before: { type: 'string' },
  'offset-json-file': { type: 'string' },
} as const;

interface Target {
  topic: string;
  partition: number;
  offset: number;
}

function readJsonFile(file: string): Target[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CommandError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const parts = (doc as { partitions?: unknown }).partitions;
  if (!Array.isArray(parts)) throw new CommandError(`${file}: expected {"partitions": [...]}`);
  return parts.map((p, i) => {
    const { topic, partition, offset } = p as Record<string, unknown>;
    if (typeof topic !== 'string' || !Number.isInteger(partition) || !Number.isInteger(offset)) {
      throw new CommandError(
        `${file}: partitions[${i}] needs topic (string), partition and offset (integers)`,
      );
    }
    return { topic, partition: partition as number, offset: offset as number };
  });
}

export function runRecords(args: string[]): Promise<number> {
  return runCommand('records', async () => {
    const { values, positionals } = parse(args, options);
    if (values.help === true) return printHelp(help);
    if (positionals.length !== 1 || positionals[0] !== 'delete')
      throw new UsageError("expected the action 'delete'");
    let targets: Target[];
    if (values['offset-json-file'] !== undefined) {
      if (values.topic !== undefined || values.before !== undefined) {
        throw new UsageError('give either --offset-json-file or --topic/--partition/--before');
      }
      targets = readJsonFile(values['offset-json-file']);
    } else {
      if (values.topic === undefined) throw new UsageError('--topic is required');
      const before = intOption('before', values.before, -1);
      if (before === undefined) throw new UsageError('--before is required');
      targets = [
        { topic: values.topic, partition: intOption('partition', values.partition, 0) ?? 0, offset: before },
      ];
    }
    const cluster = await connect(values['bootstrap-server'], 'samsa-records', values['command-config']);
    try {
      const lines = ['Records delete operation completed:'];
      for (const t of targets) {
        const low = await deleteRecords(cluster, t.topic, t.partition, t.offset);
        lines.push(`partition: ${t.topic}-${t.partition}\tlow_watermark: ${low}`);
      }
      await writeOut(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      cluster.close();
    }
  });
}
