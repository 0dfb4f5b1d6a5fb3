// `samsa perf produce --producers N` against a real broker: N producer connections at once, the records and
// the throughput shared, every record acknowledged exactly once; and its usage errors.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { describeTopic, listOffsets } from '../../src/client/perf/cluster.js';
import type { ProducersResult } from '../../src/client/perf/producers.js';
import * as limits from '../../src/limits.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, repoRoot, samsa, samsaArgv } from './cli-helpers.js';

describe('samsa perf produce --producers', () => {
  let b: InProcessBroker;

  before(async () => {
    b = await startInProcess();
  });
  after(async () => {
    await b.stop(true);
  });

  it('produces exactly --records over N connections held at once, paced at --throughput in total', async () => {
    const args = [
      'perf',
      'produce',
      '--bootstrap-server',
      `127.0.0.1:${b.port}`,
      '--topic',
      'pp',
      '--partitions',
      '4',
    ];
    args.push(
      '--producers',
      '20',
      '--records',
      '2000',
      '--record-size',
      '100',
      '--throughput',
      '1000',
      '--json',
    );
    const child = spawn(process.execPath, samsaArgv(args), {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    // The broker's open connections when the tool says every producer is connected (the timed part starts).
    let openAtConnected = -1;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (openAtConnected < 0 && /^20 producers connected \(20 connections\)/m.test(stderr)) {
        openAtConnected = b.broker.networkCounters().connections;
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, stderr);
    // 20 producers' connections (the bootstrap connection, closed before, may not be gone yet).
    assert.ok(
      openAtConnected === 20 || openAtConnected === 21,
      `open connections ${openAtConnected}\n${stderr}`,
    );
    const r = JSON.parse(stdout) as ProducersResult;
    assert.equal(r.records, 2000);
    assert.equal(r.errors, 0);
    assert.equal(r.producers, 20);
    assert.equal(r.connections, 20);
    // Paced at 1000 records/s in all: about 2 s, not 20 x faster.
    assert.ok(r.elapsedSec >= 1.8 && r.recordsPerSec <= 1100, stdout);
    assert.equal(r.latency.count, 2000);

    const c = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'perf-test' });
    try {
      const layout = await describeTopic(c, 'pp');
      const end = await listOffsets(new Map([[b.broker.config.int('node.id'), c]]), layout, -1);
      const counts = [...end.values()];
      assert.equal(
        counts.reduce((a, n) => a + n, 0),
        2000,
      );
      // Spread over the partitions, not all on one.
      assert.ok(counts.filter((n) => n > 0).length >= 2, String(counts));
    } finally {
      c.close();
    }
  });

  it('rejects a bad --producers with a usage error', async () => {
    const base = ['perf', 'produce', '--topic', 't', '--records', '1', '--record-size', '1'];
    for (const bad of ['0', '1.5', String(limits.perfProducersMax + 1)]) {
      const r = await samsa([...base, `--producers=${bad}`]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLineFailure(r), /^samsa perf produce: --producers must be an integer from 1 to 10000/);
    }
    const notNumber = await samsa([...base, '--producers', 'many']);
    assert.equal(notNumber.code, 2);
    assert.match(oneLineFailure(notNumber), /--producers must be a number/);
    const consume = await samsa(['perf', 'consume', '--topic', 't', '--records', '1', '--producers', '2']);
    assert.equal(consume.code, 2);
    assert.match(oneLineFailure(consume), /--producers is for perf produce only/);
  });
});
