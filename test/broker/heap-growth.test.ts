// The broker's heap-growth policy (src/broker/heap-growth.ts): V8's growing factor held at 4x while the live heap
// is small, V8's own heuristics above, and flags an operator gave left alone.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  heapFlagsGiven,
  heapGrowingPercentFor,
  startHeapGrowthPolicy,
} from '../../src/broker/heap-growth.js';
import * as limits from '../../src/limits.js';
import { createLogger } from '../../src/logger.js';

describe('heap growth policy', () => {
  it('holds the growing factor at 4x below the live-heap threshold and gives it back to V8 above', () => {
    assert.equal(heapGrowingPercentFor(13 * 1024 * 1024), 300);
    assert.equal(heapGrowingPercentFor(limits.heapGrowthBoostLiveBytesMax - 1), 300);
    assert.equal(heapGrowingPercentFor(limits.heapGrowthBoostLiveBytesMax), 0);
    assert.equal(heapGrowingPercentFor(2 * 1024 * 1024 * 1024), 0);
  });

  it('leaves heap flags given on the command line or in NODE_OPTIONS alone', () => {
    assert.equal(heapFlagsGiven([], undefined), false);
    assert.equal(heapFlagsGiven(['--enable-source-maps', '--max-old-space-size=4096'], ''), false);
    assert.equal(heapFlagsGiven(['--initial-old-space-size=256'], undefined), true);
    assert.equal(heapFlagsGiven([], '--heap-growing-percent=50'), true);
    assert.equal(heapFlagsGiven([], '--max-old-space-size=2048 --initial-heap-size=128'), true);
  });

  it('starts and stops in a running process', () => {
    const stop = startHeapGrowthPolicy(createLogger('test'));
    stop();
    stop();
  });
});
