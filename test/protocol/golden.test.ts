/**
 * Golden frames the kafkajs project captured (test/protocol/golden-kafkajs/, from its
 * src/protocol/requests/<api>/fixtures).
 *
 * Frame layout, established by inspecting them: no 4-byte size and no request/response header,
 * except that in flexible versions the frame starts with the header's tagged-field section (one 0x00
 * byte), which kafkajs emits as part of the body. ApiVersions responses never have it (their header
 * is always v0). Each frame must decode completely and re-encode to the identical bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolDecodeError } from '../../src/protocol/errors.js';
import { ApiKey, type ApiSchema, apiSchemas } from '../../src/protocol/generated/apis.js';
import {
  decodeConsumerProtocolAssignment,
  encodeConsumerProtocolAssignment,
} from '../../src/protocol/generated/consumer-protocol-assignment.js';
import { decodeConsumerProtocolSubscription } from '../../src/protocol/generated/consumer-protocol-subscription.js';
import type { FetchResponse } from '../../src/protocol/generated/fetch-response.js';
import type { ProduceRequest } from '../../src/protocol/generated/produce-request.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { kafkajsFixture, kafkajsFixtures, kafkajsGoldenDir, kafkajsRequestDirs } from './kafkajs-golden.js';

const apisByDir = new Map([...apiSchemas.values()].map((a) => [a.name.toLowerCase(), a]));

interface Frame {
  api: ApiSchema;
  version: number;
  kind: 'request' | 'response';
  bytes: Buffer;
}

function hasHeaderTags(f: Frame): boolean {
  return (
    f.version >= f.api.flexibleMinVersion && !(f.kind === 'response' && f.api.apiKey === ApiKey.ApiVersions)
  );
}

function decode(f: Frame): { message: unknown; remaining: number } {
  const r = new Reader(f.bytes);
  if (hasHeaderTags(f)) r.skipTaggedFields();
  const message =
    f.kind === 'request' ? f.api.decodeRequest(r, f.version) : f.api.decodeResponse(r, f.version);
  return { message, remaining: r.remaining() };
}

function encode(f: Frame, message: unknown): Buffer {
  const w = new Writer();
  if (hasHeaderTags(f)) w.emptyTaggedFields();
  if (f.kind === 'request') f.api.encodeRequest(w, f.version, message);
  else f.api.encodeResponse(w, f.version, message);
  return w.toBuffer();
}

const frames = new Map<string, Frame>();
const retired = new Map<string, Frame>();
for (const dir of kafkajsRequestDirs()) {
  const api = apisByDir.get(dir.toLowerCase());
  if (!api) throw new Error(`golden directory ${dir} matches no API`);
  for (const [name, bytes] of [...kafkajsFixtures(dir)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const m = /^v(\d+)_(?:.*_)?(request|response)(?:_.*)?$/.exec(name);
    if (!m) continue;
    const f: Frame = { api, version: Number(m[1]), kind: m[2] as 'request' | 'response', bytes };
    // Kafka 4 dropped the oldest versions of many APIs (KIP-896) and its 4.4 schemas no longer describe them.
    if (f.version < api.minVersion) retired.set(`${dir}/${name}`, f);
    else frames.set(`${dir}/${name}`, f);
  }
}

/** Frames kafkajs captured from a truncated or otherwise invalid response, by design of its tests. */
const INVALID = new Set(['apiVersions/v1_response_missing_throttle_time']);

function frame(name: string): Frame {
  const f = frames.get(name);
  assert.ok(f, `fixture ${name} exists`);
  return f;
}

function decoded<T>(name: string): T {
  const { message, remaining } = decode(frame(name));
  assert.equal(remaining, 0);
  return message as T;
}

describe('golden kafkajs frames', () => {
  it('found the fixtures', () => {
    assert.ok(frames.size > 120, `only ${frames.size} frames found under ${kafkajsGoldenDir}`);
    // The versions Kafka 4 retired: the older frames of CreateTopics, CreateAcls, DeleteTopics, ListOffsets ...
    assert.ok(retired.size < 60, `${retired.size} frames are at versions the schemas no longer define`);
    for (const [name, f] of retired) assert.ok(f.version < f.api.minVersion, name);
  });

  for (const [name, f] of frames) {
    if (INVALID.has(name)) continue;
    it(`${name}: decodes completely and re-encodes byte for byte`, () => {
      const { message, remaining } = decode(f);
      assert.equal(remaining, 0, 'trailing bytes after decode');
      assert.deepEqual(encode(f, message), f.bytes);
    });
  }

  it('apiVersions/v1_response_missing_throttle_time is a decode error, not a crash', () => {
    assert.throws(() => decode(frame('apiVersions/v1_response_missing_throttle_time')), ProtocolDecodeError);
  });
});

describe('golden kafkajs frames: field values', () => {
  it('Produce v3 request', () => {
    const m = decoded<ProduceRequest>('produce/v3_request');
    assert.equal(m.transactionalId, null);
    assert.equal(m.acks, -1);
    assert.equal(m.timeoutMs, 30000);
    assert.equal(m.topicData.length, 1);
    const t = m.topicData[0]!;
    assert.equal(t.name, 'test-topic-ebba68879c6f5081d8c2');
    assert.equal(t.partitionData[0]!.index, 0);
    const records = t.partitionData[0]!.records!;
    assert.equal(records.length, 270);
    assert.equal(records.readInt8(16), 2, 'record batch magic v2');
  });

  it('Produce v7 response', () => {
    const m = decoded<{
      responses: { partitionResponses: Record<string, unknown>[] }[];
      throttleTimeMs: number;
    }>('produce/v7_response');
    const p = m.responses[0]!.partitionResponses[0]!;
    assert.equal(p.errorCode, 0);
    assert.equal(p.baseOffset, 0);
    assert.equal(p.logAppendTimeMs, -1);
    assert.equal(p.logStartOffset, 0);
    assert.equal(m.throttleTimeMs, 0);
  });

  it('Fetch v11 request and response', () => {
    const req = decoded<{ replicaId: number; maxWaitMs: number; minBytes: number; maxBytes: number }>(
      'fetch/v11_request',
    );
    assert.equal(req.replicaId, -1);
    assert.equal(req.maxWaitMs, 100);
    assert.equal(req.minBytes, 1);
    assert.equal(req.maxBytes, 10485760);
    assert.equal((req as unknown as { isolationLevel: number }).isolationLevel, 1);
    assert.equal((req as unknown as { rackId: string }).rackId, 'rack1');
    const res = decoded<FetchResponse>('fetch/v11_response');
    const p = res.responses[0]!.partitions[0]!;
    assert.equal(p.highWatermark, 3);
    assert.equal(p.lastStableOffset, 3);
    assert.equal(p.records!.length, 217);
    assert.deepEqual(p.abortedTransactions, []);
  });

  it('ApiVersions v0 response lists 21 APIs, Produce first', () => {
    const m = decoded<{
      errorCode: number;
      apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
    }>('apiVersions/v0_response');
    assert.equal(m.errorCode, 0);
    assert.equal(m.apiKeys.length, 21);
    assert.deepEqual(m.apiKeys[0], { apiKey: 0, minVersion: 0, maxVersion: 2 });
  });

  it('Metadata v5 response: brokers and partitions', () => {
    const m = decoded<{
      brokers: { nodeId: number; host: string; port: number }[];
      topics: {
        errorCode: number;
        name: string;
        partitions: { leaderId: number; replicaNodes: number[] }[];
      }[];
    }>('metadata/v5_response');
    assert.ok(m.brokers.length > 0);
    for (const b of m.brokers) {
      assert.ok(b.port > 0 && b.port < 65536);
      assert.ok(b.host.length > 0);
    }
    for (const t of m.topics) for (const p of t.partitions) assert.ok(p.replicaNodes.length > 0);
  });

  it('AlterPartitionReassignments v0 (flexible) request', () => {
    const m = decoded<{
      timeoutMs: number;
      topics: { name: string; partitions: { replicas: number[] | null }[] }[];
    }>('alterPartitionReassignments/v0_request');
    assert.equal(m.timeoutMs, 30000);
    assert.deepEqual(
      m.topics.map((t) => t.name),
      ['test-topic-1', 'test-topic-2'],
    );
    assert.deepEqual(m.topics[0]!.partitions[0]!.replicas, [0, 1]);
  });

  it('ConsumerProtocol: kafkajs member assignment v1', () => {
    const bytes = kafkajsFixture('describeGroups', 'v1_memberAssignment');
    const r = new Reader(bytes);
    const version = r.int16();
    assert.equal(version, 1);
    const a = decodeConsumerProtocolAssignment(r, version);
    assert.equal(r.remaining(), 0);
    assert.equal(a.assignedPartitions.length, 1);
    assert.deepEqual(a.assignedPartitions[0]!.partitions, [0]);
    const w = new Writer().int16(version);
    encodeConsumerProtocolAssignment(w, version, a);
    assert.deepEqual(w.toBuffer(), bytes);
  });

  it('ConsumerProtocol: kafkajs labels its v0 subscription as v1 (no ownedPartitions)', () => {
    // Worth knowing for the group coordinator: decoding at the claimed version fails; v0 fits.
    const bytes = kafkajsFixture('describeGroups', 'v1_memberMetadata');
    const r = new Reader(bytes);
    assert.equal(r.int16(), 1);
    const at = r.offset;
    assert.throws(() => decodeConsumerProtocolSubscription(r, 1), ProtocolDecodeError);
    const r0 = new Reader(bytes, at);
    const s = decodeConsumerProtocolSubscription(r0, 0);
    assert.equal(r0.remaining(), 0);
    assert.equal(s.topics.length, 1);
  });
});
