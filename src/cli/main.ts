// `samsa <command> ...`: one file per command in this folder.
//
// Failures follow docs/operations.md: one line on stderr prefixed with the command (`samsa broker: ...`),
// exit status 1 when the operation failed, 2 for bad usage (with a one-line pointer to --help), no stack
// traces.

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envLogLevel } from '../logger.js';
import { describeError } from './common.js';

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
  acls: {
    run: async (a) => (await import('./acls.js')).runAcls(a),
    summary: 'add, remove and list ACLs (kafka-acls)',
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
  transactions: {
    run: async (a) => (await import('./transactions.js')).runTransactions(a),
    summary: 'list, describe, find and abort hanging transactions (kafka-transactions)',
  },
  records: {
    run: async (a) => (await import('./records.js')).runRecords(a),
    summary: 'delete records below an offset (kafka-delete-records)',
  },
  reassign: {
    run: async (a) => (await import('./reassign.js')).runReassign(a),
    summary: 'move partitions between brokers; verify, list and cancel moves (kafka-reassign-partitions)',
  },
  'leader-election': {
    run: async (a) => (await import('./leader-election.js')).runLeaderElection(a),
    summary: 'give partitions back to their preferred leaders (kafka-leader-election)',
  },
  log: {
    run: async (a) => (await import('./log.js')).runLog(a),
    summary: 'dump and verify segment files: samsa log dump|verify --files PATH (kafka-dump-log)',
  },
  mirror: {
    run: async (a) => (await import('./mirror.js')).runMirror(a),
    summary: 'copy topics between clusters: samsa mirror --from H:P --to H:P --topics REGEX (MirrorMaker 2)',
  },
  perf: {
    run: async (a) => (await import('./perf.js')).runPerf(a),
    summary: 'load generators: samsa perf produce|consume|e2e --bootstrap-server H:P --topic T ...',
  },
  registry: {
    run: async (a) => (await import('./registry.js')).runRegistry(a),
    summary:
      'a Confluent Schema Registry compatible server: samsa registry --bootstrap H:P --listeners http://H:P',
  },
  sink: {
    run: async (a) => (await import('./sink.js')).runSink(a),
    summary:
      'load topics into Parquet or JSON-lines files by hour: samsa sink --topics RE --group G --to DIR',
  },
  audit: {
    run: async (a) => (await import('./audit.js')).runAudit(a),
    summary:
      'count a topic per time window on two clusters and name the windows the target lacks (mirror audit)',
  },
  'dev-cluster': {
    run: async (a) => (await import('./dev-cluster.js')).runDevCluster(a),
    summary: 'a ZooKeeper and N brokers in the foreground: samsa dev-cluster --brokers 3 [--dir ./cluster]',
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 1;
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`);
  return `Usage: samsa <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'samsa <command> --help' for a command's options; 'samsa --version' prints the version.\n`;
}

/** The version in the package.json of the package this file belongs to (source tree, dist/ or installed). */
function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'samsa' && pkg.version !== undefined) return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** A usage failure: one line and a pointer to the help, exit status 2 (docs/operations.md). */
function usageFailure(prefix: string, message: string, helpCommand: string): number {
  process.stderr.write(`${prefix}: ${message}\nRun '${helpCommand}' for usage.\n`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`samsa ${version()}\n`);
    return 0;
  }
  if (name === undefined) {
    return usageFailure('samsa', `no command given (${Object.keys(commands).join(', ')})`, 'samsa --help');
  }
  const cmd = commands[name];
  if (cmd === undefined) {
    if (name.startsWith('-')) return usageFailure('samsa', `unknown option '${name}'`, 'samsa --help');
    return usageFailure('samsa', `unknown command '${name}'`, 'samsa --help');
  }
  // Every command answers --version alike (before `--`, which ends the options).
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).includes('--version')) {
    process.stdout.write(`samsa ${version()}\n`);
    return 0;
  }
  try {
    envLogLevel();
  } catch (e) {
    process.stderr.write(`samsa ${name}: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    // Commands report their own failures; this is the net for anything that escaped them.
    process.stderr.write(`samsa ${name}: ${describeError(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
});
