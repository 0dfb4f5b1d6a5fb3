// DescribeConfigs (key 32), v1-4. Topic resources report every topic config with its effective
// value and source (a topic override, the broker's server.properties, or Kafka's default) and,
// when asked, its synonyms; broker resources report the broker's configuration.

import { definitions } from '../../config/broker-config.js';
import { type ConfigSource, resolveTopicConfigs, topicConfigDefinitions } from '../../config/topic-config.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeConfigsRequest } from '../../protocol/generated/describe-configs-request.js';
import type { DescribeConfigsResponseInput } from '../../protocol/generated/describe-configs-response.js';
import { defineHandler } from '../handler.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's ConfigSource ids as sent on the wire. */
export function configSourceCode(source: ConfigSource): number {
  switch (source) {
    case 'TOPIC_CONFIG':
      return 1; // DYNAMIC_TOPIC_CONFIG
    case 'STATIC_BROKER_CONFIG':
      return 4;
    default:
      return 5; // DEFAULT_CONFIG
  }
}

/** Kafka's ConfigType ids (v3+). */
function configTypeCode(kind: string | undefined): number {
  switch (kind) {
    case 'boolean':
      return 1;
    case 'string':
      return 2;
    case 'int':
      return 3;
    case 'long':
      return 5;
    case 'double':
      return 6;
    case 'list':
      return 7;
    default:
      return 0;
  }
}

type ResultOut = NonNullable<DescribeConfigsResponseInput['results']>[number];

export const describeConfigs = defineHandler<DescribeConfigsRequest, DescribeConfigsResponseInput>({
  apiKey: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  minVersion: 1,
  maxVersion: 4,
  handle(ctx, req) {
    const broker = ctx.broker;
    const results: ResultOut[] = req.resources.map((r): ResultOut => {
      const wanted = r.configurationKeys === null ? null : new Set(r.configurationKeys);
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (r.resourceType === ResourceType.TOPIC) {
        if (broker.metadataCache.topic(r.resourceName) === undefined) {
          return {
            ...base,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `Topic ${r.resourceName} does not exist`,
            configs: [],
          };
        }
        const configs = resolveTopicConfigs(broker.config, broker.topicConfig(r.resourceName))
          .filter((c) => wanted === null || wanted.has(c.name))
          .map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            isDefault: c.source === 'DEFAULT_CONFIG',
            configSource: configSourceCode(c.source),
            isSensitive: false,
            synonyms: req.includeSynonyms
              ? c.synonyms.map((s) => ({ name: s.name, value: s.value, source: configSourceCode(s.source) }))
              : [],
            configType: configTypeCode(topicConfigDefinitions[c.name]?.kind),
            documentation: null,
          }));
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      }
      if (r.resourceType === ResourceType.BROKER) {
        if (r.resourceName !== '' && r.resourceName !== String(broker.nodeId)) {
          return {
            ...base,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Unexpected broker id ${r.resourceName}`,
            configs: [],
          };
        }
        const configs = [...broker.config.entries()]
          .filter(([k]) => wanted === null || wanted.has(k))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => {
            const source = broker.config.explicit.has(k) ? 4 : 5;
            return {
              name: k,
              value: v,
              readOnly: true,
              isDefault: source === 5,
              configSource: source,
              isSensitive: false,
              synonyms: req.includeSynonyms ? [{ name: k, value: v, source }] : [],
              configType: configTypeCode(definitions[k]?.kind),
              documentation: null,
            };
          });
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      }
      if (r.resourceType === ResourceType.BROKER_LOGGER) {
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs: [] };
      }
      return {
        ...base,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Unsupported resource type ${r.resourceType}`,
        configs: [],
      };
    });
    return { throttleTimeMs: 0, results };
  },
});
