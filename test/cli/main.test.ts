// The `samsa` process itself: --version everywhere, and failures as docs/operations.md describes them
// (one line prefixed with the command, exit status 2 and a one-line pointer to --help for bad usage,
// no stack traces), including an invalid SAMSA_LOG_LEVEL and a clone that was never built.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { canConnect } from '../helpers/broker.js';
import { type CliResult, oneLineFailure, repoRoot, samsa } from './cli-helpers.js';

const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

function noStack(r: CliResult): void {
  assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace on stderr:\n${r.stderr}`);
}

async function commandNames(): Promise<string[]> {
  const r = await samsa(['--help']);
  assert.equal(r.code, 0, r.stderr);
  const names = [...r.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1] as string);
  assert.ok(names.includes('broker') && names.includes('perf'), r.stdout);
  return names;
}

describe('samsa (the command)', () => {
  it('--version prints the package version, for samsa and every command', async () => {
    const top = await samsa(['--version']);
    assert.equal(top.code, 0, top.stderr);
    assert.equal(top.stdout, `samsa ${version}\n`);
    for (const name of await commandNames()) {
      const r = await samsa([name, '--version']);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, `samsa ${version}\n`, name);
    }
  });

  it('bad usage: one line naming the command, a pointer to --help, exit status 2', async () => {
    for (const name of await commandNames()) {
      const r = await samsa([name, '--no-such-option']);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      const line = oneLineFailure(r);
      assert.ok(line.startsWith(`samsa ${name}: `), line);
      assert.match(r.stderr, new RegExp(`Run 'samsa ${name}( \\w+)? --help' for usage\\.`));
      noStack(r);
    }
    const cases: [string[], RegExp][] = [
      [[], /^samsa: no command given \(broker, topics, /],
      [['frobnicate'], /^samsa: unknown command 'frobnicate'$/],
      [['--frobnicate'], /^samsa: unknown option '--frobnicate'$/],
      [['broker', 'a.properties', 'b.properties'], /^samsa broker: expected at most one properties file/],
      [['broker', '--log-format', 'xml'], /^samsa broker: --log-format must be json or text; got "xml"$/],
      [['perf'], /^samsa perf: expected produce, consume or e2e$/],
      [['perf', 'produce', '--records', 'many', '--topic', 't'], /^samsa perf produce: --records must be/],
      [['produce'], /^samsa produce: --topic is required$/],
    ];
    for (const [args, pattern] of cases) {
      const r = await samsa(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLineFailure(r), pattern);
      assert.ok(r.stdout === '', 'no usage text dumped');
      noStack(r);
    }
  });

  it('an operation that fails: one line, exit status 1', async () => {
    const r = await samsa(['topics', 'list', '--bootstrap-server', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(oneLineFailure(r), /^samsa topics: cannot connect to 127\.0\.0\.1:1/);
    noStack(r);
  });

  it('samsa perf connects to 127.0.0.1:9092 unless told otherwise, as documented', async (t) => {
    if (await canConnect(9092)) {
      t.skip('something listens on 127.0.0.1:9092 on this machine');
      return;
    }
    const r = await samsa(['perf', 'produce', '--topic', 't', '--records', '1', '--record-size', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLineFailure(r), /^samsa perf produce: cannot connect to 127\.0\.0\.1:9092/);
    const help = await samsa(['perf', '--help']);
    assert.match(
      help.stdout,
      /--bootstrap-server HOST:PORT +broker to connect to \(default 127\.0\.0\.1:9092\)/,
    );
  });

  it('refuses an invalid SAMSA_LOG_LEVEL instead of falling back', async () => {
    for (const args of [['broker'], ['topics', 'list']]) {
      const r = await samsa(args, { env: { SAMSA_LOG_LEVEL: 'verbose' } });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr,
        `samsa ${args[0]}: SAMSA_LOG_LEVEL must be one of debug, info, warn, error; got "verbose"\n`,
      );
    }
  });

  it('bin/samsa.js says what to run when the clone was never built', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'samsa-unbuilt-'));
    try {
      mkdirSync(path.join(dir, 'bin'));
      copyFileSync(path.join(repoRoot, 'bin/samsa.js'), path.join(dir, 'bin/samsa.js'));
      copyFileSync(path.join(repoRoot, 'package.json'), path.join(dir, 'package.json'));
      const r = spawnSync(process.execPath, [path.join(dir, 'bin/samsa.js'), 'broker'], {
        cwd: dir,
        encoding: 'utf8',
      });
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr,
        `samsa: the compiled CLI (dist/src/cli/main.js) is missing; run 'npm install && npm run build' in ${dir}${path.sep} first\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
