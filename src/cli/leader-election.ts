// `samsa leader-election`: Kafka's kafka-leader-election.sh. Gives partitions back to their preferred
// replica (the first of the replica list) where that one is alive and in sync (ElectLeaders, sent to the
// active controller): after a broker restart its partitions are led by others until this runs, or until
// auto.leader.rebalance.enable does it.
//
// Output is Kafka's: "Successfully completed leader election (PREFERRED) for partitions t-0, t-1",
// "Valid replica already elected for partitions ...", and one "Error completing leader election ..." line per
// partition that could not be elected (exit status 1).

import { readFileSync } from 'node:fs';
import { ElectionType, electLeaders, type TopicPartition } from '../client/admin.js';
import { ErrorCode, errorName } from '../protocol/errors.js';
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
import { comparePartitions, parsePartitionsJson, tpName } from './reassign-json.js';

const help = `Usage: samsa leader-election --election-type preferred (--all-topic-partitions | --topic T --partition P | --path-to-json-file FILE)

Elects each partition's preferred replica (the first of its replicas) as its leader, where that replica is
alive and in the ISR (kafka-leader-election.sh).

Options:
  --election-type preferred   the election to run (unclean elections follow unclean.leader.election.enable)
  --all-topic-partitions      every partition of every topic
  --topic T --partition P     one partition
  --path-to-json-file FILE    {"partitions":[{"topic":"t","partition":0}, ...]}
${commonHelp}
`;

const options = {
  ...commonOptions,
  'election-type': { type: 'string' },
  'all-topic-partitions': { type: 'boolean' },
  topic: { type: 'string' },
  partition: { type: 'string' },
  'path-to-json-file': { type: 'string' },
} as const;

export function runLeaderElection(args: string[]): Promise<number> {
  return runCommand('leader-election', async () => {
    const { values, positionals } = parse(args, options, false);
    if (values.help === true) return printHelp(help);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const type = values['election-type'];
    if (type === undefined) throw new UsageError('Missing required option(s): --election-type');
    if (type.toLowerCase() === 'unclean') {
      throw new UsageError(
        '--election-type unclean is not supported: unclean.leader.election.enable decides when an out-of-sync replica may lead',
      );
    }
    if (type.toLowerCase() !== 'preferred')
      throw new UsageError(`--election-type must be preferred; got "${type}"`);
    const sources = [
      values['all-topic-partitions'] === true,
      values.topic !== undefined,
      values['path-to-json-file'] !== undefined,
    ].filter(Boolean).length;
    if (sources !== 1) {
      throw new UsageError(
        'One and only one of the following options is required: --topic, --all-topic-partitions, --path-to-json-file',
      );
    }
    if (values.topic !== undefined && values.partition === undefined)
      throw new UsageError('Missing required option(s): --partition');
    if (values.topic === undefined && values.partition !== undefined)
      throw new UsageError('Option --partition is only allowed if --topic is used');

    let partitions: TopicPartition[] | null = null;
    if (values.topic !== undefined) {
      partitions = [
        { topic: values.topic, partition: intOption('partition', values.partition, 0) as number },
      ];
    } else if (values['path-to-json-file'] !== undefined) {
      const file = values['path-to-json-file'];
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new CommandError(`cannot read ${file}: ${(e as Error).message}`);
      }
      partitions = parsePartitionsJson(text, file);
      if (partitions.length === 0) throw new CommandError(`${file}: the list of partitions is empty`);
    }

    const cluster = await connect(
      values['bootstrap-server'],
      'samsa-leader-election',
      values['command-config'],
    );
    try {
      const results = (await electLeaders(cluster, ElectionType.PREFERRED, partitions)).sort(
        comparePartitions,
      );
      const succeeded = results.filter((r) => r.errorCode === ErrorCode.NONE);
      const noop = results.filter((r) => r.errorCode === ErrorCode.ELECTION_NOT_NEEDED);
      const failed = results.filter(
        (r) => r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.ELECTION_NOT_NEEDED,
      );
      const lines: string[] = [];
      if (succeeded.length > 0) {
        lines.push(
          `Successfully completed leader election (PREFERRED) for partitions ${succeeded.map(tpName).join(', ')}`,
        );
      }
      if (noop.length > 0)
        lines.push(`Valid replica already elected for partitions ${noop.map(tpName).join(', ')}`);
      for (const f of failed) {
        const why = f.message === null || f.message === '' ? '' : `: ${f.message}`;
        lines.push(
          `Error completing leader election (PREFERRED) for partition: ${tpName(f)}: ${errorName(f.errorCode)}${why}`,
        );
      }
      if (lines.length > 0) await writeOut(`${lines.join('\n')}\n`);
      if (failed.length > 0) throw new CommandError(`${failed.length} replica(s) could not be elected`);
      return 0;
    } finally {
      cluster.close();
    }
  });
}
