// The replica fetcher's side of a fetch session: which partitions each request lists and forgets, and how
// session errors send it back to a full fetch. (The leader's side, over sockets: test/broker/fetch-sessions.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FetchSessionHandler, type SessionPartition } from '../../src/cluster/fetch-session-handler.js';
import { ErrorCode } from '../../src/protocol/errors.js';

function part(partition: number, fetchOffset: number, highWatermark = 0): SessionPartition {
  return {
    key: `t-${partition}`,
    topic: 't',
    topicId: 'ab'.repeat(16),
    partition,
    fetchOffset,
    currentLeaderEpoch: 3,
    logStartOffset: 0,
    partitionMaxBytes: 1024,
    lastFetchedEpoch: -1,
    highWatermark,
  };
}

const parts = (r: { send: SessionPartition[]; forget: SessionPartition[] }) => ({
  send: r.send.map((p) => p.partition),
  forget: r.forget.map((p) => p.partition),
});

describe('FetchSessionHandler', () => {
  it('sends everything in a full fetch, then only what changed, and forgets what is no longer wanted', () => {
    const h = new FetchSessionHandler();
    const full = h.build([part(0, 5), part(1, 7), part(2, 9)], true);
    assert.deepEqual([full.sessionId, full.sessionEpoch, full.full], [0, 0, true]);
    assert.deepEqual(parts(full), { send: [0, 1, 2], forget: [] });
    assert.ok(h.handleResponse(full, ErrorCode.NONE, 77));
    const quiet = h.build([part(0, 5), part(1, 7), part(2, 9)], true);
    assert.deepEqual([quiet.sessionId, quiet.sessionEpoch, quiet.full], [77, 1, false]);
    assert.deepEqual(parts(quiet), { send: [], forget: [] }, 'nothing changed: an empty request');
    h.handleResponse(quiet, ErrorCode.NONE, 77);
    // Partition 1 moved on, partition 2 is paused (not wanted), partition 3 is new, 0's high watermark moved.
    const moved = h.build([part(0, 5, 4), part(1, 8), part(3, 0)], true);
    assert.equal(moved.sessionEpoch, 2);
    assert.deepEqual(parts(moved), { send: [0, 1, 3], forget: [2] });
  });

  it('starts over without a session on FETCH_SESSION_ID_NOT_FOUND, and closes it on other session errors', () => {
    const h = new FetchSessionHandler();
    const full = h.build([part(0, 0)], true);
    h.handleResponse(full, ErrorCode.NONE, 5);
    const inc = h.build([part(0, 1)], true);
    assert.equal(h.handleResponse(inc, ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0), false);
    const again = h.build([part(0, 1)], true);
    assert.deepEqual(
      [again.sessionId, again.sessionEpoch, again.full],
      [5, 0, true],
      'a full fetch closing 5',
    );
    assert.deepEqual(parts(again), { send: [0], forget: [] });
    h.handleResponse(again, ErrorCode.NONE, 6);
    const inc2 = h.build([part(0, 1)], true);
    assert.equal(h.handleResponse(inc2, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0), false);
    const fresh = h.build([part(0, 1)], true);
    assert.deepEqual([fresh.sessionId, fresh.sessionEpoch], [0, 0]);
    assert.equal(h.counts.sessionErrors, 2);
  });

  it('goes back to full fetches when the leader gives no session, after a lost connection, and on a switch to names', () => {
    const h = new FetchSessionHandler();
    let r = h.build([part(0, 0)], true);
    h.handleResponse(r, ErrorCode.NONE, 0);
    r = h.build([part(0, 0)], true);
    assert.ok(r.full, 'no slot on the leader: full fetches');
    h.handleResponse(r, ErrorCode.NONE, 9);
    r = h.build([part(0, 0)], true);
    assert.ok(!r.full);
    h.handleError();
    r = h.build([part(0, 0)], true);
    assert.deepEqual([r.sessionId, r.sessionEpoch, r.full], [9, 0, true]);
    h.handleResponse(r, ErrorCode.NONE, 10);
    r = h.build([part(0, 0)], false);
    assert.ok(r.full, 'a session by ids is not used by names');
  });

  it('wraps its epoch from 2^31-1 to 1', () => {
    const h = new FetchSessionHandler();
    let r = h.build([part(0, 0)], true);
    h.handleResponse(r, ErrorCode.NONE, 3);
    (h as unknown as { epoch: number }).epoch = 0x7fffffff;
    r = h.build([part(0, 0)], true);
    assert.equal(r.sessionEpoch, 0x7fffffff);
    h.handleResponse(r, ErrorCode.NONE, 3);
    assert.equal(h.build([part(0, 0)], true).sessionEpoch, 1);
  });
});
