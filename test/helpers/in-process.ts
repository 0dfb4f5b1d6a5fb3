// Starts a real broker inside the test process (real sockets, real data folder), for tests that
// want to read its log lines or reach its internals. Tests that kill the broker use helpers/broker.ts,
// which runs it as a separate process.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Broker } from '../../src/broker/broker.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { BrokerConfig } from '../../src/config/broker-config.js';
import { setLogSink } from '../../src/logger.js';

export interface InProcessBroker {
  broker: Broker;
  port: number;
  dataDir: string;
  /** Log lines emitted since start (JSON objects). */
  logs: Record<string, unknown>[];
  connect(): Promise<KafkaConnection>;
  /** Clean stop; the data folder stays unless remove is set. */
  stop(remove?: boolean): Promise<void>;
  restart(): Promise<InProcessBroker>;
}

export async function startInProcess(
  overrides: Record<string, string> = {},
  dataDir = mkdtempSync(path.join(tmpdir(), 'samsa-test-')),
): Promise<InProcessBroker> {
  const logs: Record<string, unknown>[] = [];
  setLogSink((line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
  });
  const { config } = BrokerConfig.from(
    new Map(),
    new Map(Object.entries({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dataDir, ...overrides })),
  );
  const broker = await Broker.start(config);
  const self: InProcessBroker = {
    broker,
    port: broker.port,
    dataDir,
    logs,
    connect: () => KafkaConnection.connect({ host: '127.0.0.1', port: broker.port }),
    async stop(remove = false) {
      await broker.stop();
      if (remove) rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await broker.stop();
      return startInProcess(overrides, dataDir);
    },
  };
  return self;
}
