// A broker's requests to the active controller (Kafka's BrokerToControllerChannelManager): AlterPartition
// from partition leaders, ControlledShutdown at SIGTERM. The controller is whichever broker the latest
// UpdateMetadata named; the connection follows it when it moves. A request is sent once: the caller decides
// what a failure means (a leader proposes its ISR change again at its next check).

import { KafkaConnection } from '../client/connection.js';
import type { Logger } from '../logger.js';
import type { MetadataCache } from './metadata-cache.js';

export class ControllerUnavailableError extends Error {}

export class ControllerClient {
  private conn: { id: number; host: string; port: number; conn: KafkaConnection } | null = null;
  private connecting: Promise<KafkaConnection> | null = null;

  constructor(
    private readonly cache: MetadataCache,
    private readonly localBrokerId: number,
    private readonly listener: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  private async connection(): Promise<KafkaConnection> {
    const id = this.cache.controllerId;
    const ep = id < 0 ? undefined : this.cache.endpoint(id, this.listener);
    if (ep === undefined) throw new ControllerUnavailableError('no controller is known yet');
    const c = this.conn;
    if (c !== null && c.id === id && c.host === ep.host && c.port === ep.port) return c.conn;
    if (c !== null) {
      c.conn.close();
      this.conn = null;
    }
    if (this.connecting !== null) return this.connecting;
    this.connecting = KafkaConnection.connect({
      host: ep.host,
      port: ep.port,
      clientId: `samsa-broker-${this.localBrokerId}-to-controller`,
      timeoutMs: this.timeoutMs,
    })
      .then((conn) => {
        this.conn = { id, host: ep.host, port: ep.port, conn };
        void conn.closed().then(() => {
          if (this.conn?.conn === conn) this.conn = null;
        });
        return conn;
      })
      .finally(() => {
        this.connecting = null;
      });
    return this.connecting;
  }

  /** Sends one request to the controller; rejects on a network failure or timeout. */
  async send<T>(apiKey: number, version: number, body: unknown): Promise<T> {
    const conn = await this.connection();
    let timer: NodeJS.Timeout | undefined;
    try {
      return (await Promise.race([
        conn.send(apiKey, version, body),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            conn.close();
            reject(
              new ControllerUnavailableError(`the controller did not answer within ${this.timeoutMs} ms`),
            );
          }, this.timeoutMs);
        }),
      ])) as T;
    } catch (err) {
      this.logger.debug('request to the controller failed', { apiKey, error: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.conn?.conn.close();
    this.conn = null;
  }
}
