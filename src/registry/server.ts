// A registry process: the `_schemas` store, the leader election and the HTTP server, started and stopped
// together (src/cli/registry.ts runs one; tests may run one in process).

import type { ClientSecurity } from '../client/connection.js';
import { createLogger, type Logger } from '../logger.js';
import { LeaderElector } from './election.js';
import { RegistryHttp } from './http.js';
import { RegistryService } from './service.js';
import { KafkaStore } from './store.js';

export interface RegistryOptions {
  bootstrap: string;
  /** TLS and SASL towards the Kafka cluster (Confluent's kafkastore.security.protocol, ...; undefined: PLAINTEXT). */
  security?: ClientSecurity;
  /** Where to listen, e.g. http://127.0.0.1:8081 (port 0: any free port). */
  listener: URL;
  /** The URL other registries reach this one at (default: the listener with its bound port). */
  advertised?: URL;
  topic?: string;
  groupId?: string;
  /** Whether this process may become the leader (Confluent's leader.eligibility). */
  leaderEligible?: boolean;
  logger?: Logger;
}

export class RegistryServer {
  private constructor(
    readonly port: number,
    readonly url: string,
    private readonly store: KafkaStore,
    readonly elector: LeaderElector,
    private readonly http: RegistryHttp,
  ) {}

  static async start(o: RegistryOptions): Promise<RegistryServer> {
    const log = o.logger ?? createLogger('registry');
    if (o.listener.protocol !== 'http:')
      throw new Error(`listeners: only http:// is served; got ${o.listener.href}`);
    const store = await KafkaStore.open({
      bootstrap: o.bootstrap,
      topic: o.topic ?? '_schemas',
      logger: log,
      ...(o.security === undefined ? {} : { security: o.security }),
    });
    let elector: LeaderElector | null = null;
    try {
      await store.sync(30_000);
      const service = new RegistryService(store);
      const host = o.listener.hostname.replace(/^\[|\]$/g, '');
      // The HTTP server starts first so the bound port can be advertised.
      const placeholder = { host, port: 0, scheme: 'http', eligible: o.leaderEligible ?? true };
      elector = new LeaderElector(
        o.bootstrap,
        o.groupId ?? 'schema-registry',
        placeholder,
        log.child('election'),
        o.security,
      );
      const server = new RegistryHttp(service, elector, log);
      const port = await server.listen(Number(o.listener.port || 8081), host);
      const adv = o.advertised;
      placeholder.host = adv?.hostname.replace(/^\[|\]$/g, '') ?? (host === '0.0.0.0' ? '127.0.0.1' : host);
      placeholder.port = adv !== undefined ? Number(adv.port || 80) : port;
      elector.start();
      const url = `http://${placeholder.host}:${placeholder.port}`;
      log.info('registry listening', { url, bootstrap: o.bootstrap, records: store.state.applied });
      return new RegistryServer(port, url, store, elector, server);
    } catch (e) {
      await elector?.close();
      await store.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.elector.close();
    await this.http.close();
    await this.store.close();
  }
}
