// `samsa <command> ...`: one file per command in this folder.

import { runBroker } from './broker.js';
import { runConfigs } from './configs.js';
import { runConsume } from './consume.js';
import { runGroups } from './groups.js';
import { runPerf } from './perf.js';
import { runProduce } from './produce.js';
import { runRecords } from './records.js';
import { runTopics } from './topics.js';

const commands: Record<string, { run: (args: string[]) => Promise<number>; summary: string }> = {
  broker: {
    run: runBroker,
    summary: 'start a broker: samsa broker [server.properties] [--override key=value ...]',
  },
  topics: { run: runTopics, summary: 'create, list, describe, delete and alter topics (kafka-topics)' },
  configs: { run: runConfigs, summary: 'describe and alter topic and broker configs (kafka-configs)' },
  produce: { run: runProduce, summary: 'send lines of stdin as records (kafka-console-producer)' },
  consume: { run: runConsume, summary: 'print records of a topic (kafka-console-consumer)' },
  groups: {
    run: runGroups,
    summary: 'list, describe, reset offsets of and delete consumer groups (kafka-consumer-groups)',
  },
  records: { run: runRecords, summary: 'delete records below an offset (kafka-delete-records)' },
  perf: {
    run: runPerf,
    summary: 'load generators: samsa perf produce|consume|e2e --bootstrap-server H:P --topic T ...',
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: samsa <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'samsa <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const cmd = commands[name];
  if (cmd === undefined) {
    process.stderr.write(`samsa: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  return cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`samsa: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
