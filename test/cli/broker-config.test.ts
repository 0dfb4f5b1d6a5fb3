// `samsa broker` with the configuration files people have: Kafka 4's stock server.properties (KRaft) and
// the config/server.properties Samsa ships; log level and format chosen by configuration. Each runs the
// real process on a free port with a temporary data directory.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { kafka4Properties, kafkaMetaProperties } from '../config/kafka4-server-properties.js';
import { canConnect, freePort } from '../helpers/broker.js';
import { repoRoot, samsa, startBrokerProcess } from './cli-helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'samsa-broker-config-'));
  dirs.push(d);
  return d;
}

/** JSON log lines of the given level. */
function logged(lines: string[], level: string): Record<string, unknown>[] {
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.level === level);
}

async function metadata(port: number): Promise<MetadataResponse> {
  const conn = await KafkaConnection.connect({ host: '127.0.0.1', port });
  try {
    assert.ok(conn.version(ApiKey.Metadata) >= 1, 'ApiVersions answered on connect');
    return await conn.request<MetadataResponse>(ApiKey.Metadata, {
      topics: null,
      allowAutoTopicCreation: false,
    });
  } finally {
    conn.close();
  }
}

describe('samsa broker configuration files', () => {
  it("starts from Kafka 4's stock server.properties: PLAINTEXT served, controller parts ignored with one warning each", async () => {
    const dir = tmp();
    const [port, controllerPort] = [await freePort(), await freePort()];
    const file = path.join(dir, 'server.properties');
    writeFileSync(file, kafka4Properties(port, controllerPort, path.join(dir, 'data')));
    const b = startBrokerProcess([file], { cwd: dir });
    await b.waitForLine(/Samsa broker started/);
    try {
      const warnings = logged(b.lines, 'warn').map((e) => String(e.msg));
      for (const key of [
        'process.roles',
        'controller.quorum.bootstrap.servers',
        'controller.listener.names',
      ]) {
        assert.equal(
          warnings.filter((w) => w.startsWith(`${key}=`)).length,
          1,
          `${key}:\n${warnings.join('\n')}`,
        );
      }
      assert.equal(warnings.filter((w) => w.includes(`CONTROLLER://:${controllerPort}`)).length, 1);
      assert.equal(new Set(warnings).size, warnings.length, 'each warning once');
      assert.ok(!(await canConnect(controllerPort)), 'nothing listens on the controller port');
      const md = await metadata(port);
      assert.deepEqual(
        md.brokers.map((x) => [x.nodeId, x.host, x.port]),
        [[1, 'localhost', port]],
      );
    } finally {
      const r = await b.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it("refuses to start on Kafka's own data (the stock file's log.dirs after Kafka ran) and leaves it as it was", async () => {
    const dir = tmp();
    const [port, controllerPort] = [await freePort(), await freePort()];
    const data = path.join(dir, 'kraft-combined-logs');
    mkdirSync(path.join(data, 'orders-0'), { recursive: true });
    writeFileSync(path.join(data, 'meta.properties'), kafkaMetaProperties);
    const file = path.join(dir, 'server.properties');
    writeFileSync(file, kafka4Properties(port, controllerPort, data));
    const r = await samsa(['broker', file]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^samsa broker: .*log\.dirs: .* holds another broker's data .*cluster\.id=MkU3OEVBNTcwNTJENDM2Qk/m,
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.equal(readFileSync(path.join(data, 'meta.properties'), 'utf8'), kafkaMetaProperties);
    assert.deepEqual(readdirSync(data).sort(), ['meta.properties', 'orders-0']);
    assert.deepEqual(readdirSync(path.join(data, 'orders-0')), []);
  });

  it('starts from the shipped config/server.properties without a warning', async () => {
    const dir = tmp();
    const port = await freePort();
    const b = startBrokerProcess(
      [
        path.join(repoRoot, 'config/server.properties'),
        '--override',
        `listeners=PLAINTEXT://127.0.0.1:${port}`,
        '--override',
        `log.dirs=${path.join(dir, 'data')}`,
      ],
      { cwd: dir },
    );
    await b.waitForLine(/Samsa broker started/);
    try {
      assert.deepEqual(logged(b.lines, 'warn'), []);
      assert.equal((await metadata(port)).brokers[0]?.port, port);
    } finally {
      assert.equal((await b.stop()).code, 0);
    }
  });

  it('--log-format text writes text lines; log.level picks what is written', async () => {
    const dir = tmp();
    const port = await freePort();
    const text = startBrokerProcess(
      [
        '--override',
        `listeners=PLAINTEXT://127.0.0.1:${port}`,
        '--override',
        `log.dirs=${path.join(dir, 'a')}`,
        '--override',
        'producer.id.expiration.ms=3600000',
        '--log-format',
        'text',
      ],
      { cwd: dir },
    );
    const started = await text.waitForLine(/Samsa broker started/);
    assert.match(started, /^\S+Z INFO {2}broker: Samsa broker started nodeId=0 /);
    assert.ok(
      text.lines.some((l) =>
        /^\S+Z WARN {2}broker: producer\.id\.expiration\.ms=3600000 is accepted but has no effect yet/.test(
          l,
        ),
      ),
      text.lines.join('\n'),
    );
    assert.equal((await text.stop()).code, 0);

    // log.level=warn: no info lines at all, from start to clean stop; the broker still serves.
    const quiet = startBrokerProcess(
      [
        '--override',
        `listeners=PLAINTEXT://127.0.0.1:${port}`,
        '--override',
        `log.dirs=${path.join(dir, 'b')}`,
        '--override',
        'log.level=warn',
        '--override',
        'num.io.threads=8',
      ],
      { cwd: dir },
    );
    await quiet.waitForLine(/num\.io\.threads/);
    // Ready when Metadata is answered (there is no "started" line at this level).
    for (let i = 0; ; i++) {
      if (await canConnect(port)) break;
      assert.ok(i < 300, `broker not listening; stderr:\n${quiet.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await metadata(port)).brokers[0]?.port, port);
    const r = await quiet.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { level: string }).level),
      ['warn'],
    );
  });

  it('refuses an unknown log level', async () => {
    const dir = tmp();
    const r = await samsa([
      'broker',
      '--override',
      'log.level=verbose',
      '--override',
      `log.dirs=${dir}/data`,
    ]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      'samsa broker: invalid configuration: log.level: must be one of debug, info, warn, error; got "verbose"\n',
    );
  });
});
