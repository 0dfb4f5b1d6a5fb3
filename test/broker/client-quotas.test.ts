// AlterClientQuotas / DescribeClientQuotas against a real broker (in this process, real sockets and data folder):
// entities of every kind (user, client id, both, defaults), filters (exact, default, specified, strict),
// validate_only, Kafka's errors, and the quotas surviving a restart (the local metadata store). The precedence
// (KIP-55) is checked on the broker's quota cache the enforcement uses.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { alterClientQuotas, describeClientQuotas } from '../../src/client/quotas.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const sortKey = (e: { entity: Record<string, string | null> }) =>
  JSON.stringify(Object.entries(e.entity).sort());

describe('client quotas: AlterClientQuotas and DescribeClientQuotas', () => {
  let b: InProcessBroker;
  let cluster: Cluster;

  before(async () => {
    b = await startInProcess();
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
  });

  after(async () => {
    cluster?.close();
    await b?.stop(true);
  });

  it('advertises DescribeClientQuotas and AlterClientQuotas at v0-1', async () => {
    const conn = await b.connect();
    try {
      assert.equal(conn.version(ApiKey.DescribeClientQuotas), 1);
      assert.equal(conn.version(ApiKey.AlterClientQuotas), 1);
    } finally {
      conn.close();
    }
  });

  it('stores quotas of users, clients, both and the defaults, and describes them by filter', async () => {
    await alterClientQuotas(cluster, [
      { entity: { user: 'alice' }, set: { producer_byte_rate: 1048576, consumer_byte_rate: 2097152 } },
      { entity: { user: null }, set: { request_percentage: 200 } },
      { entity: { 'client-id': 'app' }, set: { producer_byte_rate: 4096 } },
      { entity: { 'client-id': null }, set: { consumer_byte_rate: 8192 } },
      { entity: { user: 'alice', 'client-id': 'app' }, set: { producer_byte_rate: 512 } },
      { entity: { user: null, 'client-id': null }, set: { controller_mutation_rate: 10.5 } },
    ]);
    const all = await describeClientQuotas(cluster, [], false);
    assert.equal(all.length, 6);

    const alice = await describeClientQuotas(cluster, [{ entityType: 'user', match: 'alice' }], true);
    assert.deepEqual(alice, [
      { entity: { user: 'alice' }, values: { producer_byte_rate: 1048576, consumer_byte_rate: 2097152 } },
    ]);
    const aliceAny = await describeClientQuotas(cluster, [{ entityType: 'user', match: 'alice' }], false);
    assert.deepEqual(
      aliceAny.map(sortKey).sort(),
      [
        sortKey({ entity: { user: 'alice' } }),
        sortKey({ entity: { user: 'alice', 'client-id': 'app' } }),
      ].sort(),
    );
    const userDefault = await describeClientQuotas(cluster, [{ entityType: 'user', match: null }], true);
    assert.deepEqual(userDefault, [{ entity: { user: null }, values: { request_percentage: 200 } }]);
    const anyClient = await describeClientQuotas(cluster, [{ entityType: 'client-id' }], true);
    assert.deepEqual(
      anyClient.map(sortKey).sort(),
      [sortKey({ entity: { 'client-id': 'app' } }), sortKey({ entity: { 'client-id': null } })].sort(),
    );
    const both = await describeClientQuotas(
      cluster,
      [{ entityType: 'user' }, { entityType: 'client-id', match: null }],
      true,
    );
    assert.deepEqual(both, [
      { entity: { user: null, 'client-id': null }, values: { controller_mutation_rate: 10.5 } },
    ]);
  });

  it('applies KIP-55 precedence for the enforcement', () => {
    const q = b.broker.clientQuotas;
    // user + client id beats user beats client id
    assert.deepEqual(q.quotaFor('producer_byte_rate', 'alice', 'app'), {
      bound: 512,
      user: 'alice',
      clientId: 'app',
    });
    assert.deepEqual(q.quotaFor('producer_byte_rate', 'alice', 'other'), {
      bound: 1048576,
      user: 'alice',
      clientId: '',
    });
    // bob: no user quota for produce -> /config/clients/app
    assert.deepEqual(q.quotaFor('producer_byte_rate', 'bob', 'app'), {
      bound: 4096,
      user: '',
      clientId: 'app',
    });
    assert.equal(q.quotaFor('producer_byte_rate', 'bob', 'other'), null);
    // the users' default (request_percentage) before the clients' default
    assert.deepEqual(q.quotaFor('request_percentage', 'bob', 'x'), { bound: 200, user: 'bob', clientId: '' });
    assert.deepEqual(q.quotaFor('consumer_byte_rate', 'bob', 'x'), { bound: 8192, user: '', clientId: 'x' });
  });

  it('removes keys, and an entity without keys is no longer described', async () => {
    await alterClientQuotas(cluster, [
      { entity: { user: 'alice', 'client-id': 'app' }, remove: ['producer_byte_rate'] },
      { entity: { user: 'alice' }, remove: ['consumer_byte_rate'] },
    ]);
    const alice = await describeClientQuotas(cluster, [{ entityType: 'user', match: 'alice' }], false);
    assert.deepEqual(alice, [{ entity: { user: 'alice' }, values: { producer_byte_rate: 1048576 } }]);
  });

  it('validate_only checks and stores nothing', async () => {
    const res = await alterClientQuotas(
      cluster,
      [{ entity: { user: 'carol' }, set: { producer_byte_rate: 100 } }],
      { validateOnly: true },
    );
    assert.deepEqual(res, [{ errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.deepEqual(
      await describeClientQuotas(cluster, [{ entityType: 'user', match: 'carol' }], false),
      [],
    );
  });

  it('refuses what Kafka refuses, each entry alone', async () => {
    const res = await alterClientQuotas(
      cluster,
      [
        { entity: { user: 'dave' }, set: { not_a_quota: 1 } },
        { entity: { user: 'dave' }, set: { producer_byte_rate: 1.5 } },
        { entity: { group: 'g' }, set: { producer_byte_rate: 1 } },
        { entity: {}, set: { producer_byte_rate: 1 } },
        { entity: { ip: '10.0.0.1', user: 'dave' }, set: { connection_creation_rate: 1 } },
        { entity: { ip: '10.0.0.1' }, set: { producer_byte_rate: 1 } },
        { entity: { user: 'erin' }, set: { consumer_byte_rate: 1000 } },
      ],
      { throwOnError: false },
    );
    assert.deepEqual(
      res.map((r) => r.errorCode),
      [
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NONE,
      ],
    );
    assert.equal(res[0]?.errorMessage, 'Invalid configuration key not_a_quota');
    assert.equal(res[1]?.errorMessage, 'producer_byte_rate cannot be a fractional value.');
    // Bad filters fail the describe as a whole.
    await assert.rejects(
      describeClientQuotas(cluster, [{ entityType: 'user' }, { entityType: 'user', match: 'x' }], false),
      /INVALID_REQUEST/,
    );
    await assert.rejects(
      describeClientQuotas(cluster, [{ entityType: 'topic' }], false),
      /UNSUPPORTED_VERSION/,
    );
    await assert.rejects(
      describeClientQuotas(cluster, [{ entityType: 'ip' }, { entityType: 'user' }], false),
      /INVALID_REQUEST/,
    );
  });

  it('request_percentage throttles on handler time and mutes the connection (KIP-219)', async () => {
    // users/<default> (request_percentage 200, above) comes before clients/busy: the PLAINTEXT principal's own.
    const entity = { user: 'ANONYMOUS', 'client-id': 'busy' };
    await alterClientQuotas(cluster, [{ entity, set: { request_percentage: 1e-9 } }]);
    const busy = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'busy' });
    const other = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port, clientId: 'idle' });
    try {
      const first = await busy.request<MetadataResponse>(ApiKey.Metadata, { topics: [] }, 12);
      assert.ok(first.throttleTimeMs > 0, `throttle_time_ms ${first.throttleTimeMs}`);
      // Muted: the next request is not read while the throttle lasts.
      const second = busy.request<MetadataResponse>(ApiKey.Metadata, { topics: [] }, 12);
      second.catch(() => {});
      const winner = await Promise.race([second.then(() => 'answered'), sleep(1000).then(() => 'muted')]);
      assert.equal(winner, 'muted');
      // Another client id is not affected.
      const free = await other.request<MetadataResponse>(ApiKey.Metadata, { topics: [] }, 12);
      assert.equal(free.throttleTimeMs, 0);
    } finally {
      busy.close();
      other.close();
    }
    await alterClientQuotas(cluster, [{ entity, remove: ['request_percentage'] }]);
  });

  it('an old Produce version (< 6) gets its throttled response only after the throttle time; v9 at once', async () => {
    await createTopic(cluster, 'old-produce', { partitions: 1 });
    const entity = { user: 'ANONYMOUS', 'client-id': 'old-producer' };
    // ~10 KB against 900 B/s over the 10 s minimum window: over by ~12%, about 1.2 s of throttle.
    await alterClientQuotas(cluster, [{ entity, set: { producer_byte_rate: 900 } }]);
    const records = encodeRecordBatch({ records: [{ value: Buffer.alloc(10_000, 1) }] });
    const produce = async (version: number) => {
      const conn = await KafkaConnection.connect({
        host: '127.0.0.1',
        port: b.port,
        clientId: 'old-producer',
      });
      try {
        const t0 = performance.now();
        const res = await conn.request<ProduceResponse>(
          ApiKey.Produce,
          {
            transactionalId: null,
            acks: 1,
            timeoutMs: 10_000,
            topicData: [{ name: 'old-produce', partitionData: [{ index: 0, records }] }],
          },
          version,
        );
        return { throttleMs: res.throttleTimeMs, tookMs: performance.now() - t0 };
      } finally {
        conn.close();
      }
    };
    const old = await produce(5);
    assert.ok(old.throttleMs >= 500, `throttle ${old.throttleMs}`);
    assert.ok(
      old.tookMs >= old.throttleMs - 20,
      `v5 answered after ${old.tookMs} ms, throttle ${old.throttleMs}`,
    );
    const current = await produce(9);
    assert.ok(current.throttleMs >= 500, `throttle ${current.throttleMs}`);
    assert.ok(current.tookMs < current.throttleMs, `v9 answered after ${current.tookMs} ms`);
    await alterClientQuotas(cluster, [{ entity, remove: ['producer_byte_rate'] }]);
  });

  it('survives a restart', async () => {
    const before = (await describeClientQuotas(cluster, [], false)).map(sortKey).sort();
    cluster.close();
    b = await b.restart();
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    const afterRestart = await describeClientQuotas(cluster, [], false);
    assert.deepEqual(afterRestart.map(sortKey).sort(), before);
    assert.deepEqual(
      afterRestart.find((e) => sortKey(e) === sortKey({ entity: { user: 'alice' } }))?.values,
      { producer_byte_rate: 1048576 },
    );
    assert.deepEqual(b.broker.clientQuotas.quotaFor('request_percentage', 'bob', 'x'), {
      bound: 200,
      user: 'bob',
      clientId: '',
    });
  });
});
