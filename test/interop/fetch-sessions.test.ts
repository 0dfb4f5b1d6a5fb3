// Fetch sessions (KIP-227) with real consumers. The Java consumer (kafka-clients 4.x, FetchSessions.java) keeps
// a fetch session per broker: it opens one with a full fetch and then polls incrementally, and it reads every
// record, the ones produced while it idles in its session included. librdkafka (kcat) does not implement KIP-227
// (its fetches are sessionless: session id 0, epoch -1); it is checked to read everything all the same.
// SAMSA_INTEROP_TARGET=kafka runs the consumption checks against Apache Kafka (the session counters are
// Samsa's /metrics).

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { type BrokerHandle, freePort, startTarget } from '../helpers/broker.js';
import { waitFor } from '../helpers/cluster.js';
import { repoRoot, run, start } from '../helpers/run.js';
import {
  javaClientJar,
  jsonLines,
  requireAll,
  skipUnless,
  targetName,
  tool,
  withBrokerLogs,
} from './harness.js';

const javaRequirements = [
  tool('java', 'apt-get install openjdk-17-jdk-headless'),
  tool('javac', 'apt-get install openjdk-17-jdk-headless'),
  tool('mvn', 'apt-get install maven'),
];
const kcatRequirements = [tool('kcat', 'apt-get install kcat')];
const partitions = 4;
const perRound = 5;

interface SessionCounters {
  created: number;
  incremental: number;
  sessions: number;
}

describe(`interop: fetch sessions (KIP-227) with real consumers against ${targetName()}`, () => {
  let broker: BrokerHandle | undefined;
  let metricsPort = -1;
  const run36 = Date.now().toString(36);

  before(async () => {
    metricsPort = await freePort();
    broker = await startTarget({
      overrides: targetName() === 'samsa' ? { 'metrics.http.port': String(metricsPort) } : {},
    });
  });

  after(async () => {
    await broker?.destroy();
  });

  /** Samsa's session counters; null against Kafka. */
  async function counters(): Promise<SessionCounters | null> {
    if (targetName() !== 'samsa') return null;
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    return {
      created: read('samsa_fetch_sessions_created_total'),
      incremental: read('samsa_fetch_session_incremental_requests_total'),
      sessions: read('samsa_fetch_sessions'),
    };
  }

  async function setUp(topic: string): Promise<void> {
    const cluster = await Cluster.connect({ bootstrap: broker!.bootstrap });
    try {
      await createTopic(cluster, topic, { partitions });
    } finally {
      cluster.close();
    }
  }

  async function produceRound(topic: string, round: string): Promise<void> {
    const producer = await Producer.connect({ bootstrap: broker!.bootstrap });
    try {
      for (let p = 0; p < partitions; p++) {
        await producer.send(
          topic,
          Array.from({ length: perRound }, (_, i) => ({ value: `${round}-${p}-${i}`, partition: p })),
        );
      }
    } finally {
      await producer.close();
    }
  }

  /** Every partition read in order, offsets 0.., both rounds' values. */
  function assertAllRead(read: { p: number; o: number; v: string }[], rounds: string[]): void {
    for (let p = 0; p < partitions; p++) {
      const mine = read.filter((r) => r.p === p);
      assert.deepEqual(
        mine.map((r) => r.o),
        Array.from({ length: perRound * rounds.length }, (_, i) => i),
        `partition ${p}: every offset once, in order`,
      );
      assert.deepEqual(
        mine.map((r) => r.v),
        rounds.flatMap((round) => Array.from({ length: perRound }, (_, i) => `${round}-${p}-${i}`)),
      );
    }
  }

  test('the Java consumer fetches in a session and reads records produced while it idles in it', {
    skip: skipUnless(javaRequirements),
    timeout: 240_000,
  }, async (t) => {
    requireAll(javaRequirements);
    const lib = join(await javaClientJar(), '..', 'lib', '*');
    const classes = await mkdtemp(join(tmpdir(), 'samsa-fetch-sessions-java-'));
    try {
      const source = join(repoRoot(), 'test/interop/java/src/main/java/samsa/interop/FetchSessions.java');
      await run('javac', ['-nowarn', '-d', classes, '-cp', lib, source], { timeoutMs: 120_000 });
      await withBrokerLogs(broker, async () => {
        const topic = `sessions-java-${run36}`;
        await setUp(topic);
        await produceRound(topic, 'a');
        const before = await counters();
        const consumer = start(
          'java',
          [
            '-Xmx256m',
            '-XX:+UseSerialGC',
            '-XX:TieredStopAtLevel=1',
            '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
            '-cp',
            `${lib}:${classes}`,
            'samsa.interop.FetchSessions',
            '--bootstrap',
            broker!.bootstrap,
            '--topic',
            topic,
            '--partitions',
            String(partitions),
            '--expected',
            String(2 * partitions * perRound),
          ],
          { timeoutMs: 120_000 },
        );
        try {
          if (before !== null) {
            // Idle polls after the first round are incremental fetches of the consumer's session.
            await waitFor(
              'the Java consumer polling in a fetch session',
              async () => {
                const now = await counters();
                return now !== null &&
                  now.created > before.created &&
                  now.incremental >= before.incremental + 3
                  ? true
                  : undefined;
              },
              60_000,
            );
          } else {
            await new Promise((r) => setTimeout(r, 3000));
          }
          const middle = await counters();
          await produceRound(topic, 'b');
          const out = jsonLines(await consumer.done);
          const read = out.filter((l) => 'p' in l) as unknown as { p: number; o: number; v: string }[];
          assert.equal(out.at(-1)?.done, 2 * partitions * perRound, JSON.stringify(out.at(-1)));
          assertAllRead(read, ['a', 'b']);
          const end = await counters();
          if (before !== null && middle !== null && end !== null) {
            t.diagnostic(
              `sessions created ${end.created - before.created}, incremental fetches served ${end.incremental - before.incremental}`,
            );
            assert.ok(
              end.incremental > middle.incremental,
              'the second round came through incremental fetches',
            );
          }
        } finally {
          consumer.kill();
        }
      });
    } finally {
      rmSync(classes, { recursive: true, force: true });
    }
  });

  test('kcat (librdkafka, sessionless fetches) reads every record', {
    skip: skipUnless(kcatRequirements),
    timeout: 120_000,
  }, async (t) => {
    requireAll(kcatRequirements);
    await withBrokerLogs(broker, async () => {
      const topic = `sessions-kcat-${run36}`;
      await setUp(topic);
      await produceRound(topic, 'a');
      await produceRound(topic, 'b');
      const before = await counters();
      const r = await run(
        'kcat',
        ['-C', '-b', broker!.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'],
        { timeoutMs: 60_000 },
      );
      const read = r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [p, o, v] = l.split(' ');
          return { p: Number(p), o: Number(o), v: v ?? '' };
        });
      assertAllRead(read, ['a', 'b']);
      const end = await counters();
      if (before !== null && end !== null) {
        t.diagnostic(
          `librdkafka: sessions created ${end.created - before.created}, incremental fetches ${end.incremental - before.incremental}`,
        );
      }
    });
  });
});
