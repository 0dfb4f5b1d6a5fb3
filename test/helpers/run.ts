// Child processes for tests: run a command to completion with a time limit and captured output, or
// start one and watch its output while it runs. A failure throws with the command line, exit status
// and the tail of both streams, so a red test says why without re-running it by hand.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGTERM, then SIGKILL 5 s later) after this long; default 120 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. Without it stdin is closed at once (unless keepStdin). */
  input?: string | Buffer;
  /** Leave stdin open for the caller to write to (child.stdin); `input` is ignored. */
  keepStdin?: boolean;
  /** Return instead of throwing on a non-zero exit (timeouts still throw). */
  allowFailure?: boolean;
  /** Called with each complete line of stderr as it arrives. */
  onStderrLine?: (line: string) => void;
  /** Called with each complete line of stdout as it arrives. */
  onStdoutLine?: (line: string) => void;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Raw stdout bytes, for output that is not text. */
  stdoutBytes: Buffer;
  ms: number;
}

export class RunError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'RunError';
  }
}

export interface Running {
  child: ChildProcess;
  /** Settles when the process exits: rejects like run() does. */
  done: Promise<RunResult>;
  stdout(): string;
  stderr(): string;
  /** Sends a signal to the process if it is still running. */
  kill(signal?: NodeJS.Signals): void;
}

const tailChars = 4000;

function tail(s: string): string {
  return s.length > tailChars ? `...${s.slice(-tailChars)}` : s;
}

function describe(r: RunResult, why: string): string {
  return `${why}: ${r.command}\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`;
}

function lineSplitter(fn: ((line: string) => void) | undefined): (chunk: Buffer) => void {
  if (fn === undefined) return () => {};
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      fn(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  };
}

/** Starts a command; the caller may watch it and must await `done`. */
export function start(cmd: string, args: readonly string[], opts: RunOptions = {}): Running {
  const command = [cmd, ...args].map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
  const began = Date.now();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const onOut = lineSplitter(opts.onStdoutLine);
  const onErr = lineSplitter(opts.onStderrLine);
  child.stdout?.on('data', (c: Buffer) => {
    out.push(c);
    onOut(c);
  });
  child.stderr?.on('data', (c: Buffer) => {
    err.push(c);
    onErr(c);
  });
  child.stdin?.on('error', () => {}); // the child may exit before reading its input
  if (opts.keepStdin !== true) child.stdin?.end(opts.input);
  live.add(child);

  let timedOut = false;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let hardKill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    hardKill = setTimeout(() => child.kill('SIGKILL'), 5000);
  }, timeoutMs);

  const done = new Promise<RunResult>((resolve, reject) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      clearTimeout(timer);
      if (hardKill !== undefined) clearTimeout(hardKill);
      live.delete(child);
      const stdoutBytes = Buffer.concat(out);
      const result: RunResult = {
        command,
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        ms: Date.now() - began,
      };
      if (spawnError !== undefined)
        reject(new RunError(describe(result, `could not start (${spawnError.message})`), result));
      else if (timedOut) reject(new RunError(describe(result, `timed out after ${timeoutMs} ms`), result));
      else if (code !== 0 && !opts.allowFailure) {
        reject(new RunError(describe(result, `exited with ${code ?? signal}`), result));
      } else resolve(result);
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('close', (code, signal) => finish(code, signal));
  });
  return {
    child,
    done,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs a command to completion; throws a RunError with its output on failure or timeout. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return start(cmd, args, opts).done;
}

/** Whether an executable is on PATH (or is an existing absolute path). */
export function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

let rootCache: string | undefined;

/** The repository root: the nearest ancestor of this file holding package.json (works from dist/ too). */
export function repoRoot(): string {
  if (rootCache !== undefined) return rootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repoRoot: no package.json above test/helpers');
    dir = up;
  }
  rootCache = dir;
  return dir;
}

// Children still running when the test process ends are killed with it, so a failed or cancelled
// test leaves no broker or client behind.
const live = new Set<ChildProcess>();

/** Registers a long-lived child (e.g. a broker) for the exit clean-up. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}
