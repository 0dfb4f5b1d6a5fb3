// CreateAcls (30): adds ACL bindings (each result in request order). No authorizer: SECURITY_DISABLED; without
// ALTER on the cluster: CLUSTER_AUTHORIZATION_FAILED; an invalid binding: INVALID_REQUEST, as Kafka answers.
// Bindings of the same resource pattern are stored in one update (admin.updateAcls).

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { CreateAclsRequest } from '../../protocol/generated/create-acls-request.js';
import type { CreateAclsResponseInput } from '../../protocol/generated/create-acls-response.js';
import { type AclBinding, bindingProblem, patternKey, sameEntry } from '../../security/acl.js';
import { defineHandler } from '../handler.js';
import { aclRefusal } from './29-describe-acls.js';

export const createAcls = defineHandler<CreateAclsRequest, CreateAclsResponseInput>({
  apiKey: ApiKey.CreateAcls,
  name: 'CreateAcls',
  minVersion: 1,
  maxVersion: 3,
  async handle(ctx, req) {
    const refused = aclRefusal(ctx, 'ALTER');
    if (refused !== null) return { throttleTimeMs: 0, results: req.creations.map(() => refused) };
    const results: { errorCode: number; errorMessage: string | null }[] = req.creations.map(() => ({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    }));
    const groups = new Map<string, { bindings: AclBinding[]; indexes: number[] }>();
    req.creations.forEach((c, i) => {
      const b: AclBinding = {
        pattern: { resourceType: c.resourceType, patternType: c.resourcePatternType, name: c.resourceName },
        entry: {
          principal: c.principal,
          host: c.host,
          operation: c.operation,
          permissionType: c.permissionType,
        },
      };
      const problem = bindingProblem(b);
      if (problem !== null) {
        results[i] = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
        return;
      }
      const key = patternKey(b.pattern);
      const g = groups.get(key) ?? { bindings: [], indexes: [] };
      g.bindings.push(b);
      g.indexes.push(i);
      groups.set(key, g);
    });
    for (const g of groups.values()) {
      const pattern = (g.bindings[0] as AclBinding).pattern;
      try {
        await ctx.broker.admin.updateAcls(pattern, (current) => {
          const next = [...current];
          for (const b of g.bindings) if (!next.some((e) => sameEntry(e, b.entry))) next.push(b.entry);
          return next;
        });
        ctx.broker.log.info('ACLs added', {
          principal: ctx.session.principal,
          resource: pattern,
          count: g.bindings.length,
        });
      } catch (err) {
        ctx.broker.log.warn('storing ACLs failed', { resource: pattern, error: err });
        for (const i of g.indexes)
          results[i] = {
            errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
            errorMessage: `Storing the ACLs failed: ${String(err)}`,
          };
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
