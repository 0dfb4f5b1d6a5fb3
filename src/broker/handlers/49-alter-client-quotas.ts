// AlterClientQuotas (49, KIP-546): sets and removes quota values of user, client-id, user + client-id and IP
// entities (a null name is the type's default). Each entry succeeds or fails alone; the checks and their
// messages are Kafka's (ClientQuotaControlManager): INVALID_REQUEST for an empty or unknown entity, an IP mixed with
// user / client-id, an unknown key for the entity, a fraction for a whole-number key. validate_only checks and
// stores nothing. Stored through ClusterAdmin.putQuotaConfigs (ZooKeeper /config/<entity path> plus a change
// notification, or the local metadata store); every broker's quota cache follows. ALTER_CONFIGS on the cluster is
// checked before the handler (authorizer.ts clusterApis).

import { isIP } from 'node:net';
import * as limits from '../../limits.js';
import { createLogger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type {
  AlterClientQuotasRequest,
  AlterClientQuotasRequestEntryData,
} from '../../protocol/generated/alter-client-quotas-request.js';
import type { AlterClientQuotasResponseInput } from '../../protocol/generated/alter-client-quotas-response.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import {
  clientQuotaKeys,
  EntityType,
  entityPath,
  ipQuotaKeys,
  type QuotaEntity,
  type QuotaKind,
} from '../../security/client-quotas.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

const log = createLogger('quotas');

class Refused extends Error {}

/** The entity an entry names, or Refused with Kafka's message. */
export function quotaEntityOf(components: readonly { entityType: string; entityName: string | null }[]) {
  if (components.length === 0) throw new Refused('Invalid empty client quota entity');
  const entity = new Map<string, string | null>();
  for (const c of components) {
    if (
      c.entityType !== EntityType.USER &&
      c.entityType !== EntityType.CLIENT_ID &&
      c.entityType !== EntityType.IP
    ) {
      throw new Refused(`Unhandled client quota entity type: ${c.entityType}`);
    }
    if (entity.has(c.entityType)) throw new Refused(`Duplicate quota entity type: ${c.entityType}`);
    if (c.entityName === '') throw new Refused(`Invalid empty ${c.entityType} entity name`);
    entity.set(c.entityType, c.entityName);
  }
  const ip = entity.get(EntityType.IP);
  if (entity.has(EntityType.IP) && entity.size > 1) {
    throw new Refused(
      'Invalid quota entity combination, IP entity should not be combined with User or ClientId',
    );
  }
  if (ip !== undefined && ip !== null && isIP(ip) === 0) {
    throw new Refused(`${ip} is not a valid IP or resolvable host.`);
  }
  return entity as QuotaEntity;
}

function checkValue(key: string, kind: QuotaKind, value: number): void {
  if (!Number.isFinite(value)) throw new Refused(`Proposed value for ${key} is not a number.`);
  if (value <= 0) throw new Refused(`Proposed value for ${key} must be greater than 0.`);
  if (kind === 'double') return;
  const max = kind === 'int' ? 2 ** 31 - 1 : 2 ** 63;
  if (value > max) throw new Refused(`Proposed value for ${key} is too large for a ${kind.toUpperCase()}.`);
  if (Math.abs(value % 1) > 1e-6) throw new Refused(`${key} cannot be a fractional value.`);
}

/** The stored form of a value: whole numbers for INT / LONG keys, as Kafka writes them. */
function formatValue(kind: QuotaKind, value: number): string {
  return kind === 'double' ? String(value) : String(Math.round(value));
}

/** Checks an entry; returns the entity path and its quota values after the change. */
function plan(
  broker: Broker,
  e: AlterClientQuotasRequestEntryData,
): { path: string; next: Record<string, string> } {
  const entity = quotaEntityOf(e.entity);
  const keys = entity.has(EntityType.IP) ? ipQuotaKeys : clientQuotaKeys;
  const path = entityPath(entity);
  const next: Record<string, string> = {};
  for (const [k, v] of broker.clientQuotas.values(path)) {
    const kind = keys.get(k);
    if (kind !== undefined) next[k] = formatValue(kind, v);
  }
  for (const op of e.ops) {
    const kind = keys.get(op.key);
    if (kind === undefined) throw new Refused(`Invalid configuration key ${op.key}`);
    if (op.remove) {
      delete next[op.key];
      continue;
    }
    checkValue(op.key, kind, op.value);
    next[op.key] = formatValue(kind, op.value);
  }
  return { path, next };
}

export const alterClientQuotas = defineHandler<AlterClientQuotasRequest, AlterClientQuotasResponseInput>({
  apiKey: ApiKey.AlterClientQuotas,
  name: 'AlterClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const entries = [];
    for (const [i, e] of req.entries.entries()) {
      const entity = e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName }));
      if (i >= limits.clientQuotaEntriesMax) {
        entries.push({
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `At most ${limits.clientQuotaEntriesMax} entries per request`,
          entity,
        });
        continue;
      }
      let planned: { path: string; next: Record<string, string> };
      try {
        planned = plan(ctx.broker, e);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
        entries.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: err.message, entity });
        continue;
      }
      if (req.validateOnly) {
        entries.push({ errorCode: ErrorCode.NONE, errorMessage: null, entity });
        continue;
      }
      try {
        await ctx.broker.admin.putQuotaConfigs(planned.path, planned.next);
        log.info('client quotas altered', { entity: planned.path, quotas: planned.next });
        entries.push({ errorCode: ErrorCode.NONE, errorMessage: null, entity });
      } catch (err) {
        log.error('altering client quotas failed', { entity: planned.path, error: err });
        entries.push({
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          errorMessage: 'The client quotas could not be stored',
          entity,
        });
      }
    }
    return { throttleTimeMs: 0, entries };
  },
});
