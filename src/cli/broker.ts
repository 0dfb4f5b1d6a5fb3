// `samsa broker [server.properties] [--override key=value ...]`: starts a broker the way Kafka's
// kafka-server-start.sh does. With no file, the embedded defaults apply: one node listening on
// 127.0.0.1:9092 with its data in ./data. SIGTERM or SIGINT shuts down cleanly.

import { Broker } from '../broker/broker.js';
import { startHeapGrowthPolicy } from '../broker/heap-growth.js';
import { StartupError } from '../broker/startup-error.js';
import {
  BrokerConfig,
  ConfigError,
  parseOverride,
  type RawConfig,
  readPropertiesFile,
} from '../config/broker-config.js';
import { configureLogging, createLogger, type Level, type LogFormat } from '../logger.js';
import { parse } from './common.js';

const help = `Usage: samsa broker [server.properties] [--override key=value ...] [--log-format json|text]

Starts a Samsa broker. Configuration uses Kafka's server.properties keys; each --override
replaces one key. Defaults: listeners=PLAINTEXT://127.0.0.1:9092, log.dir=./data.

  --override key=value    set one key, over the file (repeatable)
  --log-format json|text  log lines as JSON objects or as text (default: text on a terminal,
                          JSON otherwise; the log.format key)
  --version               print the version
`;

function usageError(message: string): number {
  process.stderr.write(`samsa broker: ${message}\nRun 'samsa broker --help' for usage.\n`);
  return 2;
}

export async function runBroker(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBrokerArgs>;
  try {
    parsed = parseBrokerArgs(args);
  } catch (e) {
    return usageError((e as Error).message.split('\n')[0] ?? String(e));
  }
  if (parsed.values.help === true) {
    process.stdout.write(help);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    return usageError(`expected at most one properties file; got ${parsed.positionals.join(' ')}`);
  }
  const logFormat = parsed.values['log-format'];
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'text') {
    return usageError(`--log-format must be json or text; got "${logFormat}"`);
  }
  const log = createLogger('broker');
  let config: BrokerConfig;
  try {
    const file: RawConfig =
      parsed.positionals[0] !== undefined ? readPropertiesFile(parsed.positionals[0]) : new Map();
    const overrides: RawConfig = new Map((parsed.values.override ?? []).map(parseOverride));
    const built = BrokerConfig.from(file, overrides);
    config = built.config;
    configureLogging(
      config.get('log.level') as Level | null,
      (logFormat ?? config.string('log.format')) as LogFormat | 'auto',
    );
    for (const w of built.warnings) log.warn(w);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`samsa broker: invalid configuration: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Signal handlers go in before start-up so a SIGTERM that arrives while the broker is starting
  // (or the instant it has started) still shuts it down cleanly.
  let signalled: ((signal: string) => void) | null = null;
  const signal = new Promise<string>((resolve) => {
    signalled = resolve;
  });
  // A signal during start-up (e.g. while ZooKeeper is unreachable and start-up retries) ends it.
  const starting = new AbortController();
  const onSignal = (name: string): void => {
    starting.abort();
    signalled?.(name);
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  const stopHeapGrowthPolicy = startHeapGrowthPolicy(log);
  let broker: Broker;
  try {
    broker = await Broker.start(config, { signal: starting.signal });
  } catch (err) {
    // Broker.start undid what it had started; one line naming the setting, and a non-zero exit.
    const text = err instanceof StartupError ? err.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`samsa broker: cannot start: ${text}\n`);
    stopHeapGrowthPolicy();
    return 1;
  }
  const name = await signal;
  stopHeapGrowthPolicy();
  log.info('signal received, stopping', { signal: name });
  try {
    await broker.stop();
  } catch (err) {
    log.error('error during shutdown', { error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  return 0;
}

function parseBrokerArgs(args: string[]) {
  return parse(args, {
    override: { type: 'string', multiple: true },
    'log-format': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
}
