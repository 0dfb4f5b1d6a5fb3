// The Prometheus alert rules (config/prometheus/samsa-alerts.yml): promtool checks them and runs their unit
// tests (samsa-alerts.test.yml), then a real Prometheus, with its own config and data dir on a free port, scrapes
// a broker process: the target is up, samsa metrics arrive with the values the broker has, every rule evaluates
// without error against them (only the lagging group's alert is pending), and stopping the broker makes
// SamsaBrokerDown pending.
//
// Needs promtool and prometheus (Debian's `prometheus` package, installed by .ci/run). Without them the suite is
// skipped, except in CI (CI=true), where it fails.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { commit } from '../coordinator/group-client.js';
import { type BrokerHandle, freePort, startBroker } from '../helpers/broker.js';
import { type Running, repoRoot, run, start, which } from '../helpers/run.js';

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const promtool = which('promtool');
const prometheusBin = which('prometheus');
const missing = [
  ...(promtool === undefined ? ['promtool'] : []),
  ...(prometheusBin === undefined ? ['prometheus'] : []),
];
const skip =
  !inCi && missing.length > 0 ? `${missing.join(' and ')} not on PATH (Debian package prometheus)` : false;

const rulesDir = path.join(repoRoot(), 'config', 'prometheus');
const rulesFile = path.join(rulesDir, 'samsa-alerts.yml');

function need(bin: string | undefined, name: string): string {
  if (bin === undefined) throw new Error(`${name} is not on PATH: install Debian's prometheus package`);
  return bin;
}

describe('Prometheus alert rules: promtool', { skip }, () => {
  it('promtool check rules accepts samsa-alerts.yml', async () => {
    const r = await run(need(promtool, 'promtool'), ['check', 'rules', rulesFile]);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires on its unit-test series and only then', async () => {
    const r = await run(need(promtool, 'promtool'), ['test', 'rules', 'samsa-alerts.test.yml'], {
      cwd: rulesDir,
    });
    assert.match(r.stdout, /SUCCESS/);
  });
});

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

describe('Prometheus alert rules: a real Prometheus scraping a broker', { skip }, () => {
  let broker: BrokerHandle | undefined;
  let prom: Running | undefined;
  let promDir = '';
  let promUrl = '';
  let metricsPort = 0;

  async function api<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${promUrl}${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    assert.equal(body.status, 'success', `${pathAndQuery}: ${body.error ?? res.status}`);
    return body.data;
  }

  async function query(q: string): Promise<QueryResult[]> {
    const data = await api<{ resultType: string; result: QueryResult[] }>(
      `/api/v1/query?query=${encodeURIComponent(q)}`,
    );
    return data.result;
  }

  /** Polls cond (every 200 ms) until it holds; fails with Prometheus' output after timeoutMs. */
  async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (await cond()) return;
      } catch {
        // Not ready yet (Prometheus starting up, no sample yet).
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not within ${timeoutMs} ms\n--- prometheus ---\n${prom?.stderr().slice(-4000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    metricsPort = await freePort();
    broker = await startBroker({
      overrides: { 'metrics.http.port': String(metricsPort), 'group.initial.rebalance.delay.ms': '0' },
    });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    try {
      await createTopic(cluster, 'watched', { partitions: 1 });
      const producer = Producer.on(cluster);
      await producer.send(
        'watched',
        Array.from({ length: 10 }, (_, i) => ({ value: `r${i}`, partition: 0 })),
      );
      const res = await commit(cluster.bootstrap, 'watchers', [
        { topic: 'watched', partition: 0, offset: 3 },
      ]);
      assert.equal(res.topics[0]?.partitions[0]?.errorCode, 0);
    } finally {
      cluster.close();
    }

    promDir = mkdtempSync(path.join(tmpdir(), 'samsa-prometheus-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(rulesFile)}`,
      'scrape_configs:',
      '  - job_name: samsa',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${metricsPort}"]`,
      '',
    ].join('\n');
    writeFileSync(path.join(promDir, 'prometheus.yml'), config);
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = start(
      need(prometheusBin, 'prometheus'),
      [
        `--config.file=${path.join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { timeoutMs: 600_000, allowFailure: true },
    );
    await until('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok);
  });

  after(async () => {
    if (prom !== undefined) {
      prom.kill('SIGTERM');
      await prom.done.catch(() => {});
    }
    await broker?.destroy();
    if (promDir !== '') rmSync(promDir, { recursive: true, force: true });
  });

  it('the broker target is up and its samsa metrics arrive with the broker’s values', {
    timeout: 60_000,
  }, async () => {
    await until('target up', async () => (await query('up{job="samsa"}'))[0]?.value[1] === '1');
    const targets = await api<{ activeTargets: { health: string; scrapeUrl: string }[] }>('/api/v1/targets');
    assert.deepEqual(
      targets.activeTargets.map((t) => [t.health, t.scrapeUrl]),
      [['up', `http://127.0.0.1:${metricsPort}/metrics`]],
    );
    const one = async (q: string): Promise<number> => {
      const r = await query(q);
      assert.equal(r.length, 1, `${q}: ${JSON.stringify(r)}`);
      return Number(r[0]!.value[1]);
    };
    await until('samsa metrics', async () => (await query('samsa_partition_log_end_offset')).length > 0);
    assert.equal(await one('samsa_partition_log_end_offset{topic="watched",partition="0"}'), 10);
    assert.equal(await one('samsa_consumer_group_lag{group="watchers",topic="watched",partition="0"}'), 7);
    assert.equal(await one('samsa_under_replicated_partitions{job="samsa"}'), 0);
    assert.ok((await one(`samsa_log_dir_free_bytes{dir=${JSON.stringify(broker!.dataDir)}}`)) > 0);
    assert.ok((await one('sum(samsa_requests_total{api="Produce"})')) >= 1);
    assert.ok((await one('process_resident_memory_bytes{job="samsa"}')) > 0);
  });

  it('every rule evaluates against the scraped series without error', { timeout: 60_000 }, async () => {
    type Rules = {
      groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
    };
    let rules: Rules = { groups: [] };
    await until('rules evaluated', async () => {
      rules = await api<Rules>('/api/v1/rules');
      return (
        rules.groups.length > 0 && rules.groups.every((g) => g.rules.every((r) => r.health !== 'unknown'))
      );
    });
    const bad = rules.groups.flatMap((g) =>
      g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name}: ${r.health} ${r.lastError}`),
    );
    assert.deepEqual(bad, []);
    assert.ok(rules.groups.flatMap((g) => g.rules).length >= 10);
    // Before the first scrape SamsaBrokerMetricsAbsent is pending; the evaluations after it clear it. What
    // stays is the one alert this broker deserves: group watchers committed once and is 7 records behind.
    const expected = 'SamsaConsumerGroupStalled pending group=watchers topic=watched';
    let raised: string[] = [];
    await until(
      'only SamsaConsumerGroupStalled pending',
      async () => {
        const { alerts } = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>(
          '/api/v1/alerts',
        );
        raised = alerts.map(
          (a) => `${a.labels.alertname} ${a.state} group=${a.labels.group} topic=${a.labels.topic}`,
        );
        return raised.length === 1 && raised[0] === expected;
      },
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nalerts: ${raised.join('; ')}`);
    });
  });

  it('stopping the broker makes SamsaBrokerDown pending', { timeout: 60_000 }, async () => {
    await broker!.stop('SIGTERM');
    await until('SamsaBrokerDown pending', async () => {
      const { alerts } = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>(
        '/api/v1/alerts',
      );
      return alerts.some((a) => a.labels.alertname === 'SamsaBrokerDown' && a.state === 'pending');
    });
    assert.equal((await query('up{job="samsa"}'))[0]?.value[1], '0');
  });
});
