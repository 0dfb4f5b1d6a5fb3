// Shutdown with a consumer attached: SIGTERM while a consumer holds a long-poll Fetch (fetch.max.wait.ms far
// above the shutdown time) and sends its next Fetch the moment the cut-short one is answered, as a consumer's
// fetch loop does. The broker must exit at once (not after the parked fetch's wait, nor after the 2 s it gives a
// client to close its side), and only after it has written the clean-shutdown marker: the next start skips
// recovery. The in-process variant checks the same stop() without a process around it.
//
// Needs `npm run build` (the broker runs as `node bin/samsa.js broker`).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/log-manager.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const longWaitMs = 30_000;
/** Well below the parked fetch's wait and below the 2 s a closing connection is given. */
const stopBoundMs = 1_500;

/**
 * A consumer's fetch loop on topic-0 (empty, so each Fetch parks for maxWaitMs): the next Fetch goes out as soon
 * as a response arrives. `parked` resolves once the first Fetch has been sent.
 */
function fetchLoop(conn: KafkaConnection, topic: string): { parked: Promise<void>; fetches: () => number } {
  let fetches = 0;
  let signalParked: () => void = () => {};
  const parked = new Promise<void>((resolve) => {
    signalParked = resolve;
  });
  void (async () => {
    try {
      for (;;) {
        const p = conn.request(
          ApiKey.Fetch,
          {
            replicaId: -1,
            maxWaitMs: longWaitMs,
            minBytes: 1,
            maxBytes: 1 << 20,
            topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
          },
          12,
        );
        fetches++;
        signalParked();
        await p;
      }
    } catch {
      // The broker closed the connection: the loop ends.
    }
  })();
  return { parked, fetches: () => fetches };
}

describe('shutdown with a consumer holding a long-poll fetch (SIGTERM)', () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker();
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 'idle', { partitions: 1 });
    cluster.close();
  });
  after(async () => {
    await broker.destroy();
  });

  it('exits promptly and cleanly; the next start skips recovery', async () => {
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    const loop = fetchLoop(conn, 'idle');
    await loop.parked;
    await new Promise((r) => setTimeout(r, 200)); // the broker reads the Fetch and parks it
    const t0 = Date.now();
    await broker.stop('SIGTERM');
    const stopMs = Date.now() - t0;
    await conn.closed();
    assert.ok(loop.fetches() >= 2, 'the parked fetch was answered at once and the consumer fetched again');
    assert.match(broker.logs(), /--- exited with 0 /);
    assert.match(broker.logs(), /"msg":"shut down cleanly"/);
    assert.ok(
      existsSync(path.join(broker.dataDir, CLEAN_SHUTDOWN_FILE)),
      'the clean-shutdown marker is written',
    );
    assert.ok(stopMs < stopBoundMs, `stopped in ${stopMs} ms (bound ${stopBoundMs} ms)`);
    const before = broker.logs().length;
    await broker.restart();
    assert.match(broker.logs().slice(before), /"msg":"log dir loaded".*"cleanShutdown":true/);
  });
});

describe('shutdown with a consumer holding a long-poll fetch (in-process stop())', () => {
  let b: InProcessBroker;

  before(async () => {
    b = await startInProcess();
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'idle', { partitions: 1 });
    cluster.close();
  });
  after(async () => {
    await b.stop(true);
  });

  it('stop() finishes promptly and writes the clean-shutdown marker', async () => {
    const conn = await b.connect();
    const loop = fetchLoop(conn, 'idle');
    await loop.parked;
    await new Promise((r) => setTimeout(r, 200)); // the broker reads the Fetch and parks it
    const t0 = Date.now();
    await b.broker.stop();
    const stopMs = Date.now() - t0;
    await conn.closed();
    assert.ok(loop.fetches() >= 2, 'the parked fetch was answered at once and the consumer fetched again');
    assert.ok(existsSync(path.join(b.dataDir, CLEAN_SHUTDOWN_FILE)), 'the clean-shutdown marker is written');
    assert.ok(stopMs < stopBoundMs, `stopped in ${stopMs} ms (bound ${stopBoundMs} ms)`);
  });
});
