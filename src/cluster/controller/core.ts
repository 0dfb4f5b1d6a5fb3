// What the controller's event handlers in other files (alter-partition.ts, controlled-shutdown.ts,
// preferred-election.ts, reassignment.ts) may use of the controller: only inside one of its events.

import type { Logger } from '../../logger.js';
import type { ChannelManager } from './channel-manager.js';
import type { ControllerContext } from './context.js';
import type { ControllerOptions } from './controller.js';
import type { RequestBatch } from './request-batch.js';
import type { StateWrite } from './zk-state.js';

export interface ControllerCore {
  readonly opts: ControllerOptions;
  readonly log: Logger;
  /** The active controller's state; throws ControllerMovedError when no longer active. */
  context(): ControllerContext;
  channelsOrThrow(): ChannelManager;
  /** Writes partition states (conditionally), records them and queues LeaderAndIsr for their replicas. */
  applyWrites(batch: RequestBatch, writes: StateWrite[], isNew?: ReadonlySet<string>): Promise<void>;
  /** After committed ISR changes (reassignments waiting for their targets to catch up). */
  afterIsrChange(partitions: { topic: string; partition: number }[]): Promise<void>;
}
