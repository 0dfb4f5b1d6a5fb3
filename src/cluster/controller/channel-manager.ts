// The controller's connections to the brokers (Kafka's ControllerChannelManager): one queue and one
// connection per live broker, on the inter-broker listener. Requests to a broker go out one at a time, in the
// order the controller queued them (a LeaderAndIsr must not overtake the UpdateMetadata queued before it).
// A request that fails on the network is resent on a new connection, after a backoff, until it is
// answered or the broker is removed (it died: the controller deals with that as a broker change). Each
// request carries the controller epoch, so a broker ignores a deposed controller's requests.
//
// The controller's own broker is reached over the network too, as in Kafka: one path for every broker.

import type { ClientSecurity } from '../../client/connection.js';
import { KafkaConnection } from '../../client/connection.js';
import * as limits from '../../limits.js';
import type { Logger } from '../../logger.js';
import type { Endpoint } from '../metadata-cache.js';

export interface QueuedRequest {
  apiKey: number;
  version: number;
  body: unknown;
  /** Called with the response (or null when the broker was removed before it answered). */
  onResponse?: (response: unknown | null) => void;
}

interface BrokerChannel {
  id: number;
  endpoint: Endpoint;
  queue: QueuedRequest[];
  conn: KafkaConnection | null;
  running: boolean;
  removed: boolean;
  wake: (() => void) | null;
}

export class ChannelManager {
  private readonly channels = new Map<number, BrokerChannel>();

  constructor(
    private readonly controllerId: number,
    private readonly logger: Logger,
    private readonly socketTimeoutMs: number,
    /** The inter-broker listener's TLS/SASL (src/security/inter-broker.ts); undefined for PLAINTEXT. */
    private readonly security?: ClientSecurity,
  ) {}

  addBroker(id: number, endpoint: Endpoint): void {
    const existing = this.channels.get(id);
    if (existing !== undefined) {
      if (existing.endpoint.host === endpoint.host && existing.endpoint.port === endpoint.port) return;
      this.removeBroker(id);
    }
    const ch: BrokerChannel = {
      id,
      endpoint,
      queue: [],
      conn: null,
      running: false,
      removed: false,
      wake: null,
    };
    this.channels.set(id, ch);
  }

  removeBroker(id: number): void {
    const ch = this.channels.get(id);
    if (ch === undefined) return;
    this.channels.delete(id);
    ch.removed = true;
    ch.conn?.close();
    ch.wake?.();
    for (const r of ch.queue.splice(0)) r.onResponse?.(null);
  }

  has(id: number): boolean {
    return this.channels.has(id);
  }

  send(brokerId: number, request: QueuedRequest): void {
    const ch = this.channels.get(brokerId);
    if (ch === undefined) {
      request.onResponse?.(null);
      return;
    }
    if (ch.queue.length >= limits.controllerQueuedRequestsPerBrokerMax) {
      // A broker that stopped answering this long is about to be dead to the cluster (its ZooKeeper session
      // expires) and will get a full LeaderAndIsr and UpdateMetadata when it registers again.
      this.logger.error('controller queue to a broker is full; dropping the broker channel', {
        broker: brokerId,
      });
      const endpoint = ch.endpoint;
      this.removeBroker(brokerId);
      this.addBroker(brokerId, endpoint);
      request.onResponse?.(null);
      return;
    }
    ch.queue.push(request);
    if (!ch.running) void this.run(ch);
    else ch.wake?.();
  }

  close(): void {
    for (const id of [...this.channels.keys()]) this.removeBroker(id);
  }

  private async connection(ch: BrokerChannel): Promise<KafkaConnection> {
    if (ch.conn !== null) return ch.conn;
    const conn = await KafkaConnection.connect({
      host: ch.endpoint.host,
      port: ch.endpoint.port,
      clientId: `samsa-controller-${this.controllerId}`,
      timeoutMs: this.socketTimeoutMs,
      ...(this.security === undefined ? {} : { security: this.security }),
    });
    ch.conn = conn;
    void conn.closed().then(() => {
      if (ch.conn === conn) ch.conn = null;
    });
    return conn;
  }

  private async run(ch: BrokerChannel): Promise<void> {
    ch.running = true;
    let failures = 0;
    while (!ch.removed && ch.queue.length > 0) {
      const req = ch.queue[0] as QueuedRequest;
      try {
        const conn = await this.connection(ch);
        const res = await conn.sendWithin(
          req.apiKey,
          req.version,
          req.body,
          this.socketTimeoutMs,
          'controller.socket.timeout.ms',
        );
        if (ch.removed) break;
        ch.queue.shift();
        failures = 0;
        try {
          req.onResponse?.(res);
        } catch (err) {
          this.logger.error('controller response handler failed', { broker: ch.id, error: err });
        }
      } catch (err) {
        if (ch.removed) break;
        failures++;
        ch.conn?.close();
        ch.conn = null;
        if (failures === 1 || failures % 20 === 0) {
          this.logger.warn('controller request to a broker failed; retrying', {
            broker: ch.id,
            apiKey: req.apiKey,
            failures,
            error: err instanceof Error ? err.message : String(err),
          });
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, limits.controllerRetryBackoffMs);
          ch.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        ch.wake = null;
      }
    }
    ch.running = false;
    if (ch.removed) ch.conn?.close();
  }
}
