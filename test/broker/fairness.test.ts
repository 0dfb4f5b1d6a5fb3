// Fairness between connections (limits.connectionTurnBytesMax): clients pipelining produce requests as fast as
// they can (acks=0, nothing paces them) must not push another client's request behind megabytes of appends.
//
// Regression: a consumer reading during a produce flood got a fraction of the ingest rate. libuv reads up to
// 32 x 64 KiB from a ready socket per turn of the event loop, and every request in those bytes was appended
// before the fetch on the next socket was even read.
//
// The test makes the situation exact: the broker process is stopped (SIGSTOP) while the flooding clients fill
// their connections and a probe sends a ListOffsets request; on SIGCONT every socket is ready at once, and the
// offset the probe gets back says how many flood requests were appended before its request was handled.
//
// Needs `npm run build` (the broker runs as `node bin/samsa.js broker`); POSIX signals.

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import {
  decodeListOffsetsResponse,
  type ListOffsetsResponse,
} from '../../src/protocol/generated/list-offsets-response.js';
import { Reader } from '../../src/protocol/reader.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import { requestFrame } from '../helpers/request-frame.js';

const KiB = 1024;
const REQUEST_RECORDS = 128;
const FLOODERS = 3;
/** Requests per flooder while the broker runs (TCP grows the receive buffers of busy connections) ... */
const WARMUP_REQUESTS = 200;
/** ... and while it is stopped (more than the kernel buffers hold). */
const STOPPED_REQUESTS = 100;

function frame(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  return requestFrame(apiKey, version, correlationId, body, 'fairness');
}

/** An acks=0 Produce request of REQUEST_RECORDS x 1 KiB (128 KiB: two socket reads). */
const floodRequest = frame(ApiKey.Produce, 9, 1, {
  acks: 0,
  timeoutMs: 30_000,
  topicData: [
    {
      name: 'flood',
      partitionData: [
        {
          index: 0,
          records: encodeRecordBatch({
            records: Array.from({ length: REQUEST_RECORDS }, () => ({ value: Buffer.alloc(KiB, 0x61) })),
          }),
        },
      ],
    },
  ],
});

const listOffsetsRequest = frame(ApiKey.ListOffsets, 5, 7, {
  replicaId: -1,
  isolationLevel: 0,
  topics: [{ name: 'flood', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes n flood requests; resolves when Node has handed them all to the kernel. */
function flood(s: net.Socket, n: number): Promise<void> {
  return new Promise((resolve) => {
    for (let i = 0; i < n - 1; i++) s.write(floodRequest);
    s.write(floodRequest, () => resolve());
  });
}

async function logEnd(conn: KafkaConnection): Promise<number> {
  const res = await conn.request<ListOffsetsResponse>(ApiKey.ListOffsets, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: 'flood', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
    timeoutMs: 30_000,
  });
  return res.topics[0]?.partitions[0]?.offset ?? -1;
}

async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('fairness between connections', { skip: process.platform === 'win32' && 'SIGSTOP' }, () => {
  let broker: BrokerHandle;

  before(async () => {
    broker = await startBroker({ overrides: { 'log.segment.bytes': String(256 * 1024 * KiB) } });
    const cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
    await createTopic(cluster, 'flood', { partitions: 1 });
    cluster.close();
  });
  after(async () => {
    const pid = broker.pid();
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await broker.destroy();
  });

  it("a flood on other connections delays a client's request by a few requests, not megabytes", async () => {
    const pid = broker.pid();
    assert.ok(pid !== undefined);
    const admin = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    const flooders = await Promise.all(Array.from({ length: FLOODERS }, () => connect(broker.port)));
    const probe = await connect(broker.port);
    let answer: Buffer = Buffer.alloc(0);
    const answered = new Promise<Buffer>((resolve) =>
      probe.on('data', (d: Buffer) => {
        answer = Buffer.concat([answer, d]);
        if (answer.length >= 4 && answer.length >= 4 + answer.readInt32BE(0)) resolve(answer);
      }),
    );
    try {
      await Promise.all(flooders.map((s) => flood(s, WARMUP_REQUESTS)));
      const warm = FLOODERS * WARMUP_REQUESTS * REQUEST_RECORDS;
      await until(async () => (await logEnd(admin)) === warm, 60_000, 'appending the warm-up requests');

      process.kill(pid, 'SIGSTOP');
      for (const s of flooders) void flood(s, STOPPED_REQUESTS);
      // Until the kernel holds all it will (what is left waits in Node's buffer of each socket).
      let last = -1;
      await until(
        () => {
          const buffered = flooders.reduce((sum, s) => sum + s.writableLength, 0);
          const settled = buffered === last && buffered > 0;
          last = buffered;
          return settled;
        },
        10_000,
        'filling the connections',
      );
      await new Promise<void>((resolve) => probe.write(listOffsetsRequest, () => resolve()));
      process.kill(pid, 'SIGCONT');

      const res = await answered;
      const decoded = decodeListOffsetsResponse(new Reader(res, 8), 5);
      const offset = decoded.topics[0]?.partitions[0]?.offset ?? -1;
      const before = (offset - warm) / REQUEST_RECORDS;
      process.stdout.write(`# flood requests appended before the probe's request: ${before}\n`);
      assert.ok(before >= 0, `offset ${offset}`);
      // One or two requests per flooding connection (a request spans two socket reads), not 16 (2 MiB) each.
      assert.ok(before <= 2 * FLOODERS, `flood requests appended before the probe's request: ${before}`);

      const total = warm + FLOODERS * STOPPED_REQUESTS * REQUEST_RECORDS;
      await until(async () => (await logEnd(admin)) === total, 60_000, 'appending the rest of the flood');
    } finally {
      process.kill(pid, 'SIGCONT');
      for (const s of [...flooders, probe]) s.destroy();
      admin.close();
    }
  });
});
