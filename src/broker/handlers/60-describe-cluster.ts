// DescribeCluster (key 60), v0-2: the cluster id, the controller and the brokers. The cluster's authorized
// operations when asked: with no authorizer, every operation the cluster supports (authorized-operations.ts).
// v2 (KIP-1073) may ask for fenced brokers too and marks each broker IsFenced. In a ZooKeeper cluster (as in
// Kafka's ZK mode) a broker is either registered (alive, unfenced) or absent: none is ever fenced, so every
// listed broker says IsFenced false whatever IncludeFencedBrokers asks.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeClusterRequest } from '../../protocol/generated/describe-cluster-request.js';
import type { DescribeClusterResponseInput } from '../../protocol/generated/describe-cluster-response.js';
import { AUTHORIZED_OPERATIONS_OMITTED, clusterAuthorizedOperations } from '../authorized-operations.js';
import { defineHandler } from '../handler.js';

const BROKERS_ENDPOINT = 1;

export const describeCluster = defineHandler<DescribeClusterRequest, DescribeClusterResponseInput>({
  apiKey: ApiKey.DescribeCluster,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, req) {
    const broker = ctx.broker;
    if (ctx.apiVersion >= 1 && req.endpointType !== BROKERS_ENDPOINT) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'Only the brokers endpoint type is served',
        endpointType: req.endpointType,
        clusterId: broker.metadataCache.clusterId,
        controllerId: -1,
        brokers: [],
      };
    }
    const cache = broker.metadataCache;
    const listener = ctx.session.listener.listenerName;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: BROKERS_ENDPOINT,
      clusterId: cache.clusterId,
      controllerId: cache.controllerId,
      brokers: cache.brokers().flatMap((b) => {
        const ep = b.endpoints.find((e) => e.listener === listener);
        return ep === undefined
          ? []
          : [{ brokerId: b.id, host: ep.host, port: ep.port, rack: b.rack, isFenced: false }];
      }),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? clusterAuthorizedOperations(ctx)
        : AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
});
