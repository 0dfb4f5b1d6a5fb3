// File descriptors, on a real broker process started under a low `ulimit -n` (prlimit):
//   - an idle partition holds one descriptor (its active .log); its .index and .timeindex are opened only to
//     write them (counted in /proc/<pid>/fd), so 10,000 partitions fit in a common limit;
//   - a topic that needs more descriptors than are left is refused with KAFKA_STORAGE_ERROR and undone (no
//     topic in the metadata, no directory on disk), while the log dir stays online: the partitions already
//     there keep taking and serving records, and a smaller topic can be created right after.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createTopic } from '../../src/client/admin.js';
import { Cluster, KafkaError } from '../../src/client/cluster.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';

const LIMIT = 400;

/** The broker's open descriptors by kind: .log, .index, .timeindex, other. */
function openFiles(pid: number): Record<'log' | 'index' | 'timeindex' | 'other', number> {
  const n = { log: 0, index: 0, timeindex: 0, other: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target.endsWith('.log')) n.log++;
    else if (target.endsWith('.timeindex')) n.timeindex++;
    else if (target.endsWith('.index')) n.index++;
    else n.other++;
  }
  return n;
}

describe('file descriptors', { skip: existsSync('/usr/bin/prlimit') ? false : 'prlimit is missing' }, () => {
  let broker: BrokerHandle;
  let cluster: Cluster;

  before(async () => {
    broker = await startBroker({ wrap: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--'] });
    cluster = await Cluster.connect({ bootstrap: broker.bootstrap });
  });

  after(async () => {
    cluster?.close();
    await broker?.destroy();
  });

  it('an idle partition holds one descriptor, its .log', async () => {
    const pid = broker.pid()!;
    const before = openFiles(pid);
    await createTopic(cluster, 'idle', { partitions: 150 });
    const producer = Producer.on(await Cluster.connect({ bootstrap: broker.bootstrap }), {});
    for (let p = 0; p < 150; p += 10) await producer.send('idle', [{ value: `v${p}`, partition: p }]);
    await producer.close();
    const now = openFiles(pid);
    assert.equal(now.log - before.log, 150);
    assert.equal(now.index, 0);
    assert.equal(now.timeindex, 0);
  });

  it('a topic past the limit is refused and undone; the log dir stays online', async () => {
    let err: unknown;
    try {
      await createTopic(cluster, 'too-many', { partitions: LIMIT });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof KafkaError, `${String(err)}\n${broker.logs().slice(-3000)}`);
    assert.equal(err.code, ErrorCode.KAFKA_STORAGE_ERROR);
    await broker.waitForLog(/out of file descriptors/);
    assert.equal(
      readdirSync(broker.dataDir).filter((d) => /^too-many-\d+$/.test(d)).length,
      0,
      'no partition directory is left',
    );
    assert.doesNotMatch(broker.logs(), /log dir offline/);

    // The partitions already there take and serve records.
    const producer = Producer.on(await Cluster.connect({ bootstrap: broker.bootstrap }), {});
    await producer.send('idle', [{ value: 'after', partition: 3 }]);
    await producer.close();
    const consumer = Consumer.on(await Cluster.connect({ bootstrap: broker.bootstrap }), { maxWaitMs: 100 });
    await consumer.assign('idle', [3], 'earliest');
    const got: string[] = [];
    for (let i = 0; i < 20 && got.length < 1; i++)
      for (const r of await consumer.poll()) got.push(String(r.value));
    await consumer.close();
    assert.deepEqual(got, ['after']);

    // The refused topic's descriptors were given back: a smaller topic fits, and the refused name is free.
    await createTopic(cluster, 'small', { partitions: 20 });
    await createTopic(cluster, 'too-many', { partitions: 5 });
  });
});
