// Client quotas enforced on a real broker process, measured. A producer and a consumer (Samsa's own connection,
// which ignores throttle_time_ms and keeps requests in flight: only the broker's muting holds it back) run ~17 s
// each under a 1 MiB/s quota on their client id (producer_byte_rate, consumer_byte_rate).
//
// What is asserted is what Kafka's quota promises: the rate over a window of quota.window.num samples
// (11 x 1 s, the defaults) is the quota. With the sampled rate a greedy client gets the quota window's allowance
// at once when the oldest sample expires (every 11 s), then is throttled; so the achieved rate is measured over
// one 11 s window in the steady part, [5.5 s, 16.5 s] after the first answer (it holds one such refill), and must
// be within 10% of the quota. Throttled answers carry throttle_time_ms > 0; a throttled fetch is empty.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { alterClientQuotas } from '../../src/client/quotas.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const QUOTA = 1048576;
const RUN_MS = 17_000;
const WINDOW = [5_500, 16_500] as const;
const RECORD = Buffer.alloc(1000, 7);

function batch(records: number): Buffer {
  return encodeRecordBatch({ records: Array.from({ length: records }, () => ({ value: RECORD })) });
}

/** Bytes answered within [from, to) ms after the first answer, per second, as a fraction of the quota. */
function ratio(samples: readonly { at: number; bytes: number }[]): number {
  const t0 = samples[0]?.at ?? 0;
  let bytes = 0;
  for (const s of samples) if (s.at - t0 >= WINDOW[0] && s.at - t0 < WINDOW[1]) bytes += s.bytes;
  return bytes / ((WINDOW[1] - WINDOW[0]) / 1000) / QUOTA;
}

describe('client quotas enforced (measured)', { timeout: 120_000 }, () => {
  let broker: BrokerHandle;
  let cluster: Cluster;

  before(async () => {
    broker = await startBroker();
    cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 'quota-produce', { partitions: 1 });
    await createTopic(cluster, 'quota-consume', { partitions: 1 });
    await alterClientQuotas(cluster, [
      { entity: { 'client-id': 'quota-producer' }, set: { producer_byte_rate: QUOTA } },
      { entity: { 'client-id': 'quota-consumer' }, set: { consumer_byte_rate: QUOTA } },
    ]);
  });

  after(async () => {
    cluster?.close();
    await broker?.destroy();
  });

  it('producer_byte_rate holds a producer to its quota', async () => {
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: broker.port,
      clientId: 'quota-producer',
      timeoutMs: 60_000,
    });
    const records = batch(64);
    const samples: { at: number; bytes: number }[] = [];
    let throttled = 0;
    let maxThrottle = 0;
    const start = performance.now();
    const worker = async () => {
      while (performance.now() - start < RUN_MS) {
        const res = await conn.request<ProduceResponse>(
          ApiKey.Produce,
          {
            transactionalId: null,
            acks: 1,
            timeoutMs: 30_000,
            topicData: [{ name: 'quota-produce', partitionData: [{ index: 0, records }] }],
          },
          9,
        );
        assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, 0);
        samples.push({ at: performance.now(), bytes: records.length });
        if (res.throttleTimeMs > 0) throttled++;
        maxThrottle = Math.max(maxThrottle, res.throttleTimeMs);
      }
    };
    try {
      await Promise.all([worker(), worker(), worker(), worker(), worker()]);
    } finally {
      conn.close();
    }
    const r = ratio(samples);
    console.log(
      `producer: ${(r * QUOTA) / 1048576} MiB/s over [${WINDOW}] ms = ${r.toFixed(3)} x quota; ${throttled} throttled answers (max ${maxThrottle} ms)`,
    );
    assert.ok(throttled > 0, 'some answers carry throttle_time_ms > 0');
    assert.ok(r >= 0.9 && r <= 1.1, `achieved ${r.toFixed(3)} x the quota`);
  });

  it('consumer_byte_rate holds a consumer to its quota; throttled fetches are empty', async () => {
    // Enough data for the whole run, written by a client without a quota.
    const writer = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: broker.port,
      clientId: 'filler',
    });
    const records = batch(256);
    try {
      for (let written = 0; written < 40 * 1048576; written += records.length) {
        const res = await writer.request<ProduceResponse>(
          ApiKey.Produce,
          {
            transactionalId: null,
            acks: 1,
            timeoutMs: 30_000,
            topicData: [{ name: 'quota-consume', partitionData: [{ index: 0, records }] }],
          },
          9,
        );
        assert.equal(res.throttleTimeMs, 0);
      }
    } finally {
      writer.close();
    }
    const conn = await KafkaConnection.connect({
      host: '127.0.0.1',
      port: broker.port,
      clientId: 'quota-consumer',
      timeoutMs: 60_000,
    });
    const samples: { at: number; bytes: number }[] = [];
    let throttled = 0;
    let offset = 0;
    const start = performance.now();
    try {
      while (performance.now() - start < RUN_MS) {
        const res = await conn.request<FetchResponse>(
          ApiKey.Fetch,
          {
            replicaId: -1,
            maxWaitMs: 500,
            minBytes: 1,
            maxBytes: 50 * 1048576,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [
              {
                topic: 'quota-consume',
                partitions: [
                  {
                    partition: 0,
                    currentLeaderEpoch: -1,
                    fetchOffset: offset,
                    lastFetchedEpoch: -1,
                    logStartOffset: -1,
                    partitionMaxBytes: 1048576,
                  },
                ],
              },
            ],
            forgottenTopicsData: [],
            rackId: '',
          },
          12,
        );
        assert.equal(res.errorCode, 0);
        const p = res.responses[0]?.partitions[0];
        const bytes = p?.records?.length ?? 0;
        if (res.throttleTimeMs > 0) {
          throttled++;
          assert.equal(bytes, 0, 'a throttled fetch carries no records');
          continue;
        }
        assert.equal(p?.errorCode, 0);
        if (bytes === 0) continue;
        samples.push({ at: performance.now(), bytes });
        // Whole batches of 256 records each.
        offset += (bytes / records.length) * 256;
      }
    } finally {
      conn.close();
    }
    const r = ratio(samples);
    console.log(
      `consumer: ${(r * QUOTA) / 1048576} MiB/s over [${WINDOW}] ms = ${r.toFixed(3)} x quota; ${throttled} throttled fetches`,
    );
    assert.ok(throttled > 0, 'some fetches were throttled');
    assert.ok(r >= 0.9 && r <= 1.1, `achieved ${r.toFixed(3)} x the quota`);
  });
});
