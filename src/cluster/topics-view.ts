// A read-only view of topics as tools and tests like them: a topic's id and its partitions, joined from
// the metadata cache (what the cluster has) and the replica manager (what this broker hosts). Nothing here
// changes state; the admin APIs go through ClusterAdmin (admin.ts).

import { isInternalTopic, type MetadataCache } from './metadata-cache.js';
import type { Partition } from './partition.js';
import type { ReplicaManager } from './replica-manager.js';

export interface TopicView {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** The topic's config overrides. */
  configs: Readonly<Record<string, string>>;
  /** This broker's replicas of the topic's partitions, by partition number (undefined where none). */
  partitions: (Partition | undefined)[];
}

export class TopicsView {
  constructor(
    private readonly cache: MetadataCache,
    private readonly replicas: ReplicaManager,
  ) {}

  get(name: string): TopicView | undefined {
    const t = this.cache.topic(name);
    if (t === undefined) return undefined;
    return {
      name,
      topicId: t.topicId,
      isInternal: isInternalTopic(name),
      configs: this.cache.topicConfig(name),
      partitions: Array.from({ length: t.partitions.length }, (_, i) => this.replicas.partition(name, i)),
    };
  }

  /** This broker's replica of a partition. */
  partition(topic: string, index: number): Partition | undefined {
    return this.replicas.partition(topic, index);
  }

  *all(): Generator<TopicView> {
    for (const name of this.cache.topicNames()) {
      const t = this.get(name);
      if (t !== undefined) yield t;
    }
  }
}
