// `samsa registry` processes for tests: started from dist/ (bin/samsa.js registry) on a free port, ready when
// the process prints its "registry listening" line; stop() sends SIGTERM and waits for the exit.

import { join } from 'node:path';
import { type Running, repoRoot, start } from './run.js';

export interface RegistryHandle {
  readonly url: string;
  readonly proc: Running;
  /** Resolves with the first stderr line matching re (already printed or yet to come). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startRegistry(bootstrap: string, extraArgs: string[] = []): Promise<RegistryHandle> {
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve: (line: string) => void }[] = [];
  const proc = start(
    process.execPath,
    [
      join(repoRoot(), 'bin', 'samsa.js'),
      'registry',
      '--bootstrap',
      bootstrap,
      '--listeners',
      'http://127.0.0.1:0',
      ...extraArgs,
    ],
    {
      timeoutMs: 600_000,
      allowFailure: true,
      env: { ...process.env, SAMSA_LOG_LEVEL: 'info' },
      onStderrLine: (line) => {
        lines.push(line);
        for (const w of watchers.filter((x) => x.re.test(line))) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(line);
        }
      },
    },
  );
  const waitForLog = (re: RegExp, timeoutMs = 60_000): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`registry: no line matching ${re} in ${timeoutMs} ms:\n${lines.join('\n')}`)),
        timeoutMs,
      );
      const exited = proc.done.then(() =>
        reject(new Error(`registry exited before printing ${re}:\n${lines.join('\n')}`)),
      );
      void exited;
      watchers.push({
        re,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  };
  const ready = await waitForLog(/registry listening/);
  const url = (JSON.parse(ready) as { url: string }).url;
  return {
    url,
    proc,
    waitForLog,
    logs: () => lines.join('\n'),
    stop: async () => {
      proc.kill('SIGTERM');
      await proc.done;
    },
  };
}

/** A registry answer's JSON: of many shapes, which the tests' assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = any;

/** A registry HTTP call: status and parsed JSON body. */
export async function sr(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}
