// `samsa dev-cluster [--brokers N] [--dir DIR] [--port PORT] [--zookeeper-port PORT] [--override key=value ...]`:
// a ZooKeeper and N brokers on this machine, in the foreground, for development and for test suites that
// expect several brokers (docs/cluster.md).
//
//   DIR/zookeeper/          the ZooKeeper server (conf/, data/), src/cluster/zk/zookeeper-process.ts
//   DIR/zookeeper.log       its output
//   DIR/broker-<id>/        broker <id>'s log.dirs (ids 1..N)
//   DIR/broker-<id>.log     its output (text format)
//   DIR/dev-cluster.pids    the pids of a running dev cluster (JSON), removed when it stops
//
// Broker <id> listens on 127.0.0.1:PORT+id-1 with zookeeper.connect=127.0.0.1:<zk port>/samsa. Everything is
// kept across runs: the next run finds the same topics, offsets and cluster id.
//
// Children run in process groups of their own and write their output straight to their log files, so a
// terminal's Ctrl-C reaches only this process, which stops them in order: the brokers one at a time with
// SIGTERM (controlled shutdown; the controller last), then ZooKeeper. A second Ctrl-C kills everything.
// Were this process killed with SIGKILL, its children would live on: the next run finds them through the
// pid file and refuses to start until they are gone.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KafkaConnection } from '../client/connection.js';
import {
  freeTcpPort,
  startZooKeeper,
  type ZooKeeperHandle,
  zooKeeperMissing,
} from '../cluster/zk/zookeeper-process.js';
import * as limits from '../limits.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { MetadataResponse } from '../protocol/generated/metadata-response.js';
import { CommandError, intOption, parse, printHelp, runCommand, UsageError } from './common.js';

const help = `Usage: samsa dev-cluster [--brokers N] [--dir DIR] [--port PORT] [--zookeeper-port PORT]
                         [--override key=value ...]

Starts a ZooKeeper and N Samsa brokers on this machine, in the foreground, for development and for
test suites that expect several brokers. Broker i (1..N) has broker.id=i, listens on
127.0.0.1:PORT+i-1 and keeps its data in DIR/broker-i; ZooKeeper keeps its data in DIR/zookeeper.
Output goes to DIR/broker-i.log and DIR/zookeeper.log. Data is kept across runs. Ctrl-C (or SIGTERM)
stops the brokers one at a time (controlled shutdown), then ZooKeeper; a second Ctrl-C kills them.

  --brokers N             number of brokers, 1..${limits.devClusterBrokersMax} (default 3)
  --dir DIR               where data and logs go (default ./cluster)
  --port PORT             the first broker's port (default 9092); 0 picks free ports for the
                          brokers and ZooKeeper
  --zookeeper-port PORT   ZooKeeper's client port (default 2181, or a free one with --port 0)
  --override key=value    a server.properties key for every broker (repeatable), e.g.
                          --override num.partitions=3
  -h, --help              this help
  --version               print the version

Brokers run with zookeeper.session.timeout.ms=6000, group.initial.rebalance.delay.ms=0,
offsets.topic.replication.factor=min(3, N) and controlled.shutdown.retry.backoff.ms=500 unless
overridden. Needs Debian's zookeeper package.
`;

/** What every broker of a dev cluster runs with unless --override says otherwise. */
function brokerDefaults(brokers: number): Record<string, string> {
  return {
    'zookeeper.session.timeout.ms': '6000',
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.replication.factor': String(Math.min(3, brokers)),
    // The last broker to stop has nowhere to move its leaderships: its controlled shutdown retries
    // (controlled.shutdown.max.retries) in vain; 0.5 s apart instead of Kafka's 5 s.
    'controlled.shutdown.retry.backoff.ms': '500',
  };
}

const chroot = '/samsa';
const pidFileName = 'dev-cluster.pids';

interface BrokerProcess {
  id: number;
  port: number;
  dataDir: string;
  logFile: string;
  child: ChildProcess;
  /** Resolves with a description of how it exited. */
  exited: Promise<string>;
  running: boolean;
}

export async function runDevCluster(args: string[]): Promise<number> {
  return runCommand('dev-cluster', async () => {
    const { values, positionals } = parse(
      args,
      {
        brokers: { type: 'string' },
        dir: { type: 'string' },
        port: { type: 'string' },
        'zookeeper-port': { type: 'string' },
        override: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      false,
    );
    if (values.help === true) return printHelp(help);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const brokers = intOption('brokers', values.brokers, 1) ?? 3;
    if (brokers > limits.devClusterBrokersMax) {
      throw new UsageError(`--brokers must be <= ${limits.devClusterBrokersMax}; got ${brokers}`);
    }
    const port = intOption('port', values.port, 0) ?? 9092;
    if (port + brokers - 1 > 65535)
      throw new UsageError(`--port ${port} leaves no room for ${brokers} brokers`);
    const zkPortOption = intOption('zookeeper-port', values['zookeeper-port'], 0);
    if (zkPortOption !== undefined && zkPortOption > 65535) {
      throw new UsageError(`--zookeeper-port must be <= 65535; got ${zkPortOption}`);
    }
    const overrides: [string, string][] = (values.override ?? []).map((o) => {
      const eq = o.indexOf('=');
      if (eq <= 0) throw new UsageError(`--override "${o}" must look like key=value`);
      return [o.slice(0, eq).trim(), o.slice(eq + 1)];
    });
    for (const [k] of overrides) {
      if (['broker.id', 'node.id', 'listeners', 'log.dirs', 'log.dir', 'zookeeper.connect'].includes(k)) {
        throw new UsageError(`--override ${k}: dev-cluster sets ${k} itself`);
      }
    }
    const missing = zooKeeperMissing();
    if (missing !== undefined) throw new CommandError(missing);
    const dev = new DevCluster(path.resolve(values.dir ?? 'cluster'), brokers, overrides);
    return dev.run(port, zkPortOption ?? (port === 0 ? 0 : 2181));
  });
}

/** bin/samsa.js of the package this file belongs to (source tree, dist/ or an installed package). */
function samsaBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = path.join(dir, 'bin', 'samsa.js');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(bin)) return bin;
    const parent = path.dirname(dir);
    if (parent === dir) throw new CommandError('cannot find bin/samsa.js above the dev-cluster command');
    dir = parent;
  }
}

/** Whether something accepts connections on 127.0.0.1:port (or does not refuse them within a second). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (taken: boolean): void => {
      sock.destroy();
      resolve(taken);
    };
    sock.setTimeout(1000, () => done(true));
    sock.once('connect', () => done(true));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code !== 'ECONNREFUSED'));
  });
}

/**
 * Whether pid is a live process of the dev cluster in `dir` (pids are reused): on Linux its command line must name
 * `dir` (ZooKeeper and the brokers have it in their arguments) or be a dev-cluster command.
 */
function ourProcessAlive(pid: number, dir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(dir) || /\0dev-cluster\0/.test(cmd);
  } catch {
    return true; // no /proc: trust the pid
  }
}

/** The last `lines` lines of a log file, for a failure message. */
function tailOf(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

class DevCluster {
  private zk: ZooKeeperHandle | null = null;
  private readonly brokers = new Map<number, BrokerProcess>();
  private stopRequested: (() => void) | null = null;
  /** Resolves on SIGINT/SIGTERM, or when every broker has exited. */
  private readonly stopSignal: Promise<void>;
  private stopping = false;
  /** Every broker exited on its own while the cluster ran. */
  private lostAll = false;
  private zkLog: number | null = null;

  constructor(
    private readonly dir: string,
    private readonly count: number,
    private readonly overrides: [string, string][],
  ) {
    this.stopSignal = new Promise((resolve) => {
      this.stopRequested = resolve;
    });
  }

  private out(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  async run(firstPort: number, zkPortWanted: number): Promise<number> {
    mkdirSync(this.dir, { recursive: true });
    this.refuseIfRunning();
    const onSignal = (): void => {
      if (this.stopping) {
        this.out('second interrupt: killing the brokers and ZooKeeper');
        this.killAll();
        process.exit(130);
      }
      this.stopRequested?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const ports = await this.choosePorts(firstPort, zkPortWanted);
    let failure: Error | null = null;
    try {
      await this.startAll(ports);
    } catch (e) {
      failure = e as Error;
    }
    if (failure === null) await this.stopSignal;
    this.stopping = true;
    this.out(failure === null ? 'stopping the brokers (controlled shutdown), then ZooKeeper' : 'stopping');
    await this.stopAll();
    rmSync(path.join(this.dir, pidFileName), { force: true });
    if (failure !== null) throw failure;
    if (this.lostAll) throw new CommandError(`every broker exited; see their logs in ${this.dir}`);
    this.out('dev cluster stopped');
    return 0;
  }

  private refuseIfRunning(): void {
    const file = path.join(this.dir, pidFileName);
    if (!existsSync(file)) return;
    let pids: number[] = [];
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { pids?: unknown };
      if (Array.isArray(doc.pids)) pids = doc.pids.filter((p): p is number => typeof p === 'number');
    } catch {
      // an unreadable pid file belongs to no running cluster
    }
    const alive = pids.filter((pid) => ourProcessAlive(pid, this.dir));
    if (alive.length > 0) {
      throw new CommandError(
        `a dev cluster already runs in ${this.dir} (pids ${alive.join(' ')}); stop it with Ctrl-C, or kill those pids`,
      );
    }
  }

  private writePidFile(): void {
    const pids = [process.pid, this.zk?.pid, ...[...this.brokers.values()].map((b) => b.child.pid)];
    writeFileSync(
      path.join(this.dir, pidFileName),
      `${JSON.stringify({ pids: pids.filter((p) => p !== undefined) })}\n`,
    );
  }

  private async choosePorts(first: number, zkWanted: number): Promise<{ zk: number; brokers: number[] }> {
    const brokers: number[] = [];
    for (let i = 0; i < this.count; i++) brokers.push(first === 0 ? await freeTcpPort() : first + i);
    const zk = zkWanted === 0 ? await freeTcpPort() : zkWanted;
    if (new Set([zk, ...brokers]).size !== brokers.length + 1) {
      throw new UsageError(`ZooKeeper's port ${zk} is one of the brokers' ports (${brokers.join(', ')})`);
    }
    for (const [i, p] of brokers.entries()) {
      if (await portTaken(p)) throw new CommandError(`port ${p} (broker ${i + 1}) is in use`);
    }
    if (await portTaken(zk)) {
      throw new CommandError(`port ${zk} (ZooKeeper) is in use; choose another with --zookeeper-port`);
    }
    return { zk, brokers };
  }

  private async startAll(ports: { zk: number; brokers: number[] }): Promise<void> {
    const zkLog = openSync(path.join(this.dir, 'zookeeper.log'), 'a');
    this.zkLog = zkLog;
    this.zk = await startZooKeeper({
      dir: path.join(this.dir, 'zookeeper'),
      port: ports.zk,
      logLevel: 'INFO',
      detached: true,
      onOutput: (text) => {
        try {
          writeFileSync(zkLog, text);
        } catch {
          // a full disk must not stop the cluster; ZooKeeper's own state is in its dataDir
        }
      },
    }).catch((e: unknown) => {
      throw new CommandError(`ZooKeeper did not start: ${(e as Error).message.split('\n')[0]}`);
    });
    this.out(`zookeeper ready on ${this.zk.connectString} (data ${path.join(this.dir, 'zookeeper')})`);
    const zkConnect = `${this.zk.connectString}${chroot}`;
    const bin = samsaBin();
    for (const [i, port] of ports.brokers.entries()) this.spawnBroker(bin, i + 1, port, zkConnect);
    this.writePidFile();
    const deadline = Date.now() + limits.devClusterStartTimeoutMs;
    const ready = new Set<number>();
    let controller = -1;
    while (ready.size < this.count) {
      if (this.stopping || (await Promise.race([this.stopSignal.then(() => true), sleep(200, false)]))) {
        throw new CommandError('interrupted during start-up');
      }
      for (const b of this.brokers.values()) {
        if (!b.running) {
          throw new CommandError(
            `broker ${b.id} ${await b.exited} during start-up; the end of ${b.logFile}:\n${tailOf(b.logFile)}`,
          );
        }
        if (ready.has(b.id)) continue;
        const m = await metadata(b.port).catch(() => null);
        if (m !== null && m.brokers.length === this.count && m.controllerId >= 0) {
          ready.add(b.id);
          controller = m.controllerId;
          this.out(`broker ${b.id} ready on 127.0.0.1:${b.port} (data ${b.dataDir}, log ${b.logFile})`);
        }
      }
      if (Date.now() > deadline) {
        const waiting = [...this.brokers.keys()].filter((id) => !ready.has(id));
        throw new CommandError(
          `brokers ${waiting.join(', ')} not ready within ${limits.devClusterStartTimeoutMs} ms; see ${waiting.map((id) => this.brokers.get(id)!.logFile).join(', ')}`,
        );
      }
    }
    const bootstrap = [...this.brokers.values()].map((b) => `127.0.0.1:${b.port}`).join(',');
    this.out(
      `dev cluster ready: ${this.count} broker${this.count === 1 ? '' : 's'}, controller ${controller}, zookeeper.connect=${zkConnect}`,
    );
    this.out(`bootstrap servers: ${bootstrap}`);
    this.out(`Ctrl-C stops the cluster; its data stays in ${this.dir}`);
    for (const b of this.brokers.values()) {
      void b.exited.then((how) => {
        if (this.stopping) return;
        const left = [...this.brokers.values()].filter((x) => x.running).length;
        process.stderr.write(
          `samsa dev-cluster: broker ${b.id} ${how} (see ${b.logFile}); ${left} of ${this.count} brokers still run\n`,
        );
        if (left === 0) {
          this.lostAll = true;
          this.stopRequested?.();
        }
      });
    }
  }

  private spawnBroker(bin: string, id: number, port: number, zkConnect: string): void {
    const dataDir = path.join(this.dir, `broker-${id}`);
    const logFile = path.join(this.dir, `broker-${id}.log`);
    const settings: [string, string][] = [
      ...Object.entries(brokerDefaults(this.count)),
      ...this.overrides,
      ['broker.id', String(id)],
      ['listeners', `PLAINTEXT://127.0.0.1:${port}`],
      ['log.dirs', dataDir],
      ['zookeeper.connect', zkConnect],
    ];
    const args = [bin, 'broker', '--log-format', 'text'];
    for (const [k, v] of settings) args.push('--override', `${k}=${v}`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const b: BrokerProcess = {
      id,
      port,
      dataDir,
      logFile,
      child,
      running: true,
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          b.running = false;
          resolve(signal !== null ? `was stopped by ${signal}` : `exited with status ${code}`);
        });
        child.once('error', (e) => {
          b.running = false;
          resolve(`could not start (${e.message})`);
        });
      }),
    };
    this.brokers.set(id, b);
  }

  /** Brokers one at a time, the controller last (so leadership moves once), then ZooKeeper. */
  private async stopAll(): Promise<void> {
    const live = [...this.brokers.values()].filter((b) => b.running);
    let controller = -1;
    for (const b of live) {
      const m = await metadata(b.port).catch(() => null);
      if (m !== null) {
        controller = m.controllerId;
        break;
      }
    }
    live.sort((a, b) => (a.id === controller ? 1 : b.id === controller ? -1 : b.id - a.id));
    for (const b of live) {
      const began = Date.now();
      b.child.kill('SIGTERM');
      const give = new AbortController();
      const done = await Promise.race([
        b.exited.then(() => true),
        sleep(limits.devClusterBrokerStopTimeoutMs, false, { signal: give.signal }).catch(() => false),
      ]);
      give.abort();
      if (!done) {
        b.child.kill('SIGKILL');
        await b.exited;
        this.out(`broker ${b.id} did not stop within ${limits.devClusterBrokerStopTimeoutMs} ms; killed`);
      } else {
        this.out(`broker ${b.id} stopped (${Date.now() - began} ms)`);
      }
    }
    if (this.zk !== null) {
      await this.zk.stop();
      this.out('zookeeper stopped');
    }
    if (this.zkLog !== null) closeSync(this.zkLog);
  }

  private killAll(): void {
    for (const b of this.brokers.values()) if (b.running) b.child.kill('SIGKILL');
    const zkPid = this.zk?.pid;
    if (zkPid !== undefined) process.kill(zkPid, 'SIGKILL');
  }
}

/** A Metadata request to 127.0.0.1:port, given up after 2 s. */
async function metadata(port: number): Promise<MetadataResponse> {
  const conn = await KafkaConnection.connect({
    host: '127.0.0.1',
    port,
    clientId: 'samsa-dev-cluster',
    timeoutMs: 2000,
  });
  const give = new AbortController();
  try {
    return await Promise.race([
      conn.request<MetadataResponse>(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false }),
      sleep(2000, undefined, { signal: give.signal }).then(() => {
        throw new Error('no Metadata answer');
      }),
    ]);
  } finally {
    give.abort();
    conn.close();
  }
}
