// DeleteAcls (31): removes the bindings matching each filter and answers them per filter. No authorizer:
// SECURITY_DISABLED; without ALTER on the cluster: CLUSTER_AUTHORIZATION_FAILED; a filter with an UNKNOWN code:
// INVALID_REQUEST for that filter, as Kafka answers.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DeleteAclsRequest } from '../../protocol/generated/delete-acls-request.js';
import type {
  DeleteAclsResponseDeleteAclsFilterResultInput,
  DeleteAclsResponseInput,
} from '../../protocol/generated/delete-acls-response.js';
import {
  type AclBinding,
  type AclFilter,
  filterMatches,
  filterProblem,
  patternKey,
  sameEntry,
} from '../../security/acl.js';
import { defineHandler } from '../handler.js';
import { aclRefusal } from './29-describe-acls.js';

export const deleteAcls = defineHandler<DeleteAclsRequest, DeleteAclsResponseInput>({
  apiKey: ApiKey.DeleteAcls,
  name: 'DeleteAcls',
  minVersion: 1,
  maxVersion: 3,
  async handle(ctx, req) {
    const refused = aclRefusal(ctx, 'ALTER');
    if (refused !== null)
      return { throttleTimeMs: 0, filterResults: req.filters.map(() => ({ ...refused, matchingAcls: [] })) };
    const bindings = ctx.broker.authorizer?.bindings() ?? [];
    const filterResults: DeleteAclsResponseDeleteAclsFilterResultInput[] = [];
    const removals = new Map<string, AclBinding[]>();
    for (const f of req.filters) {
      const filter: AclFilter = {
        resourceType: f.resourceTypeFilter,
        name: f.resourceNameFilter,
        patternType: f.patternTypeFilter,
        principal: f.principalFilter,
        host: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      };
      const problem = filterProblem(filter);
      if (problem !== null) {
        filterResults.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] });
        continue;
      }
      const matching = bindings.filter((b) => filterMatches(filter, b));
      for (const b of matching) {
        const key = patternKey(b.pattern);
        removals.set(key, [...(removals.get(key) ?? []), b]);
      }
      filterResults.push({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: matching.map((b) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: b.pattern.resourceType,
          resourceName: b.pattern.name,
          patternType: b.pattern.patternType,
          ...b.entry,
        })),
      });
    }
    const failed = new Map<string, string>();
    for (const [key, list] of removals) {
      const pattern = (list[0] as AclBinding).pattern;
      try {
        await ctx.broker.admin.updateAcls(pattern, (current) =>
          current.filter((e) => !list.some((b) => sameEntry(b.entry, e))),
        );
        ctx.broker.log.info('ACLs removed', {
          principal: ctx.session.principal,
          resource: pattern,
          count: list.length,
        });
      } catch (err) {
        ctx.broker.log.warn('removing ACLs failed', { resource: pattern, error: err });
        failed.set(key, `Removing the ACLs failed: ${String(err)}`);
      }
    }
    if (failed.size > 0) {
      for (const r of filterResults) {
        for (const m of r.matchingAcls ?? []) {
          const why = failed.get(
            patternKey({
              resourceType: m.resourceType ?? 0,
              patternType: m.patternType ?? 0,
              name: m.resourceName ?? '',
            }),
          );
          if (why !== undefined) {
            m.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
            m.errorMessage = why;
          }
        }
      }
    }
    return { throttleTimeMs: 0, filterResults };
  },
});
