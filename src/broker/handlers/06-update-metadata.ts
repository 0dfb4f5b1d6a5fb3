// UpdateMetadata (key 6), v5-8: the controller's view of the cluster for this broker's metadata cache: every
// live broker with its endpoints and rack, and the partition states that changed (all of them after a
// failover or when this broker joins). A partition whose leader is -2 is being deleted and leaves the cache.
// Requests from an older controller epoch are refused (STALE_CONTROLLER_EPOCH). ZooKeeper mode only.

import { LEADER_DURING_DELETE } from '../../cluster/metadata-cache.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { UpdateMetadataRequest } from '../../protocol/generated/update-metadata-request.js';
import type { UpdateMetadataResponseInput } from '../../protocol/generated/update-metadata-response.js';
import { defineHandler } from '../handler.js';

/** Kafka's SecurityProtocol ids. */
const securityProtocols = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export const updateMetadata = defineHandler<UpdateMetadataRequest, UpdateMetadataResponseInput>({
  apiKey: ApiKey.UpdateMetadata,
  name: 'UpdateMetadata',
  minVersion: 5,
  maxVersion: 8,
  async handle(ctx, req) {
    const broker = ctx.broker;
    const cache = broker.metadataCache;
    const zk = broker.zk;
    if (zk === null) return { errorCode: ErrorCode.STALE_CONTROLLER_EPOCH };
    // First: a request for this broker id's previous run (it may arrive before we have registered) must not
    // touch the cache, whatever its controller epoch.
    if (await zk.isStaleBrokerEpoch(req.brokerEpoch)) return { errorCode: ErrorCode.STALE_BROKER_EPOCH };
    if (req.controllerEpoch < cache.controllerEpoch) {
      broker.log.warn('ignoring UpdateMetadata from a stale controller', {
        controller: req.controllerId,
        controllerEpoch: req.controllerEpoch,
        latest: cache.controllerEpoch,
      });
      return { errorCode: ErrorCode.STALE_CONTROLLER_EPOCH };
    }
    cache.controllerId = req.controllerId;
    cache.controllerEpoch = req.controllerEpoch;
    cache.setBrokers(
      req.liveBrokers.map((b) => ({
        id: b.id,
        rack: b.rack,
        endpoints: b.endpoints.map((e) => ({
          listener: e.listener,
          host: e.host,
          port: e.port,
          securityProtocol: securityProtocols[e.securityProtocol] ?? 'PLAINTEXT',
        })),
      })),
    );
    const deleted = new Set<string>();
    cache.updatePartitions(
      req.topicStates.flatMap((t) =>
        t.partitionStates.map((p) => {
          if (p.leader === LEADER_DURING_DELETE) deleted.add(t.topicName);
          return {
            topic: t.topicName,
            topicId: t.topicId,
            partition: p.partitionIndex,
            leader: p.leader,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas,
            partitionEpoch: p.zkVersion,
            controllerEpoch: p.controllerEpoch,
          };
        }),
      ),
    );
    for (const t of deleted) if (cache.topic(t) === undefined) cache.removeTopicConfig(t);
    return { errorCode: ErrorCode.NONE };
  },
});
