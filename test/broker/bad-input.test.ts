// Bad input from the network: each case gets Kafka's error code or a closed connection plus a log
// line, the broker keeps serving other clients, and stored data stays intact.

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/api-versions-response.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/create-topics-response.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { MetadataResponse } from '../../src/protocol/generated/metadata-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { Reader } from '../../src/protocol/reader.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

function frame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Buffer,
  headerVersion = 1,
): Buffer {
  const clientId = Buffer.from('bad-client');
  const header = Buffer.alloc(8 + 2 + clientId.length + (headerVersion >= 2 ? 1 : 0));
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

/** Sends raw bytes on a fresh socket; resolves with what came back and whether the broker closed it. */
function rawExchange(port: number, bytes: Buffer, waitMs = 1000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let closed = false;
    s.on('data', (d) => got.push(d));
    s.on('close', () => {
      closed = true;
      resolve({ data: Buffer.concat(got), closed });
    });
    s.on('error', () => {});
    s.on('connect', () => s.write(bytes));
    setTimeout(() => {
      if (!closed) {
        s.destroy();
        resolve({ data: Buffer.concat(got), closed: false });
      }
    }, waitMs);
  });
}

describe('bad input', () => {
  let b: InProcessBroker;
  let conn: KafkaConnection;
  let topicId = '';
  before(async () => {
    b = await startInProcess({
      'auto.create.topics.enable': 'false',
      'socket.request.max.bytes': '2000000',
      'message.max.bytes': '100000',
    });
    conn = await b.connect();
    const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [{ name: 'kept', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    topicId = res.topics[0]!.topicId;
    const p = await produceTo('kept', encodeRecordBatch({ records: [{ value: 'precious' }] }));
    assert.equal(p.errorCode, 0);
  });
  after(async () => {
    conn.close();
    await b.stop(true);
  });

  async function produceTo(topic: string, records: Buffer) {
    const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return res.responses[0]!.partitionResponses[0]!;
  }

  function logged(re: RegExp): boolean {
    return b.logs.some((l) => re.test(JSON.stringify(l)));
  }

  it('closes the connection on a frame larger than socket.request.max.bytes', async () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(50_000_000, 0);
    const res = await rawExchange(b.port, Buffer.concat([size, Buffer.alloc(100)]));
    assert.equal(res.closed, true);
    assert.ok(logged(/socket.request.max.bytes/));
  });

  it('closes the connection on a negative frame size', async () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(-5, 0);
    const res = await rawExchange(b.port, size);
    assert.equal(res.closed, true);
  });

  it('closes the connection on an unknown API key', async () => {
    const res = await rawExchange(b.port, frame(9999, 0, 7, Buffer.alloc(0)));
    assert.equal(res.closed, true);
    assert.ok(logged(/unknown or unsupported API key/));
  });

  it('answers an unsupported ApiVersions version with UNSUPPORTED_VERSION and the ranges', async () => {
    const res = await rawExchange(b.port, frame(ApiKey.ApiVersions, 99, 11, Buffer.alloc(0)), 500);
    assert.ok(res.data.length > 10);
    const r = new Reader(res.data);
    r.int32();
    assert.equal(r.int32(), 11);
    assert.equal(r.int16(), ErrorCode.UNSUPPORTED_VERSION);
    assert.ok(r.arrayLength(false) > 5);
  });

  it('closes the connection on an unsupported version of another API', async () => {
    const res = await rawExchange(b.port, frame(ApiKey.Produce, 1, 12, Buffer.alloc(0)));
    assert.equal(res.closed, true);
    assert.ok(logged(/unsupported API version/));
  });

  it('closes the connection when an array length overruns the frame', async () => {
    // Metadata v1 body: topics array claiming 1,000,000 entries, then nothing.
    const body = Buffer.alloc(4);
    body.writeInt32BE(1_000_000, 0);
    const res = await rawExchange(b.port, frame(ApiKey.Metadata, 1, 13, body));
    assert.equal(res.closed, true);
    assert.ok(logged(/malformed request/));
  });

  it('closes the connection on a truncated header', async () => {
    const res = await rawExchange(b.port, Buffer.from([0, 0, 0, 3, 0, 1, 2]));
    assert.equal(res.closed, true);
  });

  it('rejects a batch with a bad CRC with CORRUPT_MESSAGE and stores nothing', async () => {
    const batch = encodeRecordBatch({ records: [{ value: 'tampered' }] });
    batch[batch.length - 2] = (batch[batch.length - 2] ?? 0) ^ 0xff;
    const r = await produceTo('kept', batch);
    assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.ok(logged(/CRC/));
  });

  it('rejects a batch whose length lies with CORRUPT_MESSAGE', async () => {
    const batch = encodeRecordBatch({ records: [{ value: 'x' }] });
    batch.writeInt32BE(1_000_000, 8);
    assert.equal((await produceTo('kept', batch)).errorCode, ErrorCode.CORRUPT_MESSAGE);
  });

  it('rejects a batch over max.message.bytes with MESSAGE_TOO_LARGE', async () => {
    const r = await produceTo('kept', encodeRecordBatch({ records: [{ value: Buffer.alloc(200_000, 1) }] }));
    assert.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for an unknown topic with auto-create off', async () => {
    const r = await produceTo('nope', encodeRecordBatch({ records: [{ value: 'x' }] }));
    assert.equal(r.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const md = await conn.request<MetadataResponse>(ApiKey.Metadata, {
      topics: [{ name: 'nope', topicId: '0'.repeat(32) }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(md.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('answers INVALID_TOPIC_EXCEPTION for invalid topic names', async () => {
    const res = await conn.request<CreateTopicsResponse>(ApiKey.CreateTopics, {
      topics: [
        { name: 'bad/name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'x'.repeat(250), numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: '..', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    assert.deepEqual(
      res.topics.map((t) => t.errorCode),
      [17, 17, 17],
    );
  });

  it('still serves, and the stored record is intact, after all of the above', async () => {
    const fresh = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port });
    const av = await fresh.request<ApiVersionsResponse>(ApiKey.ApiVersions, {});
    assert.equal(av.errorCode, 0);
    const f = await fresh.request<FetchResponse>(ApiKey.Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'kept',
          topicId,
          partitions: [
            {
              partition: 0,
              fetchOffset: 0,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              logStartOffset: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = f.responses[0]!.partitions[0]!;
    assert.equal(p.highWatermark, 1);
    assert.ok(p.records!.includes(Buffer.from('precious')));
    fresh.close();
  });
});
