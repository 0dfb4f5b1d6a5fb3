// DescribeConfigs (key 32), v1-4. Topic resources report every topic config with its effective
// value and source (a topic override, a dynamic broker config, the broker's server.properties, or Kafka's
// default) and, when asked, its synonyms. Broker resources as Kafka (ConfigHelper): a broker id reports the
// broker's whole configuration, each key with the source of its effective value and its synonyms in
// precedence order (DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG,
// DEFAULT_CONFIG), readOnly unless the key can change at runtime; the empty name reports the cluster-wide
// dynamic default only. Group resources (type 32, KIP-848) report consumer.session.timeout.ms and
// consumer.heartbeat.interval.ms: the group's override (GROUP_CONFIG) or the broker's group.consumer.* key.

import { type BrokerConfig, definitions } from '../../config/broker-config.js';
import { brokerConfigSynonyms, isDynamicBrokerKey } from '../../config/dynamic-broker-config.js';
import { type GroupConfigSource, resolveGroupConfigs } from '../../config/group-config.js';
import { isSensitiveKey } from '../../config/security-config.js';
import { type ConfigSource, resolveTopicConfigs, topicConfigDefinitions } from '../../config/topic-config.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeConfigsRequest } from '../../protocol/generated/describe-configs-request.js';
import type { DescribeConfigsResponseInput } from '../../protocol/generated/describe-configs-response.js';
import { configDenial } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, GROUP: 32 } as const;

/** Kafka's ConfigSource ids as sent on the wire. */
export function configSourceCode(source: ConfigSource | GroupConfigSource): number {
  switch (source) {
    case 'TOPIC_CONFIG':
      return 1; // DYNAMIC_TOPIC_CONFIG
    case 'DYNAMIC_BROKER_CONFIG':
      return 2;
    case 'DYNAMIC_DEFAULT_BROKER_CONFIG':
      return 3;
    case 'STATIC_BROKER_CONFIG':
      return 4;
    case 'GROUP_CONFIG':
      return 8;
    default:
      return 5; // DEFAULT_CONFIG
  }
}

interface Synonym {
  name: string;
  value: string;
  source: number;
}

/**
 * Kafka's ConfigHelper.configSynonyms: every layer's value of the key's synonyms, in precedence order, from
 * the first entry that names the key itself (log.retention.hours does not list a log.retention.ms above it).
 * Without `perBroker` (the cluster-wide default resource), this broker's own dynamic values are left out.
 */
function brokerSynonyms(config: BrokerConfig, name: string, perBroker: boolean): Synonym[] {
  const names = brokerConfigSynonyms(name);
  const out: Synonym[] = [];
  const layers: [(n: string) => string | null | undefined, number][] = [
    [(n) => (perBroker ? config.dynamicBrokerConfigs().get(n) : undefined), 2],
    [(n) => config.dynamicDefaultConfigs().get(n), 3],
    [(n) => config.staticConfig(n), 4],
    [(n) => config.defaultConfig(n), 5],
  ];
  for (const [get, source] of layers) {
    for (const n of names) {
      const value = get(n);
      if (value !== null && value !== undefined) out.push({ name: n, value, source });
    }
  }
  const first = out.findIndex((s) => s.name === name);
  return first < 0 ? [] : out.slice(first);
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
  async handle(ctx, req) {
    const broker = ctx.broker;
    const results = req.resources.map((r): ResultOut | Promise<ResultOut> => {
      const wanted = r.configurationKeys === null ? null : new Set(r.configurationKeys);
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const denied = configDenial(ctx, 'DESCRIBE_CONFIGS', r.resourceType, r.resourceName);
      if (denied !== null) return { ...base, ...denied, configs: [] };
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
            errorMessage: `Unexpected broker id, expected ${broker.nodeId}, but received ${r.resourceName}`,
            configs: [],
          };
        }
        const config = broker.config;
        const perBroker = r.resourceName !== '';
        const entries: [string, string][] = perBroker
          ? [...config.entries()]
          : [...config.dynamicDefaultConfigs().entries()];
        const configs = entries
          .filter(([k]) => wanted === null || wanted.has(k))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => {
            const synonyms = brokerSynonyms(config, k, perBroker);
            const source = synonyms[0]?.source ?? 5;
            const sensitive = isSensitiveKey(k);
            return {
              name: k,
              value: sensitive ? null : v,
              readOnly: !isDynamicBrokerKey(k),
              isDefault: source === 5,
              configSource: source,
              isSensitive: sensitive,
              synonyms: req.includeSynonyms
                ? synonyms.map((syn) => (sensitive ? { ...syn, value: null } : syn))
                : [],
              configType: configTypeCode(definitions[k]?.kind ?? 'int'),
              documentation: null,
            };
          });
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      }
      if (r.resourceType === ResourceType.GROUP) {
        if (r.resourceName === '') {
          return {
            ...base,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: 'A group config resource needs a group id',
            configs: [],
          };
        }
        return broker.admin.groupConfigs(r.resourceName).then(
          (overrides): ResultOut => {
            const configs = resolveGroupConfigs(broker.config, overrides)
              .filter((c) => wanted === null || wanted.has(c.name))
              .map((c) => ({
                name: c.name,
                value: c.value,
                readOnly: false,
                isDefault: c.source === 'DEFAULT_CONFIG',
                configSource: configSourceCode(c.source),
                isSensitive: false,
                synonyms: req.includeSynonyms
                  ? c.synonyms.map((s) => ({
                      name: s.name,
                      value: s.value,
                      source: configSourceCode(s.source),
                    }))
                  : [],
                configType: 3,
                documentation: null,
              }));
            return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
          },
          (err: unknown): ResultOut => ({
            ...base,
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            errorMessage: `cannot read the group's configs: ${err instanceof Error ? err.message : String(err)}`,
            configs: [],
          }),
        );
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
    return { throttleTimeMs: 0, results: await Promise.all(results) };
  },
});
