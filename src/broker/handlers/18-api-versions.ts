// ApiVersions (key 18), v0-4. Built from the handler registry, never by hand. v3+ requests carry
// the client's software name and version (KIP-511); v3+ responses carry the feature flags (features.ts). An unsupported ApiVersions version is
// answered by the connection itself with UNSUPPORTED_VERSION in a v0 body.

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
  maxVersion: 4,
  handle(ctx) {
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: ctx.broker.apiVersionRanges(),
      throttleTimeMs: 0,
      ...advertisedFeatures(ctx.broker.config),
    };
  },
});
