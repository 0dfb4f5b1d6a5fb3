// Client quota admin calls (KIP-546): DescribeClientQuotas and AlterClientQuotas, for the CLI and tests.
//   describeClientQuotas(cluster, [{ entityType: 'user', match: 'alice' | null (default) | undefined (any) }], strict)
//     -> [{ entity: { user?: string | null, 'client-id'?: string | null, ip? }, values: { key: number } }]
//   alterClientQuotas(cluster, [{ entity: { user: 'alice' }, set: { producer_byte_rate: 1048576 }, remove: [] }],
//     validateOnly?) -> per entry { errorCode, errorMessage } (rejects on none; KafkaError for the first failure
//     unless { throwOnError: false })

import { ErrorCode } from '../protocol/errors.js';
import type { AlterClientQuotasResponse } from '../protocol/generated/alter-client-quotas-response.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { DescribeClientQuotasResponse } from '../protocol/generated/describe-client-quotas-response.js';
import { type Cluster, KafkaError } from './cluster.js';

/** Entity type -> name; null is the type's default. */
export type QuotaEntityNames = Record<string, string | null>;

export interface QuotaFilterComponent {
  entityType: string;
  /** A name (EXACT), null (DEFAULT) or undefined (SPECIFIED: any entity of the type). */
  match?: string | null;
}

export interface DescribedQuota {
  entity: QuotaEntityNames;
  values: Record<string, number>;
}

export async function describeClientQuotas(
  cluster: Cluster,
  components: readonly QuotaFilterComponent[],
  strict: boolean,
): Promise<DescribedQuota[]> {
  const res = await cluster.request<DescribeClientQuotasResponse>(ApiKey.DescribeClientQuotas, {
    components: components.map((c) => ({
      entityType: c.entityType,
      matchType: c.match === undefined ? 2 : c.match === null ? 1 : 0,
      match: c.match ?? null,
    })),
    strict,
  });
  if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode, res.errorMessage);
  return (res.entries ?? []).map((e) => ({
    entity: Object.fromEntries(e.entity.map((c) => [c.entityType, c.entityName])),
    values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
  }));
}

export interface QuotaAlteration {
  entity: QuotaEntityNames;
  set?: Record<string, number>;
  remove?: readonly string[];
}

export async function alterClientQuotas(
  cluster: Cluster,
  alterations: readonly QuotaAlteration[],
  opts: { validateOnly?: boolean; throwOnError?: boolean } = {},
): Promise<{ errorCode: number; errorMessage: string | null }[]> {
  const res = await cluster.request<AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, {
    entries: alterations.map((a) => ({
      entity: Object.entries(a.entity).map(([entityType, entityName]) => ({ entityType, entityName })),
      ops: [
        ...Object.entries(a.set ?? {}).map(([key, value]) => ({ key, value, remove: false })),
        ...(a.remove ?? []).map((key) => ({ key, value: 0, remove: true })),
      ],
    })),
    validateOnly: opts.validateOnly ?? false,
  });
  const out = res.entries.map((e) => ({ errorCode: e.errorCode, errorMessage: e.errorMessage }));
  if (opts.throwOnError !== false) {
    for (const e of out)
      if (e.errorCode !== ErrorCode.NONE) throw new KafkaError(e.errorCode, e.errorMessage);
  }
  return out;
}
