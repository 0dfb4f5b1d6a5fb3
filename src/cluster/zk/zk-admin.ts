// Topic administration in a ZooKeeper cluster (Kafka's AdminZkClient): any broker that receives an admin
// request writes ZooKeeper directly and the controller reacts to the change through its watches. The answer
// waits (up to the request's timeout) until this broker's metadata cache shows the result, which arrives with
// the controller's UpdateMetadata, as Kafka's DelayedCreatePartitions / DelayedDeleteTopics do.
//
// CreateTopics: /config/topics/<t> first, then /brokers/topics/<t> (topic id, replica assignment), so the
//   controller finds the configs when it sees the topic. The assignment znode's create is the decision: a
//   second broker creating the same name gets NODEEXISTS -> TOPIC_ALREADY_EXISTS.
// DeleteTopics: the marker /admin/delete_topics/<t>; the controller deletes every replica, then the znodes.
// CreatePartitions: the assignment rewritten conditionally on its znode version.
// AlterConfigs: /config/topics/<t> rewritten conditionally, then a change notification
//   /config/changes/config_change_<seq> that every broker's config listener (zk-broker.ts) applies. Broker
//   resources alike with /config/brokers/<id> and /config/brokers/<default> (dynamic broker configs); group
//   resources in /config/groups/<group> (no notification: read when described).
// Producer ids: blocks from /latest_producer_id_block (producer-id-block.ts).

import type { BrokerConfig } from '../../config/broker-config.js';
import { DEFAULT_BROKER_ENTITY } from '../../config/dynamic-broker-config.js';
import { redactSensitive } from '../../config/security-config.js';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { AclEntry, ResourcePattern } from '../../security/acl.js';
import { isQuotaKey } from '../../security/client-quotas.js';
import {
  applyConfigChanges,
  type ClusterAdmin,
  type ConfigChange,
  type ConfigOutcome,
  type CreatePartitionsSpec,
  type CreateTopicSpec,
  outcome,
  planBrokerConfigs,
  planGroupConfigs,
  planPartitions,
  planTopic,
  type TopicOutcome,
} from '../admin.js';
import { isInternalTopic, type MetadataCache } from '../metadata-cache.js';
import { newTopicId } from '../metadata-store.js';
import { allocateProducerIdBlock } from './producer-id-block.js';
import { updateResourceAcls } from './zk-acls.js';
import { isZkError, type ZkClient } from './zk-client.js';
import {
  decodeEntityConfig,
  decodeTopicAssignment,
  encodeConfigChange,
  encodeEntityConfig,
  encodeTopicAssignment,
  zkPaths,
} from './zk-data.js';
import { groupEntityName } from './zk-paths.js';

/** How often a waiting admin request re-checks the metadata cache. */
const METADATA_POLL_MS = 20;
/** How long an AlterConfigs of a broker resource waits for this broker to apply its own change. */
const BROKER_CONFIG_APPLY_WAIT_MS = 5000;

function sameConfigs(a: ReadonlyMap<string, string>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(b);
  return a.size === keys.length && keys.every((k) => a.get(k) === b[k]);
}

export class ZkAdmin implements ClusterAdmin {
  constructor(
    private readonly zk: ZkClient,
    private readonly config: BrokerConfig,
    private readonly cache: MetadataCache,
    private readonly brokerId: number,
    private readonly logger: Logger,
  ) {}

  private liveBrokers(): { id: number; rack: string | null }[] {
    return this.cache.brokers().map((b) => ({ id: b.id, rack: b.rack }));
  }

  /** Waits until `done()` holds (the controller's UpdateMetadata arrived) or the deadline passes. */
  private async waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, METADATA_POLL_MS));
    }
    return true;
  }

  private fail(name: string, err: unknown): TopicOutcome {
    this.logger.error('a ZooKeeper write for an admin request failed', { topic: name, error: err });
    return outcome(
      name,
      ErrorCode.UNKNOWN_SERVER_ERROR,
      `ZooKeeper: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  async createTopics(
    specs: CreateTopicSpec[],
    validateOnly: boolean,
    timeoutMs: number,
  ): Promise<TopicOutcome[]> {
    const out: TopicOutcome[] = [];
    const created: { name: string; partitions: number }[] = [];
    const existing = await this.zk.getChildren(zkPaths.topics).catch(() => null);
    for (const spec of specs) {
      const plan = planTopic(spec, this.config, existing ?? this.cache.topicNames(), this.liveBrokers());
      if ('errorCode' in plan) {
        out.push(plan);
        continue;
      }
      const partitions = plan.assignment.length;
      const rf = plan.assignment[0]?.length ?? 0;
      if (validateOnly) {
        out.push({ ...outcome(spec.name, ErrorCode.NONE), numPartitions: partitions, replicationFactor: rf });
        continue;
      }
      const topicId = newTopicId();
      try {
        await this.zk
          .createRecursive(zkPaths.topicConfig(spec.name), encodeEntityConfig(plan.configs))
          .catch(async (e: unknown) => {
            if (!isZkError(e, 'NODEEXISTS')) throw e;
            await this.zk.set(zkPaths.topicConfig(spec.name), encodeEntityConfig(plan.configs), -1);
          });
        await this.zk.create(
          zkPaths.topic(spec.name),
          encodeTopicAssignment({
            topicId,
            partitions: new Map(
              plan.assignment.map((replicas, p) => [
                p,
                { replicas, addingReplicas: [], removingReplicas: [] },
              ]),
            ),
          }),
        );
      } catch (err) {
        if (isZkError(err, 'NODEEXISTS')) {
          out.push(
            outcome(spec.name, ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`),
          );
        } else {
          out.push(this.fail(spec.name, err));
        }
        continue;
      }
      this.logger.info('topic created', {
        topic: spec.name,
        topicId,
        assignment: plan.assignment,
        configs: plan.configs,
      });
      created.push({ name: spec.name, partitions });
      out.push({
        ...outcome(spec.name, ErrorCode.NONE),
        topicId,
        numPartitions: partitions,
        replicationFactor: rf,
      });
    }
    if (created.length > 0 && timeoutMs > 0) {
      const ready = (name: string, n: number): boolean => {
        const t = this.cache.topic(name);
        if (t === undefined || t.partitions.length < n) return false;
        return t.partitions.every((p) => p !== undefined && p.leader >= 0);
      };
      await this.waitFor(() => created.every((c) => ready(c.name, c.partitions)), timeoutMs);
      for (const c of created) {
        if (ready(c.name, c.partitions)) continue;
        const o = out.find((x) => x.name === c.name);
        if (o !== undefined) {
          o.errorCode = ErrorCode.REQUEST_TIMED_OUT;
          o.errorMessage =
            'The topic was created but its leaders were not elected within the request timeout.';
        }
      }
    }
    return out;
  }

  async deleteTopics(names: string[], timeoutMs: number): Promise<TopicOutcome[]> {
    const out: TopicOutcome[] = [];
    const marked: string[] = [];
    for (const name of names) {
      if (!this.config.bool('delete.topic.enable')) {
        out.push(outcome(name, ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled.'));
        continue;
      }
      if (isInternalTopic(name)) {
        out.push(outcome(name, ErrorCode.INVALID_TOPIC_EXCEPTION, 'Internal topics cannot be deleted'));
        continue;
      }
      try {
        if ((await this.zk.exists(zkPaths.topic(name))) === null) {
          out.push(
            outcome(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.'),
          );
          continue;
        }
        await this.zk.create(zkPaths.deleteTopic(name)).catch((e: unknown) => {
          if (!isZkError(e, 'NODEEXISTS')) throw e;
        });
      } catch (err) {
        out.push(this.fail(name, err));
        continue;
      }
      this.logger.info('topic marked for deletion', { topic: name });
      marked.push(name);
      out.push(outcome(name, ErrorCode.NONE));
    }
    if (marked.length > 0 && timeoutMs > 0) {
      await this.waitFor(() => marked.every((n) => this.cache.topic(n) === undefined), timeoutMs);
      for (const n of marked) {
        if (this.cache.topic(n) === undefined) continue;
        const o = out.find((x) => x.name === n);
        if (o !== undefined) {
          o.errorCode = ErrorCode.REQUEST_TIMED_OUT;
          o.errorMessage = 'The topic is marked for deletion but is not deleted yet.';
        }
      }
    }
    return out;
  }

  async createPartitions(
    specs: CreatePartitionsSpec[],
    validateOnly: boolean,
    timeoutMs: number,
  ): Promise<TopicOutcome[]> {
    const out: TopicOutcome[] = [];
    const grown: { name: string; count: number }[] = [];
    for (const spec of specs) {
      let r: Awaited<ReturnType<ZkClient['get']>>;
      try {
        r = await this.zk.get(zkPaths.topic(spec.name));
      } catch (err) {
        out.push(this.fail(spec.name, err));
        continue;
      }
      if (r === null) {
        out.push(
          outcome(spec.name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.'),
        );
        continue;
      }
      const a = decodeTopicAssignment(spec.name, r.data);
      const current = [...a.partitions].sort(([x], [y]) => x - y).map(([, v]) => v.replicas);
      const plan = planPartitions(spec, current, this.liveBrokers());
      if (!Array.isArray(plan)) {
        out.push(plan);
        continue;
      }
      if (validateOnly) {
        out.push(outcome(spec.name, ErrorCode.NONE));
        continue;
      }
      for (const [i, replicas] of plan.entries()) {
        a.partitions.set(current.length + i, { replicas, addingReplicas: [], removingReplicas: [] });
      }
      try {
        await this.zk.set(zkPaths.topic(spec.name), encodeTopicAssignment(a), r.stat.version);
      } catch (err) {
        if (isZkError(err, 'BADVERSION')) {
          out.push(
            outcome(spec.name, ErrorCode.UNKNOWN_SERVER_ERROR, 'The topic changed meanwhile; try again.'),
          );
        } else {
          out.push(this.fail(spec.name, err));
        }
        continue;
      }
      this.logger.info('partitions added', { topic: spec.name, from: current.length, to: spec.count });
      grown.push({ name: spec.name, count: spec.count });
      out.push(outcome(spec.name, ErrorCode.NONE));
    }
    if (grown.length > 0 && timeoutMs > 0) {
      const ready = (g: { name: string; count: number }): boolean =>
        (this.cache.topic(g.name)?.partitions.filter((p) => p !== undefined && p.leader >= 0).length ?? 0) >=
        g.count;
      await this.waitFor(() => grown.every(ready), timeoutMs);
      for (const g of grown) {
        if (ready(g)) continue;
        const o = out.find((x) => x.name === g.name);
        if (o !== undefined) o.errorCode = ErrorCode.REQUEST_TIMED_OUT;
      }
    }
    return out;
  }

  async alterTopicConfigs(
    name: string,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<TopicOutcome> {
    try {
      if ((await this.zk.exists(zkPaths.topic(name))) === null) {
        return outcome(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.');
      }
      const r = await this.zk.get(zkPaths.topicConfig(name));
      const current = r === null ? {} : decodeEntityConfig(zkPaths.topicConfig(name), r.data);
      const next = applyConfigChanges(name, current, changes, incremental, this.config);
      if ('refused' in next) return next.refused;
      if (validateOnly) return outcome(name, ErrorCode.NONE);
      if (r === null)
        await this.zk.createRecursive(zkPaths.topicConfig(name), encodeEntityConfig(next.configs));
      else await this.zk.set(zkPaths.topicConfig(name), encodeEntityConfig(next.configs), r.stat.version);
      await this.zk.create(zkPaths.configChangePrefix, encodeConfigChange('topics', name), {
        mode: 'persistentSequential',
      });
      this.logger.info('topic configs altered', { topic: name, configs: next.configs });
      return outcome(name, ErrorCode.NONE);
    } catch (err) {
      if (isZkError(err, 'BADVERSION'))
        return outcome(name, ErrorCode.UNKNOWN_SERVER_ERROR, 'The configs changed meanwhile; try again.');
      return this.fail(name, err);
    }
  }

  /** Reads an entity's config znode: its configs and version (-1: no znode). */
  private async readEntityConfig(
    path: string,
  ): Promise<{ configs: Record<string, string>; version: number }> {
    const r = await this.zk.get(path);
    return r === null
      ? { configs: {}, version: -1 }
      : { configs: decodeEntityConfig(path, r.data), version: r.stat.version };
  }

  /** Writes an entity's config znode conditionally on the version read (-1: create it). */
  private async writeEntityConfig(
    path: string,
    configs: Record<string, string>,
    version: number,
  ): Promise<void> {
    if (version === -1) await this.zk.createRecursive(path, encodeEntityConfig(configs));
    else await this.zk.set(path, encodeEntityConfig(configs), version);
  }

  private configFailure(entity: string, err: unknown): ConfigOutcome {
    if (isZkError(err, 'BADVERSION') || isZkError(err, 'NODEEXISTS')) {
      return {
        errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
        errorMessage: 'The configs changed meanwhile; try again.',
      };
    }
    return this.fail(entity, err);
  }

  /**
   * Kafka's AdminZkClient.changeBrokerConfig: /config/brokers/<id> or /config/brokers/<default>, then a change
   * notification every broker's config listener applies. Answers once this broker has applied it (when it
   * concerns this broker), so a DescribeConfigs that follows sees the new values.
   */
  async alterBrokerConfigs(
    brokerId: number | null,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigOutcome> {
    const entity = brokerId === null ? DEFAULT_BROKER_ENTITY : String(brokerId);
    const path = zkPaths.entityConfig('brokers', entity);
    try {
      const current = await this.readEntityConfig(path);
      const plan = planBrokerConfigs(this.config, brokerId, current.configs, changes, incremental);
      if ('refused' in plan) return plan.refused;
      if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
      await this.writeEntityConfig(path, plan.configs, current.version);
      await this.zk.create(zkPaths.configChangePrefix, encodeConfigChange('brokers', entity), {
        mode: 'persistentSequential',
      });
      this.logger.info('dynamic broker configs altered', { entity, configs: redactSensitive(plan.configs) });
      const applied = (): boolean =>
        sameConfigs(
          brokerId === null ? this.config.dynamicDefaultConfigs() : this.config.dynamicBrokerConfigs(),
          plan.configs,
        );
      await this.waitFor(applied, BROKER_CONFIG_APPLY_WAIT_MS);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (err) {
      return this.configFailure(entity, err);
    }
  }

  /** /config/groups/<group> (percent-encoded); read by DescribeConfigs, no notification (nothing applies it yet). */
  async alterGroupConfigs(
    group: string,
    changes: ConfigChange[],
    incremental: boolean,
    validateOnly: boolean,
  ): Promise<ConfigOutcome> {
    const path = zkPaths.entityConfig('groups', groupEntityName(group));
    try {
      const current = await this.readEntityConfig(path);
      const plan = planGroupConfigs(this.config, current.configs, changes, incremental);
      if ('refused' in plan) return plan.refused;
      if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
      await this.writeEntityConfig(path, plan.configs, current.version);
      this.logger.info('group configs altered', { group, configs: plan.configs });
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (err) {
      return this.configFailure(group, err);
    }
  }

  async groupConfigs(group: string): Promise<Record<string, string>> {
    return (await this.readEntityConfig(zkPaths.entityConfig('groups', groupEntityName(group)))).configs;
  }

  async userConfigs(user: string): Promise<Record<string, string>> {
    return (await this.readEntityConfig(zkPaths.entityConfig('users', groupEntityName(user)))).configs;
  }

  async userNames(): Promise<string[]> {
    const children = (await this.zk.getChildren(zkPaths.configEntityType('users'))) ?? [];
    return children.map((c) => decodeURIComponent(c)).sort();
  }

  /** Kafka's changeUserOrUserClientIdConfig: /config/users/<user>, then a change notification for every broker. */
  async putUserConfigs(user: string, configs: Record<string, string>): Promise<void> {
    const entity = groupEntityName(user);
    const path = zkPaths.entityConfig('users', entity);
    const current = await this.readEntityConfig(path);
    await this.writeEntityConfig(path, configs, current.version);
    await this.zk.create(zkPaths.configChangePrefix, encodeConfigChange('users', entity), {
      mode: 'persistentSequential',
    });
    this.onUserConfigs?.(user, configs);
  }

  /**
   * Kafka's changeClientIdConfig / changeUserOrUserClientIdConfig: /config/<entity path> (a user's znode keeps its
   * other keys), then a change notification naming the entity path for every broker.
   */
  async putQuotaConfigs(path: string, quotas: Record<string, string>): Promise<void> {
    const znode = `/config/${path}`;
    const current = await this.readEntityConfig(znode);
    const configs: Record<string, string> = {};
    for (const [k, v] of Object.entries(current.configs)) if (!isQuotaKey(k)) configs[k] = v;
    Object.assign(configs, quotas);
    await this.writeEntityConfig(znode, configs, current.version);
    const slash = path.indexOf('/');
    await this.zk.create(
      zkPaths.configChangePrefix,
      encodeConfigChange(path.slice(0, slash), path.slice(slash + 1)),
      { mode: 'persistentSequential' },
    );
    this.onQuotaConfigs?.(path, configs);
  }

  /** Called after this broker changed a client quota entity (its quota cache follows at once). */
  onQuotaConfigs: ((path: string, configs: Readonly<Record<string, string>>) => void) | null = null;

  async updateAcls(pattern: ResourcePattern, update: (current: AclEntry[]) => AclEntry[]): Promise<void> {
    const next = await updateResourceAcls(this.zk, pattern, update);
    this.onAcls?.(pattern, next);
  }

  /** Called after this broker changed a resource's ACLs (its authorizer follows at once). */
  onAcls: ((pattern: ResourcePattern, entries: readonly AclEntry[]) => void) | null = null;

  /** Called after this broker changed a user's configs (its SCRAM credential cache follows at once). */
  onUserConfigs: ((user: string, configs: Readonly<Record<string, string>>) => void) | null = null;

  /** The children of /config/groups whose znode still holds a config (an override removed leaves {}). */
  async configuredGroups(): Promise<string[]> {
    const names = (await this.zk.getChildren(zkPaths.configEntityType('groups')).catch(() => null)) ?? [];
    const groups: string[] = [];
    for (const name of names) {
      const path = `${zkPaths.configEntityType('groups')}/${name}`;
      const { configs } = await this.readEntityConfig(path).catch(() => ({ configs: {} }));
      if (Object.keys(configs).length > 0) groups.push(decodeURIComponent(name));
    }
    return groups.sort();
  }

  async allocateProducerIds(count: number): Promise<number> {
    const block = await allocateProducerIdBlock(this.zk, {
      brokerId: this.brokerId,
      count,
      logger: this.logger,
    });
    return block.blockStart;
  }
}
