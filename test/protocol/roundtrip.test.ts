/**
 * Property tests for the generated codecs, driven by the facts of Kafka's JSON schemas
 * (src/protocol/generated/schema-facts.ts: each field's type, versions and default as the schema
 * files write them), interpreted here independently of the generator's model and emitter: for
 * every message and every valid version, random Input objects are encoded, decoded and
 * re-encoded. Decoded fields must equal the input where the field exists in that version and the
 * schema default where it does not; the two encodings must be identical.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import {
  type FieldFacts,
  type MessageFacts,
  messageFacts,
} from '../../src/protocol/generated/schema-facts.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

type SchemaField = FieldFacts;
type Schema = MessageFacts;

type Decode = (r: Reader, version: number) => unknown;
type Encode = (w: Writer, version: number, m: unknown) => void;

const generatedDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/protocol/generated');

function parseVersions(spec: string | undefined): [number, number] {
  if (spec === undefined || spec.trim() === 'none') return [1, 0];
  const s = spec.trim();
  if (s.endsWith('+')) return [Number(s.slice(0, -1)), Number.POSITIVE_INFINITY];
  const [lo, hi] = s.split('-');
  return [Number(lo), Number(hi ?? lo)];
}

function has(spec: string | undefined, v: number): boolean {
  const [lo, hi] = parseVersions(spec);
  return v >= lo && v <= hi;
}

const PRIMITIVE = new Set([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'uuid',
  'bytes',
  'records',
]);

class SchemaModel {
  readonly structs = new Map<string, readonly SchemaField[]>();

  constructor(readonly schema: Schema) {
    for (const s of schema.commonStructs ?? []) this.structs.set(s.name, s.fields);
    const collect = (fields: readonly SchemaField[]) => {
      for (const f of fields) {
        if (f.fields) {
          this.structs.set(f.type.replace(/^\[\]/, ''), f.fields);
          collect(f.fields);
        }
      }
    };
    collect(schema.fields ?? []);
    for (const s of schema.commonStructs ?? []) collect(s.fields);
  }

  private fieldsOf(type: string): readonly SchemaField[] {
    const fields = this.structs.get(type);
    assert.ok(fields, `${this.schema.name}: struct ${type}`);
    return fields;
  }

  private primitive(type: string): fc.Arbitrary<unknown> {
    switch (type) {
      case 'bool':
        return fc.boolean();
      case 'int8':
        return fc.integer({ min: -128, max: 127 });
      case 'int16':
        return fc.integer({ min: -32768, max: 32767 });
      case 'uint16':
        return fc.integer({ min: 0, max: 65535 });
      case 'int32':
        return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
      case 'uint32':
        return fc.integer({ min: 0, max: 2 ** 32 - 1 });
      case 'int64':
        return fc.oneof(fc.maxSafeInteger(), fc.constantFrom(-1, 0, 2 ** 32, -(2 ** 32) - 1));
      case 'float64':
        return fc.double({ noNaN: true });
      case 'string':
        return fc.string({ maxLength: 6, unit: 'grapheme' });
      case 'uuid':
        return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));
      case 'bytes':
      case 'records':
        return fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b));
      default:
        throw new Error(`unknown primitive ${type}`);
    }
  }

  private value(type: string, v: number, depth: number): fc.Arbitrary<unknown> {
    if (type.startsWith('[]'))
      return fc.array(this.value(type.slice(2), v, depth + 1), { maxLength: depth > 2 ? 1 : 3 });
    if (PRIMITIVE.has(type)) return this.primitive(type);
    return this.struct(this.fieldsOf(type), v, depth + 1);
  }

  /** A random Input for a struct at version v: every field set, null only where v allows it. */
  struct(fields: readonly SchemaField[], v: number, depth = 0): fc.Arbitrary<Record<string, unknown>> {
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) {
      const present = has(f.versions ?? f.taggedVersions, v);
      let arb = this.value(f.type, v, depth);
      if (present && has(f.nullableVersions, v)) arb = fc.option(arb, { nil: null, freq: 4 });
      shape[prop(f)] = arb;
    }
    return fc.record(shape);
  }

  /** The schema's default for a field, per the README's rules. */
  defaultOf(f: SchemaField): unknown {
    const d = f.default;
    if (d === null || d === 'null' || f.type === 'records') return null;
    if (f.type.startsWith('[]')) return [];
    switch (f.type) {
      case 'bool':
        return d === true || d === 'true';
      case 'string':
        return d === undefined ? '' : String(d);
      case 'uuid':
        return '0'.repeat(32);
      case 'bytes':
        return Buffer.alloc(0);
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'int64':
      case 'float64':
        return d === undefined ? 0 : Number(d);
    }
    return Object.fromEntries(this.fieldsOf(f.type).map((g) => [prop(g), this.defaultOf(g)]));
  }

  /** What decoding the encoding of `input` at version v must give. */
  expected(
    fields: readonly SchemaField[],
    input: Record<string, unknown>,
    v: number,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const value = input[prop(f)];
      if (!has(f.versions ?? f.taggedVersions, v)) out[prop(f)] = this.defaultOf(f);
      else out[prop(f)] = this.expectedValue(f.type, value, v);
    }
    return out;
  }

  private expectedValue(type: string, value: unknown, v: number): unknown {
    if (value === null) return null;
    if (type.startsWith('[]'))
      return (value as unknown[]).map((e) => this.expectedValue(type.slice(2), e, v));
    if (PRIMITIVE.has(type)) return value;
    return this.expected(this.fieldsOf(type), value as Record<string, unknown>, v);
  }
}

function prop(f: SchemaField): string {
  return f.name.charAt(0).toLowerCase() + f.name.slice(1);
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

function loadSchemas(): readonly Schema[] {
  assert.ok(messageFacts.length > 150, `only ${messageFacts.length} schemas in schema-facts.ts`);
  return messageFacts;
}

const IMPORTANT = new Set(
  [
    'Produce',
    'Fetch',
    'ListOffsets',
    'Metadata',
    'OffsetCommit',
    'OffsetFetch',
    'FindCoordinator',
    'JoinGroup',
    'Heartbeat',
    'LeaveGroup',
    'SyncGroup',
    'ApiVersions',
    'CreateTopics',
    'InitProducerId',
    'ConsumerGroupHeartbeat',
  ].flatMap((n) => [`${n}Request`, `${n}Response`]),
);

async function codecs(name: string): Promise<{ decode: Decode; encode: Encode }> {
  const mod = (await import(pathToFileURL(path.join(generatedDir, `${kebab(name)}.js`)).href)) as Record<
    string,
    unknown
  >;
  const decode = mod[`decode${name}`] as Decode | undefined;
  const encode = mod[`encode${name}`] as Encode | undefined;
  assert.ok(decode && encode, `codecs for ${name}`);
  return { decode, encode };
}

function encodeToBuffer(encode: Encode, v: number, m: unknown): Buffer {
  const w = new Writer(32);
  encode(w, v, m);
  return w.toBuffer();
}

describe('generated codecs: encode -> decode -> encode', () => {
  for (const schema of loadSchemas()) {
    const [lo, hi] = parseVersions(schema.validVersions);
    const model = new SchemaModel(schema);
    it(`${schema.name} v${lo}-${hi}`, async () => {
      const { decode, encode } = await codecs(schema.name);
      for (let v = lo; v <= hi; v++) {
        fc.assert(
          fc.property(model.struct(schema.fields ?? [], v), (input) => {
            const bytes = encodeToBuffer(encode, v, input);
            const r = new Reader(bytes);
            const decoded = decode(r, v);
            assert.equal(r.remaining(), 0, 'decode consumed everything');
            assert.deepStrictEqual(decoded, model.expected(schema.fields ?? [], input, v));
            assert.deepStrictEqual(encodeToBuffer(encode, v, decoded), bytes);
          }),
          { numRuns: IMPORTANT.has(schema.name) ? 150 : 20 },
        );
      }
    });
  }
});

describe('generated codecs: defaults and tagged fields', () => {
  it('an empty Input encodes every field as its default', async () => {
    const { decode, encode } = await codecs('FetchRequest');
    const m = decode(new Reader(encodeToBuffer(encode, 15, {})), 15) as Record<string, unknown>;
    assert.equal(m.replicaId, -1);
    assert.equal(m.maxBytes, 0x7fffffff);
    assert.equal(m.isolationLevel, 0);
    assert.equal(m.sessionEpoch, -1);
    assert.equal(m.clusterId, null);
    assert.deepEqual(m.replicaState, { replicaId: -1, replicaEpoch: -1 });
    assert.equal(m.rackId, '');
  });

  it('tagged fields equal to their default are not written', async () => {
    const { encode } = await codecs('ApiVersionsResponse');
    const plain = encodeToBuffer(encode, 3, { apiKeys: [] });
    assert.deepEqual(plain, Buffer.from('0000 01 00000000 00'.replace(/ /g, ''), 'hex'));
    const explicitDefaults = encodeToBuffer(encode, 3, {
      apiKeys: [],
      finalizedFeaturesEpoch: -1,
      zkMigrationReady: false,
    });
    assert.deepEqual(explicitDefaults, plain);
    const tagged = encodeToBuffer(encode, 3, { apiKeys: [], finalizedFeaturesEpoch: 5 });
    // one tagged field: tag 1, size 8, int64 5
    assert.deepEqual(
      tagged,
      Buffer.from('0000 01 00000000 01 01 08 0000000000000005'.replace(/ /g, ''), 'hex'),
    );
  });

  it('unknown tagged fields are skipped on decode', async () => {
    const { decode, encode } = await codecs('ProduceRequest');
    const m = {
      acks: 1,
      timeoutMs: 5,
      topicData: [{ name: 't', partitionData: [{ index: 3, records: null }] }],
    };
    const bytes = encodeToBuffer(encode, 9, m);
    assert.equal(bytes.at(-1), 0, 'root tagged section is empty');
    const withUnknown = Buffer.concat([bytes.subarray(0, -1), Buffer.from([2, 60, 2, 0xaa, 0xbb, 0x7f, 0])]);
    const r = new Reader(withUnknown);
    assert.deepEqual(decode(r, 9), decode(new Reader(bytes), 9));
    assert.equal(r.remaining(), 0);
  });

  it('RequestHeader v2 keeps ClientId as a non-compact nullable string', async () => {
    const { decode, encode } = await codecs('RequestHeader');
    const bytes = encodeToBuffer(encode, 2, {
      requestApiKey: 18,
      requestApiVersion: 3,
      correlationId: 7,
      clientId: 'ab',
    });
    assert.deepEqual(bytes, Buffer.from('0012 0003 00000007 0002 6162 00'.replace(/ /g, ''), 'hex'));
    assert.equal((decode(new Reader(bytes), 2) as { clientId: string }).clientId, 'ab');
    const nullClient = encodeToBuffer(encode, 1, {
      requestApiKey: 18,
      requestApiVersion: 3,
      correlationId: 7,
      clientId: null,
    });
    assert.deepEqual(nullClient, Buffer.from('0012 0003 00000007 ffff'.replace(/ /g, ''), 'hex'));
  });

  it('nullable structs use a -1/1 presence byte', async () => {
    const { decode, encode } = await codecs('ConsumerGroupHeartbeatResponse');
    const none = encodeToBuffer(encode, 0, { assignment: null });
    const some = encodeToBuffer(encode, 0, { assignment: { topicPartitions: [] } });
    assert.equal(some.length, none.length + 2, 'presence byte + empty array; tagged section');
    assert.equal((decode(new Reader(none), 0) as { assignment: unknown }).assignment, null);
    assert.deepEqual((decode(new Reader(some), 0) as { assignment: unknown }).assignment, {
      topicPartitions: [],
    });
  });
});
