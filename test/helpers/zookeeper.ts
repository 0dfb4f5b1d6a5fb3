// A real ZooKeeper server for tests (src/cluster/zk/zookeeper-process.ts): a free port, a temporary
// directory, the JVM tracked so it dies with the test process, and destroy() to clean up. Short ticks
// (200 ms) so sessions of a second or two are allowed and expire promptly.
//
// When Debian's zookeeper package (or java) is missing: a suite is skipped with the reason on a
// developer's machine (zooKeeperSkip()), and fails in CI (CI=true) when startTestZooKeeper() throws.
//
// expireSession() ends a client's session the way ZooKeeper's own tests do: a second connection takes
// the session over with its id and password and closes it; the client's next reconnect is told "expired".

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WatchEvent, ZkClient } from '../../src/cluster/zk/zk-client.js';
import { ZkSession } from '../../src/cluster/zk/zk-session.js';
import {
  startZooKeeper,
  startZooKeeperEnsemble,
  type ZooKeeperEnsemble,
  type ZooKeeperHandle,
  type ZooKeeperOptions,
  zooKeeperMissing,
} from '../../src/cluster/zk/zookeeper-process.js';
import { createLogger } from '../../src/logger.js';
import { track } from './run.js';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** The `skip` option for a suite that needs ZooKeeper: a reason when it cannot run here, else false. */
export function zooKeeperSkip(): string | false {
  if (inCi) return false;
  return zooKeeperMissing() ?? false;
}

export interface TestZooKeeper extends ZooKeeperHandle {
  /** Kills the server and removes its directory (kept with SAMSA_KEEP_DATA=1). */
  destroy(): Promise<void>;
}

function testOptions(dir: string, opts: Partial<ZooKeeperOptions>): ZooKeeperOptions {
  return {
    tickTimeMs: 200,
    forceSync: false,
    logLevel: 'INFO',
    heapMb: 128,
    ...opts,
    dir,
    onSpawn: (child) => {
      track(child);
      opts.onSpawn?.(child);
    },
  };
}

/** Starts a standalone server in a fresh temporary directory. */
export async function startTestZooKeeper(opts: Partial<ZooKeeperOptions> = {}): Promise<TestZooKeeper> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'samsa-zk-')));
  const zk = await startZooKeeper(testOptions(dir, opts));
  return Object.assign(zk, {
    destroy: async () => {
      await zk.kill9();
      if (opts.dir === undefined && process.env.SAMSA_KEEP_DATA === undefined) {
        await rm(dir, { recursive: true, force: true });
      }
    },
  });
}

/** Starts an ensemble (default 3 servers) in a fresh temporary directory. */
export async function startTestEnsemble(
  size = 3,
): Promise<ZooKeeperEnsemble & { destroy(): Promise<void>; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'samsa-zk-ensemble-'));
  const ensemble = await startZooKeeperEnsemble({ ...testOptions(dir, {}), size });
  return Object.assign(ensemble, {
    dir,
    destroy: async () => {
      await Promise.all(ensemble.servers.map((s) => s.kill9()));
      if (process.env.SAMSA_KEEP_DATA === undefined) await rm(dir, { recursive: true, force: true });
    },
  });
}

/**
 * Expires `client`'s current session: takes it over from a second connection and closes it, until the
 * client reports 'expired' (a takeover can race the client's own reconnect; then it is tried again).
 * Resolves with the expired session's id.
 */
export async function expireSession(
  client: ZkClient,
  connectString: string,
  timeoutMs = 20_000,
): Promise<string> {
  const victim = client.sessionId;
  const expired = new Promise<void>((resolve) => {
    const on = ({ sessionId }: { sessionId: string }): void => {
      if (sessionId !== victim) return;
      client.off('expired', on);
      resolve();
    };
    client.on('expired', on);
  });
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void expired.then(() => {
    done = true;
  });
  while (!done) {
    if (Date.now() > deadline) throw new Error(`session ${victim} did not expire within ${timeoutMs} ms`);
    if (client.sessionId !== victim) break; // already replaced (the expiry is behind us)
    const thief = new ZkSession(connectString, {
      sessionTimeoutMs: client.sessionTimeoutMs,
      logger: createLogger('test.zookeeper.thief'),
      events: { connected: () => {}, disconnected: () => {}, expired: () => {} },
      resume: client.sessionCredentials(),
    });
    // Taking over closes the client's connection; closing ends the session. Either step may lose a
    // race with the client reconnecting, hence the loop.
    await thief.open(2000).catch(() => {});
    await thief.close();
    await Promise.race([expired, new Promise((r) => setTimeout(r, 2000))]);
  }
  return victim;
}

/** A watcher that records its events; next() resolves with the next one not yet taken (10 s at most). */
export function recorder(): {
  watcher: (e: WatchEvent) => void;
  next: () => Promise<WatchEvent>;
  count: () => number;
} {
  const events: WatchEvent[] = [];
  const waiters: Array<() => void> = [];
  let taken = 0;
  return {
    watcher: (e) => {
      events.push(e);
      for (const w of waiters.splice(0)) w();
    },
    next: async () => {
      const deadline = Date.now() + 10_000;
      while (events.length <= taken) {
        if (Date.now() > deadline) throw new Error('no watch event within 10 s');
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      return events[taken++]!;
    },
    count: () => events.length,
  };
}

export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** Drops every connection and refuses new ones: a network partition, as the client sees it. */
  cut(): void;
  /** Accepts and forwards connections again. */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:`targetPort` that a test can cut, to partition a client from ZooKeeper. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
  return {
    port: address.port,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      open = true;
    },
    close: async () => {
      open = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
