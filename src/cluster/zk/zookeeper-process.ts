// A local Apache ZooKeeper server as a child process: for `samsa dev-cluster` and for tests. It runs the
// ZooKeeper of Debian's `zookeeper` package (3.8, jars in /usr/share/java) on a JVM:
//
//   <dir>/conf/zoo.cfg            written here: tickTime, dataDir, clientPort(+Address), no AdminServer,
//                                 4lw whitelist ruok,srvr,stat,mntr, maxSessionTimeout, ...
//   <dir>/conf/log4j.properties   console logging at `logLevel` (WARN by default), kept in memory (logs())
//   <dir>/data/                   ZooKeeper's dataDir (snapshots, transaction logs; myid in an ensemble)
//
//   java <jvm options> -cp <jars>:<dir>/conf org.apache.zookeeper.server.quorum.QuorumPeerMain \
//        <dir>/conf/zoo.cfg
//
// The class path is /usr/share/java/zookeeper.jar (whose manifest names its dependencies: jute, netty,
// jetty, slf4j-api, ...) plus slf4j-log4j12 and log4j-1.2 for logging, not "/usr/share/java/*": that
// directory holds six SLF4J bindings, and with all of them on the class path SLF4J picks the no-op one
// and the server prints nothing.
//
// Ready means serving: the `srvr` four-letter word answers with "Mode: standalone" (or leader/follower);
// before that ZooKeeper accepts connections but answers "not currently serving requests".
//
// A handle keeps its port and data across stop()/kill9()/start()/restart(), so a test can crash the
// server and bring it back with every znode and session it had (sessions then get a fresh timeout).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as limits from '../../limits.js';

/** Where Debian's libzookeeper-java puts its jars. */
export const debianJarsDir = '/usr/share/java';

export type ZooKeeperLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface ZooKeeperOptions {
  /** Home of this server: conf/ and data/ are made inside it. */
  dir: string;
  /** clientPort; by default one the OS reports free. */
  port?: number;
  /** clientPortAddress; default 127.0.0.1 (nothing outside this machine can reach a dev server). */
  host?: string;
  /** tickTime; default 2000 (ZooKeeper's). The minimum session timeout is 2 ticks. */
  tickTimeMs?: number;
  /** maxSessionTimeout; default 120000, above Kafka's zookeeper.session.timeout.ms (18000). */
  maxSessionTimeoutMs?: number;
  /** forceSync; default true. A test may turn it off: a killed process loses nothing from the page cache. */
  forceSync?: boolean;
  /** Root log level of the server's console output; default WARN. */
  logLevel?: ZooKeeperLogLevel;
  /** More zoo.cfg lines (ZooKeeper's key names). */
  extraConfig?: Record<string, string>;
  /** The java executable; default $JAVA_HOME/bin/java, then `java` on PATH. */
  java?: string;
  /** Directory holding zookeeper.jar and its dependencies; default /usr/share/java. */
  jarsDir?: string;
  /** Heap limit (-Xmx) in MiB; default 256. */
  heapMb?: number;
  /** How long a start may take before it fails; default 60 s. */
  startTimeoutMs?: number;
  /** Called with each JVM started (once per start/restart), e.g. to kill it when a test process exits. */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with each chunk the server prints. */
  onOutput?: (text: string) => void;
  /**
   * Run the JVM in a process group of its own, so a terminal's Ctrl-C reaches only the parent, which then
   * stops the server when it is ready to (samsa dev-cluster stops its brokers first). Default false.
   */
  detached?: boolean;
}

export interface ZooKeeperHandle {
  readonly port: number;
  readonly host: string;
  /** host:port, for zookeeper.connect. */
  readonly connectString: string;
  readonly dir: string;
  /** ZooKeeper's dataDir. */
  readonly dataDir: string;
  readonly confDir: string;
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined;
  running(): boolean;
  /** Starts the server again after stop()/kill9() (same port, same data); resolves when it serves. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: no shutdown at all. Resolves when the process has exited. */
  kill9(): Promise<void>;
  /** stop() then start(), keeping port and data. */
  restart(): Promise<void>;
  /** Everything the server printed across its lifetimes (the most recent few MiB). */
  logs(): string;
}

/** Java or ZooKeeper's jars are missing: the message says what to install. */
export class ZooKeeperUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZooKeeperUnavailableError';
  }
}

const installHint =
  "install Debian's zookeeper package (apt-get install zookeeper; it brings a Java runtime)";

/** Whether a ZooKeeper server can be started here; undefined when it can, else the reason. */
export function zooKeeperMissing(opts: Pick<ZooKeeperOptions, 'java' | 'jarsDir'> = {}): string | undefined {
  try {
    resolveJava(opts.java);
    classPath(opts.jarsDir ?? debianJarsDir, '');
    return undefined;
  } catch (e) {
    if (e instanceof ZooKeeperUnavailableError) return e.message;
    throw e;
  }
}

function resolveJava(java: string | undefined): string {
  if (java !== undefined) {
    if (!existsSync(java)) throw new ZooKeeperUnavailableError(`java not found at ${java}; ${installHint}`);
    return java;
  }
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java')))
    return join(home, 'bin', 'java');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'java'))) return join(dir, 'java');
  }
  throw new ZooKeeperUnavailableError(`java not found ($JAVA_HOME/bin/java or on PATH); ${installHint}`);
}

function classPath(jarsDir: string, confDir: string): string {
  const zkJar = join(jarsDir, 'zookeeper.jar');
  if (!existsSync(zkJar))
    throw new ZooKeeperUnavailableError(`ZooKeeper's jars not found (${zkJar}); ${installHint}`);
  // Logging through log4j 1.2 when its jars are there; without them the server runs silent.
  const logging = ['slf4j-log4j12.jar', 'log4j-1.2.jar'].map((j) => join(jarsDir, j));
  const parts = [zkJar, ...(logging.every((j) => existsSync(j)) ? logging : [])];
  if (confDir !== '') parts.push(confDir);
  return parts.join(':');
}

/** Asks the OS for a TCP port that is free right now on `host`. */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      s.close(() =>
        typeof addr === 'object' && addr !== null ? resolvePort(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Sends a four-letter word (ruok, srvr, stat, mntr: the ones zoo.cfg whitelists) and returns the answer;
 * rejects when nothing answers within `timeoutMs`.
 */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolveAnswer, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const sock = net.connect({ host, port });
    const fail = (e: Error): void => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`ZooKeeper ${host}:${port} did not answer '${word}'`)));
    sock.once('connect', () => sock.end(word));
    sock.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > limits.zkFourLetterAnswerBytesMax) fail(new Error(`'${word}' answer over ${bytes} bytes`));
      else chunks.push(c);
    });
    sock.once('error', fail);
    sock.once('close', () => resolveAnswer(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Whether something accepts TCP connections on host:port. */
function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolveTaken) => {
    const sock = net.connect({ host, port });
    const done = (taken: boolean): void => {
      sock.destroy();
      resolveTaken(taken);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** The Mode line of a `srvr` answer ('standalone', 'leader', 'follower'), or undefined when not serving. */
export function serverMode(srvr: string): string | undefined {
  return /^Mode: (\w+)/m.exec(srvr)?.[1];
}

interface Peer {
  id: number;
  host: string;
  peerPort: number;
  electionPort: number;
}

interface ServerSpec {
  opts: ZooKeeperOptions;
  port: number;
  host: string;
  /** Ensemble members (with this server's id); absent for a standalone server. */
  ensemble?: { myId: number; peers: Peer[] };
}

/** Starts a standalone ZooKeeper server; resolves when it serves clients. */
export async function startZooKeeper(opts: ZooKeeperOptions): Promise<ZooKeeperHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freeTcpPort(host));
  const server = new ZooKeeperServer({ opts, port, host });
  await server.prepare();
  await server.start();
  return server;
}

export interface ZooKeeperEnsemble {
  readonly servers: readonly ZooKeeperHandle[];
  /** Every server's host:port, comma-separated, for zookeeper.connect. */
  readonly connectString: string;
  /** Stops every server that runs. */
  stop(): Promise<void>;
}

/**
 * Starts an ensemble of `size` servers (default 3) on this machine, server i (1-based) in `<dir>/zk<i>`;
 * resolves when every server serves (one leader, the others followers).
 */
export async function startZooKeeperEnsemble(
  opts: Omit<ZooKeeperOptions, 'port'> & { size?: number },
): Promise<ZooKeeperEnsemble> {
  const size = opts.size ?? 3;
  const host = opts.host ?? '127.0.0.1';
  const peers: Peer[] = [];
  const ports: number[] = [];
  for (let id = 1; id <= size; id++) {
    peers.push({ id, host, peerPort: await freeTcpPort(host), electionPort: await freeTcpPort(host) });
    ports.push(await freeTcpPort(host));
  }
  const servers = peers.map(
    (p, i) =>
      new ZooKeeperServer({
        opts: { ...opts, dir: join(opts.dir, `zk${p.id}`) },
        port: ports[i]!,
        host,
        ensemble: { myId: p.id, peers },
      }),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (const s of servers) await s.prepare();
    // Together: a member is not ready until a quorum has elected a leader.
    await Promise.all(servers.map((s) => s.start()));
  } catch (e) {
    await stop();
    throw e;
  }
  return { servers, connectString: servers.map((s) => s.connectString).join(','), stop };
}

class ZooKeeperServer implements ZooKeeperHandle {
  readonly port: number;
  readonly host: string;
  readonly connectString: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly confDir: string;
  private child: ChildProcess | undefined;
  private alive = false;
  private exited: Promise<void> = Promise.resolve();
  private chunks: string[] = [];
  private chunkChars = 0;
  /** Output of the current lifetime, quoted when a start fails. */
  private current = '';

  constructor(private readonly spec: ServerSpec) {
    this.port = spec.port;
    this.host = spec.host;
    this.connectString = `${spec.host}:${spec.port}`;
    this.dir = resolve(spec.opts.dir);
    this.dataDir = join(this.dir, 'data');
    this.confDir = join(this.dir, 'conf');
  }

  get pid(): number | undefined {
    return this.alive ? this.child?.pid : undefined;
  }

  running(): boolean {
    return this.alive;
  }

  logs(): string {
    return this.chunks.join('');
  }

  /** Checks java and the jars, then writes conf/ and data/ (myid for an ensemble member). */
  async prepare(): Promise<void> {
    resolveJava(this.spec.opts.java);
    classPath(this.spec.opts.jarsDir ?? debianJarsDir, this.confDir);
    await mkdir(this.confDir, { recursive: true });
    await mkdir(this.dataDir, { recursive: true });
    await writeFile(join(this.confDir, 'zoo.cfg'), this.zooCfg());
    await writeFile(join(this.confDir, 'log4j.properties'), this.log4jProperties());
    if (this.spec.ensemble !== undefined) {
      await writeFile(join(this.dataDir, 'myid'), `${this.spec.ensemble.myId}\n`);
    }
  }

  private zooCfg(): string {
    const o = this.spec.opts;
    const cfg: Record<string, string> = {
      tickTime: String(o.tickTimeMs ?? 2000),
      initLimit: '10',
      syncLimit: '5',
      dataDir: this.dataDir,
      clientPort: String(this.port),
      clientPortAddress: this.host,
      maxSessionTimeout: String(o.maxSessionTimeoutMs ?? 120_000),
      // Every broker of a dev cluster connects from 127.0.0.1; ZooKeeper's default allows 60 per address.
      maxClientCnxns: '0',
      'admin.enableServer': 'false',
      '4lw.commands.whitelist': 'ruok,srvr,stat,mntr',
      forceSync: o.forceSync === false ? 'no' : 'yes',
      'autopurge.snapRetainCount': '3',
      'autopurge.purgeInterval': '1',
    };
    for (const p of this.spec.ensemble?.peers ?? []) {
      cfg[`server.${p.id}`] = `${p.host}:${p.peerPort}:${p.electionPort}`;
    }
    Object.assign(cfg, o.extraConfig ?? {});
    const lines = Object.entries(cfg).map(([k, v]) => `${k}=${v}`);
    return `# Written by Samsa (src/cluster/zk/zookeeper-process.ts); rewritten on every start.\n${lines.join('\n')}\n`;
  }

  private log4jProperties(): string {
    return [
      `log4j.rootLogger=${this.spec.opts.logLevel ?? 'WARN'}, CONSOLE`,
      'log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender',
      'log4j.appender.CONSOLE.Target=System.out',
      'log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1} - %m%n',
      '',
    ].join('\n');
  }

  private append(s: string): void {
    this.spec.opts.onOutput?.(s);
    this.chunks.push(s);
    this.chunkChars += s.length;
    this.current += s;
    while (this.chunkChars > limits.zooKeeperLogCharsMax && this.chunks.length > 1) {
      this.chunkChars -= this.chunks.shift()!.length;
    }
    if (this.current.length > limits.zooKeeperLogCharsMax) {
      this.current = this.current.slice(-limits.zooKeeperLogCharsMax);
    }
  }

  private tail(): string {
    return this.current.length > 6000 ? `...${this.current.slice(-6000)}` : this.current;
  }

  async start(): Promise<void> {
    if (this.alive) throw new Error(`ZooKeeper on ${this.connectString} is already running`);
    const o = this.spec.opts;
    const java = resolveJava(o.java);
    const cp = classPath(o.jarsDir ?? debianJarsDir, this.confDir);
    await writeFile(join(this.confDir, 'zoo.cfg'), this.zooCfg());
    // Another server on the port would answer the readiness probe for ours.
    if (await portTaken(this.host, this.port)) {
      throw new Error(`cannot start ZooKeeper on ${this.connectString}: the port is in use`);
    }
    const args = [
      `-Xmx${o.heapMb ?? 256}m`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1', // starts in about half the time; a dev server needs no peak JIT
      '-XX:-UsePerfData',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      '-Dzookeeper.jmx.log4j.disable=true',
      `-Dlog4j.configuration=file:${join(this.confDir, 'log4j.properties')}`,
      '-cp',
      cp,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      join(this.confDir, 'zoo.cfg'),
    ];
    this.current = '';
    this.append(`--- ${new Date().toISOString()} starting ZooKeeper on ${this.connectString} ---\n`);
    const child = spawn(java, args, {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: o.detached === true,
    });
    this.child = child;
    this.alive = true;
    o.onSpawn?.(child);
    child.stdout?.on('data', (c: Buffer) => this.append(c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => this.append(c.toString('utf8')));
    this.exited = new Promise((done) => {
      child.once('close', (code, signal) => {
        this.alive = false;
        this.append(`--- exited with ${code ?? signal} ---\n`);
        done();
      });
      child.once('error', (e) => {
        this.alive = false;
        this.append(`--- could not start: ${e.message} ---\n`);
        done();
      });
    });
    const began = Date.now();
    const deadline = began + (o.startTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (!this.alive) {
        await this.exited;
        throw new Error(`ZooKeeper on ${this.connectString} exited during start-up:\n${this.tail()}`);
      }
      const answer = await fourLetterWord(this.host, this.port, 'srvr', 1000).catch(() => '');
      if (serverMode(answer) !== undefined) {
        this.append(`--- serving after ${Date.now() - began} ms (${serverMode(answer)}) ---\n`);
        return;
      }
      await sleep(100);
    }
    await this.kill9();
    throw new Error(
      `ZooKeeper did not serve on ${this.connectString} within ${o.startTimeoutMs ?? 60_000} ms:\n${this.tail()}`,
    );
  }

  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.alive) {
      await this.exited;
      return;
    }
    child.kill('SIGTERM');
    const give = new AbortController();
    const stopped = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs, false, { signal: give.signal }).catch(() => false),
    ]);
    give.abort(); // no timer left to hold the process open
    if (!stopped) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async kill9(): Promise<void> {
    if (this.child !== undefined && this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
