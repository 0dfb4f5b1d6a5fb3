// FindCoordinator (key 10), v0-6. One node coordinates everything: group keys (key type 0) and
// transactional ids (key type 1) are answered with this node. A group lookup creates
// __consumer_offsets on first use, as Kafka does. v4+ batches the keys (KIP-699).

import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { FindCoordinatorRequest } from '../../protocol/generated/find-coordinator-request.js';
import type { FindCoordinatorResponseInput } from '../../protocol/generated/find-coordinator-response.js';
import type { Broker } from '../broker.js';
import { defineHandler } from '../handler.js';

const GROUP = 0;
const TRANSACTION = 1;

interface Lookup {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

function lookup(broker: Broker, keyType: number, key: string): Lookup {
  const fail = (errorCode: number, errorMessage: string): Lookup => ({
    errorCode,
    errorMessage,
    nodeId: -1,
    host: '',
    port: -1,
  });
  if (keyType !== GROUP && keyType !== TRANSACTION)
    return fail(ErrorCode.INVALID_REQUEST, `Invalid coordinator type ${keyType}`);
  if (keyType === GROUP) {
    if (!broker.groups.active)
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    if (broker.groups.stateLog.ensureTopic() === undefined) {
      return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The offsets topic could not be created.');
    }
  } else if (key === '') {
    return fail(ErrorCode.INVALID_REQUEST, 'Transactional id must not be empty');
  }
  const adv = broker.advertised();
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    nodeId: broker.nodeId,
    host: adv.host,
    port: adv.port,
  };
}

export const findCoordinator = defineHandler<FindCoordinatorRequest, FindCoordinatorResponseInput>({
  apiKey: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, req) {
    if (ctx.apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: req.coordinatorKeys.map((key) => ({ key, ...lookup(ctx.broker, req.keyType, key) })),
      };
    }
    return { throttleTimeMs: 0, ...lookup(ctx.broker, req.keyType, req.key) };
  },
});
