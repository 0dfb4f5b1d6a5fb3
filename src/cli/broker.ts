// `samsa broker [server.properties] [--override key=value ...]`: starts a broker the way Kafka's
// kafka-server-start.sh does. With no file, the embedded defaults apply: one node listening on
// 127.0.0.1:9092 with its data in ./data. SIGTERM or SIGINT shuts down cleanly.

import { parseArgs } from 'node:util';
import { Broker } from '../broker/broker.js';
import { StartupError } from '../broker/startup-error.js';
import {
  BrokerConfig,
  ConfigError,
  parseOverride,
  type RawConfig,
  readPropertiesFile,
} from '../config/broker-config.js';
import { createLogger } from '../logger.js';

const help = `Usage: samsa broker [server.properties] [--override key=value ...]

Starts a Samsa broker. Configuration uses Kafka's server.properties keys; each --override
replaces one key. Defaults: listeners=PLAINTEXT://127.0.0.1:9092, log.dir=./data.
`;

export async function runBroker(args: string[]): Promise<number> {
  const parsed = parseArgs({
    args,
    allowPositionals: true,
    options: { override: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
  });
  if (parsed.values.help === true) {
    process.stdout.write(help);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    process.stderr.write(
      `samsa broker: expected at most one properties file; got ${parsed.positionals.join(' ')}\n`,
    );
    return 2;
  }
  const log = createLogger('broker');
  let config: BrokerConfig;
  try {
    const file: RawConfig =
      parsed.positionals[0] !== undefined ? readPropertiesFile(parsed.positionals[0]) : new Map();
    const overrides: RawConfig = new Map((parsed.values.override ?? []).map(parseOverride));
    const built = BrokerConfig.from(file, overrides);
    for (const w of built.warnings) log.warn(w);
    config = built.config;
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
  const onSignal = (name: string): void => signalled?.(name);
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  let broker: Broker;
  try {
    broker = await Broker.start(config);
  } catch (err) {
    // Broker.start undid what it had started; one line naming the setting, and a non-zero exit.
    const text = err instanceof StartupError ? err.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`samsa broker: cannot start: ${text}\n`);
    return 1;
  }
  const name = await signal;
  log.info('signal received, stopping', { signal: name });
  try {
    await broker.stop();
  } catch (err) {
    log.error('error during shutdown', { error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  return 0;
}
