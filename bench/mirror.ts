// Mirror throughput, Samsa to Samsa on this machine: two brokers (separate processes), a topic filled by
// `samsa perf produce` (1 KiB records by default, batch.size 16384), then the mirror (in this process) copies
// it all; the time runs from the mirror's start to the last record acknowledged by the target.
//
//   npm run build && node dist/bench/mirror.js [--records 300000] [--record-size 1024] [--partitions 6]
//                                              [--exactly-once] [--batch-size 16384]

import { Mirror } from '../src/pipeline/mirror.js';
import { startBroker } from '../test/helpers/broker.js';
import { repoRoot, run } from '../test/helpers/run.js';
import { Args } from './lib/args.js';

const count = { positive: true, integer: true };
const { records, size, partitions, batchSize, exactlyOnce } = new Args().parse(
  'Usage: node dist/bench/mirror.js [--records 300000] [--record-size 1024] [--partitions 6]\n' +
    '                                 [--exactly-once] [--batch-size 16384]',
  (a) => ({
    records: a.num('--records', 300_000, count),
    size: a.num('--record-size', 1024, count),
    partitions: a.num('--partitions', 6, count),
    batchSize: a.num('--batch-size', 16_384, count),
    exactlyOnce: a.flag('--exactly-once'),
  }),
);

/** records/s from `samsa perf produce --json` output (its last JSON line). */
function fillRate(stdout: string): number {
  const last = stdout.trim().split('\n').pop() ?? '{}';
  const j = JSON.parse(last) as Record<string, unknown>;
  return Number(j.recordsPerSec ?? j.records_per_sec ?? j.rate ?? Number.NaN);
}
const txn = {
  'transaction.state.log.num.partitions': '3',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'offsets.topic.num.partitions': '3',
  'offsets.topic.replication.factor': '1',
};
const [a, b] = await Promise.all([startBroker({ overrides: txn }), startBroker({ overrides: txn })]);
try {
  const fill = await run(
    process.execPath,
    [
      `${repoRoot()}/bin/samsa.js`,
      'perf',
      'produce',
      '--bootstrap-server',
      a.bootstrap,
      '--topic',
      'bench',
      '--partitions',
      String(partitions),
      '--records',
      String(records),
      '--record-size',
      String(size),
      '--batch-size',
      String(batchSize),
      '--json',
    ],
    { timeoutMs: 600_000 },
  );
  const mirror = new Mirror({
    source: a.bootstrap,
    target: b.bootstrap,
    filter: { topics: /bench/, exclude: null, renameFormat: '{topic}', sourceAlias: 'source' },
    groupId: 'bench-mirror',
    exactlyOnce,
    transactionalId: 'bench-mirror',
    metadataMaxAgeMs: 30_000,
    commitIntervalMs: 1000,
    replicationFactor: -1,
    transactionTimeoutMs: 60_000,
    retryBackoffMs: 500,
    fetch: { maxWaitMs: 500, minBytes: 1, maxBytes: 50 * 1024 * 1024, partitionMaxBytes: 1024 * 1024 },
    clientId: 'bench-mirror',
  });
  const began = process.hrtime.bigint();
  const done = mirror.run();
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (mirror.stats.records >= records) {
        clearInterval(t);
        resolve();
      }
    }, 5);
  });
  const secs = Number(process.hrtime.bigint() - began) / 1e9;
  mirror.stop();
  await done;
  const mib = (mirror.stats.bytes / 1024 / 1024 / secs).toFixed(1);
  const payload = ((records * size) / 1024 / 1024 / secs).toFixed(1);
  process.stdout.write(
    `${JSON.stringify({
      records,
      recordSize: size,
      partitions,
      exactlyOnce,
      seconds: Number(secs.toFixed(2)),
      // The same machine's `samsa perf produce` filling the source just before, for scale.
      sourceFillRecordsPerSec: Math.round(fillRate(fill.stdout)),
      recordsPerSec: Math.round(records / secs),
      batchMiBPerSec: Number(mib),
      payloadMiBPerSec: Number(payload),
    })}\n`,
  );
} finally {
  await Promise.all([a.destroy(), b.destroy()]);
}
