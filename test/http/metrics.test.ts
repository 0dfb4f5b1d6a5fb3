// GET /metrics on a live broker, parsed with a strict Prometheus text parser: request and error counters,
// latency histograms, per-topic traffic, partition gauges read at scrape time, connections, long polls,
// recompression, log-dir disk space and the process/event-loop defaults.

import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import * as http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { alterConfigs, createTopic, ResourceType } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { GroupConsumer } from '../../src/client/group.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { type Family, parsePrometheusText, sampleValue } from './prometheus-text.js';

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
        );
      })
      .on('error', reject);
  });
}

describe('/metrics', () => {
  let b: InProcessBroker;
  let cluster: Cluster;
  let port = 0;
  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await get(port, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(res.body);
  };

  before(async () => {
    b = await startInProcess({ 'metrics.http.port': '0', 'group.initial.rebalance.delay.ms': '0' });
    port = b.broker.metricsHttpPort;
    assert.ok(port > 0);
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'm1', { partitions: 2 });
  });
  after(async () => {
    cluster.close();
    await b.stop(true);
  });

  it('is off by default and 404s other paths', async () => {
    const off = await startInProcess();
    assert.equal(off.broker.metricsHttpPort, -1);
    await off.stop(true);
    assert.equal((await get(port, '/')).status, 404);
  });

  it('counts requests, errors, traffic, and reads partition state at scrape time', async () => {
    const producer = Producer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }));
    const meta = await producer.send(
      'm1',
      Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i % 2 })),
    );
    await producer.close();
    assert.equal(meta.length, 10);
    // A produce to a missing topic: an error code in the response.
    const bad = await cluster.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'nope',
          partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: 'x' }] }) }],
        },
      ],
    });
    assert.equal(bad.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    // A consumer that reads everything, then parks on a long poll.
    const consumer = Consumer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }), {
      maxWaitMs: 200,
    });
    await consumer.assign('m1', 'all', 'earliest');
    let got = 0;
    for (let i = 0; i < 5 && got < 10; i++) got += (await consumer.poll()).length;
    assert.equal(got, 10);
    assert.deepEqual(await consumer.poll(), []);
    await consumer.close();

    const m = await scrape();
    const produceV = String(cluster.bootstrap.version(ApiKey.Produce));
    assert.ok(sampleValue(m, 'samsa_requests_total', { api: 'Produce', version: produceV }) >= 2);
    assert.equal(
      sampleValue(m, 'samsa_request_errors_total', {
        api: 'Produce',
        version: produceV,
        error: 'UNKNOWN_TOPIC_OR_PARTITION',
      }),
      1,
    );
    assert.ok(
      sampleValue(
        m,
        'samsa_request_duration_seconds',
        { api: 'Produce', le: '+Inf' },
        'samsa_request_duration_seconds_bucket',
      ) >= 2,
    );
    assert.equal(sampleValue(m, 'samsa_topic_records_in_total', { topic: 'm1' }), 10);
    assert.equal(sampleValue(m, 'samsa_topic_records_out_total', { topic: 'm1' }), 10);
    const bytesIn = sampleValue(m, 'samsa_topic_bytes_in_total', { topic: 'm1' });
    const size0 = b.broker.topics.partition('m1', 0)?.log.sizeBytes ?? -1;
    const size1 = b.broker.topics.partition('m1', 1)?.log.sizeBytes ?? -1;
    assert.equal(bytesIn, size0 + size1);
    assert.equal(sampleValue(m, 'samsa_topic_bytes_out_total', { topic: 'm1' }), bytesIn);
    assert.equal(sampleValue(m, 'samsa_partition_log_size_bytes', { topic: 'm1', partition: '0' }), size0);
    assert.equal(sampleValue(m, 'samsa_partition_log_end_offset', { topic: 'm1', partition: '1' }), 5);
    assert.equal(sampleValue(m, 'samsa_partition_high_watermark', { topic: 'm1', partition: '1' }), 5);
    assert.equal(sampleValue(m, 'samsa_partition_log_start_offset', { topic: 'm1', partition: '1' }), 0);
    assert.ok(sampleValue(m, 'samsa_connections') >= 1);
    assert.ok(sampleValue(m, 'samsa_connections_accepted_total') >= 3);
    assert.ok(sampleValue(m, 'samsa_fetch_long_poll_waits_total') >= 1);
    assert.ok(
      sampleValue(m, 'samsa_fetch_long_poll_wait_seconds', {}, 'samsa_fetch_long_poll_wait_seconds_sum') >=
        0.15,
    );
    assert.ok(sampleValue(m, 'samsa_queued_request_bytes_peak') > 0);
    assert.ok(sampleValue(m, 'process_resident_memory_bytes') > 0);
    assert.ok(m.has('nodejs_eventloop_lag_seconds'));
    assert.equal(m.get('samsa_requests_total')?.type, 'counter');
    assert.equal(m.get('samsa_request_duration_seconds')?.type, 'histogram');
  });

  it('reports consumer group lag from committed offsets', async () => {
    const g = await GroupConsumer.join(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }), {
      groupId: 'lagging',
      topics: ['m1'],
      autoOffsetReset: 'earliest',
      maxWaitMs: 100,
    });
    let seen = 0;
    for (let i = 0; i < 10 && seen < 2; i++) {
      for (const r of await g.poll()) {
        if (r.partition === 1 && seen < 2) {
          g.markConsumed(r);
          seen++;
        }
      }
    }
    await g.close();
    const m = await scrape();
    const hw = b.broker.topics.partition('m1', 1)?.log.highWatermark ?? -1;
    assert.equal(
      sampleValue(m, 'samsa_consumer_group_committed_offset', {
        group: 'lagging',
        topic: 'm1',
        partition: '1',
      }),
      2,
    );
    assert.equal(
      sampleValue(m, 'samsa_consumer_group_lag', { group: 'lagging', topic: 'm1', partition: '1' }),
      hw - 2,
    );
  });

  it('counts closed connections by reason and recompressed batches by topic', async () => {
    const conn = await b.connect();
    const size = Buffer.alloc(4);
    size.writeInt32BE(0x7fffffff);
    conn.writeRaw(size);
    await conn.closed();
    await alterConfigs(cluster, ResourceType.TOPIC, 'm1', { set: { 'compression.type': 'zstd' } });
    const producer = Producer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }));
    await producer.send('m1', [{ value: 'squeeze me', partition: 0 }]);
    await producer.close();
    const m = await scrape();
    assert.equal(sampleValue(m, 'samsa_connections_closed_total', { reason: 'oversized' }), 1);
    assert.equal(sampleValue(m, 'samsa_produce_recompressed_batches_total', { topic: 'm1' }), 1);
  });

  it('reports the free and total bytes of each log dir (statfs) and no under-replicated partitions', async () => {
    const m = await scrape();
    const st = statfsSync(b.dataDir);
    const free = sampleValue(m, 'samsa_log_dir_free_bytes', { dir: b.dataDir });
    const size = sampleValue(m, 'samsa_log_dir_size_bytes', { dir: b.dataDir });
    assert.equal(size, st.blocks * st.bsize);
    // Other processes write to the same file system between the two statfs calls.
    assert.ok(Math.abs(free - st.bavail * st.bsize) < 256 * 1024 * 1024, `free ${free}`);
    assert.ok(free > 0 && free <= size);
    assert.equal(sampleValue(m, 'samsa_under_replicated_partitions'), 0);
  });
});

describe('prometheus text parser (strict)', () => {
  it('rejects what Prometheus rejects', () => {
    const bad = [
      'x 1', // no trailing newline
      'bad-name 1\n',
      'x{a="1",a="2"} 1\n',
      'x{a=1} 1\n',
      'x 1\ny 2\nx 3\n',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE c counter\nc -1\n',
      'x 1\nx 2\n',
    ];
    for (const text of bad) assert.throws(() => parsePrometheusText(text), Error, JSON.stringify(text));
    const good = parsePrometheusText(
      '# HELP h help\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3.5\nh_count 2\nx{a="q\\"\\n"} 1e3\n',
    );
    assert.equal(sampleValue(good, 'x', { a: 'q"\n' }), 1000);
  });
});
