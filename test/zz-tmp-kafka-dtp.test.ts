import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTopic } from '/work/wt/p12b/src/client/admin.js';
import { Cluster } from '/work/wt/p12b/src/client/cluster.js';
import { KafkaConnection } from '/work/wt/p12b/src/client/connection.js';
import { ApiKey } from '/work/wt/p12b/src/protocol/generated/apis.js';
import { startTarget } from '/work/wt/p12b/test/helpers/broker.js';

test('kafka dtp semantics', { timeout: 300_000 }, async () => {
  const b = await startTarget({ overrides: { 'max.request.partition.size.limit': '7', 'auto.create.topics.enable': 'false' } });
  try {
    const cluster = await Cluster.connect({ bootstrap: b.bootstrap });
    await createTopic(cluster, 'b-five', { partitions: 5 });
    await createTopic(cluster, 'a-three', { partitions: 3 });
    await createTopic(cluster, 'c-twelve', { partitions: 12 });
    cluster.close();
    const conn = await KafkaConnection.connect({ host: '127.0.0.1', port: b.port });
    const show = async (label: string, body: unknown) => {
      const r = (await conn.request(ApiKey.DescribeTopicPartitions, body)) as any;
      console.log(label, JSON.stringify(r.topics.map((t: any) => `${t.name}:${t.errorCode}:${t.partitions.map((p: any) => p.partitionIndex).join(',')}:${t.topicAuthorizedOperations}:${t.isInternal}:${t.partitions[0]?.eligibleLeaderReplicas}`)), JSON.stringify(r.nextCursor));
    };
    const three = [{ name: 'c-twelve' }, { name: 'a-three' }, { name: 'b-five' }];
    await show('p1', { topics: three });
    await show('p2', { topics: three, cursor: { topicName: 'b-five', partitionIndex: 4 } });
    await show('boundary', { topics: [{ name: 'a-three' }, { name: 'b-five' }], responsePartitionLimit: 3 });
    await show('zero', { topics: [{ name: 'a-three' }], responsePartitionLimit: 0 });
    await show('all', { topics: [], responsePartitionLimit: 100, cursor: { topicName: 'b-five', partitionIndex: 3 } });
    await show('unknown', { topics: [{ name: 'zz-missing' }, { name: 'a-three' }, { name: 'bad/name' }, { name: 'a-three' }] });
    await show('badcursor', { topics: [{ name: 'a-three' }], cursor: { topicName: 'b-five', partitionIndex: 0 } });
    await show('negcursor', { topics: [{ name: 'a-three' }], cursor: { topicName: 'a-three', partitionIndex: -1 } });
    const md = (await conn.send(ApiKey.Metadata, 10, { topics: [{ name: 'a-three', topicId: '0'.repeat(32) }, { name: 'nope', topicId: '0'.repeat(32) }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true })) as any;
    console.log('md10', md.clusterAuthorizedOperations, JSON.stringify(md.topics.map((t: any) => [t.name, t.errorCode, t.topicAuthorizedOperations])));
    const md2 = (await conn.send(ApiKey.Metadata, 12, { topics: [{ name: 'bad/name', topicId: '0'.repeat(32) }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true })) as any;
    console.log('md12', JSON.stringify(md2.topics.map((t: any) => [t.name, t.errorCode, t.topicAuthorizedOperations])));
    conn.close();
  } finally {
    await b.destroy();
  }
});
