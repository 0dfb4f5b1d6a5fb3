// `samsa groups` against an in-process broker: list, describe (members, assignments, committed
// offset, log end offset, lag), reset-offsets (dry run by default; earliest, latest, datetime,
// offset) and delete, run as a real process like an operator would.

import assert from 'node:assert/strict';
import { extname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KafkaConnection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ConsumerGroupHeartbeatResponse } from '../../src/protocol/generated/consumer-group-heartbeat-response.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import {
  assignment,
  commit,
  createTopic,
  fetchOffsets,
  joinNew,
  subscription,
  sync,
} from '../coordinator/group-client.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';
import { type RunResult, run } from '../helpers/run.js';

const here = fileURLToPath(import.meta.url);
const main = fileURLToPath(new URL(`../../src/cli/main${extname(here)}`, import.meta.url));
const nodeArgs = extname(here) === '.ts' ? ['--import', 'tsx', main] : [main];

const base = Date.UTC(2026, 0, 31, 12, 0, 0);

describe('samsa groups', () => {
  let b: InProcessBroker;
  let c: KafkaConnection;
  const samsa = (...args: string[]): Promise<RunResult> =>
    run(process.execPath, [...nodeArgs, 'groups', '--bootstrap-server', `127.0.0.1:${b.port}`, ...args], {
      allowFailure: true,
      timeoutMs: 30_000,
    });

  before(async () => {
    b = await startInProcess({
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '3',
    });
    c = await b.connect();
    assert.equal(await createTopic(c, 'cli-t', 3), ErrorCode.NONE);
    for (const [partition, count] of [
      [0, 10],
      [1, 5],
    ] as const) {
      const batch = encodeRecordBatch({
        records: Array.from({ length: count }, (_, i) => ({ value: `v${i}`, timestamp: base + i * 1000 })),
      });
      const res = await c.request<ProduceResponse>(ApiKey.Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: 'cli-t', partitionData: [{ index: partition, records: batch }] }],
      });
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
    }
    await commit(c, 'cli-g', [
      { topic: 'cli-t', partition: 0, offset: 4 },
      { topic: 'cli-t', partition: 1, offset: 5 },
    ]);
  });

  after(async () => {
    c?.close();
    await b?.stop(true);
  });

  it('lists groups, with their state on request', async () => {
    const r = await samsa('list');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes('cli-g'), r.stdout);
    const s = await samsa('list', '--state');
    assert.match(s.stdout, /^GROUP\s+TYPE\s+PROTOCOL-TYPE\s+STATE$/m);
    assert.match(s.stdout, /^cli-g\s+classic\s+-\s+Empty$/m);
  });

  it('describes an inactive group: committed offset, log end offset and lag per partition', async () => {
    const r = await samsa('describe', 'cli-g');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /state Empty/);
    assert.match(r.stdout, /Consumer group 'cli-g' has no active members\./);
    assert.match(r.stdout, /^cli-g\s+cli-t\s+0\s+4\s+10\s+6\s+-\s+-\s+-$/m);
    assert.match(r.stdout, /^cli-g\s+cli-t\s+1\s+5\s+5\s+0\s+-\s+-\s+-$/m);
  });

  it('describes an active group: members, their assignments and who owns each partition', async () => {
    // A session long enough to outlast the CLI runs below without heartbeats.
    const a = await joinNew(c, {
      groupId: 'cli-active',
      sessionTimeoutMs: 300_000,
      protocols: [{ name: 'range', metadata: subscription(['cli-t']) }],
    });
    await sync(c, 'cli-active', 1, a.memberId, [
      { memberId: a.memberId, assignment: assignment({ 'cli-t': [0, 1, 2] }) },
    ]);
    await commit(c, 'cli-active', [{ topic: 'cli-t', partition: 0, offset: 9 }], {
      generationId: 1,
      memberId: a.memberId,
    });
    const r = await samsa('describe', '--group', 'cli-active');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /state Stable, protocol type consumer, protocol range, 1 member/);
    assert.match(
      r.stdout,
      new RegExp(`^${a.memberId}\\s+-\\s+/127\\.0\\.0\\.1\\s+samsa-client\\s+3\\s+cli-t\\(0,1,2\\)$`, 'm'),
    );
    assert.match(r.stdout, new RegExp(`^cli-active\\s+cli-t\\s+0\\s+9\\s+10\\s+1\\s+${a.memberId}`, 'm'));
    assert.match(r.stdout, new RegExp(`^cli-active\\s+cli-t\\s+2\\s+-\\s+0\\s+-\\s+${a.memberId}`, 'm'));

    const refused = await samsa(
      'reset-offsets',
      '--group',
      'cli-active',
      '--topic',
      'cli-t',
      '--to-earliest',
      '--execute',
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /can only be reset if the group 'cli-active' is inactive, but the current state is Stable/,
    );
    const notEmpty = await samsa('delete', '--group', 'cli-active');
    assert.equal(notEmpty.code, 1);
    assert.match(notEmpty.stderr, /is not empty/);
  });

  it('lists and describes a consumer group (KIP-848): type, epochs, member epoch and target assignment', async () => {
    const res = (await c.send(ApiKey.ConsumerGroupHeartbeat, 1, {
      groupId: 'cli-kip848',
      memberId: 'cli-member',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ['cli-t'],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
    })) as ConsumerGroupHeartbeatResponse;
    assert.equal(res.errorCode, ErrorCode.NONE);
    const l = await samsa('list', '--state');
    assert.match(l.stdout, /^cli-kip848\s+consumer\s+consumer\s+Stable$/m);
    const r = await samsa('describe', 'cli-kip848');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /type consumer, state Stable, group epoch 1, assignment epoch 1, assignor uniform, 1 member/,
    );
    assert.match(
      r.stdout,
      /^cli-member\s+-\s+\/127\.0\.0\.1\s+samsa-client\s+3\s+cli-t\(0,1,2\)\s+1\s+cli-t\(0,1,2\)\s+consumer$/m,
    );
  });

  it('reset-offsets is a dry run unless --execute; earliest, latest, datetime and offset', async () => {
    const dry = await samsa('reset-offsets', '--group', 'cli-g', '--topic', 'cli-t', '--to-earliest');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^cli-g\s+cli-t\s+0\s+0$/m);
    assert.match(dry.stdout, /dry run/);
    assert.equal((await fetchOffsets(c, 'cli-g')).get('cli-t:0')?.offset, 4, 'unchanged by a dry run');

    const latest = await samsa(
      'reset-offsets',
      '--group',
      'cli-g',
      '--topic',
      'cli-t',
      '--to-latest',
      '--execute',
    );
    assert.equal(latest.code, 0, latest.stderr);
    let got = await fetchOffsets(c, 'cli-g');
    assert.deepEqual(
      [0, 1, 2].map((p) => got.get(`cli-t:${p}`)?.offset),
      [10, 5, 0],
    );

    const when = new Date(base + 3000).toISOString();
    const dt = await samsa(
      'reset-offsets',
      '--group',
      'cli-g',
      '--topic',
      'cli-t:0',
      '--to-datetime',
      when,
      '--execute',
    );
    assert.equal(dt.code, 0, dt.stderr);
    got = await fetchOffsets(c, 'cli-g');
    assert.equal(got.get('cli-t:0')?.offset, 3);
    assert.equal(got.get('cli-t:1')?.offset, 5, 'other partitions untouched');

    await samsa('reset-offsets', '--group', 'cli-g', '--topic', 'cli-t:0,1', '--to-offset', '7', '--execute');
    got = await fetchOffsets(c, 'cli-g');
    assert.equal(got.get('cli-t:0')?.offset, 7);
    assert.equal(got.get('cli-t:1')?.offset, 5, 'clamped to the log end');

    const bad = await samsa(
      'reset-offsets',
      '--group',
      'cli-g',
      '--topic',
      'cli-t',
      '--to-earliest',
      '--to-latest',
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /exactly one of/);
  });

  it('deletes an empty group; unknown groups and actions are reported', async () => {
    const r = await samsa('delete', '--group', 'cli-g');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deletion of requested consumer groups \('cli-g'\) was successful\./);
    assert.equal((await fetchOffsets(c, 'cli-g')).size, 0);
    const gone = await samsa('describe', 'cli-g');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Consumer group 'cli-g' does not exist\./);
    const again = await samsa('delete', '--group', 'cli-g');
    assert.equal(again.code, 1);
    const unknown = await samsa('frobnicate');
    assert.equal(unknown.code, 2);
    const none = await samsa();
    assert.equal(none.code, 2);
  });
});
