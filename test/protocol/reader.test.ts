import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolDecodeError } from '../../src/protocol/errors.js';
import { decodeFetchRequest, encodeFetchRequest } from '../../src/protocol/generated/fetch-request.js';
import {
  decodeMetadataResponse,
  encodeMetadataResponse,
} from '../../src/protocol/generated/metadata-response.js';
import { decodeProduceRequest, encodeProduceRequest } from '../../src/protocol/generated/produce-request.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function throwsDecodeError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolDecodeError, `expected ProtocolDecodeError, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

// Reference zigzag varint encoders in BigInt, written independently of Writer.
function refUvarint(u: bigint): Buffer {
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}
const zigzag64 = (v: bigint) => (v >= 0n ? v * 2n : -v * 2n - 1n);

describe('Reader: varints against known encodings', () => {
  const varints: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [300, 'd804'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];
  for (const [value, bytes] of varints) {
    it(`varint ${value} <-> ${bytes}`, () => {
      const r = new Reader(hex(bytes));
      assert.equal(r.varint(), value);
      assert.equal(r.remaining(), 0);
      assert.deepEqual(new Writer().varint(value).toBuffer(), hex(bytes));
    });
  }

  const uvarints: [number, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16384, '808001'],
    [0xffffffff, 'ffffffff0f'],
  ];
  for (const [value, bytes] of uvarints) {
    it(`uvarint ${value} <-> ${bytes}`, () => {
      assert.equal(new Reader(hex(bytes)).uvarint(), value);
      assert.deepEqual(new Writer().uvarint(value).toBuffer(), hex(bytes));
    });
  }

  const varlongs: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [2 ** 31, '8080808010'],
    [2 ** 53, '8080808080808020'],
    [-(2 ** 53), 'ffffffffffffff1f'],
    [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
    [Number.MIN_SAFE_INTEGER, 'fdffffffffffff1f'],
  ];
  for (const [value, bytes] of varlongs) {
    it(`varlong ${value} <-> ${bytes}`, () => {
      assert.equal(new Reader(hex(bytes)).varlong(), value);
      assert.deepEqual(new Writer().varlong(value).toBuffer(), hex(bytes));
    });
  }

  it('varlong of Long.MAX_VALUE and Long.MIN_VALUE decodes to the nearest number', () => {
    assert.equal(new Reader(hex('feffffffffffffffff01')).varlong(), 2 ** 63);
    assert.equal(new Reader(hex('ffffffffffffffffff01')).varlong(), -(2 ** 63));
  });

  it('varlong matches a BigInt reference for every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const expected = refUvarint(zigzag64(BigInt(v)));
        assert.deepEqual(new Writer().varlong(v).toBuffer(), expected);
        const r = new Reader(expected);
        assert.equal(r.varlong(), v);
        assert.equal(r.remaining(), 0);
      }),
    );
  });

  it('varint matches a BigInt reference for every int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const expected = refUvarint(zigzag64(BigInt(v)));
        assert.deepEqual(new Writer().varint(v).toBuffer(), expected);
        assert.equal(new Reader(expected).varint(), v);
      }),
    );
  });

  it('refuses over-long varints', () => {
    throwsDecodeError(() => new Reader(hex('ffffffffff01')).uvarint(), /longer than 5 bytes/);
    throwsDecodeError(() => new Reader(hex('ffffffff1f')).uvarint(), /exceeds 32 bits/);
    throwsDecodeError(() => new Reader(hex('ffffffffffffffffffff01')).varlong(), /longer than 10 bytes/);
  });

  it('refuses truncated varints', () => {
    throwsDecodeError(() => new Reader(hex('8080')).uvarint());
    throwsDecodeError(() => new Reader(hex('ff')).varlong());
    throwsDecodeError(() => new Reader(Buffer.alloc(0)).varint());
  });
});

describe('Reader: fixed-width values', () => {
  it('int64 as number, including negatives and the int64 extremes', () => {
    const cases: [string, number][] = [
      ['0000000000000000', 0],
      ['ffffffffffffffff', -1],
      ['fffffffffffffffe', -2],
      ['0000000100000000', 2 ** 32],
      ['001fffffffffffff', Number.MAX_SAFE_INTEGER],
      ['ffe0000000000001', Number.MIN_SAFE_INTEGER],
      ['8000000000000000', -(2 ** 63)],
    ];
    for (const [bytes, value] of cases) {
      assert.equal(new Reader(hex(bytes)).int64(), value, bytes);
      assert.deepEqual(new Writer().int64(value).toBuffer(), hex(bytes), String(value));
    }
    // Long.MAX_VALUE is not a double; it reads as 2^63 and writes back saturated.
    assert.equal(new Reader(hex('7fffffffffffffff')).int64(), 2 ** 63);
    assert.deepEqual(new Writer().int64(2 ** 63).toBuffer(), hex('7fffffffffffffff'));
  });

  it('int64 round-trips every safe integer (against readBigInt64BE)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const b = new Writer().int64(v).toBuffer();
        assert.equal(b.readBigInt64BE(0), BigInt(v));
        assert.equal(new Reader(b).int64(), v);
      }),
    );
  });

  it('uuid is 32 lowercase hex characters', () => {
    const b = hex('00112233445566778899AABBCCDDEEFF');
    assert.equal(new Reader(b).uuid(), '00112233445566778899aabbccddeeff');
  });

  it('null and empty are different', () => {
    assert.equal(new Reader(hex('ffff')).nullableString(), null);
    assert.equal(new Reader(hex('0000')).nullableString(), '');
    assert.equal(new Reader(hex('00')).compactNullableString(), null);
    assert.equal(new Reader(hex('01')).compactNullableString(), '');
    assert.equal(new Reader(hex('ffffffff')).nullableBytes(), null);
    assert.deepEqual(new Reader(hex('00000000')).nullableBytes(), Buffer.alloc(0));
    assert.equal(new Reader(hex('ffffffff')).arrayLength(false), -1);
    assert.equal(new Reader(hex('00')).arrayLength(true), -1);
  });

  it('non-nullable readers refuse null', () => {
    throwsDecodeError(() => new Reader(hex('ffff')).string());
    throwsDecodeError(() => new Reader(hex('00')).compactString());
    throwsDecodeError(() => new Reader(hex('ffffffff')).bytes());
    throwsDecodeError(() => new Reader(hex('00')).compactBytes());
  });

  it('bytes are views into the frame, not copies', () => {
    const frame = hex('00000003 aabbcc');
    const b = new Reader(frame).bytes();
    assert.equal(b.buffer, frame.buffer);
    assert.equal(b.byteOffset, frame.byteOffset + 4);
  });
});

describe('Reader: distrusts every byte', () => {
  it('never reads past its end even when the buffer continues', () => {
    const buf = hex('0000000100000002');
    const r = new Reader(buf, 0, 6);
    assert.equal(r.int32(), 1);
    throwsDecodeError(() => r.int32());
    assert.equal(r.offset, 4, 'a failed read does not advance');
    throwsDecodeError(() => new Reader(buf, 0, 9));
  });

  it('refuses lying length prefixes before allocating', () => {
    throwsDecodeError(() => new Reader(hex('7fff 6162')).string(), /need 32767 bytes/);
    throwsDecodeError(() => new Reader(hex('7fffffff 00')).bytes());
    throwsDecodeError(() => new Reader(hex('ffffffff0f')).compactBytes());
    throwsDecodeError(() => new Reader(hex('8001 00')).compactString());
    throwsDecodeError(() => new Reader(hex('fffffffe')).nullableBytes(), /length -2/);
    throwsDecodeError(() => new Reader(hex('fffe')).nullableString(), /length -2/);
  });

  it('refuses array counts larger than the bytes remaining', () => {
    throwsDecodeError(() => new Reader(hex('7fffffff 000000')).arrayLength(false), /2147483647 elements/);
    throwsDecodeError(() => new Reader(hex('00000004 000000')).arrayLength(false));
    assert.equal(new Reader(hex('00000003 000000')).arrayLength(false), 3);
    throwsDecodeError(() => new Reader(hex('ffffffff0f')).arrayLength(true));
    throwsDecodeError(() => new Reader(hex('fffffff0')).arrayLength(false), /length -16/);
  });

  it('a message claiming 2^31-1 topics fails fast with a decode error', () => {
    // ProduceRequest v3: transactionalId null, acks, timeout, then a lying topic count.
    const frame = hex('ffff ffff 00007530 7fffffff 0001 61');
    throwsDecodeError(() => decodeProduceRequest(new Reader(frame), 3), /elements/);
  });

  it('tagged fields: unknown tags are skipped, lying sizes refused', () => {
    assert.doesNotThrow(() => new Reader(hex('02 05 01 aa 07 00')).skipTaggedFields());
    throwsDecodeError(() => new Reader(hex('01 05 09 aa')).skipTaggedFields());
    throwsDecodeError(() => new Reader(hex('05 00 00')).skipTaggedFields());
  });

  // Every strict prefix of a valid message must fail with ProtocolDecodeError (never RangeError).
  const messages: [string, Buffer, (r: Reader) => unknown][] = [];
  for (const v of [3, 9, 11]) {
    const w = new Writer();
    encodeProduceRequest(w, v, {
      transactionalId: 'tx',
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 'topic', partitionData: [{ index: 0, records: Buffer.alloc(20, 7) }] }],
    });
    messages.push([`Produce v${v}`, w.toBuffer(), (r) => decodeProduceRequest(r, v)]);
  }
  for (const v of [4, 12, 15, 17]) {
    const w = new Writer();
    encodeFetchRequest(w, v, {
      replicaState: { replicaId: 2, replicaEpoch: 5 },
      maxWaitMs: 500,
      topics: [
        { topic: 't', topicId: 'ab'.repeat(16), partitions: [{ partition: 1, fetchOffset: 2 ** 40 }] },
      ],
      rackId: 'rack',
    });
    messages.push([`Fetch v${v}`, w.toBuffer(), (r) => decodeFetchRequest(r, v)]);
  }
  for (const v of [1, 9, 12]) {
    const w = new Writer();
    encodeMetadataResponse(w, v, {
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      topics: [{ name: 'x', partitions: [{ partitionIndex: 0, replicaNodes: [1, 2], isrNodes: [1] }] }],
    });
    messages.push([`MetadataResponse v${v}`, w.toBuffer(), (r) => decodeMetadataResponse(r, v)]);
  }
  for (const [name, frame, decode] of messages) {
    it(`${name}: every truncation is a ProtocolDecodeError`, () => {
      const r = new Reader(frame);
      decode(r);
      assert.equal(r.remaining(), 0);
      for (let len = 0; len < frame.length; len++) {
        throwsDecodeError(() => decode(new Reader(frame.subarray(0, len))));
      }
    });
  }

  it('random garbage never escapes as anything but ProtocolDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 17 }), (bytes, v) => {
        try {
          decodeFetchRequest(new Reader(Buffer.from(bytes)), v);
        } catch (e) {
          assert.ok(e instanceof ProtocolDecodeError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
