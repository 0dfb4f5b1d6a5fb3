// DescribeAcls (29): the ACL bindings matching one filter, grouped by resource pattern. No authorizer:
// SECURITY_DISABLED; without DESCRIBE on the cluster: CLUSTER_AUTHORIZATION_FAILED; a filter with an UNKNOWN
// code: INVALID_REQUEST, as Kafka answers.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeAclsRequest } from '../../protocol/generated/describe-acls-request.js';
import type {
  DescribeAclsResponseDescribeAclsResourceInput,
  DescribeAclsResponseInput,
} from '../../protocol/generated/describe-acls-response.js';
import { type AclFilter, filterMatches, filterProblem, patternKey } from '../../security/acl.js';
import { authorize } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export function aclRefusal(ctx: Parameters<typeof authorize>[0], op: 'ALTER' | 'DESCRIBE') {
  if (ctx.broker.authorizer === null)
    return { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' };
  if (!authorize(ctx, op, 'CLUSTER'))
    return {
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: 'Cluster authorization failed.',
    };
  return null;
}

export const describeAcls = defineHandler<DescribeAclsRequest, DescribeAclsResponseInput>({
  apiKey: ApiKey.DescribeAcls,
  name: 'DescribeAcls',
  minVersion: 1,
  maxVersion: 3,
  handle(ctx, req) {
    const refused = aclRefusal(ctx, 'DESCRIBE');
    if (refused !== null) return { throttleTimeMs: 0, ...refused, resources: [] };
    const filter: AclFilter = {
      resourceType: req.resourceTypeFilter,
      name: req.resourceNameFilter,
      patternType: req.patternTypeFilter,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permissionType: req.permissionType,
    };
    const problem = filterProblem(filter);
    if (problem !== null)
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: problem,
        resources: [],
      };
    const byPattern = new Map<string, DescribeAclsResponseDescribeAclsResourceInput>();
    for (const b of ctx.broker.authorizer?.bindings() ?? []) {
      if (!filterMatches(filter, b)) continue;
      const key = patternKey(b.pattern);
      let r = byPattern.get(key);
      if (r === undefined) {
        r = {
          resourceType: b.pattern.resourceType,
          resourceName: b.pattern.name,
          patternType: b.pattern.patternType,
          acls: [],
        };
        byPattern.set(key, r);
      }
      r.acls?.push({ ...b.entry });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resources: [...byPattern.values()],
    };
  },
});
