// AlterConfigs (33), IncrementalAlterConfigs (44) and DescribeLogDirs (35) over real sockets.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTopic, describeConfigs, ResourceType } from '../../src/client/admin.js';
import { Cluster } from '../../src/client/cluster.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import type { AlterConfigsResponse } from '../../src/protocol/generated/alter-configs-response.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/describe-log-dirs-response.js';
import type { IncrementalAlterConfigsResponse } from '../../src/protocol/generated/incremental-alter-configs-response.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

describe('config and log-dir admin APIs', () => {
  let b: InProcessBroker;
  let cluster: Cluster;

  before(async () => {
    b = await startInProcess({ 'log.segment.bytes': '5000000' });
    cluster = await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` });
    await createTopic(cluster, 'ac', {
      partitions: 2,
      configs: { 'retention.ms': '1000', 'segment.ms': '5000' },
    });
  });
  after(async () => {
    cluster.close();
    await b.stop(true);
  });

  const overrides = () => ({ ...b.broker.topics.get('ac')?.configs });

  function incremental(
    resourceType: number,
    resourceName: string,
    configs: { name: string; configOperation: number; value: string | null }[],
    validateOnly = false,
  ) {
    return cluster.request<IncrementalAlterConfigsResponse>(ApiKey.IncrementalAlterConfigs, {
      resources: [{ resourceType, resourceName, configs }],
      validateOnly,
    });
  }

  for (const version of [0, 1, 2]) {
    it(`AlterConfigs v${version} replaces the whole set of overrides`, async () => {
      const res = (await cluster.bootstrap.send(ApiKey.AlterConfigs, version, {
        resources: [
          {
            resourceType: ResourceType.TOPIC,
            resourceName: 'ac',
            configs: [{ name: 'retention.ms', value: `${2000 + version}` }],
          },
        ],
        validateOnly: false,
      })) as AlterConfigsResponse;
      assert.equal(res.responses[0]?.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        overrides(),
        { 'retention.ms': `${2000 + version}` },
        'segment.ms is back to its default',
      );
    });
  }

  it('AlterConfigs validateOnly checks without applying', async () => {
    const res = await cluster.request<AlterConfigsResponse>(ApiKey.AlterConfigs, {
      resources: [
        {
          resourceType: ResourceType.TOPIC,
          resourceName: 'ac',
          configs: [{ name: 'segment.bytes', value: '1000' }],
        },
      ],
      validateOnly: true,
    });
    assert.equal(res.responses[0]?.errorCode, ErrorCode.NONE);
    assert.equal(overrides()['segment.bytes'], undefined);
  });

  it('IncrementalAlterConfigs SET and DELETE touch only the keys named', async () => {
    const before = overrides();
    const res = await incremental(ResourceType.TOPIC, 'ac', [
      { name: 'segment.bytes', configOperation: 0, value: '100000' },
      { name: 'retention.ms', configOperation: 1, value: null },
    ]);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.NONE);
    const after = overrides();
    assert.equal(after['segment.bytes'], '100000');
    assert.equal(after['retention.ms'], undefined);
    assert.notDeepEqual(before, after);
    assert.equal(b.broker.topics.partition('ac', 1)?.log.logConfig.segmentBytes, 100000);
  });

  it('APPEND and SUBTRACT work on list configs only', async () => {
    let res = await incremental(ResourceType.TOPIC, 'ac', [
      { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
    ]);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.NONE);
    assert.equal(overrides()['cleanup.policy'], 'delete,compact');
    res = await incremental(ResourceType.TOPIC, 'ac', [
      { name: 'cleanup.policy', configOperation: 3, value: 'delete' },
    ]);
    assert.equal(overrides()['cleanup.policy'], 'compact');
    assert.equal(
      b.broker.topics.partition('ac', 0)?.log.logConfig.retentionMs,
      -1,
      'compact only: no time retention',
    );
    res = await incremental(ResourceType.TOPIC, 'ac', [
      { name: 'retention.ms', configOperation: 2, value: '5' },
    ]);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.INVALID_CONFIG);
  });

  it('refuses unknown keys, bad values, duplicates and unknown topics', async () => {
    const cases: [string, { name: string; configOperation: number; value: string | null }[], number][] = [
      ['ac', [{ name: 'no.such.key', configOperation: 0, value: '1' }], ErrorCode.INVALID_CONFIG],
      ['ac', [{ name: 'segment.bytes', configOperation: 0, value: '10' }], ErrorCode.INVALID_CONFIG],
      ['ac', [{ name: 'retention.ms', configOperation: 0, value: 'soon' }], ErrorCode.INVALID_CONFIG],
      ['ac', [{ name: 'compression.type', configOperation: 0, value: 'brotli' }], ErrorCode.INVALID_CONFIG],
      ['ac', [{ name: 'segment.index.bytes', configOperation: 0, value: '4' }], ErrorCode.INVALID_CONFIG],
      ['ac', [{ name: 'retention.ms', configOperation: 7, value: '1' }], ErrorCode.INVALID_REQUEST],
      ['ac', [{ name: 'retention.ms', configOperation: 0, value: null }], ErrorCode.INVALID_REQUEST],
      [
        'ac',
        [
          { name: 'retention.ms', configOperation: 0, value: '1' },
          { name: 'retention.ms', configOperation: 1, value: null },
        ],
        ErrorCode.INVALID_REQUEST,
      ],
      [
        'missing',
        [{ name: 'retention.ms', configOperation: 0, value: '1' }],
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
    ];
    const before = overrides();
    for (const [name, configs, code] of cases) {
      const res = await incremental(ResourceType.TOPIC, name, configs);
      assert.equal(res.responses[0]?.errorCode, code, JSON.stringify(configs));
      assert.ok((res.responses[0]?.errorMessage ?? '').length > 0);
    }
    assert.deepEqual(overrides(), before, 'nothing applied');
  });

  it('static broker keys: INVALID_REQUEST naming them; a wrong broker id is refused', async () => {
    let res = await incremental(ResourceType.BROKER, '0', [
      { name: 'log.retention.hours', configOperation: 0, value: '1' },
    ]);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(
      res.responses[0]?.errorMessage ?? '',
      /Cannot update these configs dynamically: Set\(log.retention.hours\)/,
    );
    res = await incremental(ResourceType.BROKER, '7', [
      { name: 'log.retention.ms', configOperation: 0, value: '1' },
    ]);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.INVALID_REQUEST);
    res = await incremental(ResourceType.BROKER, '', []);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.NONE);
    res = await incremental(99, 'x', []);
    assert.equal(res.responses[0]?.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('DescribeConfigs reports overrides as DYNAMIC_TOPIC_CONFIG and the rest as defaults', async () => {
    const configs = await describeConfigs(cluster, ResourceType.TOPIC, 'ac');
    const seg = configs.find((c) => c.name === 'segment.bytes');
    assert.equal(seg?.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.deepEqual(
      seg?.synonyms.map((s) => `${s.source}:${s.name}=${s.value}`),
      [
        'DYNAMIC_TOPIC_CONFIG:segment.bytes=100000',
        'STATIC_BROKER_CONFIG:log.segment.bytes=5000000',
        'DEFAULT_CONFIG:log.segment.bytes=1073741824',
      ],
    );
    const ret = configs.find((c) => c.name === 'retention.bytes');
    assert.equal(ret?.source, 'DEFAULT_CONFIG');
    assert.equal(ret?.isDefault, true);
  });

  it('DescribeLogDirs reports every partition with its size on disk', async () => {
    const producer = Producer.on(await Cluster.connect({ bootstrap: `127.0.0.1:${b.port}` }));
    // 'ac' is compacted by now (an earlier test): its records need a key.
    await producer.send('ac', [{ key: 'k', value: 'x'.repeat(500), partition: 1 }]);
    await producer.close();
    for (const version of [0, 1, 2, 3, 4]) {
      const res = (await cluster.bootstrap.send(ApiKey.DescribeLogDirs, version, {
        topics: [{ topic: 'ac', partitions: [0, 1, 5] }],
      })) as DescribeLogDirsResponse;
      assert.equal(res.results.length, 1);
      const dir = res.results[0];
      assert.equal(dir?.logDir, b.dataDir);
      const parts = dir?.topics[0]?.partitions ?? [];
      assert.deepEqual(
        parts.map((p) => p.partitionIndex),
        [0, 1],
        'partition 5 does not exist and is left out',
      );
      assert.equal(parts[0]?.partitionSize, 0);
      assert.equal(parts[1]?.partitionSize, b.broker.topics.partition('ac', 1)?.log.sizeBytes);
      assert.ok((parts[1]?.partitionSize ?? 0) > 500);
      if (version >= 4) assert.ok((dir?.totalBytes ?? 0) > 0 && (dir?.usableBytes ?? 0) > 0);
    }
    const all = await cluster.request<DescribeLogDirsResponse>(ApiKey.DescribeLogDirs, { topics: null });
    assert.ok(all.results[0]?.topics.some((t) => t.name === 'ac'));
  });
});
