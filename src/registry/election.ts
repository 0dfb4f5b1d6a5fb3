// Leader election among registry processes, as Confluent Schema Registry does it with Kafka's group
// protocol (its SchemaRegistryCoordinator): every process joins the group `schema-registry` (Confluent's
// schema.registry.group.id) with protocol type "sr" and one protocol "v0" whose metadata is the process's
// identity as JSON:
//   {"version":1,"host":"127.0.0.1","port":8081,"master_eligibility":true,"scheme":"http"}
// The group leader (the member the coordinator picks to assign) chooses the registry leader: the eligible
// member with the smallest URL, and gives every member the same assignment:
//   {"version":1,"error":0,"master":"<member id>","master_identity":{...identity...}}
// A member that sees REBALANCE_IN_PROGRESS (or any error) on its heartbeat forgets the leader and rejoins;
// until the new assignment arrives there is no leader, and writes wait for one (registryForwardTimeoutMs).
//
// States: joining (no leader known) -> stable (leader known, heartbeating) -> joining ... -> closed.

import { Cluster, check } from '../client/cluster.js';
import type { ClientSecurity, KafkaConnection } from '../client/connection.js';
import { registryHeartbeatIntervalMs, registrySessionTimeoutMs } from '../limits.js';
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { FindCoordinatorResponse } from '../protocol/generated/find-coordinator-response.js';
import type { HeartbeatResponse } from '../protocol/generated/heartbeat-response.js';
import type { JoinGroupResponse } from '../protocol/generated/join-group-response.js';
import type { SyncGroupResponse } from '../protocol/generated/sync-group-response.js';

export interface Identity {
  host: string;
  port: number;
  scheme: string;
  eligible: boolean;
}

export const identityUrl = (i: Identity): string => `${i.scheme}://${i.host}:${i.port}`;

const PROTOCOL_TYPE = 'sr';
const PROTOCOL = 'v0';

function encodeIdentity(i: Identity): Record<string, unknown> {
  return { version: 1, host: i.host, port: i.port, master_eligibility: i.eligible, scheme: i.scheme };
}

function decodeIdentity(j: unknown): Identity | null {
  if (typeof j !== 'object' || j === null) return null;
  const o = j as Record<string, unknown>;
  if (typeof o.host !== 'string' || !Number.isInteger(o.port)) return null;
  return {
    host: o.host,
    port: o.port as number,
    scheme: typeof o.scheme === 'string' ? o.scheme : 'http',
    eligible: o.master_eligibility !== false,
  };
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return null;
  }
}

/** The assignment the group leader computes: the same for every member (Confluent's onLeaderElected). */
export function assignLeader(members: { memberId: string; metadata: Buffer }[]): Buffer {
  let leader: { memberId: string; identity: Identity } | null = null;
  const urls = new Set<string>();
  for (const m of members) {
    const identity = decodeIdentity(parseJson(m.metadata));
    if (identity === null) continue;
    urls.add(identityUrl(identity));
    if (identity.eligible && (leader === null || identityUrl(identity) < identityUrl(leader.identity))) {
      leader = { memberId: m.memberId, identity };
    }
  }
  const error = urls.size !== members.length ? 1 : 0; // Confluent's DUPLICATE_URLS
  return Buffer.from(
    JSON.stringify({
      version: 1,
      error,
      master: leader?.memberId ?? null,
      master_identity: leader === null ? null : encodeIdentity(leader.identity),
    }),
  );
}

export class LeaderElector {
  private cluster: Cluster | null = null;
  private coordinator: KafkaConnection | null = null;
  private memberId = '';
  private generationId = -1;
  private current: Identity | null = null;
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];
  private wake: (() => void) | null = null;
  private failing = false;

  constructor(
    private readonly bootstrap: string,
    private readonly groupId: string,
    readonly identity: Identity,
    private readonly log: Logger,
    private readonly security?: ClientSecurity,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** The registry leader of the current generation; null while (re)joining. */
  leader(): Identity | null {
    return this.current;
  }

  isLeader(): boolean {
    return this.current !== null && identityUrl(this.current) === identityUrl(this.identity);
  }

  /**
   * Resolves with the leader once one is known (and, with `not`, once it is another than that URL: after a
   * forward to it failed); null after timeoutMs.
   */
  async waitForLeader(timeoutMs: number, not?: string): Promise<Identity | null> {
    const deadline = Date.now() + timeoutMs;
    const wanted = () => this.current !== null && (not === undefined || identityUrl(this.current) !== not);
    while (!wanted() && this.running && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return wanted() ? this.current : null;
  }

  private setLeader(l: Identity | null): void {
    const before = this.current === null ? null : identityUrl(this.current);
    this.current = l;
    const after = l === null ? null : identityUrl(l);
    if (before !== after && after !== null) {
      this.log.info('registry leader elected', { leader: after, self: this.isLeader() });
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.cluster ??= await Cluster.connect({
          bootstrap: this.bootstrap,
          clientId: 'samsa-registry-election',
          ...(this.security === undefined ? {} : { security: this.security }),
        });
        this.coordinator ??= await this.findCoordinator(this.cluster);
        await this.join(this.coordinator);
        await this.heartbeatUntilRebalance(this.coordinator);
      } catch (e) {
        if (!this.running) return;
        // One warning per streak of failures (e.g. while the cluster is down), not one per retry.
        if (this.failing) this.log.debug('registry election: rejoining', { error: e });
        else this.log.warn('registry election: rejoining', { error: e });
        this.failing = true;
        this.setLeader(null);
        this.coordinator = null;
        this.cluster?.close();
        this.cluster = null;
        await this.pause(500);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async findCoordinator(cluster: Cluster): Promise<KafkaConnection> {
    const res = await cluster.request<FindCoordinatorResponse>(ApiKey.FindCoordinator, {
      key: this.groupId,
      keyType: 0,
      coordinatorKeys: [this.groupId],
    });
    const c = res.coordinators[0] ?? res;
    check(c.errorCode, c.errorMessage);
    await cluster.metadata([]);
    return cluster.connection(c.nodeId);
  }

  private async join(conn: KafkaConnection): Promise<void> {
    const metadata = Buffer.from(JSON.stringify(encodeIdentity(this.identity)));
    const body = () => ({
      groupId: this.groupId,
      sessionTimeoutMs: registrySessionTimeoutMs,
      rebalanceTimeoutMs: registrySessionTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: PROTOCOL_TYPE,
      protocols: [{ name: PROTOCOL, metadata }],
      reason: null,
    });
    let join = await conn.request<JoinGroupResponse>(ApiKey.JoinGroup, body());
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = join.memberId;
      join = await conn.request<JoinGroupResponse>(ApiKey.JoinGroup, body());
    }
    if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
    check(join.errorCode, `JoinGroup ${this.groupId}`);
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    const assignments =
      join.leader === join.memberId && !join.skipAssignment
        ? (() => {
            const a = assignLeader(join.members);
            return join.members.map((m) => ({ memberId: m.memberId, assignment: a }));
          })()
        : [];
    const sync = await conn.request<SyncGroupResponse>(ApiKey.SyncGroup, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: PROTOCOL_TYPE,
      protocolName: PROTOCOL,
      assignments,
    });
    check(sync.errorCode, `SyncGroup ${this.groupId}`);
    const a = parseJson(sync.assignment) as { error?: number; master_identity?: unknown } | null;
    const leader = decodeIdentity(a?.master_identity);
    if (a?.error === 1) {
      this.log.error(
        'registry election: several registries advertise the same URL; set --advertised-url',
        {},
      );
    }
    this.failing = false;
    this.setLeader(leader);
  }

  private async heartbeatUntilRebalance(conn: KafkaConnection): Promise<void> {
    while (this.running) {
      await this.pause(registryHeartbeatIntervalMs);
      if (!this.running) return;
      const res = await conn.request<HeartbeatResponse>(ApiKey.Heartbeat, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
      });
      if (res.errorCode === ErrorCode.NONE) continue;
      if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || res.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (res.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
      }
      if (
        res.errorCode === ErrorCode.NOT_COORDINATOR ||
        res.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE
      ) {
        this.coordinator = null;
      }
      this.setLeader(null);
      return;
    }
  }

  /** Leaves the group (the others elect a new leader at once) and closes the connection. */
  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    for (const w of this.waiters.splice(0)) w();
    this.current = null;
    if (this.coordinator !== null && this.memberId !== '') {
      await this.coordinator
        .request(ApiKey.LeaveGroup, {
          groupId: this.groupId,
          memberId: this.memberId,
          members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the registry is stopping' }],
        })
        .catch(() => {});
    }
    this.cluster?.close();
    await this.loop.catch(() => {});
  }
}
