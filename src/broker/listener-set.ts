// Every listener of the broker (`listeners`): one Server each, with the security of its protocol
// (listener.security.protocol.map: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL). All are bound before the logs
// load and started together; the connection limits (max.connections, max.connections.per.ip) apply to each,
// the connection creation rates (connection-quotas.ts) to all together and to each.

import type { BrokerConfig, Listener } from '../config/broker-config.js';
import { ConfigError } from '../config/config-error.js';
import { parseProtocolMap, protocolOf } from '../config/listeners.js';
import { ListenerSecurityConfig } from '../config/security-config.js';
import type { Logger } from '../logger.js';
import { listenerSecurity, type SecurityProtocol } from '../security/listener-security.js';
import type { CredentialLookup } from '../security/sasl/scram.js';
import { certificateFingerprint, reloadedTls } from '../security/tls-reload.js';
import type { Broker } from './broker.js';
import { ConnectionQuotas, listenerConnectionRateKey } from './connection-quotas.js';
import type { Handler } from './handler.js';
import { Server } from './server.js';
import { StartupError } from './startup-error.js';

export class ListenerSet {
  private constructor(
    private readonly servers: { listener: Listener; server: Server }[],
    /** The connection creation rates, shared by the listeners. */
    readonly connectionQuotas: ConnectionQuotas,
  ) {}

  /**
   * Builds a server per listener (TLS contexts read, SASL settings checked: a ConfigError becomes a StartupError
   * naming the key) without binding.
   */
  static create(config: BrokerConfig, scram: CredentialLookup, log: Logger): ListenerSet {
    const map = parseProtocolMap(config.string('listener.security.protocol.map'));
    const listeners = config.listeners();
    // Kafka's protectedListener: the inter-broker listener, when there is another, is not held back by the
    // broker-wide rate (the brokers must reach each other while clients flood the others).
    const interBroker = config.get('inter.broker.listener.name') ?? listeners[0]?.name ?? 'PLAINTEXT';
    const connectionQuotas = new ConnectionQuotas(
      { numSamples: config.int('quota.window.num'), windowSeconds: config.int('quota.window.size.seconds') },
      listeners.length > 1 ? interBroker : null,
    );
    const servers = config.listeners().map((listener) => {
      const protocol = protocolOf(listener.name, map) as SecurityProtocol;
      let security: ReturnType<typeof listenerSecurity>;
      try {
        security = listenerSecurity(new ListenerSecurityConfig(config, listener.name), protocol, scram);
      } catch (err) {
        if (err instanceof ConfigError)
          throw new StartupError(err.key, err.message.slice(err.key.length + 2));
        throw err;
      }
      const server = new Server(
        {
          host: listener.host === '' ? '0.0.0.0' : listener.host,
          port: listener.port,
          requestBytesMax: config.int('socket.request.max.bytes'),
          queuedRequestBytesMax: config.long('queued.max.request.bytes'),
          requestReceiveTimeoutMs: config.long('socket.request.receive.timeout.ms'),
          maxConnections: config.int('max.connections'),
          maxConnectionsPerIp: config.int('max.connections.per.ip'),
          idleMs: config.long('connections.max.idle.ms'),
          security,
          connectionQuotas,
        },
        log,
      );
      return { listener, server };
    });
    if (servers.length === 0) throw new StartupError('listeners', 'no listener configured');
    const set = new ListenerSet(servers, connectionQuotas);
    set.setConnectionRates(config);
    return set;
  }

  /** Binds every listener; `listen` maps a bind failure to a StartupError. */
  async bind(listen: (address: string, bind: () => Promise<number>) => Promise<number>): Promise<void> {
    for (const { listener, server } of this.servers) {
      await listen(`${listener.name}://${listener.host}:${listener.port}`, () => server.bind());
    }
  }

  start(broker: Broker, handlers: ReadonlyMap<number, Handler<unknown, unknown>>): void {
    for (const { server } of this.servers) server.start(broker, handlers);
  }

  async close(graceMs: number): Promise<void> {
    await Promise.all(this.servers.map(({ server }) => server.close(graceMs)));
  }

  /**
   * Builds every TLS listener's context again from the configuration (the key and trust store files are read
   * again): new connections get it, open ones keep theirs. A listener whose new material does not load keeps its
   * certificate; the problem is logged.
   */
  reloadTls(config: BrokerConfig, log: Logger): void {
    for (const { listener, server } of this.servers) {
      if (server.security.tls === null) continue;
      try {
        server.replaceTls(reloadedTls(config, listener.name));
        log.info('TLS key and trust stores reloaded', {
          listener: listener.name,
          fingerprint: certificateFingerprint(config, listener.name),
        });
      } catch (err) {
        log.error('TLS reload failed: the listener keeps its certificate', {
          listener: listener.name,
          error: (err as Error).message,
        });
      }
    }
  }

  setConnectionLimits(maxConnections: number, maxConnectionsPerIp: number): void {
    for (const { server } of this.servers) server.setConnectionLimits(maxConnections, maxConnectionsPerIp);
  }

  /** max.connection.creation.rate and listener.name.<l>.max.connection.creation.rate, read again (dynamic). */
  setConnectionRates(config: BrokerConfig): void {
    const perListener = new Map<string, number>();
    for (const { listener } of this.servers) {
      const v = config.get(listenerConnectionRateKey(listener.name));
      if (v !== null) perListener.set(listener.name, Number(v));
    }
    this.connectionQuotas.setRates(config.int('max.connection.creation.rate'), perListener);
  }

  /** The first listener's bound port (what a single-listener broker's tests and tools use). */
  get port(): number {
    return (this.servers[0] as { server: Server }).server.port;
  }

  /** The bound port of a listener by name, or -1. */
  portOf(name: string): number {
    return this.servers.find((s) => s.listener.name === name)?.server.port ?? -1;
  }

  /** Bound addresses, for the start-up log line. */
  describe(): string[] {
    return this.servers.map(({ listener, server }) => `${listener.name}://${listener.host}:${server.port}`);
  }

  get connectionCount(): number {
    return this.servers.reduce((n, { server }) => n + server.connectionCount, 0);
  }

  get queuedRequestBytes(): number {
    return this.servers.reduce((n, { server }) => n + server.queuedRequestBytes, 0);
  }

  get queuedRequestBytesPeak(): number {
    return this.servers.reduce((n, { server }) => Math.max(n, server.queuedRequestBytesPeak), 0);
  }
}
