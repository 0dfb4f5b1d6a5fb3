// `samsa registry`: a Confluent Schema Registry compatible server backed by a Samsa (or any Kafka) cluster.
// Schemas live in the compacted `_schemas` topic in Confluent's record format; several registry processes on
// one cluster elect one leader (Kafka group `schema-registry`, protocol type "sr") that carries out every
// write; the others forward writes to it. See docs/registry.md. SIGTERM or SIGINT stops it.

import { configureLogging, createLogger } from '../logger.js';
import { RegistryServer } from '../registry/server.js';
import {
  commandConfigSecurity,
  DEFAULT_BOOTSTRAP,
  parse,
  printHelp,
  runCommand,
  UsageError,
} from './common.js';

const help = `Usage: samsa registry [--bootstrap HOST:PORT[,HOST:PORT]] [--listeners http://HOST:PORT] [options]

Serves Confluent Schema Registry's REST API (Avro schemas) from the _schemas topic of a Kafka cluster.

Options:
  --bootstrap HOST:PORT       Kafka cluster to store schemas in (default ${DEFAULT_BOOTSTRAP});
                              --bootstrap-server is accepted too
  --command-config FILE       Kafka client properties for that cluster: security.protocol, ssl.*,
                              sasl.mechanism, sasl.jaas.config (docs/security.md; Confluent's
                              kafkastore.security.protocol, kafkastore.ssl.*, kafkastore.sasl.*)
  --listeners URL             where to listen (default http://0.0.0.0:8081; port 0: any free port)
  --advertised-url URL        how other registries reach this one (default: the listener's host and port)
  --topic NAME                schemas topic (Confluent's kafkastore.topic, default _schemas)
  --group-id ID               election group (Confluent's schema.registry.group.id, default schema-registry)
  --no-leader-eligibility     never become the leader (Confluent's leader.eligibility=false)
  -h, --help                  this help
`;

function url(name: string, s: string): URL {
  try {
    return new URL(s);
  } catch {
    throw new UsageError(`--${name} must be a URL like http://127.0.0.1:8081; got "${s}"`);
  }
}

export function runRegistry(args: string[]): Promise<number> {
  return runCommand('registry', async () => {
    const { values } = parse(
      args,
      {
        bootstrap: { type: 'string' },
        'bootstrap-server': { type: 'string' },
        'command-config': { type: 'string' },
        listeners: { type: 'string', default: 'http://0.0.0.0:8081' },
        'advertised-url': { type: 'string' },
        topic: { type: 'string', default: '_schemas' },
        'group-id': { type: 'string', default: 'schema-registry' },
        'no-leader-eligibility': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      false,
    );
    if (values.help === true) return printHelp(help);
    const listener = url('listeners', (values.listeners as string).split(',')[0]?.trim() ?? '');
    if (listener.protocol !== 'http:')
      throw new UsageError(`--listeners: only http:// is served; got ${listener.href}`);
    const advertised =
      values['advertised-url'] === undefined ? undefined : url('advertised-url', values['advertised-url']);
    const security = commandConfigSecurity(values['command-config']);
    configureLogging(null, 'auto');
    const log = createLogger('registry');
    let signalled: (name: string) => void = () => {};
    const signal = new Promise<string>((resolve) => {
      signalled = resolve;
    });
    process.once('SIGTERM', () => signalled('SIGTERM'));
    process.once('SIGINT', () => signalled('SIGINT'));
    const server = await RegistryServer.start({
      bootstrap: values.bootstrap ?? values['bootstrap-server'] ?? DEFAULT_BOOTSTRAP,
      ...(security === undefined ? {} : { security }),
      listener,
      advertised,
      topic: values.topic,
      groupId: values['group-id'],
      leaderEligible: values['no-leader-eligibility'] !== true,
      logger: log,
    });
    const name = await signal;
    log.info('signal received, stopping', { signal: name });
    await server.close();
    return 0;
  });
}
