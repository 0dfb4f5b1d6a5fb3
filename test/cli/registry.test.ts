// `samsa registry` as a command: help, bad usage (exit 2), an unreachable cluster (exit 1, one line).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../helpers/broker.js';
import { repoRoot, run } from '../helpers/run.js';

const samsa = (args: string[]) =>
  run(process.execPath, [join(repoRoot(), 'bin', 'samsa.js'), 'registry', ...args], {
    allowFailure: true,
    timeoutMs: 60_000,
  });

describe('samsa registry (command line)', () => {
  test('--help', async () => {
    const r = await samsa(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: samsa registry/);
    assert.match(r.stdout, /--listeners/);
  });

  test('bad usage exits 2 naming the option', async () => {
    const https = await samsa(['--listeners', 'https://127.0.0.1:8081']);
    assert.equal(https.code, 2);
    assert.match(https.stderr, /samsa registry: --listeners: only http:\/\/ is served/);
    const notUrl = await samsa(['--listeners', 'nonsense']);
    assert.equal(notUrl.code, 2);
    assert.match(notUrl.stderr, /--listeners must be a URL/);
    assert.equal((await samsa(['--no-such-option'])).code, 2);
  });

  test('an unreachable cluster: exit 1 with one line', async () => {
    const port = await freePort();
    const r = await samsa(['--bootstrap', `127.0.0.1:${port}`, '--listeners', 'http://127.0.0.1:0']);
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('samsa registry:'));
    assert.equal(lines.length, 1, r.stderr);
  });
});
