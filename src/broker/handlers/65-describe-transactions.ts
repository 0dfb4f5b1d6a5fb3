// DescribeTransactions (key 65), v0: the state of transactional ids this broker coordinates (state name as
// Kafka's, e.g. "Ongoing", "CompleteCommit"; its partitions, producer id and epoch, timeout, start time). An id
// of a partition not led here: NOT_COORDINATOR; loading: COORDINATOR_LOAD_IN_PROGRESS; unknown:
// TRANSACTIONAL_ID_NOT_FOUND.

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { DescribeTransactionsRequest } from '../../protocol/generated/describe-transactions-request.js';
import type { DescribeTransactionsResponseInput } from '../../protocol/generated/describe-transactions-response.js';
import { deniedNames } from '../../security/authorizer.js';
import { defineHandler } from '../handler.js';

export const describeTransactions = defineHandler<
  DescribeTransactionsRequest,
  DescribeTransactionsResponseInput
>({
  apiKey: ApiKey.DescribeTransactions,
  name: 'DescribeTransactions',
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const txns = ctx.broker.transactions;
    // DESCRIBE on each transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as Kafka checks.
    const denied = deniedNames(ctx, 'DESCRIBE', 'TRANSACTIONAL_ID', req.transactionalIds);
    return {
      throttleTimeMs: 0,
      transactionStates: req.transactionalIds.map((id) =>
        denied.has(id)
          ? {
              errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
              transactionalId: id,
              transactionState: '',
              transactionTimeoutMs: 0,
              transactionStartTimeMs: -1,
              producerId: -1,
              producerEpoch: -1,
              topics: [],
            }
          : txns.describe(id),
      ),
    };
  },
});
