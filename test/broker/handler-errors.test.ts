// A handler that throws gets its request answered with UNKNOWN_SERVER_ERROR (KAFKA_STORAGE_ERROR for a storage
// failure) in every error field, over a real socket, and the connection keeps serving; it is closed only when the
// response of that version has no error field. The throwing handlers are test handlers registered on a second
// listener of a real in-process broker (the pipeline, codecs and sockets are the real ones). A second part checks
// that the error response of every implemented API and version encodes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorResponse } from '../../src/broker/error-response.js';
import type { Handler } from '../../src/broker/handler.js';
import { handlers } from '../../src/broker/handlers/index.js';
import { Server } from '../../src/broker/server.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { createLogger } from '../../src/logger.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey, apiSchemas } from '../../src/protocol/generated/apis.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/describe-log-dirs-response.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { HeartbeatResponse } from '../../src/protocol/generated/heartbeat-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { Reader } from '../../src/protocol/reader.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { Writer } from '../../src/protocol/writer.js';
import { KafkaStorageError } from '../../src/storage/io-errors.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

/** The real handlers, with some replaced by ones that fail the way a buggy or failing handler would. */
function failingHandlers(): Map<number, Handler<unknown, unknown>> {
  const map = new Map(handlers.map((h) => [h.apiKey, h as Handler<unknown, unknown>]));
  const replace = (apiKey: number, handle: Handler<unknown, unknown>['handle']): void => {
    const real = map.get(apiKey)!;
    map.set(apiKey, { ...real, handle });
  };
  replace(ApiKey.Produce, () => {
    throw new TypeError('produce handler bug');
  });
  replace(ApiKey.Metadata, async () => {
    throw new Error('metadata handler bug');
  });
  replace(ApiKey.Fetch, async () => {
    await new Promise((r) => setImmediate(r));
    throw new RangeError('fetch handler bug');
  });
  replace(ApiKey.Heartbeat, () => {
    throw new KafkaStorageError('no space left on device');
  });
  replace(ApiKey.DescribeLogDirs, () => {
    throw new Error('describe log dirs bug');
  });
  return map;
}

describe('a handler that throws', () => {
  let b: InProcessBroker;
  let server: Server;
  let port: number;
  let conn: KafkaConnection;

  before(async () => {
    b = await startInProcess();
    server = new Server(
      {
        host: '127.0.0.1',
        port: 0,
        requestBytesMax: 1024 * 1024,
        queuedRequestBytesMax: 16 * 1024 * 1024,
        requestReceiveTimeoutMs: 30_000,
        maxConnections: 100,
        maxConnectionsPerIp: 100,
        idleMs: 60_000,
      },
      createLogger('network-test'),
    );
    port = await server.bind();
    server.start(b.broker, failingHandlers());
    conn = await KafkaConnection.connect({ host: '127.0.0.1', port });
  });
  after(async () => {
    conn.close();
    await server.close(1000);
    await b.stop(true);
  });

  it('answers a Produce with UNKNOWN_SERVER_ERROR for every partition, and the connection keeps serving', async () => {
    const records = encodeRecordBatch({
      records: [{ key: null, value: Buffer.from('v') }],
      timestamp: Date.now(),
    });
    const res = await conn.send(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'a',
          partitionData: [
            { index: 0, records },
            { index: 3, records },
          ],
        },
        { name: 'b', partitionData: [{ index: 1, records }] },
      ],
    });
    const r = res as ProduceResponse;
    assert.deepEqual(
      r.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset])]),
      [
        [
          'a',
          [
            [0, -1, -1],
            [3, -1, -1],
          ],
        ],
        ['b', [[1, -1, -1]]],
      ],
    );
    // Same connection, next request.
    const hb = (await conn.send(ApiKey.Heartbeat, 4, {
      groupId: 'g',
      generationId: 1,
      memberId: 'm',
      groupInstanceId: null,
    })) as HeartbeatResponse;
    assert.equal(hb.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    const line = b.logs.find((l) => l.msg === 'request handler failed' && l.apiKey === ApiKey.Produce);
    assert.ok(line, 'the failure is logged');
    assert.match(String(line.error), /produce handler bug/);
    assert.equal(line.answered, -1);
  });

  it('answers a Produce with acks=0 with nothing, and the connection keeps serving', async () => {
    const records = encodeRecordBatch({
      records: [{ key: null, value: Buffer.from('v') }],
      timestamp: Date.now(),
    });
    conn.sendNoResponse(
      ApiKey.Produce,
      {
        transactionalId: null,
        acks: 0,
        timeoutMs: 1000,
        topicData: [{ name: 'a', partitionData: [{ index: 0, records }] }],
      },
      9,
    );
    const md = (await conn.send(ApiKey.Metadata, 12, {
      topics: [{ name: 'x', topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })) as MetadataResponse;
    assert.deepEqual(
      md.topics.map((t) => [t.name, t.errorCode]),
      [['x', ErrorCode.UNKNOWN_SERVER_ERROR]],
    );
    assert.equal(md.brokers.length, 1, 'the answer still names the broker');
  });

  it('answers a handler that rejects later (Fetch) with the error in every partition and at the top', async () => {
    const res = (await conn.send(ApiKey.Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'a', partitions: [{ partition: 2, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    })) as FetchResponse;
    assert.equal(res.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    assert.deepEqual(
      res.responses.map((t) => [t.topic, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [['a', [[2, -1]]]],
    );
  });

  it('answers with a top-level errorCode where the response has one, closes where it has none', async () => {
    const v4 = (await conn.send(ApiKey.DescribeLogDirs, 4, { topics: null })) as DescribeLogDirsResponse;
    assert.equal(v4.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    // DescribeLogDirs v0-2 has no error field at all: the connection is closed, as before.
    const other = await KafkaConnection.connect({ host: '127.0.0.1', port });
    await assert.rejects(other.send(ApiKey.DescribeLogDirs, 1, { topics: null }), /closed/);
    other.close();
    // The first connection is unaffected.
    const hb = (await conn.send(ApiKey.Heartbeat, 0, {
      groupId: 'g',
      generationId: 1,
      memberId: 'm',
    })) as HeartbeatResponse;
    assert.equal(hb.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  });
});

/** A request with one of each list the APIs' requests have, so the nested answers are built too. */
const sampleRequest = {
  acks: -1,
  topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }],
  topics: [
    {
      name: 't',
      topic: 't',
      topicId: '1'.repeat(32),
      partitions: [{ partition: 0, partitionIndex: 0 }],
      partitionIndexes: [0],
      numPartitions: 1,
      replicationFactor: 1,
      assignments: [],
      configs: [],
      count: 2,
    },
  ],
  topicNames: ['t'],
  groups: [],
  groupsNames: ['g'],
  coordinatorKeys: ['g'],
  v3AndBelowTopics: [{ name: 't', partitions: [0] }],
  transactionalIds: ['tx'],
  markers: [
    {
      producerId: 1,
      producerEpoch: 0,
      transactionResult: true,
      topics: [{ name: 't', partitionIndexes: [0] }],
      coordinatorEpoch: 0,
    },
  ],
  resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null, configs: [] }],
  creations: [{ resourceType: 2, resourceName: 't', resourcePatternType: 3, principal: 'User:a', host: '*' }],
  filters: [{ resourceTypeFilter: 2, patternTypeFilter: 3 }],
  deletions: [{ name: 'u', mechanism: 1 }],
  entries: [{ entity: [{ entityType: 'user', entityName: 'u' }], ops: [] }],
};

describe('error responses of every implemented API and version', () => {
  it('encode, and carry the error back when decoded', () => {
    const broker = { nodeId: 1, host: 'h', port: 9092 };
    let answered = 0;
    const closes: string[] = [];
    for (const h of handlers) {
      const schema = apiSchemas.get(h.apiKey)!;
      for (let v = h.minVersion; v <= h.maxVersion; v++) {
        // The request as the broker sees it: encoded by a client, decoded by the broker.
        const w = new Writer();
        const input: Record<string, unknown> = { ...sampleRequest };
        if (h.apiKey === ApiKey.OffsetFetch && v >= 8) input.groups = [{ groupId: 'g', topics: null }];
        if (h.apiKey === ApiKey.DescribeGroups) input.groups = ['g'];
        if (h.apiKey === ApiKey.ConsumerGroupDescribe) input.groupIds = ['g'];
        try {
          schema.encodeRequest(w, v, input);
        } catch {
          schema.encodeRequest(w, v, {});
        }
        const request = schema.decodeRequest(new Reader(w.toBuffer()), v);
        const body = errorResponse(schema, { apiKey: h.apiKey, apiVersion: v, broker }, request, -1);
        if (body === undefined) {
          closes.push(`${h.name} v${v}`);
          continue;
        }
        if (body === null) continue;
        const out = new Writer();
        schema.encodeResponse(out, v, body);
        const back = JSON.stringify(schema.decodeResponse(new Reader(out.toBuffer()), v));
        assert.match(
          back,
          /"(errorCode|partitionErrorCode)":-1/,
          `${h.name} v${v} carries the error: ${back}`,
        );
        answered++;
      }
    }
    assert.ok(answered > 100);
    // Only versions whose response has no error field at all close the connection.
    assert.deepEqual(closes, ['DescribeLogDirs v0', 'DescribeLogDirs v1', 'DescribeLogDirs v2']);
  });
});
