// Who was busy during a limits row (bench/lib/limits.ts): CPU of the "server" processes (the broker, or the sink
// of an L0 row) and of the "client" processes (the load generators, or the writer of an L0 row), and the machine's
// idle share, over one window.
//
// The window opens when the row's clients have started their timed work (a probe's "GO" line; for `samsa perf`,
// the tool's exit time less the elapsed time it reports, so Node's start-up, metadata and connecting are not in
// it) and closes at the last sample in which every client process was still running (so a client's own shutdown
// is not in it either). Samples are taken every
// SAMPLE_MS from /proc: a process's utime + stime (/proc/<pid>/stat), each of its threads'
// (/proc/<pid>/task/<tid>/stat) and the machine's idle + iowait time (/proc/stat).
//
// Per process it reports CPU % of one core (user, system) and its busiest thread's %: a Node process is bound by
// its JavaScript thread long before its total reaches 100 % x cores (GC and libuv threads add to the total), so
// the busiest thread at ~100 % is the sign of a saturated event loop (for the JVM, of a saturated network thread).

import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CLK_TCK, statFields } from './proc.js';

const SAMPLE_MS = 100;
/** A shorter window says too little (CPU time is counted in 10 ms ticks): no split, "?" in the table. */
const WINDOW_SEC_MIN = 0.5;
/** A thread at or above this % of a core counts as saturated (sampling at 100 Hz ticks loses a few %). */
export const BUSY_THREAD_PCT = 85;
/** Below this machine idle % the cores are full, whoever is using them. */
export const FULL_MACHINE_IDLE_PCT = 10;

interface ProcSample {
  /** utime, stime in ticks. */
  user: number;
  sys: number;
  threads: Map<number, number>;
}

interface Snapshot {
  at: number;
  procs: Map<number, ProcSample>;
  machineTotal: number;
  machineIdle: number;
  machineIowait: number;
}

export interface ProcCpu {
  pid: number;
  /** % of one core over the window. */
  cpuPct: number;
  sysPct: number;
  /** The busiest thread's % of one core. */
  topThreadPct: number;
}

export interface CpuSplit {
  windowSec: number;
  server: ProcCpu[];
  client: ProcCpu[];
  /** % of all cores idle (idle + iowait), and iowait alone. */
  machineIdlePct: number;
  machineIowaitPct: number;
}

/** null when the process is gone or a zombie. */
function procSample(pid: number): ProcSample | null {
  const f = statFields(`/proc/${pid}/stat`);
  if (f === null || f[0] === 'Z' || f[0] === 'X') return null;
  const threads = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {}
  for (const t of tids) {
    const tf = statFields(`/proc/${pid}/task/${t}/stat`);
    if (tf !== null) threads.set(Number(t), Number(tf[11]) + Number(tf[12]));
  }
  return { user: Number(f[11]), sys: Number(f[12]), threads };
}

function machine(): { total: number; idle: number; iowait: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0), iowait: v[4] ?? 0 };
}

function snapshot(pids: number[]): { snap: Snapshot; allAlive: boolean } {
  const procs = new Map<number, ProcSample>();
  let allAlive = true;
  for (const pid of pids) {
    const p = procSample(pid);
    if (p === null) allAlive = false;
    else procs.set(pid, p);
  }
  const m = machine();
  return {
    snap: {
      at: performance.now(),
      procs,
      machineTotal: m.total,
      machineIdle: m.idle,
      machineIowait: m.iowait,
    },
    allAlive,
  };
}

/**
 * Samples the row's processes from its construction until a client exits; the window runs from open() (or the
 * first sample at or after stop's startAt) to the last sample in which every process was running.
 */
export class CpuWindow {
  private clients: number[] = [];
  private readonly snaps: Snapshot[] = [];
  private openedAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly servers: number[]) {
    this.timer = setInterval(() => this.tick(), SAMPLE_MS);
  }

  addClient(pid: number): void {
    this.clients.push(pid);
  }

  /** The clients' timed work starts now (a probe's "GO"). */
  open(): void {
    if (this.openedAt !== Number.POSITIVE_INFINITY) return;
    this.tick();
    this.openedAt = this.snaps[this.snaps.length - 1]?.at ?? Number.POSITIVE_INFINITY;
  }

  private tick(): void {
    if (this.closed) return;
    const { snap, allAlive } = snapshot([...this.servers, ...this.clients]);
    if (allAlive) this.snaps.push(snap);
    else this.closed = true;
  }

  /**
   * Call when every client has exited. startAt (performance.now() time): when the clients' timed work began, e.g.
   * a tool's exit time less the elapsed time it reports; without it, open()'s time. Null when the window is
   * shorter than WINDOW_SEC_MIN.
   */
  stop(startAt = this.openedAt): CpuSplit | null {
    clearInterval(this.timer);
    const a = this.snaps.find((x) => x.at >= startAt);
    const b = this.snaps[this.snaps.length - 1];
    if (a === undefined || b === undefined || b.at - a.at < WINDOW_SEC_MIN * 1000) return null;
    const sec = (b.at - a.at) / 1000;
    const per = (pid: number): ProcCpu => {
      const pa = a.procs.get(pid);
      const pb = b.procs.get(pid);
      if (pa === undefined || pb === undefined)
        return { pid, cpuPct: Number.NaN, sysPct: Number.NaN, topThreadPct: Number.NaN };
      let top = 0;
      for (const [tid, t] of pb.threads) top = Math.max(top, t - (pa.threads.get(tid) ?? 0));
      const pct = (ticks: number): number => (ticks / CLK_TCK / sec) * 100;
      return {
        pid,
        cpuPct: pct(pb.user + pb.sys - pa.user - pa.sys),
        sysPct: pct(pb.sys - pa.sys),
        topThreadPct: pct(top),
      };
    };
    const dt = b.machineTotal - a.machineTotal;
    return {
      windowSec: sec,
      server: this.servers.map(per),
      client: this.clients.map(per),
      machineIdlePct: dt > 0 ? ((b.machineIdle - a.machineIdle) / dt) * 100 : Number.NaN,
      machineIowaitPct: dt > 0 ? ((b.machineIowait - a.machineIowait) / dt) * 100 : Number.NaN,
    };
  }
}

const sum = (xs: number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0));
const max = (xs: number[]): number => (xs.length === 0 ? Number.NaN : Math.max(...xs));

/** The figures of the table: server and client CPU summed over their processes, busiest thread of each side. */
export function cpuColumns(c: CpuSplit | null): {
  serverPct: number;
  serverSysPct: number;
  serverThreadPct: number;
  clientPct: number;
  clientThreadPct: number;
  idlePct: number;
} {
  if (c === null) {
    const n = Number.NaN;
    return {
      serverPct: n,
      serverSysPct: n,
      serverThreadPct: n,
      clientPct: n,
      clientThreadPct: n,
      idlePct: n,
    };
  }
  return {
    serverPct: sum(c.server.map((p) => p.cpuPct)),
    serverSysPct: sum(c.server.map((p) => p.sysPct)),
    serverThreadPct: max(c.server.map((p) => p.topThreadPct)),
    clientPct: sum(c.client.map((p) => p.cpuPct)),
    clientThreadPct: max(c.client.map((p) => p.topThreadPct)),
    idlePct: c.machineIdlePct,
  };
}

/**
 * Which component holds the path back, from who was busy:
 *   broker / client: that side's busiest thread is saturated and the other's is not;
 *   broker+client: both are;
 *   CPU (machine full): neither thread is saturated but the cores are (several client processes, GC threads,
 *     other load on the machine);
 *   kernel/disk or round trips: both sides have idle CPU and so does the machine: the wait is elsewhere
 *     (page-cache allocation, writeback, the socket, or too little in flight: a request/response round trip
 *     that leaves both sides waiting, e.g. 5 requests of one 16 KiB batch each).
 */
export function heldBackBy(c: CpuSplit | null, serverName = 'broker', clientName = 'client'): string {
  if (c === null) return '?';
  const k = cpuColumns(c);
  const s = k.serverThreadPct >= BUSY_THREAD_PCT;
  const cl = k.clientThreadPct >= BUSY_THREAD_PCT;
  if (s && cl) return `${serverName}+${clientName}`;
  if (s) return serverName;
  if (cl) return clientName;
  if (k.idlePct < FULL_MACHINE_IDLE_PCT) return 'CPU (machine full)';
  return 'kernel/disk or round trips';
}
