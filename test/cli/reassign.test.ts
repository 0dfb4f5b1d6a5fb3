// `samsa reassign` and `samsa leader-election` as commands: bad usage (exit 2), bad JSON files (exit 1, one
// line naming the file, before any connection), and against a single node, where every partition has one
// replica: a move onto the node itself completes at once, a move elsewhere is refused, and no leader needs
// electing. The cluster behaviour is tested in test/cluster/reassign.test.ts and leadership.test.ts.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommandError } from '../../src/cli/common.js';
import {
  formatAssignment,
  parsePartitionsJson,
  parseReassignmentJson,
  parseTopicsToMoveJson,
} from '../../src/cli/reassign-json.js';
import { createTopic } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { type CliResult, oneLineFailure, samsa } from './cli-helpers.js';

const nowhere = ['--bootstrap-server', '127.0.0.1:1'];

describe('samsa reassign and samsa leader-election', () => {
  let dir: string;
  const file = (name: string, content: unknown): string => {
    const f = path.join(dir, name);
    writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
    return f;
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'samsa-reassign-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad usage: exit status 2 with one line', async () => {
    const good = file('good.json', { version: 1, partitions: [{ topic: 't', partition: 0, replicas: [1] }] });
    const cases: [string[], RegExp][] = [
      [['reassign'], /give exactly one of --generate, --execute, --verify, --cancel, --list/],
      [['reassign', '--execute'], /--execute needs --reassignment-json-file/],
      [
        ['reassign', '--generate', '--topics-to-move-json-file', good, '--broker-list', '1,2,1'],
        /Broker list contains duplicate entries: 1/,
      ],
      [
        ['reassign', '--verify', '--additional', '--reassignment-json-file', good],
        /--additional goes with --execute/,
      ],
      [['leader-election', '--all-topic-partitions'], /Missing required option\(s\): --election-type/],
      [
        [
          'leader-election',
          '--election-type',
          'preferred',
          '--all-topic-partitions',
          '--topic',
          't',
          '--partition',
          '0',
        ],
        /One and only one of the following options/,
      ],
      [
        ['leader-election', '--election-type', 'preferred', '--topic', 't'],
        /Missing required option\(s\): --partition/,
      ],
      [
        ['leader-election', '--election-type', 'unclean', '--all-topic-partitions'],
        /unclean is not supported/,
      ],
    ];
    // Independent processes: run them side by side.
    const results = await Promise.all(cases.map(([args]) => samsa([...args, ...nowhere])));
    for (const [i, [args, pattern]] of cases.entries()) {
      const r = results[i] as CliResult;
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const line = oneLineFailure(r);
      assert.ok(line.startsWith(`samsa ${args[0]}: `), line);
      assert.match(line, pattern);
      assert.equal(r.stdout, '');
    }
  });

  it("reassignment JSON: Kafka's checks, each failure naming the file", () => {
    const cases: [string, RegExp][] = [
      ['{"version":1,', /not valid JSON/],
      ['[]', /expected a JSON object/],
      ['{"version":2,"partitions":[]}', /Not supported version field value 2/],
      ['{"version":1}', /expected "partitions": \[\.\.\.\]/],
      ['{"version":1,"partitions":[]}', /Partition reassignment list cannot be empty/],
      [
        '{"partitions":[{"topic":"t","partition":0,"replicas":[]}]}',
        /Partition replica list cannot be empty/,
      ],
      [
        '{"partitions":[{"topic":"t","partition":0,"replicas":[1,2,1]}]}',
        /t-0 contains multiple entries for 1/,
      ],
      [
        '{"partitions":[{"topic":"t","partition":0,"replicas":[1]},{"topic":"t","partition":0,"replicas":[2]}]}',
        /duplicate topic partitions: t-0/,
      ],
      ['{"partitions":[{"topic":"t","partition":-1,"replicas":[1]}]}', /partitions\[0\] needs "partition"/],
      ['{"partitions":[{"partition":0,"replicas":[1]}]}', /partitions\[0\] needs "topic"/],
      ['{"partitions":[{"topic":"t","partition":0,"replicas":["1"]}]}', /needs "replicas"/],
      [
        '{"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any"]}]}',
        /Size of replicas list \[1, 2\] is different from size of log dirs list \[any\] for partition t-0/,
      ],
      [
        '{"partitions":[{"topic":"t","partition":0,"replicas":[1],"log_dirs":["/data/2"]}]}',
        /moving replicas to a given log dir is not supported/,
      ],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(
        () => parseReassignmentJson(text, 'f.json'),
        (e: Error) =>
          e instanceof CommandError && e.message.startsWith('f.json: ') && pattern.test(e.message),
        text,
      );
    }
    assert.deepEqual(
      parseReassignmentJson(
        '{"partitions":[{"topic":"t","partition":1,"replicas":[3,1],"log_dirs":["any","any"]},{"topic":"u","partition":0,"replicas":[2]}]}',
        'f.json',
      ),
      [
        { topic: 't', partition: 1, replicas: [3, 1] },
        { topic: 'u', partition: 0, replicas: [2] },
      ],
    );
    assert.throws(
      () => parseTopicsToMoveJson('{"topics":[{"topic":"a"},{"topic":"a"}]}', 'f.json'),
      /duplicate entries: a$/,
    );
    assert.deepEqual(
      parseTopicsToMoveJson('{"version":1,"topics":[{"topic":"a"},{"topic":"b"}]}', 'f.json'),
      ['a', 'b'],
    );
    assert.throws(
      () =>
        parsePartitionsJson(
          '{"partitions":[{"topic":"t","partition":0},{"topic":"t","partition":0}]}',
          'f.json',
        ),
      /Replica election data contains duplicate topic partitions: t-0$/,
    );
    assert.equal(
      formatAssignment([
        { topic: 'b', partition: 0, replicas: [1] },
        { topic: 'a', partition: 10, replicas: [2, 3] },
        { topic: 'a', partition: 2, replicas: [3, 2] },
      ]),
      '{"version":1,"partitions":[{"topic":"a","partition":2,"replicas":[3,2],"log_dirs":["any","any"]},{"topic":"a","partition":10,"replicas":[2,3],"log_dirs":["any","any"]},{"topic":"b","partition":0,"replicas":[1],"log_dirs":["any"]}]}',
    );
  });

  it('a bad file fails with exit status 1 and one line, before any connection', async () => {
    const f = file('bad.json', '{"version":1,');
    const r = await samsa(['reassign', '--execute', '--reassignment-json-file', f, ...nowhere]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      oneLineFailure(r),
      new RegExp(`^samsa reassign: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`),
    );
    const missing = await samsa([
      'reassign',
      '--verify',
      '--reassignment-json-file',
      path.join(dir, 'no.json'),
      ...nowhere,
    ]);
    assert.equal(missing.code, 1);
    assert.match(oneLineFailure(missing), /^samsa reassign: cannot read .*no\.json: ENOENT/);
  });

  describe('on a single node', () => {
    let b: InProcessBroker;
    let bs: string[];

    before(async () => {
      b = await startInProcess({ 'node.id': '0' });
      bs = ['--bootstrap-server', `127.0.0.1:${b.port}`];
      const cl = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
      try {
        await createTopic(cl, 'solo', { partitions: 2, replicationFactor: 1 });
      } finally {
        cl.close();
      }
    });
    after(async () => {
      await b.stop(true);
    });

    it('--generate, --execute onto the node itself, --verify, --list; a move elsewhere is refused', async () => {
      const topics = file('solo-topics.json', { version: 1, topics: [{ topic: 'solo' }] });
      const gen = await samsa([
        'reassign',
        '--generate',
        '--topics-to-move-json-file',
        topics,
        '--broker-list',
        '0',
        ...bs,
      ]);
      assert.equal(gen.code, 0, gen.stderr);
      const solo =
        '{"version":1,"partitions":[{"topic":"solo","partition":0,"replicas":[0],"log_dirs":["any"]},{"topic":"solo","partition":1,"replicas":[0],"log_dirs":["any"]}]}';
      assert.equal(
        gen.stdout,
        `Current partition replica assignment\n${solo}\n\nProposed partition reassignment configuration\n${solo}\n`,
      );
      const unknown = await samsa([
        'reassign',
        '--generate',
        '--topics-to-move-json-file',
        topics,
        '--broker-list',
        '0,7',
        ...bs,
      ]);
      assert.equal(unknown.code, 1);
      assert.equal(oneLineFailure(unknown), 'samsa reassign: Unknown broker id(s) 7');

      const same = file('same.json', solo);
      const exec = await samsa(['reassign', '--execute', '--reassignment-json-file', same, ...bs]);
      assert.equal(exec.code, 0, exec.stderr);
      assert.equal(
        exec.stdout,
        `Current partition replica assignment\n\n${solo}\n\nSave this to use as the --reassignment-json-file option during rollback\nSuccessfully started partition reassignments for solo-0,solo-1\n`,
      );
      const verify = await samsa(['reassign', '--verify', '--reassignment-json-file', same, ...bs]);
      assert.equal(verify.code, 0, verify.stderr);
      assert.equal(
        verify.stdout,
        'Status of partition reassignment:\nReassignment of partition solo-0 is completed.\nReassignment of partition solo-1 is completed.\n',
      );
      const list = await samsa(['reassign', '--list', ...bs]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, 'No partition reassignments found.\n');
      const cancel = await samsa(['reassign', '--cancel', '--reassignment-json-file', same, ...bs]);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.equal(cancel.stdout, 'None of the specified partition reassignments are active.\n');

      const elsewhere = file('elsewhere.json', {
        version: 1,
        partitions: [{ topic: 'solo', partition: 0, replicas: [5] }],
      });
      const refused = await samsa(['reassign', '--execute', '--reassignment-json-file', elsewhere, ...bs]);
      assert.equal(refused.code, 1);
      assert.equal(oneLineFailure(refused), 'samsa reassign: Unknown broker id 5');
      const gone = file('gone.json', {
        version: 1,
        partitions: [{ topic: 'solo', partition: 9, replicas: [0] }],
      });
      const noPartition = await samsa(['reassign', '--execute', '--reassignment-json-file', gone, ...bs]);
      assert.equal(noPartition.code, 1);
      assert.equal(oneLineFailure(noPartition), 'samsa reassign: Unable to find partition solo-9');
      const notDone = await samsa(['reassign', '--verify', '--reassignment-json-file', elsewhere, ...bs]);
      assert.equal(notDone.code, 1);
      assert.equal(
        notDone.stdout,
        'Status of partition reassignment:\nThere is no active reassignment of partition solo-0, but replica set is 0 rather than 5.\n',
      );
    });

    it('leader-election: a single node already leads everything', async () => {
      const r = await samsa([
        'leader-election',
        '--election-type',
        'preferred',
        '--topic',
        'solo',
        '--partition',
        '1',
        ...bs,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'Valid replica already elected for partitions solo-1\n');
      const all = await samsa([
        'leader-election',
        '--election-type',
        'preferred',
        '--all-topic-partitions',
        ...bs,
      ]);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^Valid replica already elected for partitions .*solo-0, solo-1/);
      const none = await samsa([
        'leader-election',
        '--election-type',
        'preferred',
        '--topic',
        'nope',
        '--partition',
        '0',
        ...bs,
      ]);
      assert.equal(none.code, 1);
      assert.match(
        none.stdout,
        /^Error completing leader election \(PREFERRED\) for partition: nope-0: UNKNOWN_TOPIC_OR_PARTITION/,
      );
      assert.equal(oneLineFailure(none), 'samsa leader-election: 1 replica(s) could not be elected');
    });
  });
});
