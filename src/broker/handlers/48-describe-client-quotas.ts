// DescribeClientQuotas (48, KIP-546): the quota values of the entities a filter matches, from this broker's quota
// cache (kept current from the metadata store / ZooKeeper notifications). Filter components, as Kafka's
// ClientQuotasImage.describe: match type 0 (EXACT, the name given), 1 (DEFAULT, the type's default entity),
// 2 (SPECIFIED, any entity with that type, the default included); strict: the entity has no other types. A bad
// filter fails the whole request: INVALID_REQUEST (a type twice, a match string where none belongs or missing, IP
// mixed with user / client-id), UNSUPPORTED_VERSION (an unknown entity or match type), as Kafka.
// DESCRIBE_CONFIGS on the cluster is checked before the handler (authorizer.ts clusterApis).

import * as limits from '../../limits.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeClientQuotasRequest } from '../../protocol/generated/describe-client-quotas-request.js';
import type { DescribeClientQuotasResponseInput } from '../../protocol/generated/describe-client-quotas-response.js';
import { EntityType, type QuotaEntity } from '../../security/client-quotas.js';
import { defineHandler } from '../handler.js';

export const MatchType = { EXACT: 0, DEFAULT: 1, SPECIFIED: 2 } as const;

interface Filter {
  exact: Map<string, string | null>;
  types: Set<string>;
}

/** The filter of a request, or [error code, message]. */
function filterOf(req: DescribeClientQuotasRequest): Filter | [number, string] {
  const exact = new Map<string, string | null>();
  const types = new Set<string>();
  for (const c of req.components) {
    if (c.entityType === '') return [ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.'];
    if (exact.has(c.entityType) || types.has(c.entityType)) {
      return [
        ErrorCode.INVALID_REQUEST,
        `Entity type ${c.entityType} cannot appear more than once in the filter.`,
      ];
    }
    if (
      c.entityType !== EntityType.IP &&
      c.entityType !== EntityType.USER &&
      c.entityType !== EntityType.CLIENT_ID
    ) {
      return [ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`];
    }
    switch (c.matchType) {
      case MatchType.EXACT:
        if (c.match === null) {
          return [
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_EXACT, but set match string to null.',
          ];
        }
        exact.set(c.entityType, c.match);
        break;
      case MatchType.DEFAULT:
        if (c.match !== null) {
          return [
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.',
          ];
        }
        exact.set(c.entityType, null);
        break;
      case MatchType.SPECIFIED:
        if (c.match !== null) {
          return [
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.',
          ];
        }
        types.add(c.entityType);
        break;
      default:
        return [ErrorCode.UNSUPPORTED_VERSION, `Unknown match type ${c.matchType}`];
    }
  }
  const has = (t: string) => exact.has(t) || types.has(t);
  if (has(EntityType.IP) && (has(EntityType.USER) || has(EntityType.CLIENT_ID))) {
    return [
      ErrorCode.INVALID_REQUEST,
      'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
    ];
  }
  return { exact, types };
}

export function matches(entity: QuotaEntity, f: Filter, strict: boolean): boolean {
  if (strict && entity.size !== f.exact.size + f.types.size) return false;
  for (const [type, name] of f.exact) {
    if (!entity.has(type) || entity.get(type) !== name) return false;
  }
  for (const type of f.types) if (!entity.has(type)) return false;
  return true;
}

export const describeClientQuotas = defineHandler<
  DescribeClientQuotasRequest,
  DescribeClientQuotasResponseInput
>({
  apiKey: ApiKey.DescribeClientQuotas,
  name: 'DescribeClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const f = filterOf(req);
    if (Array.isArray(f)) return { throttleTimeMs: 0, errorCode: f[0], errorMessage: f[1], entries: null };
    const entries = ctx.broker.clientQuotas
      .all()
      .filter((e) => matches(e.entity, f, req.strict))
      .slice(0, limits.clientQuotaEntriesMax)
      .map((e) => ({
        entity: [...e.entity].map(([entityType, entityName]) => ({ entityType, entityName })),
        values: [...e.values].map(([key, value]) => ({ key, value })),
      }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries };
  },
});
