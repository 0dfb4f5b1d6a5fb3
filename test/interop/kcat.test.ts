// Interop with kcat (librdkafka's command-line client): lines with keys in (-K, -Z), every codec,
// a broker restart, then kcat reads each topic back (-e) through a format string that carries key and
// value lengths, so nulls, empties and bytes are compared exactly. kcat's line mode cannot express the
// whole scheme; records.ts's kcatProfile says what it leaves out. See docs/interop.md.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { run } from '../helpers/run.js';
import { codecs, recordCount, requireAll, skipUnless, targetName, tool, withBrokerLogs } from './harness.js';
import { consumeFormat, kcatInput, parseKcatOutput } from './kcat-format.js';
import { kcatProfile, newRun, topicName, verifyRecords } from './records.js';

const requirements = [tool('kcat', 'apt-get install kcat')];

describe(`interop: kcat (librdkafka) against ${targetName()}`, { skip: skipUnless(requirements) }, () => {
  let broker: BrokerHandle | undefined;

  before(async () => {
    requireAll(requirements);
    broker = await startTarget();
  });

  after(async () => {
    await broker?.destroy();
  });

  test(`${recordCount} lines per codec survive a restart byte for byte`, { timeout: 240_000 }, async (t) => {
    const b = broker!;
    await withBrokerLogs(b, async () => {
      const { runId } = newRun();
      const input = kcatInput(recordCount);
      const sentFrom = Date.now();
      let produceMs = 0;
      for (const codec of codecs) {
        const topic = topicName('kcat', codec, runId);
        const r = await run(
          'kcat',
          ['-P', '-b', b.bootstrap, '-t', topic, '-K', '\\t', '-Z', '-H', 'src=kcat']
            .concat(['-X', `compression.codec=${codec}`, '-X', 'enable.idempotence=true', '-X', 'acks=all'])
            .concat(['-X', 'linger.ms=5']),
          { input, timeoutMs: 120_000 },
        );
        produceMs += r.ms;
      }
      const sentTo = Date.now();
      const t0 = Date.now();
      await b.restart();
      const restartMs = Date.now() - t0;
      let consumeMs = 0;
      for (const codec of codecs) {
        const topic = topicName('kcat', codec, runId);
        const r = await run(
          'kcat',
          ['-C', '-b', b.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q'].concat([
            '-f',
            consumeFormat,
          ]),
          {
            timeoutMs: 120_000,
          },
        );
        consumeMs += r.ms;
        const records = parseKcatOutput(r.stdoutBytes);
        const summary = verifyRecords(records, recordCount, 0, kcatProfile);
        assert.ok(summary.ok, `${codec}: ${JSON.stringify(summary)}\n${r.stderr.slice(-2000)}`);
        // kcat stamps the send time (CreateTime): it must come back as sent.
        const stray = records.find((x) => x.timestamp < sentFrom - 1000 || x.timestamp > sentTo + 1000);
        assert.equal(
          stray,
          undefined,
          `${codec}: timestamp outside the produce window [${sentFrom}, ${sentTo}]`,
        );
      }
      t.diagnostic(
        `kcat: ${recordCount} records x ${codecs.join(',')}: produce ${produceMs} ms, restart ${restartMs} ms, consume ${consumeMs} ms`,
      );
    });
  });
});
