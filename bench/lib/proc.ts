// What the bench reads of a process from Linux's /proc: its CPU time (/proc/<pid>/stat utime + stime, in clock
// ticks), its resident memory now and at its peak (VmRSS, VmHWM in /proc/<pid>/status; the peak is reset through
// /proc/<pid>/clear_refs), and the cost of a stretch of work to a set of processes (the single brokers of run.ts
// and scale.ts, every process of a cluster). bench/lib/limits-cpu.ts samples the same files per thread.

import * as fs from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** The fields of a /proc/.../stat file after the command (which may hold spaces and ')'); null when unreadable. */
export function statFields(path: string): string[] | null {
  try {
    const s = fs.readFileSync(path, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) the process has used so far; throws when it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(`/proc/${pid}/stat`);
  if (fields === null) throw new Error(`no process ${pid}`);
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resets the peak RSS (VmHWM) to the current RSS; false when the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Resident memory now and at its peak (since start or the last reset), MiB; NaN where the kernel says nothing. */
export function memoryMb(pid: number): { rssMb: number; peakRssMb: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number =>
    Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? Number.NaN) / 1024;
  return { rssMb: kb('VmRSS'), peakRssMb: kb('VmHWM') };
}

/** Peak RSS in MiB since start or the last reset. */
export function peakRssMb(pid: number): number {
  return memoryMb(pid).peakRssMb;
}

export interface Cost {
  /** CPU seconds of every process, summed. */
  cpuSec: number;
  /** Peak RSS of every process, summed (MiB); NaN when a peak could not be reset at the start. */
  peakRssMb: number;
}

/**
 * Starts counting the cost of the work to come to `pids`; end() says what it was. `lenient`: a process that is gone
 * (a broker killed during the work) counts as 0 instead of throwing.
 */
export function startCost(pids: number[], lenient = false): { end(): Cost } {
  const read = (f: () => number): number => (lenient ? orZero(f) : f());
  const reset = pids.every((p) => read(() => (resetPeakRss(p) ? 1 : 0)) === 1);
  const cpu0 = new Map(pids.map((p) => [p, read(() => cpuSeconds(p))]));
  return {
    end() {
      let cpuSec = 0;
      let rss = 0;
      for (const p of pids) {
        cpuSec += read(() => cpuSeconds(p)) - (cpu0.get(p) ?? 0);
        rss += read(() => peakRssMb(p));
      }
      return { cpuSec, peakRssMb: reset ? rss : Number.NaN };
    },
  };
}

function orZero(f: () => number): number {
  try {
    return f();
  } catch {
    return 0;
  }
}
