// FindCoordinator (key 10), v0-6. A group's coordinator is the leader of its __consumer_offsets partition
// (hash of the group id modulo the partition count, as Kafka); the first group lookup creates the topic
// (offsets.topic.num.partitions, offsets.topic.replication.factor capped at the live brokers), as Kafka
// does. A partition without a live leader answers COORDINATOR_NOT_AVAILABLE and the client asks again.
// A transactional id's (key type 1) is the leader of its __transaction_state partition, the topic created on the
// first lookup likewise (transaction.state.log.*). v4+ batches the keys (KIP-699).

import { OFFSETS_TOPIC, partitionForGroup } from '../../coordinator/group/records.js';
import { TRANSACTION_STATE_TOPIC } from '../../coordinator/txn/records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { FindCoordinatorRequest } from '../../protocol/generated/find-coordinator-request.js';
import type { FindCoordinatorResponseInput } from '../../protocol/generated/find-coordinator-response.js';
import { coordinatorDenial } from '../../security/authorizer.js';
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

function fail(errorCode: number, errorMessage: string): Lookup {
  return { errorCode, errorMessage, nodeId: -1, host: '', port: -1 };
}

/** The broker's endpoint on the listener the request came in on, as a lookup answer. */
function node(broker: Broker, listener: string, id: number): Lookup {
  const b = broker.metadataCache.broker(id);
  const ep = b?.endpoints.find((e) => e.listener === listener);
  if (ep === undefined) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: id, host: ep.host, port: ep.port };
}

async function lookup(broker: Broker, listener: string, keyType: number, key: string): Promise<Lookup> {
  if (keyType !== GROUP && keyType !== TRANSACTION) {
    return fail(ErrorCode.INVALID_REQUEST, `Invalid coordinator type ${keyType}`);
  }
  const cache = broker.metadataCache;
  const topic = keyType === TRANSACTION ? TRANSACTION_STATE_TOPIC : OFFSETS_TOPIC;
  if (keyType === TRANSACTION && key === '') {
    return fail(ErrorCode.INVALID_REQUEST, 'Transactional id must not be empty');
  }
  if (cache.topic(topic) === undefined) {
    const err = await (keyType === TRANSACTION
      ? broker.ensureTransactionTopic()
      : broker.ensureOffsetsTopic());
    const what = keyType === TRANSACTION ? 'transaction state' : 'offsets';
    if (err !== ErrorCode.NONE) return fail(err, `The ${what} topic could not be created.`);
  }
  const count = cache.partitionCount(topic);
  if (count === 0) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  const p = cache.partition(topic, partitionForGroup(key, count));
  if (p === undefined || p.leader < 0 || !cache.isAlive(p.leader)) {
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
  }
  return node(broker, listener, p.leader);
}

export const findCoordinator = defineHandler<FindCoordinatorRequest, FindCoordinatorResponseInput>({
  apiKey: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, req) {
    const listener = ctx.session.listener.listenerName;
    if (ctx.apiVersion >= 4) {
      const coordinators = [];
      for (const key of req.coordinatorKeys) {
        const denied = coordinatorDenial(ctx, req.keyType, key);
        coordinators.push({
          key,
          ...(denied !== 0
            ? fail(denied, 'Authorization failed.')
            : await lookup(ctx.broker, listener, req.keyType, key)),
        });
      }
      return { throttleTimeMs: 0, coordinators };
    }
    const denied = coordinatorDenial(ctx, req.keyType, req.key);
    if (denied !== 0) return { throttleTimeMs: 0, ...fail(denied, 'Authorization failed.') };
    return { throttleTimeMs: 0, ...(await lookup(ctx.broker, listener, req.keyType, req.key)) };
  },
});
