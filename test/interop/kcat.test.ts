// Interop with kcat (librdkafka's command-line client): lines with keys in (-K, -Z), every codec,
// a broker restart, then kcat reads each topic back (-e) through a format string that carries key and
// value lengths, so nulls, empties and bytes are compared exactly. kcat's line mode cannot express the
// whole scheme; records.ts's kcatProfile says what it leaves out. See docs/interop.md.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type BrokerHandle, startTarget } from '../helpers/broker.js';
import { run } from '../helpers/run.js';
import { codecs, recordCount, requireAll, skipUnless, targetName, tool, withBrokerLogs } from './harness.js';
import {
  type Header,
  kcatProfile,
  newRun,
  type ReadRecord,
  recordOf,
  topicName,
  verifyRecords,
} from './records.js';

const requirements = [tool('kcat', 'apt-get install kcat')];

/** kcat -P input: "key<TAB>value" per record; no tab means a null key, nothing after it a null value (-Z). */
function kcatInput(count: number): Buffer {
  const parts: Buffer[] = [];
  const tab = Buffer.from('\t');
  const nl = Buffer.from('\n');
  for (let i = 0; i < count; i++) {
    const r = recordOf(i, 0, kcatProfile);
    if (r.key !== null) parts.push(r.key, tab);
    if (r.value !== null) parts.push(r.value);
    parts.push(nl);
  }
  return Buffer.concat(parts);
}

const consumeFormat = '%o\\t%T\\t%K\\t%k\\t%S\\t%s\\t%h\\n';

/** Parses kcat -f output made with consumeFormat; lengths (-1 for null) delimit key and value. */
function parseKcatOutput(out: Buffer): ReadRecord[] {
  const records: ReadRecord[] = [];
  let pos = 0;
  const field = (end: number): string => {
    const stop = out.indexOf(end, pos);
    if (stop < 0) throw new Error(`kcat output truncated at byte ${pos}`);
    const s = out.subarray(pos, stop).toString('utf8');
    pos = stop + 1;
    return s;
  };
  const bytes = (len: number): Buffer | null => {
    if (len < 0) {
      pos += 1; // the tab after an empty field
      return null;
    }
    const b = Buffer.from(out.subarray(pos, pos + len));
    pos += len + 1;
    return b;
  };
  while (pos < out.length) {
    const offset = Number(field(0x09));
    const timestamp = Number(field(0x09));
    const key = bytes(Number(field(0x09)));
    const value = bytes(Number(field(0x09)));
    const h = field(0x0a);
    const headers: Header[] =
      h === ''
        ? []
        : h.split(',').map((kv) => {
            const eq = kv.indexOf('=');
            return [kv.slice(0, eq), Buffer.from(kv.slice(eq + 1))] as const;
          });
    records.push({ offset, timestamp, key, value, headers });
  }
  return records;
}

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
