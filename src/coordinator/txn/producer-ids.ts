// Producer id allocation for idempotent (and later transactional) producers. Ids are reserved from
// the metadata store in blocks, so a restart never hands out an id twice: the block is persisted
// before its first id is used, and ids left unused in a block are simply skipped after a restart.

import type { MetadataStore } from '../../cluster/metadata-store.js';

const blockSize = 1000;

export class ProducerIdManager {
  private next = 0;
  private end = 0;

  constructor(private readonly store: MetadataStore) {}

  nextId(): number {
    if (this.next >= this.end) {
      this.next = this.store.allocateProducerIds(blockSize);
      this.end = this.next + blockSize;
    }
    return this.next++;
  }
}
