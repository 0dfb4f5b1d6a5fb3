// `samsa log dump|verify` on the data dir of a real broker (stopped cleanly after producing), then on copies
// of it with a flipped byte in a batch (CRC32C) and a damaged index entry.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { startInProcess } from '../helpers/in-process.js';
import { oneLineFailure, samsa } from './cli-helpers.js';

const BATCHES = 30;
const PER_BATCH = 4;
const value = (i: number): string => `value-${i}-${'y'.repeat(30)}`;

interface BatchLine {
  baseOffset: number;
  lastOffset: number;
  position: number;
  isvalid: string;
  codec: string;
}

function batchLines(stdout: string): BatchLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('baseOffset: '))
    .map((l) => ({
      baseOffset: Number(/baseOffset: (\d+)/.exec(l)![1]),
      lastOffset: Number(/lastOffset: (\d+)/.exec(l)![1]),
      position: Number(/position: (\d+)/.exec(l)![1]),
      isvalid: /isvalid: (\w+)/.exec(l)![1]!,
      codec: /compresscodec: (\w+)/.exec(l)![1]!,
    }));
}

function copyDir(from: string): string {
  const to = fs.mkdtempSync(path.join(tmpdir(), 'samsa-logtool-'));
  fs.cpSync(from, to, { recursive: true });
  return to;
}

describe('samsa log', () => {
  let dataDir: string;
  let partDir: string;
  let logFile: string;
  const copies: string[] = [];

  before(async () => {
    const b = await startInProcess({ 'log.index.interval.bytes': '300' });
    const cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'dumped', { partitions: 1 });
    const plain = Producer.on(cluster);
    const gzip = Producer.on(cluster, { compression: 'gzip' });
    for (let i = 0; i < BATCHES; i++) {
      const records = Array.from({ length: PER_BATCH }, (_, j) => ({
        key: `k${i * PER_BATCH + j}`,
        value: value(i * PER_BATCH + j),
        partition: 0,
      }));
      await (i % 3 === 2 ? gzip : plain).send('dumped', records);
    }
    cluster.close();
    await b.stop();
    dataDir = b.dataDir;
    partDir = path.join(dataDir, 'dumped-0');
    logFile = path.join(partDir, '00000000000000000000.log');
  });

  after(() => {
    for (const d of [dataDir, ...copies]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('--help names the actions and Kafka option names', async () => {
    const r = await samsa(['log', '--help']);
    assert.equal(r.code, 0);
    for (const w of ['dump', 'verify', '--files', '--deep-iteration', '--print-data-log'])
      assert.ok(r.stdout.includes(w), w);
  });

  it('verify: a healthy data dir passes, one ok line per file', async () => {
    const r = await samsa(['log', 'verify', '--files', dataDir, '--deep-iteration']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 3, r.stdout);
    for (const l of lines) assert.match(l, /: ok, /);
    assert.ok(
      lines.includes(
        `${logFile}: ok, ${BATCHES} batches, offsets 0-${BATCHES * PER_BATCH - 1}, ${fs.statSync(logFile).size} bytes`,
      ),
    );
  });

  it('dump --print-data-log: every batch and every record with its payload', async () => {
    const r = await samsa(['log', 'dump', '--files', logFile, '--print-data-log']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `Dumping ${logFile}`);
    assert.equal(lines[1], 'Log starting offset: 0');
    const batches = batchLines(r.stdout);
    assert.equal(batches.length, BATCHES);
    assert.deepEqual(
      batches.map((b) => [b.baseOffset, b.lastOffset, b.isvalid]),
      Array.from({ length: BATCHES }, (_, i) => [i * PER_BATCH, i * PER_BATCH + PER_BATCH - 1, 'true']),
    );
    assert.deepEqual(
      batches.map((b) => b.codec),
      Array.from({ length: BATCHES }, (_, i) => (i % 3 === 2 ? 'gzip' : 'none')),
    );
    assert.match(
      lines[2]!,
      /^baseOffset: 0 lastOffset: 3 count: 4 baseSequence: -?\d+ lastSequence: -?\d+ producerId: -?\d+ producerEpoch: -?\d+ partitionLeaderEpoch: \d+ isTransactional: false isControl: false deleteHorizonMs: OptionalLong\.empty position: 0 CreateTime: \d+ size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/,
    );
    const records = lines.filter((l) => l.startsWith('| offset: '));
    assert.equal(records.length, BATCHES * PER_BATCH);
    records.forEach((l, i) => {
      assert.match(
        l,
        new RegExp(
          `^\\| offset: ${i} CreateTime: \\d+ keySize: ${`k${i}`.length} valueSize: ${value(i).length} sequence: -?\\d+ headerKeys: \\[\\] key: k${i} payload: ${value(i)}$`,
        ),
      );
    });
    // Positions are where the batches are: each one starts where the previous ended.
    const sizes = lines
      .filter((l) => l.startsWith('baseOffset: '))
      .map((l) => Number(/ size: (\d+)/.exec(l)![1]));
    batches.forEach((b, i) => {
      assert.equal(
        b.position,
        sizes.slice(0, i).reduce((a, s) => a + s, 0),
      );
    });
  });

  it('dump of .index and .timeindex: entries that agree with the .log dump', async () => {
    const log = batchLines((await samsa(['log', 'dump', '--files', logFile])).stdout);
    const index = logFile.replace(/\.log$/, '.index');
    const r = await samsa(['log', 'dump', '--files', `${index},${logFile.replace(/\.log$/, '.timeindex')}`]);
    assert.equal(r.code, 0, r.stderr);
    const offsetEntries = [...r.stdout.matchAll(/^offset: (\d+) position: (\d+)$/gm)];
    assert.ok(offsetEntries.length >= 3, r.stdout);
    for (const [, offset, position] of offsetEntries) {
      const b = log.find((x) => x.position === Number(position));
      assert.ok(b !== undefined, `no batch at position ${position}`);
      assert.equal(b.lastOffset, Number(offset));
    }
    assert.ok(/^timestamp: \d+ offset: \d+$/m.test(r.stdout));
    assert.ok(!r.stdout.includes('Mismatches'));
  });

  it('verify finds a corrupted CRC: exit 1, one line naming the file, position and batch', async () => {
    const copy = copyDir(dataDir);
    copies.push(copy);
    const file = path.join(copy, 'dumped-0', '00000000000000000000.log');
    const batches = batchLines((await samsa(['log', 'dump', '--files', file])).stdout);
    const victim = batches[7]!;
    const data = fs.readFileSync(file);
    data[victim.position + 70] = data[victim.position + 70]! ^ 0x01;
    fs.writeFileSync(file, data);
    const r = await samsa(['log', 'verify', '--files', copy]);
    assert.equal(r.code, 1);
    assert.equal(
      oneLineFailure(r).replace(/stored \d+, computed \d+/, 'stored S, computed C'),
      `samsa log: ${file}: position ${victim.position}: CRC32C mismatch in batch ${victim.baseOffset}-${victim.lastOffset}: stored S, computed C`,
    );
    assert.match(r.stdout, new RegExp(`${file}: 1 problem\\(s\\), ${BATCHES} batches`));
    const dump = await samsa(['log', 'dump', '--files', file]);
    assert.deepEqual(
      batchLines(dump.stdout)
        .filter((b) => b.isvalid === 'false')
        .map((b) => b.baseOffset),
      [victim.baseOffset],
    );
  });

  it('verify finds an index entry pointing into the middle of a batch', async () => {
    const copy = copyDir(dataDir);
    copies.push(copy);
    const index = path.join(copy, 'dumped-0', '00000000000000000000.index');
    const data = fs.readFileSync(index);
    data.writeInt32BE(data.readInt32BE(12) + 9, 12);
    fs.writeFileSync(index, data);
    const r = await samsa(['log', 'verify', '--files', index]);
    assert.equal(r.code, 1);
    assert.match(
      oneLineFailure(r),
      new RegExp(
        `^samsa log: ${index}: entry 1 \\(offset \\d+, position \\d+\\): does not point at that batch`,
      ),
    );
    const dump = await samsa(['log', 'dump', '--files', index]);
    assert.match(dump.stdout, /Mismatches in .*: 1 of \d+ entries/);
  });

  it('bad usage exits 2; an unreadable path exits 1 with one line', async () => {
    let r = await samsa(['log', 'verify']);
    assert.equal(r.code, 2);
    assert.equal(oneLineFailure(r), 'samsa log: --files is required');
    r = await samsa(['log', 'check', '--files', logFile]);
    assert.equal(r.code, 2);
    assert.match(oneLineFailure(r), /^samsa log: expected the action 'dump' or 'verify'/);
    r = await samsa(['log', 'verify', '--files', '/nonexistent/00000000000000000000.log']);
    assert.equal(r.code, 1);
    assert.equal(
      oneLineFailure(r),
      'samsa log: /nonexistent/00000000000000000000.log: no such file or directory (ENOENT)',
    );
  });
});
