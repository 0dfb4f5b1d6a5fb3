// `samsa <command> ...`: one file per command in this folder.

// Commands load their module on use, so a client command does not pay for loading the broker.
type Command = { run: (args: string[]) => Promise<number>; summary: string };

const commands: Record<string, Command> = {
  broker: {
    run: async (a) => (await import('./broker.js')).runBroker(a),
    summary: 'start a broker: samsa broker [server.properties] [--override key=value ...]',
  },
  topics: {
    run: async (a) => (await import('./topics.js')).runTopics(a),
    summary: 'create, list, describe, delete and alter topics (kafka-topics)',
  },
  configs: {
    run: async (a) => (await import('./configs.js')).runConfigs(a),
    summary: 'describe and alter topic and broker configs (kafka-configs)',
  },
  produce: {
    run: async (a) => (await import('./produce.js')).runProduce(a),
    summary: 'send lines of stdin as records (kafka-console-producer)',
  },
  consume: {
    run: async (a) => (await import('./consume.js')).runConsume(a),
    summary: 'print records of a topic (kafka-console-consumer)',
  },
  groups: {
    run: async (a) => (await import('./groups.js')).runGroups(a),
    summary: 'list, describe, reset offsets of and delete consumer groups (kafka-consumer-groups)',
  },
  records: {
    run: async (a) => (await import('./records.js')).runRecords(a),
    summary: 'delete records below an offset (kafka-delete-records)',
  },
  log: {
    run: async (a) => (await import('./log.js')).runLog(a),
    summary: 'dump and verify segment files: samsa log dump|verify --files PATH (kafka-dump-log)',
  },
  perf: {
    run: async (a) => (await import('./perf.js')).runPerf(a),
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
