import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, errorName } from '../../src/protocol/errors.js';

describe('error catalog', () => {
  it("matches Kafka's codes", () => {
    const expected: [keyof typeof ErrorCode, number][] = [
      ['UNKNOWN_SERVER_ERROR', -1],
      ['NONE', 0],
      ['OFFSET_OUT_OF_RANGE', 1],
      ['NOT_LEADER_OR_FOLLOWER', 6],
      ['MESSAGE_TOO_LARGE', 10],
      ['INVALID_TOPIC_EXCEPTION', 17],
      ['UNSUPPORTED_VERSION', 35],
      ['INVALID_REQUEST', 42],
      ['INVALID_PRODUCER_EPOCH', 47],
      ['UNKNOWN_PRODUCER_ID', 59],
      ['FENCED_LEADER_EPOCH', 74],
      ['UNKNOWN_TOPIC_ID', 100],
      ['INCONSISTENT_TOPIC_ID', 103],
      ['TRANSACTION_ABORTABLE', 120],
    ];
    for (const [name, code] of expected) assert.equal(ErrorCode[name], code, name);
    const codes = Object.values(ErrorCode);
    assert.equal(new Set(codes).size, codes.length, 'codes are unique');
  });

  it('errorName', () => {
    assert.equal(errorName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(errorName(9999), 'UNKNOWN_ERROR_CODE_9999');
  });
});
