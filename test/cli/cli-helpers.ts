// Runs `samsa <command>` as a child process, the way an operator does: `node bin/samsa.js` when the tests
// run from dist/ (npm test builds first), `node --import tsx src/cli/main.ts` when they run from the sources.
// Asynchronous on purpose: the broker under test usually lives in this process and must keep serving.

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

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
    : ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args];
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
