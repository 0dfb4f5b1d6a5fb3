// ListTransactions (key 66), v0-1: the transactional ids this broker coordinates, filtered by state names
// (unknown names are echoed in unknownStateFilters), producer ids and (v1) durationFilter: only transactions
// running longer than that many ms. COORDINATOR_LOAD_IN_PROGRESS while any partition loads. Dead ids are left out.

import { ApiKey } from '../../protocol/generated/apis.js';
import type { ListTransactionsRequest } from '../../protocol/generated/list-transactions-request.js';
import type { ListTransactionsResponseInput } from '../../protocol/generated/list-transactions-response.js';
import { defineHandler } from '../handler.js';

export const listTransactions = defineHandler<ListTransactionsRequest, ListTransactionsResponseInput>({
  apiKey: ApiKey.ListTransactions,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const res = ctx.broker.transactions.list(
      req.stateFilters,
      req.producerIdFilters,
      ctx.apiVersion >= 1 ? req.durationFilter : -1,
    );
    return { throttleTimeMs: 0, ...res };
  },
});
