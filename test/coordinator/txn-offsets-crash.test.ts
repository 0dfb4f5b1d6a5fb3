// Transactional offset commits survive a kill -9 of the broker process: after log recovery the group
// coordinator loads __consumer_offsets again, and a committed transaction's offsets are there, an aborted one's
// are not, and a transaction still open stays pending (UNSTABLE_OFFSET_COMMIT with require_stable) until its
// marker arrives after the restart.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/connection.js';
import { partitionForGroup } from '../../src/coordinator/group/records.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { type BrokerHandle, startBroker } from '../helpers/broker.js';
import {
  commit,
  createTopic,
  endTxn,
  fetchOffsets,
  fetchStable,
  newProducer,
  txnCommit,
} from './group-client.js';

const PARTITIONS = 3;
const t0 = [{ name: 't', partitionIndexes: [0, 1] }];

describe('group coordinator: transactional offset commits across a kill -9', () => {
  let broker: BrokerHandle;
  const conns: KafkaConnection[] = [];
  const connect = async (): Promise<KafkaConnection> => {
    const c = await KafkaConnection.connect({ host: '127.0.0.1', port: broker.port });
    conns.push(c);
    return c;
  };

  before(async () => {
    // Idempotent producer ids no transaction coordinator knows: the commits skip its verification (KIP-890).
    broker = await startBroker({
      overrides: {
        'offsets.topic.num.partitions': String(PARTITIONS),
        'transaction.partition.verification.enable': 'false',
      },
    });
  });

  after(async () => {
    for (const c of conns) c.close();
    await broker?.destroy();
  });

  it('committed, aborted and open transactions are loaded back as they were', async () => {
    let c = await connect();
    assert.equal(await createTopic(c, 't', 2), ErrorCode.NONE);
    const p = partitionForGroup('crash', PARTITIONS);
    const g = 'crash';
    const committed = await newProducer(c);
    const aborted = await newProducer(c);
    const open = await newProducer(c);
    assert.equal(
      (await commit(c, g, [{ topic: 't', partition: 1, offset: 40 }])).topics[0]!.partitions[0]!.errorCode,
      0,
    );
    assert.equal(
      (await txnCommit(c, g, committed, [{ topic: 't', partition: 0, offset: 10 }])).get('t:0'),
      0,
    );
    assert.equal((await txnCommit(c, g, aborted, [{ topic: 't', partition: 0, offset: 90 }])).get('t:0'), 0);
    assert.equal((await txnCommit(c, g, open, [{ topic: 't', partition: 1, offset: 41 }])).get('t:1'), 0);
    await endTxn(c, p, committed, true);
    await endTxn(c, p, aborted, false);
    const expected = new Map([
      ['t:0', [10, ErrorCode.NONE]],
      ['t:1', [-1, ErrorCode.UNSTABLE_OFFSET_COMMIT]],
    ]);
    assert.deepEqual(await fetchStable(c, g, t0), expected);

    await broker.kill9();
    await broker.restart();
    c = await connect();
    assert.deepEqual(await fetchStable(c, g, t0), expected);
    assert.equal(
      (await fetchOffsets(c, g, t0)).get('t:1')?.offset,
      40,
      'the plain commit under the open one',
    );
    await endTxn(c, p, open, true);
    assert.deepEqual((await fetchStable(c, g, t0)).get('t:1'), [41, ErrorCode.NONE]);
  });
});
