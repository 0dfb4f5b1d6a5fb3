// AlterConfigs (key 33), v0-2: the legacy, non-incremental form. A topic resource's overrides are REPLACED
// by the request's set (keys left out return to their defaults), as in Kafka. Changes take effect at once:
// TopicManager.alterConfigs persists them and hands the new LogConfig to every partition log.
//
// Broker resources: Kafka's dynamic broker configs (dynamic-broker-config.ts), this broker's (name = its
// id) or the cluster-wide default (name ''); for AlterConfigs the request's set replaces the entity's
// dynamic configs. Keys Kafka cannot change at runtime: INVALID_REQUEST "Cannot update these configs
// dynamically". The cluster's admin backend persists them and every broker concerned applies them.
// Group resources (type 32): KIP-848 group configs (group-config.ts), persisted.
// BROKER_LOGGER and unknown resource types: INVALID_REQUEST.

import { ErrorCode } from '../../protocol/errors.js';
import type { AlterConfigsRequest } from '../../protocol/generated/alter-configs-request.js';
import type { AlterConfigsResponseInput } from '../../protocol/generated/alter-configs-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import { configDenial } from '../../security/authorizer.js';
import type { Broker } from '../broker.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { ResourceType } from './32-describe-configs.js';

export interface ResourceResult {
  errorCode: number;
  errorMessage: string | null;
}

export interface ConfigChange {
  key: string;
  value: string | null;
  op: 'set' | 'delete';
}

const OK: ResourceResult = { errorCode: ErrorCode.NONE, errorMessage: null };

/** Checks the broker id of a BROKER resource ('' = the cluster-wide default, else this node's id). */
function brokerResourceProblem(broker: Broker, name: string): ResourceResult | null {
  if (name !== '' && name !== String(broker.nodeId)) {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unexpected broker id, expected ${broker.nodeId}, but received ${name}`,
    };
  }
  return null;
}

/** Applies config changes to one resource; shared by AlterConfigs and IncrementalAlterConfigs. */
export function alterResource(
  ctx: RequestContext,
  resourceType: number,
  resourceName: string,
  changes: ConfigChange[],
  incremental: boolean,
  validateOnly: boolean,
): ResourceResult | Promise<ResourceResult> {
  const broker = ctx.broker;
  const denied = configDenial(ctx, 'ALTER_CONFIGS', resourceType, resourceName);
  if (denied !== null) return denied;
  const seen = new Set<string>();
  for (const c of changes) {
    if (seen.has(c.key)) {
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Error due to duplicate config keys: ${c.key}`,
      };
    }
    seen.add(c.key);
  }
  if (resourceType === ResourceType.TOPIC) {
    return broker.admin.alterTopicConfigs(resourceName, changes, incremental, validateOnly).then((res) => {
      if (res.errorCode === ErrorCode.NONE) return OK;
      broker.clientWarnings.warn(ctx, 'alter_configs.refused', 'alter configs refused', {
        topic: resourceName,
        error: res.errorMessage,
      });
      return { errorCode: res.errorCode, errorMessage: res.errorMessage };
    });
  }
  const logRefusal = (res: ResourceResult): ResourceResult => {
    if (res.errorCode === ErrorCode.NONE) return OK;
    broker.log.warn('alter configs refused', {
      client: ctx.clientAddress,
      resourceType,
      resourceName,
      error: res.errorMessage,
    });
    return { errorCode: res.errorCode, errorMessage: res.errorMessage };
  };
  if (resourceType === ResourceType.BROKER) {
    const problem = brokerResourceProblem(broker, resourceName);
    if (problem !== null) return problem;
    const brokerId = resourceName === '' ? null : broker.nodeId;
    return broker.admin.alterBrokerConfigs(brokerId, changes, incremental, validateOnly).then(logRefusal);
  }
  if (resourceType === ResourceType.GROUP) {
    if (resourceName === '') {
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: 'A group config resource needs a group id',
      };
    }
    return broker.admin.alterGroupConfigs(resourceName, changes, incremental, validateOnly).then(logRefusal);
  }
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resourceType}` };
}

export const alterConfigs = defineHandler<AlterConfigsRequest, AlterConfigsResponseInput>({
  apiKey: ApiKey.AlterConfigs,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const responses = [];
    // One resource at a time, in request order (each may write the cluster's metadata).
    for (const r of req.resources) {
      const res = await alterResource(
        ctx,
        r.resourceType,
        r.resourceName,
        r.configs.map((c) => ({ key: c.name, value: c.value, op: c.value === null ? 'delete' : 'set' })),
        false,
        req.validateOnly,
      );
      responses.push({ resourceType: r.resourceType, resourceName: r.resourceName, ...res });
    }
    return { throttleTimeMs: 0, responses };
  },
});
