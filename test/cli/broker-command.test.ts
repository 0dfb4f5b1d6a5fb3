// `samsa broker` as the README runs it: no arguments, a fresh folder, 127.0.0.1:9092, data in ./data;
// SIGTERM stops it cleanly and the next start skips recovery; bad configuration stops start-up
// with a message naming the key.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const bin = path.join(repoRoot(), 'bin/samsa.js');

function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${re}; output:\n${seen}`)),
      timeoutMs,
    );
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const line = seen.split('\n').find((l) => re.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve(line);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before ${re}; output:\n${seen}`));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('samsa broker (the README run command)', () => {
  it('starts with no arguments on 127.0.0.1:9092 with data in ./data, and stops cleanly on SIGTERM', async (t) => {
    if (!(await portFree(9092))) {
      if (process.env.CI === 'true') assert.fail('port 9092 is busy in CI');
      t.skip('port 9092 is in use on this machine');
      return;
    }
    const cwd = mkdtempSync(path.join(tmpdir(), 'samsa-readme-'));
    try {
      for (const round of [1, 2]) {
        const child = spawn(process.execPath, [bin, 'broker'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
        let output = '';
        child.stderr?.on('data', (d: Buffer) => {
          output += d.toString();
        });
        const started = await waitForLine(child, /Samsa broker started/, 20_000);
        assert.match(started, /PLAINTEXT:\/\/127\.0\.0\.1:9092/);
        assert.ok(existsSync(path.join(cwd, 'data', 'meta.properties')), 'data folder created in ./data');
        assert.match(readFileSync(path.join(cwd, 'data', 'meta.properties'), 'utf8'), /cluster.id=/);
        const sock = net.connect({ host: '127.0.0.1', port: 9092 });
        await new Promise<void>((resolve, reject) => {
          sock.once('connect', () => resolve());
          sock.once('error', reject);
        });
        sock.destroy();
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        const stopped = waitForLine(child, /shut down cleanly/, 15_000);
        child.kill('SIGTERM');
        await stopped;
        assert.equal(await exited, 0);
        // The first start finds no marker (a new folder); the second finds the one SIGTERM left.
        assert.match(output, round === 1 ? /"cleanShutdown":false/ : /"cleanShutdown":true/);
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('refuses an unknown key and an invalid value, naming the key', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'samsa-badconf-'));
    try {
      const unknown = spawnSync(process.execPath, [bin, 'broker', '--override', 'log.segmnet.bytes=5'], {
        cwd,
        encoding: 'utf8',
      });
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /log\.segmnet\.bytes: unknown configuration key/);
      const file = path.join(cwd, 'server.properties');
      writeFileSync(file, 'listeners=PLAINTEXT://127.0.0.1:0\nlog.segment.bytes=0\n');
      const invalid = spawnSync(process.execPath, [bin, 'broker', file], { cwd, encoding: 'utf8' });
      assert.equal(invalid.status, 2);
      assert.match(invalid.stderr, /log\.segment\.bytes: must be >= 14; got 0/);
      assert.ok(!existsSync(path.join(cwd, 'data')), 'nothing written when the config is invalid');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
