// Producer id allocation for idempotent (and later transactional) producers. Ids are reserved in blocks
// from the cluster's metadata (the local store on a single node, /latest_producer_id_block in ZooKeeper),
// so a restart or another broker never hands out an id twice: a block is persisted before its first id is
// used, and ids left unused in a block are simply skipped after a restart.

import type { ClusterAdmin } from '../../cluster/admin.js';

const blockSize = 1000;

export class ProducerIdManager {
  private next = 0;
  private end = 0;
  /** The block being fetched, shared by every caller that ran out meanwhile. */
  private fetching: Promise<void> | null = null;

  constructor(private readonly admin: Pick<ClusterAdmin, 'allocateProducerIds'>) {}

  async nextId(): Promise<number> {
    while (this.next >= this.end) {
      if (this.fetching === null) {
        this.fetching = this.admin.allocateProducerIds(blockSize).then(
          (first) => {
            this.next = first;
            this.end = first + blockSize;
            this.fetching = null;
          },
          (err: unknown) => {
            this.fetching = null;
            throw err;
          },
        );
      }
      await this.fetching;
    }
    return this.next++;
  }
}
