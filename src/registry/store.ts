// The registry's storage: the compacted `_schemas` topic (Confluent's kafkastore.topic), one partition.
//
//   const store = await KafkaStore.open({ bootstrap, topic: '_schemas', logger });
//   await store.sync();              // resolves once every record up to the current log end has been applied
//   await store.write(key, value);   // produces (acks=all) and resolves once the record has been applied
//   store.state                      // the view (state.ts); read it after sync()
//   await store.close();
//
// The topic is created when missing with cleanup.policy=compact, 1 partition and a replication factor of
// min(3, brokers) (Confluent's kafkastore.topic.replication.factor is 3, lowered when the cluster is smaller).
// A reader loop fetches the partition from the start and applies each record to the state; sync() asks for
// the log end offset (ListOffsets latest, i.e. the high watermark) and waits for the loop to pass it.
// Three connections: the reader's long-poll fetches would otherwise hold back produce and ListOffsets.

import { createTopic } from '../client/admin.js';
import { Cluster, KafkaError } from '../client/cluster.js';
import type { ClientSecurity } from '../client/connection.js';
import { Consumer, LATEST_TIMESTAMP } from '../client/consumer.js';
import { Producer } from '../client/producer.js';
import { registryStoreTimeoutMs } from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { RegistryState } from './state.js';

export interface StoreOptions {
  bootstrap: string;
  /** TLS and SASL towards the cluster (undefined: PLAINTEXT). */
  security?: ClientSecurity;
  topic: string;
  logger: Logger;
  clientId?: string;
}

interface Waiter {
  offset: number;
  resolve: () => void;
}

/** A store operation that did not complete in time (Confluent's 50002). */
export class StoreTimeoutError extends Error {}

export class KafkaStore {
  readonly state: RegistryState;
  private position = 0;
  private waiters: Waiter[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private readError: Error | null = null;
  private producer: Producer | null = null;
  private consumer: Consumer | null = null;
  /** ListOffsets on its own connection: the reader's connection is busy with long-poll fetches. */
  private offsets: Consumer | null = null;

  private constructor(private readonly opts: StoreOptions) {
    this.state = new RegistryState(opts.logger);
  }

  static async open(opts: StoreOptions): Promise<KafkaStore> {
    const store = new KafkaStore(opts);
    const admin = await store.connect();
    try {
      await ensureTopic(admin, opts.topic, opts.logger);
    } finally {
      admin.close();
    }
    store.consumer = await store.openReader(0);
    store.position = store.consumer.position(opts.topic, 0);
    store.loop = store.readLoop();
    return store;
  }

  private connect(): Promise<Cluster> {
    const security = this.opts.security;
    return Cluster.connect({
      bootstrap: this.opts.bootstrap,
      clientId: this.opts.clientId ?? 'samsa-registry',
      ...(security === undefined ? {} : { security }),
    });
  }

  private async openReader(offset: number): Promise<Consumer> {
    const consumer = Consumer.on(await this.connect(), { maxWaitMs: 500, autoOffsetReset: 'earliest' });
    try {
      await consumer.assign(this.opts.topic, [0], { offset });
    } catch (e) {
      await consumer.close().catch(() => {});
      throw e;
    }
    return consumer;
  }

  /**
   * Runs fn with a client, opened on first use; a failure closes that client so the next call connects
   * afresh (a broker restarted or gone, a partition leader moved), and fn is tried once more on a new one.
   */
  private async withClient<C extends { close(): Promise<void> }, T>(
    get: () => C | null,
    set: (c: C | null) => void,
    open: () => Promise<C>,
    fn: (c: C) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let c = get();
      if (c === null) {
        c = await open();
        set(c);
      }
      try {
        return await fn(c);
      } catch (e) {
        set(null);
        await c.close().catch(() => {});
        if (attempt >= 1 || !this.running) throw e;
      }
    }
  }

  private async readLoop(): Promise<void> {
    while (this.running) {
      try {
        this.consumer ??= await this.openReader(this.position);
        const records = await this.consumer.poll();
        for (const r of records) this.state.apply(r.key, r.value, r.offset);
        this.position = this.consumer.position(this.opts.topic, 0);
        if (this.readError !== null)
          this.opts.logger.info('reading _schemas again', { offset: this.position });
        this.readError = null;
      } catch (e) {
        if (!this.running) return;
        if (this.readError === null) this.opts.logger.warn('reading _schemas failed; retrying', { error: e });
        this.readError = e as Error;
        const c = this.consumer;
        this.consumer = null;
        await c?.close().catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const ready = this.waiters.filter((w) => w.offset <= this.position);
      this.waiters = this.waiters.filter((w) => w.offset > this.position);
      for (const w of ready) w.resolve();
    }
  }

  /** Offset of the next record to apply. */
  get applied(): number {
    return this.position;
  }

  private waitFor(offset: number, timeoutMs: number): Promise<void> {
    if (offset <= this.position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const why = this.readError !== null ? `: ${this.readError.message}` : '';
        reject(new StoreTimeoutError(`timed out reading ${this.opts.topic} up to offset ${offset}${why}`));
      }, timeoutMs);
      const waiter: Waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once the state has applied every record the topic held when called. */
  async sync(timeoutMs = registryStoreTimeoutMs): Promise<void> {
    const ends = await this.withClient(
      () => this.offsets,
      (c) => {
        this.offsets = c;
      },
      async () => Consumer.on(await this.connect()),
      (c) => c.listOffsets(this.opts.topic, [0], LATEST_TIMESTAMP),
    );
    await this.waitFor(ends.get(0) ?? 0, timeoutMs);
  }

  /** Appends one record and resolves once the state has applied it. */
  async write(key: string, value: string | null, timeoutMs = registryStoreTimeoutMs): Promise<number> {
    // A retried send may store the record twice: harmless, the registry's records are idempotent by key.
    const [meta] = await this.withClient(
      () => this.producer,
      (c) => {
        this.producer = c;
      },
      async () => Producer.on(await this.connect(), { acks: -1 }),
      (p) => p.send(this.opts.topic, [{ key, value, partition: 0 }]),
    );
    if (meta === undefined) throw new Error('no produce result');
    await this.waitFor(meta.offset + 1, timeoutMs);
    return meta.offset;
  }

  async close(): Promise<void> {
    this.running = false;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    await this.producer?.close().catch(() => {});
    await this.offsets?.close().catch(() => {});
    await this.consumer?.close().catch(() => {});
    await this.loop.catch(() => {});
  }
}

async function ensureTopic(cluster: Cluster, topic: string, log: Logger): Promise<void> {
  const t = await topicInfo(cluster, topic);
  if (t !== undefined && t.partitions.length > 0) {
    if (t.partitions.length !== 1) {
      throw new Error(`${topic} has ${t.partitions.length} partitions; the registry needs exactly 1`);
    }
    return;
  }
  const brokers = await cluster.brokers();
  const replicationFactor = Math.max(1, Math.min(3, brokers.length));
  try {
    await createTopic(cluster, topic, {
      partitions: 1,
      replicationFactor,
      configs: { 'cleanup.policy': 'compact' },
    });
    log.info('created the schemas topic', { topic, replicationFactor });
  } catch (e) {
    if (!(e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw e;
  }
  // Wait for the new partition to have a leader before the first fetch.
  for (let i = 0; i < 100; i++) {
    const info = await topicInfo(cluster, topic);
    if ((info?.partitions[0]?.leader ?? -1) >= 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${topic} has no leader`);
}

/** The topic's metadata, or undefined while the cluster does not know it (or it has no leader yet). */
async function topicInfo(cluster: Cluster, topic: string) {
  try {
    return (await cluster.metadata([topic])).find((x) => x.name === topic);
  } catch (e) {
    if (e instanceof KafkaError) return undefined;
    throw e;
  }
}
