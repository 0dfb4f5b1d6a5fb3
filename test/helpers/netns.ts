// A private network of Linux network namespaces for partition tests (needs root and iproute2):
//
//   cluster network: every member (ZooKeeper, brokers) has a namespace of its own, samsa<pid>-<member>,
//   with eth0 (10.X.Y.11, .12, ...) on the bridge br0 of the hub namespace samsa<pid>-hub (port p-<member>).
//
//   client legs: the test process (root namespace) reaches each member over a veth of its own
//   (root side sm<pid>x<i>, holding 10.X.Y.1/32 and a /32 route to the member; member side eth1 with the
//   route back to 10.X.Y.1). So the test's clients and the members' own traffic take separate paths.
//
// Faults:
//   cut(m)                     eth1 and m's port on the bridge down: m reaches nothing, nothing reaches m.
//   cut(m, { clients: true })  only the bridge port: m is cut off from the other members (ZooKeeper included)
//                              while clients still reach it, as an isolated leader would be by its producers.
//   heal(m)                    both up again (and the routes on eth1 restored).
// A down link drops packets (connections stall, as in a real partition; nothing is refused).
//
// Programs run inside a member's namespace through exec(m), the prefix `ip netns exec <ns>` (which execs:
// the pid is the program's own, and so are the signals it gets).
//
// The /24 is chosen from the test process's pid (10.X.Y, X.Y from the pid's two low bytes), moved on while it
// overlaps a route of the root namespace, so two runs side by side do not collide. destroy() deletes the
// namespaces and the root's veths; so does the exit of the process, and a new network first deletes what
// runs whose process is gone left behind.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { startCluster, type TestCluster } from './cluster.js';
import { run, which } from './run.js';
import { startTestZooKeeper, type TestZooKeeper } from './zookeeper.js';

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const prefix = 'samsa';

export interface TestNetwork {
  /** The root namespace's address on every client leg. */
  readonly hostAddress: string;
  /** Members, in the order given. */
  readonly members: readonly string[];
  /** A member's address (on the cluster network; clients reach it there too). */
  address(member: string): string;
  /** The namespace a member runs in. */
  namespace(member: string): string;
  /** A command prefix running a program inside a member's namespace: ['ip', 'netns', 'exec', ns]. */
  exec(member: string): string[];
  /**
   * Writes an executable script that runs `program` inside a member's namespace (for launchers that take a
   * program path, e.g. ZooKeeper's `java`); returns its path.
   */
  wrapper(member: string, program: string, dir: string): Promise<string>;
  /** Cuts a member off from the other members and (unless clients: true) from the test's clients. */
  cut(member: string, opts?: { clients?: boolean }): Promise<void>;
  /** Connects a cut member again. */
  heal(member: string): Promise<void>;
  /** Whether a member is cut off from the cluster network. */
  isCut(member: string): boolean;
  /** Deletes the namespaces and links (processes inside should have been stopped first). */
  destroy(): Promise<void>;
}

let probed: string | undefined | null = null;

/**
 * Why namespaces cannot be used here (not root, no `ip`, creating one fails), or undefined when they can.
 * Probes once per process by creating and deleting a namespace.
 */
export function netnsMissing(): string | undefined {
  if (probed !== null) return probed;
  if (process.platform !== 'linux') probed = 'network namespaces need Linux';
  else if (process.getuid?.() !== 0) probed = 'network namespaces need root (ip netns add)';
  else if (which('ip') === undefined)
    probed = 'the ip command (iproute2) is missing: apt-get install iproute2';
  else {
    const ns = `${prefix}${process.pid}-probe`;
    try {
      execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      probed = undefined;
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      probed = `cannot create a network namespace: ${err.stderr?.toString().trim() || err.message}`;
    }
  }
  return probed;
}

/** The `skip` option of a suite that needs namespaces: the reason on a developer's machine, never in CI. */
export function netnsSkip(): string | false {
  if (inCi) return false;
  return netnsMissing() ?? false;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeoutMs: 15_000 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces and root veths that runs no longer alive left behind. */
async function sweepStale(): Promise<void> {
  const list = (await run('ip', ['netns', 'list'], { timeoutMs: 15_000 })).stdout;
  for (const line of list.split('\n')) {
    const m = new RegExp(`^(${prefix}(\\d+)-\\S+)`).exec(line);
    if (m !== null && !alive(Number(m[2]))) await ip('netns', 'del', m[1]!).catch(() => {});
  }
  const links = (await run('ip', ['-o', 'link', 'show'], { timeoutMs: 15_000 })).stdout;
  for (const line of links.split('\n')) {
    const m = /^\d+: (sm(\d+)x\d+)[@:]/.exec(line);
    if (m !== null && !alive(Number(m[2]))) await ip('link', 'del', m[1]!).catch(() => {});
  }
}

/** A /24 of 10/8 derived from the pid that no route of the root namespace overlaps: '10.X.Y'. */
async function chooseSubnet(): Promise<string> {
  const routes = JSON.parse((await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])).stdout) as {
    dst?: string;
  }[];
  const taken: Array<[number, number]> = [];
  for (const r of routes) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(r.dst ?? '');
    if (m === null) continue;
    const addr = ((+m[1]! << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0;
    const len = m[5] === undefined ? 32 : Number(m[5]);
    if (len === 0) continue; // the default route
    const mask = len === 32 ? 0xffffffff : ~(0xffffffff >>> len) >>> 0;
    taken.push([(addr & mask) >>> 0, mask]);
  }
  for (let k = 0; k < 65536; k++) {
    const n = (process.pid + k * 7919) & 0xffff;
    const x = n >> 8;
    const y = n & 0xff;
    const net = ((10 << 24) | (x << 16) | (y << 8)) >>> 0;
    const clash = taken.some(([base, mask]) => {
      const m = Math.min(mask, 0xffffff00) >>> 0; // the wider of the two prefixes
      return (base & m) >>> 0 === (net & m) >>> 0;
    });
    if (!clash) return `10.${x}.${y}`;
  }
  throw new Error('no free /24 in 10.0.0.0/8');
}

/** Creates the network (see the top of this file); members are named [a-z0-9]{1,8}. */
export async function createNetwork(members: readonly string[]): Promise<TestNetwork> {
  const why = netnsMissing();
  if (why !== undefined) throw new Error(`createNetwork: ${why}`);
  if (members.length > 99) throw new Error('createNetwork: at most 99 members');
  for (const m of members) {
    if (!/^[a-z0-9]{1,8}$/.test(m))
      throw new Error(`createNetwork: member name '${m}' must be [a-z0-9]{1,8}`);
  }
  await sweepStale();
  const pid = process.pid;
  const hub = `${prefix}${pid}-hub`;
  const ns = (m: string): string => `${prefix}${pid}-${m}`;
  const leg = (m: string): string => `sm${pid}x${members.indexOf(m)}`;
  const cut = new Set<string>();
  const made: string[] = [];
  const legs: string[] = [];
  let destroyed = false;

  const destroySync = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const n of made) {
      try {
        execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
      } catch {}
    }
    for (const l of legs) {
      try {
        execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' });
      } catch {}
    }
  };
  process.once('exit', destroySync);

  const subnet = await chooseSubnet();
  const host = `${subnet}.1`;
  const addresses = new Map(members.map((m, i) => [m, `${subnet}.${11 + i}`]));
  const routeBack = (m: string): Promise<void> =>
    ip('-n', ns(m), 'route', 'replace', `${host}/32`, 'dev', 'eth1', 'src', addresses.get(m)!);
  try {
    await ip('netns', 'add', hub);
    made.push(hub);
    await ip('-n', hub, 'link', 'set', 'lo', 'up');
    await ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', hub, 'link', 'set', 'br0', 'up');
    for (const m of members) {
      const a = addresses.get(m)!;
      await ip('netns', 'add', ns(m));
      made.push(ns(m));
      await ip('-n', ns(m), 'link', 'set', 'lo', 'up');
      // Cluster network.
      await ip('-n', hub, 'link', 'add', `p-${m}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(m));
      await ip('-n', hub, 'link', 'set', `p-${m}`, 'master', 'br0', 'up');
      await ip('-n', ns(m), 'addr', 'add', `${a}/24`, 'dev', 'eth0');
      await ip('-n', ns(m), 'link', 'set', 'eth0', 'up');
      // Client leg.
      await ip('link', 'add', leg(m), 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns(m));
      legs.push(leg(m));
      await ip('addr', 'add', `${host}/32`, 'dev', leg(m));
      await ip('link', 'set', leg(m), 'up');
      await ip('route', 'replace', `${a}/32`, 'dev', leg(m), 'src', host);
      await ip('-n', ns(m), 'link', 'set', 'eth1', 'up');
      await routeBack(m);
    }
  } catch (e) {
    destroySync();
    throw e;
  }

  const known = (m: string): void => {
    if (!addresses.has(m)) throw new Error(`no member '${m}' in this network (${members.join(', ')})`);
  };
  return {
    hostAddress: host,
    members,
    address: (m) => {
      known(m);
      return addresses.get(m)!;
    },
    namespace: (m) => {
      known(m);
      return ns(m);
    },
    exec: (m) => {
      known(m);
      return ['ip', 'netns', 'exec', ns(m)];
    },
    wrapper: async (m, program, dir) => {
      known(m);
      const ipPath = which('ip')!;
      const path = join(dir, `in-${m}-${program.split('/').pop()}.sh`);
      await writeFile(path, `#!/bin/sh\nexec ${ipPath} netns exec ${ns(m)} ${program} "$@"\n`);
      await chmod(path, 0o755);
      return path;
    },
    cut: async (m, opts = {}) => {
      known(m);
      await ip('-n', hub, 'link', 'set', `p-${m}`, 'down');
      // The member's end: the root's end only loses its carrier, so its route stays and packets are dropped.
      if (opts.clients !== true) await ip('-n', ns(m), 'link', 'set', 'eth1', 'down');
      cut.add(m);
    },
    heal: async (m) => {
      known(m);
      await ip('-n', ns(m), 'link', 'set', 'eth1', 'up');
      await routeBack(m); // setting eth1 down removed it
      await ip('-n', hub, 'link', 'set', `p-${m}`, 'up');
      cut.delete(m);
    },
    isCut: (m) => cut.has(m),
    destroy: async () => {
      process.off('exit', destroySync);
      destroySync();
    },
  };
}

/** The java executable (JAVA_HOME, then PATH), for running ZooKeeper in a namespace. */
export function javaPath(): string | undefined {
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java')))
    return join(home, 'bin', 'java');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'java'))) return join(dir, 'java');
  }
  return undefined;
}

/**
 * Starts ZooKeeper (member 'zk', port 2181) and brokers 1..N (members b1..bN, port 9092) each in its namespace
 * of `net`; `dir` holds the script that runs ZooKeeper's JVM in its namespace.
 */
export async function startNetnsCluster(
  net: TestNetwork,
  dir: string,
  overrides: Record<string, string>,
  brokers = 3,
): Promise<{ zk: TestZooKeeper; c: TestCluster }> {
  const java = javaPath();
  if (java === undefined) throw new Error('java not found (JAVA_HOME or PATH)');
  const zk = await startTestZooKeeper({
    host: net.address('zk'),
    port: 2181,
    java: await net.wrapper('zk', java, dir),
  });
  try {
    const c = await startCluster({
      brokers,
      zk,
      overrides,
      placement: (id) => ({ host: net.address(`b${id}`), port: 9092, wrap: net.exec(`b${id}`) }),
    });
    return { zk, c };
  } catch (e) {
    await zk.destroy();
    throw e;
  }
}
