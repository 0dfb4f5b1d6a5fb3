import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Args, UsageError } from '../../bench/lib/args.js';

test('options: --name value, --name=value, flags, lists and defaults', () => {
  const a = new Args(['--only', 'P1,C1', '--repeat=3', '--quick', '--out', 'x.json']);
  assert.deepEqual(a.list('--only'), ['P1', 'C1']);
  assert.equal(a.num('--repeat', 2, { positive: true, integer: true }), 3);
  assert.equal(a.flag('--quick'), true);
  assert.equal(a.flag('--keep'), false);
  assert.equal(a.str('--out'), 'x.json');
  assert.equal(a.str('--note'), undefined);
  assert.equal(a.num('--mb', 1024), 1024);
  // A value that is itself `a=b` (--points SP=1,64) is the value, not a name.
  assert.equal(new Args(['--points', 'SP=1,64;SC=1']).str('--points'), 'SP=1,64;SC=1');
  assert.equal(new Args(['--points=SP=1,64']).str('--points'), 'SP=1,64');
});

test('a bad number names the option and what it got', () => {
  const bad = (argv: string[], rule: Parameters<Args['num']>[2], message: string): void =>
    assert.throws(
      () => new Args(argv).num(argv[0] as string, 1, rule),
      (e: unknown) => e instanceof UsageError && e.message === message,
    );
  bad(['--repeat', 'x'], { positive: true, integer: true }, "--repeat must be a whole number > 0; got 'x'");
  bad(['--repeat', '1.5'], { integer: true }, "--repeat must be a whole number; got '1.5'");
  bad(['--r4-rate', '-3'], { positive: true }, "--r4-rate must be a number > 0; got '-3'");
  bad(['--r4-rate', '0'], { positive: true }, "--r4-rate must be a number > 0; got '0'");
  bad(['--settle-ms', '-1'], { min: 0 }, "--settle-ms must be a number >= 0; got '-1'");
  bad(['--mb', ''], {}, "--mb must be a number; got ''");
  bad(['--mb'], {}, '--mb needs a value');
  assert.equal(new Args(['--sc-rate', '0']).num('--sc-rate', 10_000, { min: 0 }), 0);
});

test('rejectUnknown refuses options nobody read, stray words and values on flags', () => {
  const read = (argv: string[]): Args => {
    const a = new Args(argv);
    a.num('--records', 1);
    a.flag('--exactly-once');
    return a;
  };
  read(['--records', '5', '--exactly-once']).rejectUnknown();
  read(['--records=5']).rejectUnknown();
  assert.throws(() => read(['--bogus']).rejectUnknown(), /unknown option '--bogus'/);
  assert.throws(() => read(['--records', '5', 'stray']).rejectUnknown(), /unknown option 'stray'/);
  assert.throws(() => read(['--exactly-once=1']).rejectUnknown(), /--exactly-once takes no value/);
});
