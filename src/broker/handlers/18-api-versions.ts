// ApiVersions (key 18), v0-5. Built from the handler registry, never by hand. v3+ requests carry
// the client's software name and version (KIP-511); v3+ responses carry the feature flags (features.ts). An unsupported ApiVersions version is
// answered by the connection itself with UNSUPPORTED_VERSION in a v0 body.
// v5 (KIP-1242): a client that knows which cluster and node it means to reach sends ClusterId and
// NodeId; when ClusterId is set and either differs from this broker's, the address now points at
// another broker (a cluster moved behind a DNS name or a load balancer) and the answer is
// REBOOTSTRAP_REQUIRED with no API list, as Kafka's KafkaApis answers: the client goes back to its
// bootstrap servers. A null ClusterId (the client does not know yet) is not checked.

import { ErrorCode } from '../../protocol/errors.js';
import type { ApiVersionsRequest } from '../../protocol/generated/api-versions-request.js';
import type { ApiVersionsResponseInput } from '../../protocol/generated/api-versions-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { advertisedFeatures } from '../features.js';
import { defineHandler } from '../handler.js';

export const apiVersions = defineHandler<ApiVersionsRequest, ApiVersionsResponseInput>({
  apiKey: ApiKey.ApiVersions,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const broker = ctx.broker;
    if (
      ctx.apiVersion >= 5 &&
      req.clusterId !== null &&
      (req.clusterId !== broker.metadataCache.clusterId || req.nodeId !== broker.nodeId)
    ) {
      broker.clientWarnings.warn(ctx, 'api_versions.wrong_node', 'ApiVersions for another cluster or node', {
        clusterId: req.clusterId,
        nodeId: req.nodeId,
      });
      return { errorCode: ErrorCode.REBOOTSTRAP_REQUIRED, apiKeys: [], throttleTimeMs: 0 };
    }
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: broker.apiVersionRanges(),
      throttleTimeMs: 0,
      ...advertisedFeatures(broker.config),
    };
  },
});
