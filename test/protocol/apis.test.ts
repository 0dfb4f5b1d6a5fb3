import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApiKey,
  apiSchemas,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/generated/apis.js';

describe('apis registry', () => {
  it('has every ApiKey with its version range', () => {
    for (const [name, key] of Object.entries(ApiKey)) {
      const api = apiSchemas.get(key);
      assert.ok(api, name);
      assert.equal(api.name, name);
      assert.ok(api.minVersion <= api.maxVersion);
    }
    const produce = apiSchemas.get(ApiKey.Produce)!;
    assert.deepEqual([produce.minVersion, produce.maxVersion, produce.flexibleMinVersion], [3, 13, 9]);
    // Kafka 4.4 retired the ZooKeeper-era controller requests; their 4.0 definitions are generated instead.
    const leaderAndIsr = apiSchemas.get(ApiKey.LeaderAndIsr)!;
    assert.deepEqual([leaderAndIsr.minVersion, leaderAndIsr.maxVersion], [0, 7]);
    assert.equal(apiSchemas.get(ApiKey.Fetch)!.maxVersion, 18);
    assert.equal(apiSchemas.get(ApiKey.SaslHandshake)!.flexibleMinVersion, Number.POSITIVE_INFINITY);
    assert.equal(ApiKey.ApiVersions, 18);
    assert.equal(ApiKey.CreateTopics, 19);
  });

  it('header versions', () => {
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
    assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1);
    assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
    assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
    assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
    assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
    assert.equal(responseHeaderVersion(ApiKey.Fetch, 11), 0);
    assert.equal(responseHeaderVersion(ApiKey.Fetch, 12), 1);
    assert.equal(requestHeaderVersion(ApiKey.SaslHandshake, 1), 1);
  });
});
