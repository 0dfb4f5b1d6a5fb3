// Online migration between the classic and the consumer group protocol (KIP-848,
// group.consumer.migration.policy). Kafka converts a classic group with members into a consumer group
// when a consumer-protocol member joins it (the upgrade) and back when the last consumer-protocol
// member leaves (the downgrade). Samsa converts only empty groups so far; this module holds the checks
// Kafka's GroupMetadataManager.validateOnlineUpgrade makes, so a refused upgrade answers Kafka's
// GROUP_ID_NOT_FOUND message, and one Kafka would allow says that Samsa does not convert it yet.

import type { GroupCoordinatorConfig } from '../config.js';
import { migrationAllowed } from '../config.js';
import type { ClassicGroup } from '../group.js';

/** Why a ConsumerGroupHeartbeat joining a non-empty classic group cannot convert it (the error message). */
export function upgradeRefusal(
  classic: ClassicGroup,
  config: Pick<GroupCoordinatorConfig, 'consumerMigrationPolicy' | 'consumerMaxSize'>,
): string {
  const id = classic.groupId;
  if (!migrationAllowed(config.consumerMigrationPolicy, 'upgrade'))
    return `Cannot upgrade classic group ${id} to consumer group because online upgrade is disabled.`;
  if (!classic.usesConsumerProtocol())
    return `Cannot upgrade classic group ${id} to consumer group because the group does not use the consumer embedded protocol.`;
  if (classic.size > config.consumerMaxSize)
    return `Cannot upgrade classic group ${id} to consumer group because the group size exceeds the consumer group maximum size.`;
  return `Cannot upgrade classic group ${id} to consumer group: Samsa converts only empty groups (online upgrade of a group with members is not implemented).`;
}
