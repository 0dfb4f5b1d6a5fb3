// ListGroups (key 16), v0-5. Every group this coordinator knows (Dead ones excluded), including
// groups that only store offsets (protocol type ""). v4+ filters by state (case-insensitive, e.g.
// "Stable", "Empty"); v5+ filters by group type: every group here is "classic".

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListGroupsRequest } from '../../protocol/generated/list-groups-request.js';
import type { ListGroupsResponseInput } from '../../protocol/generated/list-groups-response.js';
import { defineHandler } from '../handler.js';

export const listGroups = defineHandler<ListGroupsRequest, ListGroupsResponseInput>({
  apiKey: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups;
    if (!groups.active)
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: groups.list(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []),
    };
  },
});
