// The audit's windows: --window and --from/--to parsing, window starts aligned on the minute/hour/day in UTC,
// and the text form of a window start.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatWindow,
  parseTime,
  parseWindow,
  WindowCounts,
  windowStart,
} from '../../src/pipeline/audit-window.js';

describe('audit windows', () => {
  it('parses durations with a unit, refuses anything else', () => {
    assert.equal(parseWindow('10s'), 10_000);
    assert.equal(parseWindow('1m'), 60_000);
    assert.equal(parseWindow('5m'), 300_000);
    assert.equal(parseWindow('1h'), 3_600_000);
    assert.equal(parseWindow('1d'), 86_400_000);
    assert.equal(parseWindow('250ms'), 250);
    for (const bad of ['', '0m', '1', 'm', '1.5m', '-1m', '1 m', '1w', '99999999999999999999h'])
      assert.equal(parseWindow(bad), null, bad);
  });

  it('parses ISO-8601 times and epoch milliseconds', () => {
    assert.equal(parseTime('2026-12-06T01:41:00Z'), Date.UTC(2026, 11, 6, 1, 41));
    assert.equal(parseTime('2026-12-06T02:41:00+01:00'), Date.UTC(2026, 11, 6, 1, 41));
    assert.equal(parseTime('1764985260000'), 1764985260000);
    for (const bad of ['yesterday', '12/06/2026', '2026-13-45T99:00:00Z', '1e12'])
      assert.equal(parseTime(bad), null, bad);
  });

  it('starts windows on the minute, hour and day in UTC', () => {
    const ts = Date.UTC(2026, 11, 6, 1, 41, 37, 250);
    assert.equal(formatWindow(windowStart(ts, 60_000)), '2026-12-06T01:41:00Z');
    assert.equal(formatWindow(windowStart(ts, 300_000)), '2026-12-06T01:40:00Z');
    assert.equal(formatWindow(windowStart(ts, 10_000)), '2026-12-06T01:41:30Z');
    assert.equal(formatWindow(windowStart(ts, 3_600_000)), '2026-12-06T01:00:00Z');
    assert.equal(formatWindow(windowStart(ts, 86_400_000)), '2026-12-06T00:00:00Z');
    assert.equal(formatWindow(windowStart(ts, 100)), '2026-12-06T01:41:37.200Z');
    // A record without a timestamp (-1) lands in the minute before the epoch, not in the epoch's.
    assert.equal(formatWindow(windowStart(-1, 60_000)), '1969-12-31T23:59:00Z');
  });

  it('counts per window', () => {
    const c = new WindowCounts(60_000);
    c.add(Date.UTC(2026, 0, 1, 0, 0, 1));
    c.add(Date.UTC(2026, 0, 1, 0, 0, 59), 4);
    c.add(Date.UTC(2026, 0, 1, 0, 1, 0));
    assert.equal(c.get(Date.UTC(2026, 0, 1)), 5);
    assert.equal(c.get(Date.UTC(2026, 0, 1, 0, 1)), 1);
    assert.equal(c.total(), 6);
  });
});
