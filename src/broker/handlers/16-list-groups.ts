// ListGroups (key 16), v0-5. Every group this coordinator knows (Dead ones excluded), including
// groups that only store offsets (protocol type ""): those of the __consumer_offsets partitions this
// broker leads and has loaded; COORDINATOR_LOAD_IN_PROGRESS while any of them still loads (with the
// groups loaded so far), COORDINATOR_NOT_AVAILABLE while the broker shuts down. v4+ filters by state (case-insensitive, e.g.
// "Stable", "Empty"; consumer groups: "Assigning", "Reconciling"); v5+ filters by group type: "classic" or
// "consumer" (KIP-848 groups, consumer/admin.ts), each group listed with its type.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListGroupsRequest } from '../../protocol/generated/list-groups-request.js';
import type { ListGroupsResponseInput } from '../../protocol/generated/list-groups-response.js';
import { authorize, authorizedNames } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const listGroups = defineHandler<ListGroupsRequest, ListGroupsResponseInput>({
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const res = ctx.broker.groups.list(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
    // Only the groups the principal may DESCRIBE (all of them with DESCRIBE on the cluster), as Kafka lists.
    const groups = authorize(ctx, 'DESCRIBE', 'CLUSTER', undefined, { log: false })
      ? res.groups
      : authorizedNames(ctx, 'DESCRIBE', 'GROUP', res.groups, (g) => g.groupId);
    return { throttleTimeMs: 0, errorCode: res.errorCode, groups };
  },
});
