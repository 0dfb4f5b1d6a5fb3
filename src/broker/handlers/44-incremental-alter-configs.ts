// IncrementalAlterConfigs (key 44), v0-1 (KIP-339): per-key operations on a resource's overrides.
// Operations: 0 SET, 1 DELETE (back to the default), 2 APPEND and 3 SUBTRACT (list configs only, e.g.
// cleanup.policy; they start from the topic's current value). Keys not named are left as they are.
// Resource handling (topics and dynamic broker configs take effect at once) is shared with AlterConfigs.
// APPEND/SUBTRACT on a broker resource start from the entity's effective value.

import { definitions } from '../../config/broker-config.js';
import { topicConfigDefinitions, topicConfigValue } from '../../config/topic-config.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { IncrementalAlterConfigsRequest } from '../../protocol/generated/incremental-alter-configs-request.js';
import type { IncrementalAlterConfigsResponseInput } from '../../protocol/generated/incremental-alter-configs-response.js';
import { defineHandler } from '../handler.js';
import { ResourceType } from './32-describe-configs.js';
import { alterResource, type ConfigChange, type ResourceResult } from './33-alter-configs.js';

export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

type Resource = IncrementalAlterConfigsRequest['resources'][number];

/** Turns the request's operations into set/delete changes; APPEND/SUBTRACT read the current list value. */
function toChanges(
  current: (key: string) => string | null,
  r: Resource,
): { changes: ConfigChange[] } | { error: ResourceResult } {
  const changes: ConfigChange[] = [];
  for (const c of r.configs) {
    switch (c.configOperation) {
      case ConfigOp.SET:
        if (c.value === null) {
          return {
            error: {
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: `Null value not supported for: ${c.name}`,
            },
          };
        }
        changes.push({ key: c.name, value: c.value, op: 'set' });
        break;
      case ConfigOp.DELETE:
        changes.push({ key: c.name, value: null, op: 'delete' });
        break;
      case ConfigOp.APPEND:
      case ConfigOp.SUBTRACT: {
        const kind =
          r.resourceType === ResourceType.TOPIC
            ? topicConfigDefinitions[c.name]?.kind
            : r.resourceType === ResourceType.BROKER
              ? definitions[c.name]?.kind
              : undefined;
        const checked = [ResourceType.TOPIC, ResourceType.BROKER, ResourceType.GROUP] as number[];
        if (checked.includes(r.resourceType) && kind !== 'list') {
          return {
            error: {
              errorCode: ErrorCode.INVALID_CONFIG,
              errorMessage: `Config value append is not allowed for config key: ${c.name}`,
            },
          };
        }
        const now = (current(c.name) ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const given = (c.value ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const next =
          c.configOperation === ConfigOp.APPEND
            ? [...now, ...given.filter((g) => !now.includes(g))]
            : now.filter((v) => !given.includes(v));
        changes.push({ key: c.name, value: next.join(','), op: 'set' });
        break;
      }
      default:
        return {
          error: {
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Unknown config operation ${c.configOperation}`,
          },
        };
    }
  }
  return { changes };
}

export const incrementalAlterConfigs = defineHandler<
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponseInput
>({
  apiKey: ApiKey.IncrementalAlterConfigs,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const responses = [];
    for (const r of req.resources) {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const isTopic =
        r.resourceType === ResourceType.TOPIC && broker.metadataCache.topic(r.resourceName) !== undefined;
      const current = (key: string): string | null => {
        if (isTopic) {
          return topicConfigDefinitions[key] !== undefined
            ? topicConfigValue(broker.config, broker.topicConfig(r.resourceName), key)
            : null;
        }
        if (r.resourceType === ResourceType.BROKER && r.resourceName === '') {
          return broker.config.dynamicDefaultConfigs().get(key) ?? broker.config.get(key);
        }
        return broker.config.get(key);
      };
      const parsed = toChanges(current, r);
      if ('error' in parsed) {
        responses.push({ ...base, ...parsed.error });
        continue;
      }
      const res = await alterResource(
        ctx,
        r.resourceType,
        r.resourceName,
        parsed.changes,
        true,
        req.validateOnly,
      );
      responses.push({ ...base, ...res });
    }
    return { throttleTimeMs: 0, responses };
  },
});
