// Brokers for tests that talk over real sockets: the Samsa broker (bin/samsa.js broker, built to
// dist/ by `npm test`) or, to prove a test against the reference implementation, Apache Kafka 4.x
// started by scripts/kafka-start.sh (jars from Maven Central, cached under .cache/kafka/).
//
// A handle keeps its port and data directory across stop/kill9/restart, so a test can produce,
// restart or crash the broker, and verify against the same bootstrap address. Output of every
// lifetime is kept in memory (logs()) and quoted when a start fails.
//
// SAMSA_INTEROP_TARGET=samsa (default) | kafka selects what startTarget() starts.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, track } from './run.js';

export type Target = 'samsa' | 'kafka';

export interface StartOptions {
  /** Data directory to use (kept); by default a fresh temporary one, removed by destroy(). */
  dataDir?: string;
  /** Extra server.properties keys (Kafka's names), e.g. { 'log.segment.bytes': '1048576' }. */
  overrides?: Record<string, string>;
  /** Port to listen on; by default one the OS reports free. */
  port?: number;
  /** How long a start may take before it fails; default 60 s (Samsa) or 120 s (Kafka). */
  startTimeoutMs?: number;
  /** Called with each chunk the broker prints (e.g. to wait for a log line during start-up). */
  onOutput?: (text: string) => void;
  /** Samsa: the address to listen on and advertise; default 127.0.0.1. */
  host?: string;
  /**
   * Samsa: a command the broker runs under, e.g. ['ip', 'netns', 'exec', 'ns1'] (which execs, so the pid and
   * signals stay the broker's); default none.
   */
  wrap?: readonly string[];
  /** Kafka: feature levels to format the node with, e.g. { 'transaction.version': 1 }. */
  kafkaFeatures?: Record<string, number>;
}

export interface BrokerHandle {
  readonly target: Target;
  readonly port: number;
  /** host:port for clients. */
  readonly bootstrap: string;
  /** Samsa: its log.dirs. Kafka: the node's home (server.properties, data/). */
  readonly dataDir: string;
  pid(): number | undefined;
  running(): boolean;
  /** Sends the signal and waits for the process to exit (SIGKILL after 60 s, then throws). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL: no clean shutdown, like a power cut for the process (not for the page cache). */
  kill9(): Promise<void>;
  /** Stops the broker if it runs (SIGTERM), then starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Everything the broker printed, across restarts (the most recent 8 MiB). */
  logs(): string;
  /** Resolves with the first printed line matching `re` (already printed or yet to come); rejects after timeoutMs. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops the broker (SIGKILL if need be) and removes a temporary data directory. */
  destroy(): Promise<void>;
}

const stopTimeoutMs = 60_000;
const logBytesMax = 8 * 1024 * 1024;

/** The target chosen by SAMSA_INTEROP_TARGET; 'none' disables the interop suite explicitly. */
export function interopTarget(): Target | 'none' {
  const t = process.env.SAMSA_INTEROP_TARGET ?? 'samsa';
  if (t !== 'samsa' && t !== 'kafka' && t !== 'none') {
    throw new Error(`SAMSA_INTEROP_TARGET must be samsa, kafka or none; got '${t}'`);
  }
  return t;
}

/** Starts the broker selected by SAMSA_INTEROP_TARGET. */
export function startTarget(opts: StartOptions = {}): Promise<BrokerHandle> {
  return interopTarget() === 'kafka' ? startKafka(opts) : startBroker(opts);
}

/** Asks the OS for a port that is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() =>
        typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Whether something accepts TCP connections on host:port (default 127.0.0.1). */
export function canConnect(port: number, timeoutMs = 500, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Starts `node bin/samsa.js broker` (needs `npm run build`). */
export async function startBroker(opts: StartOptions = {}): Promise<BrokerHandle> {
  const root = repoRoot();
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`startBroker: ${main} is missing; run 'npm run build' first`);
  const port = opts.port ?? (await freePort());
  const host = opts.host ?? '127.0.0.1';
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'samsa-broker-')));
  const args = [
    join(root, 'bin', 'samsa.js'),
    'broker',
    '--override',
    `listeners=PLAINTEXT://${host}:${port}`,
    '--override',
    `log.dirs=${dataDir}`,
  ];
  for (const [k, v] of Object.entries(opts.overrides ?? {})) args.push('--override', `${k}=${v}`);
  const [cmd, ...pre] = [...(opts.wrap ?? []), process.execPath];
  // The port is bound before the logs load, so readiness is the start-up line, not a connectable port.
  const b = new ManagedBroker(
    'samsa',
    port,
    dataDir,
    ownDir,
    opts.startTimeoutMs ?? 60_000,
    () => spawn(cmd!, [...pre, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }),
    /Samsa broker started/,
    opts.onOutput,
    host,
  );
  await b.start();
  return b;
}

/** Starts a single-node Apache Kafka 4.x (KRaft, broker + controller) via scripts/kafka-start.sh. */
export async function startKafka(opts: StartOptions = {}): Promise<BrokerHandle> {
  const root = repoRoot();
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'samsa-kafka-')));
  const args = [join(root, 'scripts', 'kafka-start.sh'), '--port', String(port), '--dir', dataDir];
  for (const [k, v] of Object.entries(opts.overrides ?? {})) args.push('--override', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.kafkaFeatures ?? {})) args.push('--feature', `${k}=${v}`);
  // The script execs the JVM, so the child's pid is the broker's and signals reach it directly.
  const b = new ManagedBroker(
    'kafka',
    port,
    dataDir,
    ownDir,
    opts.startTimeoutMs ?? 120_000,
    () => spawn('bash', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }),
    /Kafka Server started/,
    opts.onOutput,
  );
  await b.start();
  return b;
}

class ManagedBroker implements BrokerHandle {
  readonly bootstrap: string;
  private child: ChildProcess | undefined;
  private alive = false;
  private signalled: { signal: NodeJS.Signals; at: number } | undefined;
  private exited: Promise<void> = Promise.resolve();
  private chunks: string[] = [];
  private chunkBytes = 0;
  /** Output of the current lifetime only, to look for its ready line. */
  private current = '';

  constructor(
    readonly target: Target,
    readonly port: number,
    readonly dataDir: string,
    private readonly ownDir: boolean,
    private readonly startTimeoutMs: number,
    private readonly launch: () => ChildProcess,
    private readonly readyLine?: RegExp,
    private readonly onOutput?: (text: string) => void,
    private readonly host = '127.0.0.1',
  ) {
    this.bootstrap = `${host}:${port}`;
  }

  pid(): number | undefined {
    return this.running() ? this.child?.pid : undefined;
  }

  running(): boolean {
    return this.alive;
  }

  logs(): string {
    return this.chunks.join('');
  }

  private readonly logWatchers = new Set<() => void>();

  waitForLog(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const find = (): string | undefined =>
      this.logs()
        .split('\n')
        .find((l) => re.test(l));
    const now = find();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const line = find();
        if (line === undefined) return;
        clearTimeout(timer);
        this.logWatchers.delete(check);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.logWatchers.delete(check);
        reject(new Error(`no log line matching ${re} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.logWatchers.add(check);
    });
  }

  private append(s: string): void {
    for (const w of [...this.logWatchers]) queueMicrotask(w);
    this.onOutput?.(s);
    this.chunks.push(s);
    this.chunkBytes += s.length;
    this.current += s;
    while (this.chunkBytes > logBytesMax && this.chunks.length > 1)
      this.chunkBytes -= this.chunks.shift()!.length;
    if (this.current.length > logBytesMax) this.current = this.current.slice(-logBytesMax);
  }

  async start(): Promise<void> {
    if (this.running()) throw new Error(`${this.target} broker on ${this.bootstrap} is already running`);
    this.current = '';
    this.signalled = undefined;
    this.append(`--- ${new Date().toISOString()} starting ${this.target} on ${this.bootstrap} ---\n`);
    const child = this.launch();
    this.child = child;
    this.alive = true;
    track(child);
    child.stdout?.on('data', (c: Buffer) => this.append(c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => this.append(c.toString('utf8')));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.alive = false;
        const after =
          this.signalled === undefined
            ? ''
            : ` ${Date.now() - this.signalled.at} ms after ${this.signalled.signal}`;
        this.append(`--- exited with ${code ?? signal}${after} ---\n`);
        resolve();
      });
      child.once('error', (e) => {
        this.alive = false;
        this.append(`--- could not start: ${e.message} ---\n`);
        resolve();
      });
    });
    const began = Date.now();
    const deadline = began + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) {
        await this.exited;
        throw new Error(`${this.target} broker exited during start-up:\n${this.tail()}`);
      }
      if (
        (this.readyLine === undefined || this.readyLine.test(this.current)) &&
        (await canConnect(this.port, 500, this.host))
      ) {
        this.append(`--- ready after ${Date.now() - began} ms ---\n`);
        return;
      }
      await sleep(100);
    }
    await this.stop('SIGKILL').catch(() => {});
    throw new Error(
      `${this.target} broker did not start on ${this.bootstrap} in ${this.startTimeoutMs} ms:\n${this.tail()}`,
    );
  }

  private tail(): string {
    const s = this.current;
    return s.length > 6000 ? `...${s.slice(-6000)}` : s;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running()) {
      await this.exited;
      return;
    }
    this.signalled = { signal, at: Date.now() };
    child.kill(signal);
    const give = new AbortController();
    const stopped = await Promise.race([
      this.exited.then(() => true),
      sleep(stopTimeoutMs, false, { signal: give.signal }).catch(() => false),
    ]);
    give.abort(); // no timer left to hold the test process open
    if (!stopped) {
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(
        `${this.target} broker ignored ${signal} for ${stopTimeoutMs} ms; killed:\n${this.tail()}`,
      );
    }
  }

  kill9(): Promise<void> {
    return this.stop('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop('SIGTERM');
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.ownDir && process.env.SAMSA_KEEP_DATA === undefined) {
      await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}
