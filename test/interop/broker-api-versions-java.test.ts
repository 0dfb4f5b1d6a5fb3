// Kafka 4.4's own BrokerApiVersionsCommand (org.apache.kafka.tools, from the kafka-tools 4.4.0 jar laid out
// by scripts/kafka-dist.sh) against a Samsa broker process: it prints, for every API the Kafka 4.4 client
// knows, the broker's range and the version both would use ("usable: N"). For every API Samsa implements,
// the maximum it advertises must be Kafka 4.4's, except the APIs listed in NOT_YET below (raised by other
// work; when one is raised, take it out of NOT_YET and the test checks it too).
//
// Skipped only when Java or Maven is missing (scripts/kafka-dist.sh exits 2 and says which); the first run
// downloads the jars from Maven Central into .cache/kafka/4.4.0 (later runs reuse them).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../src/broker/handlers/index.js';
import { apiSchemas } from '../../src/protocol/generated/apis.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { repoRoot, run, which } from '../helpers/run.js';

const KAFKA_VERSION = '4.4.0';

/**
 * Kafka 4.4's maxima that Samsa does not serve yet, with the maximum Samsa advertises today (none left: Produce,
 * Fetch and the transaction APIs were raised too). Every other API Samsa implements must advertise Kafka 4.4's max.
 */
const NOT_YET: ReadonlyMap<string, { samsa: number; kafka: number }> = new Map([]);

/** The ZooKeeper-era controller requests Samsa serves and Kafka 4 retired (LeaderAndIsr .. ControlledShutdown). */
const RETIRED_BY_KAFKA_4 = new Set([4, 5, 6, 7]);

/** The Kafka distribution's libs directory, or the reason there is none (Java or Maven missing). */
async function kafkaLibs(): Promise<{ libs: string } | { skip: string }> {
  if (which('java') === undefined)
    return { skip: 'java is not installed (apt-get install openjdk-17-jdk-headless)' };
  if (which('mvn') === undefined) return { skip: 'mvn is not installed (apt-get install maven)' };
  const r = await run('bash', [join(repoRoot(), 'scripts', 'kafka-dist.sh'), KAFKA_VERSION], {
    timeoutMs: 600_000,
    allowFailure: true,
  });
  if (r.code === 2 && /not found on PATH|Java .* found/.test(r.stderr)) return { skip: r.stderr.trim() };
  assert.equal(r.code, 0, `scripts/kafka-dist.sh ${KAFKA_VERSION} failed:\n${r.stderr}`);
  const libs = r.stdout.trim().split('\n').pop() ?? '';
  return { libs };
}

/** "Metadata(3): 0 to 13 [usable: 13]" lines of the command's output, by API name. */
function parseRanges(out: string): Map<string, { key: number; min: number; max: number; usable: number }> {
  const ranges = new Map<string, { key: number; min: number; max: number; usable: number }>();
  // "Name(key): min to max [usable: v]", or "Name(key): v [usable: v]" when min = max. APIs the broker does not
  // serve say UNSUPPORTED, and the ZooKeeper-era ones Kafka 4 retired "unusable: node too new": not listed here.
  const re = /^\s*(\w+)\((\d+)\): (\d+)(?: to (\d+))? \[usable: (\d+)\]/gm;
  for (const m of out.matchAll(re)) {
    ranges.set(m[1] as string, {
      key: Number(m[2]),
      min: Number(m[3]),
      max: Number(m[4] ?? m[3]),
      usable: Number(m[5]),
    });
  }
  return ranges;
}

describe(`Kafka ${KAFKA_VERSION}'s BrokerApiVersionsCommand against Samsa`, { timeout: 900_000 }, () => {
  let broker: BrokerHandle | undefined;
  let libs: string | undefined;
  let skipReason: string | undefined;

  before(async () => {
    const found = await kafkaLibs();
    if ('skip' in found) {
      skipReason = found.skip;
      return;
    }
    libs = found.libs;
    broker = await startBroker();
  });
  after(async () => {
    await broker?.destroy();
  });

  it("advertises Kafka 4.4's maximum for every API Samsa implements", async (t) => {
    if (skipReason !== undefined || libs === undefined || broker === undefined) {
      t.skip(`Java/Maven unavailable: ${skipReason}`);
      return;
    }
    const r = await run(
      'java',
      [
        '-cp',
        `${libs}/*`,
        'org.apache.kafka.tools.BrokerApiVersionsCommand',
        '--bootstrap-server',
        broker.bootstrap,
      ],
      { timeoutMs: 120_000, allowFailure: true },
    );
    assert.equal(r.code, 0, `BrokerApiVersionsCommand failed:\n${r.stdout}\n${r.stderr}`);
    const ranges = parseRanges(r.stdout);
    // Every API Samsa serves and the 4.4 client knows is in the output (a parse that missed some would pass).
    const served = handlers.filter((h) => !RETIRED_BY_KAFKA_4.has(h.apiKey)).map((h) => h.apiKey);
    assert.deepEqual(
      [...ranges.values()].map((v) => v.key).sort((a, b) => a - b),
      served.sort((a, b) => a - b),
      r.stdout,
    );

    const advertised = [...ranges.entries()].filter(([, v]) => v.max >= 0);
    const wrong: string[] = [];
    for (const [name, v] of advertised) {
      const kafkaMax = apiSchemas.get(v.key)?.maxVersion;
      if (kafkaMax === undefined) continue; // an API the 4.4 schemas retired (ZooKeeper-era controller requests)
      const pending = NOT_YET.get(name);
      const expected = pending === undefined ? kafkaMax : pending.samsa;
      if (pending !== undefined) assert.equal(pending.kafka, kafkaMax, `${name}: Kafka 4.4's max in NOT_YET`);
      if (v.max !== expected) wrong.push(`${name}(${v.key}): Samsa ${v.max}, expected ${expected}`);
      // The 4.4 client agrees: the version it would use is the broker's max.
      if (v.usable !== v.max) wrong.push(`${name}(${v.key}): usable ${v.usable} != max ${v.max}`);
    }
    assert.deepEqual(wrong, [], r.stdout);
    // The APIs of issue 12 are there and at Kafka 4.4's maxima.
    for (const [name, max] of [
      ['Metadata', 13],
      ['ListOffsets', 11],
      ['OffsetCommit', 10],
      ['OffsetFetch', 10],
      ['DescribeGroups', 6],
      ['DeleteGroups', 3],
      ['DescribeCluster', 2],
      ['DescribeLogDirs', 5],
      ['ApiVersions', 5],
      ['ListTransactions', 2],
      ['ListConfigResources', 1],
      ['AlterPartitionReassignments', 1],
    ] as const) {
      assert.equal(ranges.get(name)?.max, max, `${name} in:\n${r.stdout}`);
    }
  });
  it("Kafka 4.4's ConfigCommand lists group config resources (ListConfigResources v1)", async (t) => {
    if (skipReason !== undefined || libs === undefined || broker === undefined) {
      t.skip(`Java/Maven unavailable: ${skipReason}`);
      return;
    }
    const tool = (cls: string, ...args: string[]) =>
      run('java', ['-cp', `${libs}/*`, cls, '--bootstrap-server', broker?.bootstrap ?? '', ...args], {
        timeoutMs: 120_000,
      });
    const configs = 'org.apache.kafka.tools.ConfigCommand';
    await tool(
      configs,
      '--alter',
      '--entity-type',
      'groups',
      '--entity-name',
      'lcr-group',
      '--add-config',
      'consumer.session.timeout.ms=50000',
    );
    // Without --entity-name the tool asks the broker which groups have configs, then describes each.
    const described = await tool(configs, '--describe', '--entity-type', 'groups');
    assert.match(
      described.stdout,
      /Dynamic configs for group lcr-group are:\n\s+consumer\.session\.timeout\.ms=50000/,
    );
    // Client metrics subscriptions: none (ListConfigResources of type CLIENT_METRICS).
    const metrics = await tool('org.apache.kafka.tools.ClientMetricsCommand', '--list');
    assert.equal(metrics.stdout.trim(), '');
  });
});
