// ListConfigResources (key 74), v0-1 (KIP-1142; v0 was ListClientMetricsResources, KIP-714). Lists the
// resources that configs can be described or altered for, by type: v1 asks for a set of types (none: all),
// v0 for client metrics only. Answered as Kafka's KafkaApis does, in its order: groups with config overrides
// (GROUP, 32), client metrics subscriptions (CLIENT_METRICS, 16: Samsa has none), every live broker twice, as a
// BROKER_LOGGER (8) and as a BROKER (4) resource named by its id, then every topic (TOPIC, 2; internal ones
// too). A type the version does not list (or an unknown one) answers UNSUPPORTED_VERSION with no resources.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListConfigResourcesRequest } from '../../protocol/generated/list-config-resources-request.js';
import type { ListConfigResourcesResponseInput } from '../../protocol/generated/list-config-resources-response.js';
import { defineHandler } from '../handler.js';

/** Kafka's ConfigResource.Type ids. */
export const ConfigResourceType = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

const T = ConfigResourceType;
const V0_TYPES: readonly number[] = [T.CLIENT_METRICS];
const V1_TYPES: readonly number[] = [T.TOPIC, T.BROKER, T.BROKER_LOGGER, T.CLIENT_METRICS, T.GROUP];

export const listConfigResources = defineHandler<
  ListConfigResourcesRequest,
  ListConfigResourcesResponseInput
>({
  apiKey: ApiKey.ListConfigResources,
  name: 'ListConfigResources',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const supported = ctx.apiVersion === 0 ? V0_TYPES : V1_TYPES;
    const asked = ctx.apiVersion === 0 || req.resourceTypes.length === 0 ? supported : req.resourceTypes;
    if (asked.some((t) => !supported.includes(t))) {
      broker.clientWarnings.warn(ctx, 'list_config_resources.type', 'unsupported config resource type', {
        resourceTypes: req.resourceTypes,
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, configResources: [] };
    }
    const out: { resourceName: string; resourceType: number }[] = [];
    if (asked.includes(T.GROUP)) {
      for (const g of await broker.admin.configuredGroups())
        out.push({ resourceName: g, resourceType: T.GROUP });
    }
    // CLIENT_METRICS: Samsa keeps no client metrics subscriptions (no telemetry APIs): nothing to list.
    const brokerIds = broker.metadataCache.brokers().map((b) => String(b.id));
    if (asked.includes(T.BROKER_LOGGER)) {
      for (const id of brokerIds) out.push({ resourceName: id, resourceType: T.BROKER_LOGGER });
    }
    if (asked.includes(T.BROKER)) {
      for (const id of brokerIds) out.push({ resourceName: id, resourceType: T.BROKER });
    }
    if (asked.includes(T.TOPIC)) {
      for (const name of broker.metadataCache.topicNames())
        out.push({ resourceName: name, resourceType: T.TOPIC });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, configResources: out };
  },
});
