// Runs `samsa <command>` as a child process, the way an operator does: `node bin/samsa.js` when the tests
// run from dist/ (npm test builds first), `node --import tsx src/cli/main.ts` when they run from the sources.
// Asynchronous on purpose: the broker under test usually lives in this process and must keep serving.

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunResult, start } from '../helpers/run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fromDist = here.includes(`${path.sep}dist${path.sep}`);
export const repoRoot = fromDist ? path.resolve(here, '../../..') : path.resolve(here, '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function samsaArgv(args: string[]): string[] {
  return fromDist
    ? [path.join(repoRoot, 'bin/samsa.js'), ...args]
    : // tsx resolved here, so a child started in another directory finds it
      ['--import', import.meta.resolve('tsx'), path.join(repoRoot, 'src/cli/main.ts'), ...args];
}

export function samsa(
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, samsaArgv(args), {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`samsa ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Asserts a failure: the given exit status and exactly one line on stderr (plus a usage hint for status 2). */
export function oneLineFailure(r: CliResult): string {
  const lines = r.stderr.trimEnd().split('\n');
  const first = lines[0] ?? '';
  if (r.code === 2) {
    if (lines.length !== 2 || !/--help/.test(lines[1] ?? ''))
      throw new Error(`usage failure should be one line + hint:\n${r.stderr}`);
  } else if (lines.length !== 1) {
    throw new Error(`failure should be one line on stderr:\n${r.stderr}`);
  }
  return first;
}

/** A `samsa broker` process started by a test, with its stderr lines as they arrive. */
export interface BrokerProcess {
  lines: string[];
  /** Resolves with the first stderr line matching re; rejects if the process exits first. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then the process's result (exit status 0 expected from a clean stop). */
  stop(): Promise<RunResult>;
  done: Promise<RunResult>;
}

/**
 * Starts `samsa broker ...args` as a process: by default this checkout's (samsaArgv), or `command` (an
 * installed `samsa`). The process is killed with the test process if the test fails first.
 */
export function startBrokerProcess(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; command?: string } = { cwd: repoRoot },
): BrokerProcess {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const argv = opts.command === undefined ? samsaArgv(['broker', ...args]) : ['broker', ...args];
  const running = start(opts.command ?? process.execPath, argv, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    allowFailure: true,
    timeoutMs: 120_000,
    onStderrLine: (line) => {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    },
  });
  return {
    lines,
    done: running.done,
    waitForLine(re, timeoutMs = 30_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          running.kill('SIGKILL');
          reject(new Error(`no line matching ${re} in ${timeoutMs} ms; stderr:\n${lines.join('\n')}`));
        }, timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        running.done.then((r) => {
          clearTimeout(timer);
          reject(new Error(`broker exited with ${r.code ?? r.signal} before ${re}; stderr:\n${r.stderr}`));
        }, reject);
      });
    },
    stop() {
      running.kill('SIGTERM');
      return running.done;
    },
  };
}
