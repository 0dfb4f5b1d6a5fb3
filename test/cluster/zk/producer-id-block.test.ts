import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allocateProducerIdBlock } from '../../../src/cluster/zk/producer-id-block.js';
import { ZkClient } from '../../../src/cluster/zk/zk-client.js';
import { ZkDataError, zkPaths } from '../../../src/cluster/zk/zk-data.js';
import { startTestZooKeeper, type TestZooKeeper, zooKeeperSkip } from '../../helpers/zookeeper.js';

describe('producer id blocks in ZooKeeper', { skip: zooKeeperSkip(), timeout: 120_000 }, () => {
  let server: TestZooKeeper;
  let a: ZkClient;
  let b: ZkClient;
  const path = zkPaths.latestProducerIdBlock;

  before(async () => {
    server = await startTestZooKeeper();
    a = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 4000 });
    b = await ZkClient.connect(server.connectString, { sessionTimeoutMs: 4000 });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await server?.destroy();
  });

  test('blocks of 1000 follow each other, recorded as Kafka records them', async () => {
    assert.deepEqual(await allocateProducerIdBlock(a, { brokerId: 1 }), { blockStart: 0, blockEnd: 999 });
    assert.equal(
      (await a.get(path))?.data.toString(),
      '{"version":1,"broker":1,"block_start":"0","block_end":"999"}',
    );
    assert.deepEqual(await allocateProducerIdBlock(b, { brokerId: 2 }), { blockStart: 1000, blockEnd: 1999 });
    assert.deepEqual(await allocateProducerIdBlock(a, { brokerId: 1, count: 5 }), {
      blockStart: 2000,
      blockEnd: 2004,
    });
    assert.equal(
      (await a.get(path))?.data.toString(),
      '{"version":1,"broker":1,"block_start":"2000","block_end":"2004"}',
    );
    await a.delete(path);
  });

  test('the empty znode a Kafka broker creates at start-up means no block yet', async () => {
    await a.create(path);
    assert.deepEqual(await allocateProducerIdBlock(b, { brokerId: 7 }), { blockStart: 0, blockEnd: 999 });
    await a.delete(path);
  });

  test('20 allocations racing from two clients never overlap', async () => {
    const asks = Array.from({ length: 20 }, (_, i) =>
      allocateProducerIdBlock(i % 2 === 0 ? a : b, { brokerId: i % 2 === 0 ? 1 : 2 }),
    );
    const blocks = (await Promise.all(asks)).sort((x, y) => x.blockStart - y.blockStart);
    assert.equal(blocks.length, 20);
    for (const [i, block] of blocks.entries()) {
      assert.deepEqual(block, { blockStart: i * 1000, blockEnd: i * 1000 + 999 }, `block ${i}`);
    }
    const last = JSON.parse((await a.get(path))?.data.toString() ?? '{}');
    assert.equal(last.block_end, '19999');
    assert.equal((await a.exists(path))?.version, 19);
    await a.delete(path);
  });

  test('a znode that does not decode is an error, not retried', async () => {
    await a.create(path, Buffer.from('{"version":1,"broker":1,"block_start":"x"}'));
    await assert.rejects(allocateProducerIdBlock(a, { brokerId: 1 }), ZkDataError);
    await a.delete(path);
  });
});
