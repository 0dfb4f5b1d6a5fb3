// Start-up that fails cleanly (issue 8): the real `samsa broker` process, each fault as an operator would
// meet it. A failure at any step undoes what was started, exits non-zero within seconds with one line
// naming the setting, and never loads, recovers or marks a data directory that another broker owns.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Cluster } from '../../src/client/cluster.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { freePort, startBroker } from '../helpers/broker.js';
import { repoRoot, run } from '../helpers/run.js';

const bin = path.join(repoRoot(), 'bin/samsa.js');
const work = mkdtempSync(path.join(tmpdir(), 'samsa-startup-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs `samsa broker` expecting it to fail; a hang is a failure too (the run's time limit). */
async function brokerFails(
  overrides: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const args = ['broker', ...Object.entries(overrides).flatMap(([k, v]) => ['--override', `${k}=${v}`])];
  const r = await run(process.execPath, [bin, ...args], { cwd: work, allowFailure: true, timeoutMs: 20_000 });
  assert.notEqual(r.code, 0, `expected a failure; output:\n${r.stderr}`);
  return { code: r.code, stderr: r.stderr };
}

/** The one line a failed start prints, after any log lines (JSON) it wrote. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('samsa broker:'));
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('samsa broker start-up failures', () => {
  it('a second broker on a locked log dir exits at once, naming the directory, without touching it', async () => {
    const dataDir = path.join(work, 'locked');
    const first = await startBroker({ dataDir });
    try {
      const { code, stderr } = await brokerFails({
        listeners: `PLAINTEXT://127.0.0.1:${await freePort()}`,
        'log.dirs': dataDir,
      });
      assert.equal(code, 1);
      const lines = errorLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0] ?? '',
        /log\.dirs: log directory .*locked is in use by another process \(pid \d+\)/,
      );
      assert.doesNotMatch(stderr, /log dir loaded|recover/i, 'the second broker read nothing');
      // The second broker's exit must not mark the directory cleanly shut down (that would skip the
      // recovery a crash of the first broker needs).
      assert.ok(!existsSync(path.join(dataDir, '.kafka_cleanshutdown')));
      await first.kill9();
      await first.restart();
      assert.match(first.logs(), /"cleanShutdown":false/);
    } finally {
      await first.destroy();
    }
  });

  it('the same port twice: the second fails on the port before loading the data folder', async () => {
    const first = await startBroker();
    try {
      const { stderr } = await brokerFails({
        listeners: `PLAINTEXT://127.0.0.1:${first.port}`,
        'log.dirs': path.join(work, 'port-taken'),
      });
      const lines = errorLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0] ?? '',
        /listeners: cannot listen on PLAINTEXT:\/\/127\.0\.0\.1:\d+: .*EADDRINUSE/,
      );
      assert.doesNotMatch(stderr, /log dir loaded/);
    } finally {
      await first.destroy();
    }
  });

  it('metrics.http.port taken: exits non-zero naming the setting, and releases the Kafka port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const metricsPort = (blocker.address() as net.AddressInfo).port;
    const kafkaPort = await freePort();
    try {
      const { code, stderr } = await brokerFails({
        listeners: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        'log.dirs': path.join(work, 'metrics-taken'),
        'metrics.http.port': String(metricsPort),
      });
      assert.equal(code, 1);
      const lines = errorLines(stderr);
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0] ?? '',
        new RegExp(`metrics\\.http\\.port: cannot listen on 127\\.0\\.0\\.1:${metricsPort}`),
      );
      assert.doesNotMatch(stderr, /log dir loaded/, 'listeners are bound before the logs load');
      assert.ok(await canBind(kafkaPort), 'the Kafka listener was closed again');
    } finally {
      blocker.close();
    }
  });

  it('a log dir that cannot be created ends start-up at once, naming it (no spin in mkdir)', async () => {
    const { code, stderr } = await brokerFails({
      listeners: `PLAINTEXT://127.0.0.1:${await freePort()}`,
      'log.dir': '/proc/samsa',
    });
    assert.equal(code, 1);
    const lines = errorLines(stderr);
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0] ?? '', /log\.dirs: cannot create log directory \/proc\/samsa/);
  });

  it('a log dir path through a file is refused, naming it', async () => {
    const { stderr } = await brokerFails({
      listeners: `PLAINTEXT://127.0.0.1:${await freePort()}`,
      'log.dir': `${bin}/data`,
    });
    assert.match(
      errorLines(stderr)[0] ?? '',
      /log\.dirs: .*log directory .*samsa\.js\/data.*not a directory/,
    );
  });

  it('listeners on 0.0.0.0 without advertised.listeners is refused with what to set', async () => {
    const { code, stderr } = await brokerFails({
      listeners: 'PLAINTEXT://0.0.0.0:19099',
      'log.dirs': path.join(work, 'wildcard'),
    });
    assert.equal(code, 2);
    assert.match(stderr, /advertised\.listeners: .*0\.0\.0\.0.* set advertised\.listeners=PLAINTEXT:\/\/</);
    assert.ok(!existsSync(path.join(work, 'wildcard')), 'nothing created for an invalid configuration');
  });

  it('listeners with an empty host binds every interface and advertises the host name (as Kafka)', async () => {
    const port = await freePort();
    const broker = await startBroker({ overrides: { listeners: `PLAINTEXT://:${port}` }, port });
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${port}` });
    try {
      const md = await cluster.request<MetadataResponse>(ApiKey.Metadata, { topics: [] });
      assert.deepEqual(
        md.brokers.map((b) => [b.host, b.port]),
        [[hostname(), port]],
      );
    } finally {
      await cluster.close();
      await broker.destroy();
    }
  });
});
