// The interop record scheme itself: the TypeScript, Python and Java implementations must agree (each
// client verifies what it wrote with its own implementation, so a disagreement would otherwise go
// unseen), and the verifier must catch every kind of damage it exists for.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot, run, which } from '../helpers/run.js';
import { clientScript, python } from './harness.js';
import {
  fullProfile,
  kcatProfile,
  noNullHeadersProfile,
  type ReadRecord,
  recordOf,
  schemeDigest,
  verifyRecords,
} from './records.js';

const count = 3000;
const base = 1_700_000_000_000;
const inCi = process.env.CI === 'true' || process.env.CI === '1';

function readBack(n: number, p = fullProfile): ReadRecord[] {
  return Array.from({ length: n }, (_, i) => ({ offset: i, ...recordOf(i, base, p) }));
}

describe('interop record scheme', () => {
  test('covers null, empty, large, unicode values and duplicate and null headers', () => {
    const rs = readBack(count);
    assert.ok(rs.some((r) => r.key === null) && rs.some((r) => r.key?.length === 0));
    assert.ok(rs.some((r) => r.value === null) && rs.some((r) => r.value?.length === 0));
    assert.ok(rs.some((r) => r.key === null && r.value === null));
    assert.ok(rs.some((r) => (r.value?.length ?? 0) > 20_000));
    assert.ok(rs.some((r) => r.value?.includes(Buffer.from('😀'))));
    assert.ok(rs.some((r) => r.headers.filter(([k]) => k === 'dup').length === 2));
    assert.ok(rs.some((r) => r.headers.some(([, v]) => v === null)));
    assert.ok(rs.some((r) => r.headers.length === 0));
  });

  test('profiles leave out what their clients cannot express', () => {
    const kcat = readBack(count, kcatProfile);
    assert.ok(kcat.every((r) => r.key?.length !== 0 && r.value?.length !== 0));
    assert.ok(kcat.every((r) => r.key !== null || r.value !== null));
    const nn = readBack(count, noNullHeadersProfile);
    assert.ok(nn.every((r) => r.headers.every(([, v]) => v !== null)));
  });

  test('the verifier accepts the scheme and catches each kind of damage', () => {
    assert.ok(verifyRecords(readBack(count), count, base, fullProfile).ok);

    const flipped = readBack(count);
    flipped[100]!.value![3]! ^= 1;
    assert.match(verifyRecords(flipped, count, base, fullProfile).errors[0]!, /index 100\): value/);

    const nulled = readBack(count);
    nulled[13] = { ...nulled[13]!, value: null }; // empty became null
    assert.match(verifyRecords(nulled, count, base, fullProfile).errors[0]!, /value: expected "" got null/);

    const reordered = readBack(count);
    reordered[9]!.headers.reverse(); // h=9, dup=a, dup=b
    assert.equal(verifyRecords(reordered, count, base, fullProfile).ok, false);

    const short = readBack(count - 1);
    assert.match(
      verifyRecords(short, count, base, fullProfile).errors[0]!,
      /expected 3000 records, read 2999/,
    );

    const badTs = readBack(count);
    badTs[5]!.timestamp += 1;
    assert.equal(verifyRecords(badTs, count, base, fullProfile).ok, false);
  });

  test('after a crash: acknowledged records must be present, once, in order', () => {
    const acked = new Set(Array.from({ length: 2000 }, (_, i) => i));
    const partial = readBack(2500); // 2000 acknowledged plus 500 written but unacknowledged: fine
    assert.ok(verifyRecords(partial, count, base, fullProfile, acked).ok);

    const lost = readBack(2500).filter((r) => r.offset !== 1234);
    const s = verifyRecords(lost, count, base, fullProfile, acked);
    assert.equal(s.missing, 1);
    assert.match(s.errors.at(-1)!, /first 1234/);

    const dup = readBack(2500);
    dup.splice(50, 0, { ...dup[49]!, offset: 50 });
    assert.match(verifyRecords(dup, count, base, fullProfile, acked).errors[0]!, /duplicate or reordered/);
  });

  const pythonPresent = existsSync(python);
  test('Python records.py computes the same records', {
    skip: !pythonPresent && !inCi && `${python} missing`,
  }, async () => {
    for (const [p, name] of [
      [fullProfile, 'full'],
      [noNullHeadersProfile, 'no-null-headers'],
    ] as const) {
      const r = await run(python, [clientScript('records.py'), `${count}`, `${base}`, name]);
      assert.equal(r.stdout.trim(), schemeDigest(count, base, p), `profile ${name}`);
    }
  });

  const jar = join(repoRoot(), 'test', 'interop', 'java', 'target', 'samsa-interop.jar');
  const javaSkip = inCi
    ? false
    : which('java') === undefined
      ? 'java missing'
      : !existsSync(jar) && 'interop jar not built';
  test('Java Records computes the same records', { skip: javaSkip }, async () => {
    for (const [p, name] of [
      [fullProfile, 'full'],
      [noNullHeadersProfile, 'no-null-headers'],
    ] as const) {
      const r = await run('java', [
        '-jar',
        jar,
        'digest',
        '--count',
        `${count}`,
        '--base-ts',
        `${base}`,
        '--profile',
        name,
      ]);
      assert.equal(r.stdout.trim(), schemeDigest(count, base, p), `profile ${name}`);
    }
  });
});
