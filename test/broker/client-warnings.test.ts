// Rate-limited client warnings: the first warning of a (client, kind) group is logged, its repeats are counted
// into one summary line per interval, a quiet group is forgotten, and the groups tracked are bounded. Then a real
// broker process flooded with thousands of Metadata requests for an invalid topic name logs a bounded number of
// lines, one of them carrying the count.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ClientWarnings } from '../../src/broker/client-warnings.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { createLogger, setLogSink } from '../../src/logger.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

function capture(): { lines: Record<string, unknown>[]; restore: () => void } {
  const lines: Record<string, unknown>[] = [];
  setLogSink((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  return { lines, restore: () => setLogSink((l) => process.stderr.write(l)) };
}

describe('ClientWarnings', () => {
  it('logs the first of a group, then one summary per interval with the count', () => {
    const { lines, restore } = capture();
    try {
      const w = new ClientWarnings(createLogger('test'), 60_000, 100);
      const a = { clientAddress: '10.0.0.1:5000', clientId: 'app' };
      for (let i = 0; i < 1000; i++)
        w.warn({ ...a, clientAddress: `10.0.0.1:${5000 + i}` }, 'k', 'bad', { i });
      w.warn({ clientAddress: '10.0.0.2:1', clientId: 'app' }, 'k', 'bad', { i: -1 });
      w.warn(a, 'other', 'other kind');
      w.warn({ ...a, clientId: 'app2' }, 'k', 'bad');
      assert.deepEqual(
        lines.map((l) => [l.msg, l.client, l.clientId]),
        [
          ['bad', '10.0.0.1:5000', 'app'],
          ['bad', '10.0.0.2:1', 'app'],
          ['other kind', '10.0.0.1:5000', 'app'],
          ['bad', '10.0.0.1:5000', 'app2'],
        ],
      );
      lines.length = 0;
      w.summarize();
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.suppressed, 999);
      assert.equal(lines[0]!.client, '10.0.0.1');
      assert.equal(lines[0]!.i, 999, 'the latest fields');
      assert.match(String(lines[0]!.msg), /^bad \(999 more not logged/);
      // Still repeating: counted again, one summary per interval.
      lines.length = 0;
      w.warn(a, 'k', 'bad');
      w.warn(a, 'k', 'bad');
      assert.equal(lines.length, 0);
      w.summarize();
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.suppressed, 2);
      // A quiet interval forgets every group: the next warning is logged at once.
      w.summarize();
      assert.equal(w.trackedGroups, 0);
      lines.length = 0;
      w.warn(a, 'k', 'bad');
      assert.equal(lines.length, 1);
      w.close();
    } finally {
      restore();
    }
  });

  it('tracks at most keysMax groups and counts the rest in one line', () => {
    const { lines, restore } = capture();
    try {
      const w = new ClientWarnings(createLogger('test'), 60_000, 10);
      for (let i = 0; i < 5000; i++) w.warn({ clientAddress: '10.0.0.1:1', clientId: `id-${i}` }, 'k', 'bad');
      assert.equal(w.trackedGroups, 10);
      assert.equal(lines.length, 10);
      w.close();
      assert.equal(lines.length, 11);
      assert.equal(lines[10]!.suppressed, 4990);
      assert.equal(w.trackedGroups, 0);
    } finally {
      restore();
    }
  });

  it('summarizes on its own timer', async () => {
    const { lines, restore } = capture();
    try {
      const w = new ClientWarnings(createLogger('test'), 20, 10);
      const a = { clientAddress: '10.0.0.1:1', clientId: null };
      w.warn(a, 'k', 'bad');
      w.warn(a, 'k', 'bad');
      while (lines.length < 2) await new Promise((r) => setTimeout(r, 5));
      assert.equal(lines[1]!.suppressed, 1);
      w.close();
    } finally {
      restore();
    }
  });
});

describe('a broker flooded with bad Metadata requests', () => {
  let broker: BrokerHandle | undefined;
  after(async () => {
    await broker?.destroy();
  });

  it('logs a bounded number of lines, with the count', { timeout: 120_000 }, async (t) => {
    broker = await startBroker({ overrides: { 'auto.create.topics.enable': 'false' } });
    const requests = 5000;
    const conns = await Promise.all(
      [0, 1].map(() => KafkaConnection.connect({ host: '127.0.0.1', port: broker!.port, clientId: 'flood' })),
    );
    const body = {
      topics: [{ name: 'bad/name', topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    };
    for (let sent = 0; sent < requests; sent += 500) {
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) => conns[i % 2]!.request<MetadataResponse>(ApiKey.Metadata, body)),
      );
      for (const a of answers) assert.equal(a.topics[0]!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    }
    for (const c of conns) c.close();
    // The broker still serves a well-behaved client.
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await cluster.metadata(null);
    cluster.close();
    await broker.stop('SIGTERM'); // shutting down logs the counts still pending
    const lines = broker
      .logs()
      .split('\n')
      .filter((l) => l.includes('metadata request for an invalid topic name'));
    // The first line, plus at most one summary per 30 s interval (the run is well under a minute) and the last.
    assert.ok(lines.length >= 2 && lines.length <= 3, `${lines.length} lines:\n${lines.join('\n')}`);
    const suppressed = lines
      .map((l) => (JSON.parse(l) as { suppressed?: number }).suppressed ?? 0)
      .reduce((a, b) => a + b, 0);
    assert.equal(suppressed, requests - 1);
    t.diagnostic(`${requests} bad requests -> ${lines.length} log lines: ${lines.join(' | ')}`);
  });
});
