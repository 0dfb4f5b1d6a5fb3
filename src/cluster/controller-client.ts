// A broker's requests to the active controller (Kafka's BrokerToControllerChannelManager): AlterPartition
// from partition leaders, ControlledShutdown at SIGTERM. The controller is whichever broker the latest
// UpdateMetadata named; the connection follows it when it moves. A request is sent once: the caller decides
// what a failure means (a leader proposes its ISR change again at its next check).

import type { ClientSecurity } from '../client/connection.js';
import { KafkaConnection } from '../client/connection.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import type { AlterPartitionResponse } from '../protocol/generated/alter-partition-response.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { ControlledShutdownResponse } from '../protocol/generated/controlled-shutdown-response.js';
import type { MetadataCache } from './metadata-cache.js';
import type { AlterIsr, Partition } from './partition.js';

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
    /** The inter-broker listener's TLS/SASL; undefined for PLAINTEXT. */
    private readonly security?: ClientSecurity,
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
      ...(this.security === undefined ? {} : { security: this.security }),
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
    try {
      return (await conn.sendWithin(
        apiKey,
        version,
        body,
        this.timeoutMs,
        'controller.socket.timeout.ms',
      )) as T;
    } catch (err) {
      this.logger.debug('request to the controller failed', { apiKey, error: err });
      throw err;
    }
  }

  /** The AlterIsr a leader's partitions use: AlterPartition v2 (topics by id; Kafka 4 dropped v0-1) to the active controller. */
  alterIsr(brokerEpoch: () => number): AlterIsr {
    return async (partition: Partition, newIsr: number[]) => {
      try {
        const res = await this.send<AlterPartitionResponse>(ApiKey.AlterPartition, 2, {
          brokerId: this.localBrokerId,
          brokerEpoch: brokerEpoch(),
          topics: [
            {
              topicId: partition.topicId,
              partitions: [
                {
                  partitionIndex: partition.index,
                  leaderEpoch: partition.leaderEpoch,
                  newIsr,
                  leaderRecoveryState: 0,
                  partitionEpoch: partition.partitionEpoch,
                },
              ],
            },
          ],
        });
        if (res.errorCode !== ErrorCode.NONE) return { errorCode: res.errorCode };
        const p = res.topics[0]?.partitions[0];
        if (p === undefined) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
        if (p.errorCode !== ErrorCode.NONE) return { errorCode: p.errorCode };
        return {
          errorCode: ErrorCode.NONE,
          state: { leaderEpoch: p.leaderEpoch, isr: p.isr, partitionEpoch: p.partitionEpoch },
        };
      } catch {
        return { errorCode: ErrorCode.REQUEST_TIMED_OUT };
      }
    };
  }

  /**
   * Controlled shutdown (controlled.shutdown.enable): asks the controller to move this broker's leaderships
   * away before it stops, `attempts` times `backoffMs` apart while it still leads partitions; then gives up
   * (the broker stops anyway, as Kafka does). Resolves true when nothing is left.
   */
  async controlledShutdown(
    brokerEpoch: () => number,
    opts: { attempts: number; backoffMs: number; logger: Logger },
  ): Promise<boolean> {
    const started = Date.now();
    for (let attempt = 1; attempt <= opts.attempts; attempt++) {
      try {
        const res = await this.send<ControlledShutdownResponse>(ApiKey.ControlledShutdown, 3, {
          brokerId: this.localBrokerId,
          brokerEpoch: brokerEpoch(),
        });
        if (res.errorCode === ErrorCode.NONE && res.remainingPartitions.length === 0) {
          opts.logger.info('controlled shutdown: leadership moved to other brokers', {
            ms: Date.now() - started,
          });
          return true;
        }
        opts.logger.warn('controlled shutdown incomplete; retrying', {
          attempt,
          errorCode: res.errorCode,
          stillLeading: res.remainingPartitions.map((p) => `${p.topicName}-${p.partitionIndex}`).slice(0, 20),
        });
      } catch (err) {
        opts.logger.warn('controlled shutdown request failed; retrying', { attempt, error: err });
      }
      if (attempt < opts.attempts) await new Promise((r) => setTimeout(r, opts.backoffMs));
    }
    opts.logger.warn('controlled shutdown did not complete; stopping anyway', { ms: Date.now() - started });
    return false;
  }

  close(): void {
    this.conn?.conn.close();
    this.conn = null;
  }
}
