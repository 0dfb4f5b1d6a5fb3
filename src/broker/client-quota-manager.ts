// Client quota enforcement, as Kafka's ClientQuotaManager: one rate per metric entity (user, client id: see
// ClientQuotaCache.quotaFor) over quota.window.num samples of quota.window.size.seconds, Kafka's Rate
// (SampledStat) arithmetic:
//   - a sample is complete once quota.window.size.seconds passed since it began; recording then starts the next
//     one (the oldest is reused); samples older than num * size are reset before measuring;
//   - rate = sum of the samples / elapsed, where elapsed = now - the oldest sample's start, at least (num - 1)
//     whole windows (so a fresh client is not judged on its first milliseconds);
//   - a value is recorded first, then checked: above the bound -> throttle time =
//     round((rate - bound) / bound * elapsed ms) (QuotaUtils.throttleTime): the time with nothing more recorded
//     after which the rate is back at the bound.
// Produce records request bytes, Fetch response bytes (unrecorded again when the fetch is throttled: its
// response goes out empty), the request quota thread time in percent (100 = one thread's whole second).
// KIP-219: the throttled response goes out at once carrying throttle_time_ms, then the connection is muted (no
// request read from it) for that long (RequestContext.throttle).

import * as limits from '../limits.js';
import { ApiKey } from '../protocol/generated/apis.js';
import type { FetchRequest } from '../protocol/generated/fetch-request.js';
import { type ClientQuotaCache, QuotaKey } from '../security/client-quotas.js';
import type { Handler, RequestContext } from './handler.js';

interface Sample {
  start: number;
  value: number;
}

/** Kafka's Rate over a SampledStat (WindowedSum), in units per second. */
export class QuotaRate {
  private readonly samples: Sample[] = [];
  private current = 0;
  lastRecordMs = 0;

  constructor(
    private readonly windowMs: number,
    private readonly numSamples: number,
  ) {}

  record(value: number, now: number): void {
    this.lastRecordMs = now;
    let s = this.samples[this.current];
    if (s === undefined) {
      s = { start: now, value: 0 };
      this.samples.push(s);
    } else if (now - s.start >= this.windowMs) {
      this.current = (this.current + 1) % this.numSamples;
      s = this.samples[this.current];
      if (s === undefined) {
        s = { start: now, value: 0 };
        this.samples.push(s);
      } else {
        s.start = now;
        s.value = 0;
      }
    }
    s.value += value;
  }

  private purge(now: number): void {
    const expire = this.numSamples * this.windowMs;
    for (const s of this.samples) {
      if (now - s.start >= expire) {
        s.start = now;
        s.value = 0;
      }
    }
  }

  /** The window the rate is measured over, in ms (Rate.windowSize). */
  windowSize(now: number): number {
    this.purge(now);
    let oldest = now;
    for (const s of this.samples) oldest = Math.min(oldest, s.start);
    let elapsed = now - oldest;
    const full = Math.floor(elapsed / this.windowMs);
    const minFull = this.numSamples - 1;
    if (full < minFull) elapsed += (minFull - full) * this.windowMs;
    return Math.max(elapsed, 1);
  }

  /** Units per second. */
  measure(now: number): number {
    const window = this.windowSize(now);
    let sum = 0;
    for (const s of this.samples) sum += s.value;
    return sum / (window / 1000);
  }
}

/**
 * Kafka's QuotaUtils.throttleTime for a rate just recorded into: 0 within the bound, else the time with nothing
 * more recorded after which the rate is back at the bound, round((rate - bound) / bound * window ms).
 */
export function throttleTimeMs(rate: QuotaRate, bound: number, now: number): number {
  const measured = rate.measure(now);
  if (measured <= bound) return 0;
  return Math.round(((measured - bound) / bound) * rate.windowSize(now));
}

export type QuotaType = 'Produce' | 'Fetch' | 'Request';

const keyOf: Record<QuotaType, string> = {
  Produce: QuotaKey.PRODUCER_BYTE_RATE,
  Fetch: QuotaKey.CONSUMER_BYTE_RATE,
  Request: QuotaKey.REQUEST_PERCENTAGE,
};

export interface QuotaWindow {
  numSamples: number;
  windowSeconds: number;
}

/** One quota type's sensors (Kafka has one ClientQuotaManager per type). */
export class ClientQuotaManager {
  private readonly rates = new Map<string, QuotaRate>();
  private enabledGeneration = -1;
  private lastExpireMs = 0;
  private enabled = false;
  /** Throttle time handed out and responses throttled since start (metrics). */
  throttleTimeMsTotal = 0;
  throttledResponses = 0;

  constructor(
    readonly type: QuotaType,
    private readonly quotas: ClientQuotaCache,
    private readonly window: QuotaWindow,
  ) {}

  private get key(): string {
    return keyOf[this.type];
  }

  /** True when some entity has this type's quota (otherwise nothing is recorded, as Kafka). */
  quotasEnabled(): boolean {
    if (this.enabledGeneration !== this.quotas.generation) {
      this.enabledGeneration = this.quotas.generation;
      this.enabled = this.quotas.anyWith(this.key);
    }
    return this.enabled;
  }

  private rateFor(sensorKey: string): QuotaRate {
    let r = this.rates.get(sensorKey);
    if (r === undefined) {
      if (this.rates.size >= limits.quotaSensorsMax) this.expire(Date.now(), true);
      r = new QuotaRate(this.window.windowSeconds * 1000, this.window.numSamples);
      this.rates.set(sensorKey, r);
    }
    return r;
  }

  /** Drops sensors idle for limits.quotaSensorIdleMs (Kafka: INACTIVE_SENSOR_EXPIRATION_TIME_SECONDS). */
  expire(now: number, force = false): void {
    for (const [k, r] of this.rates) {
      if (now - r.lastRecordMs >= limits.quotaSensorIdleMs || force) this.rates.delete(k);
      if (force && this.rates.size < limits.quotaSensorsMax / 2) break;
    }
  }

  /**
   * Records value for the principal's user and the client id and returns the throttle time in ms (0 within the
   * quota or without one).
   */
  recordAndGetThrottleTimeMs(principal: string, clientId: string | null, value: number, now: number): number {
    if (!this.quotasEnabled()) return 0;
    if (now - this.lastExpireMs >= limits.quotaSensorExpiryCheckMs) {
      this.lastExpireMs = now;
      this.expire(now);
    }
    const applied = this.quotas.quotaFor(this.key, userOf(principal), clientId ?? '');
    if (applied === null) return 0;
    const rate = this.rateFor(`${applied.user}\u0000${applied.clientId}`);
    rate.record(value, now);
    return Math.min(throttleTimeMs(rate, applied.bound, now), limits.quotaThrottleTimeMsMax);
  }

  /** Takes back a value recorded for a response that was not sent (a throttled fetch). */
  unrecord(principal: string, clientId: string | null, value: number, now: number): void {
    if (!this.quotasEnabled()) return;
    const applied = this.quotas.quotaFor(this.key, userOf(principal), clientId ?? '');
    if (applied === null) return;
    this.rateFor(`${applied.user}\u0000${applied.clientId}`).record(-value, now);
  }

  /** The most one response may carry without being throttled for sure (Kafka's maxValueInQuotaWindow). */
  maxValueInQuotaWindow(principal: string, clientId: string | null): number {
    if (!this.quotasEnabled()) return Number.MAX_VALUE;
    const applied = this.quotas.quotaFor(this.key, userOf(principal), clientId ?? '');
    if (applied === null) return Number.MAX_VALUE;
    return applied.bound * (this.window.numSamples - 1) * this.window.windowSeconds;
  }

  /** Counts a throttle handed out (metrics). */
  noteThrottle(ms: number): void {
    if (ms <= 0) return;
    this.throttledResponses++;
    this.throttleTimeMsTotal += ms;
  }
}

/** The user a principal's quotas are looked up by: the name after "User:" (ANONYMOUS on PLAINTEXT). */
export function userOf(principal: string): string {
  return principal.startsWith('User:') ? principal.slice(5) : principal;
}

/** The broker's three quota managers. */
export class QuotaManagers {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;

  constructor(cache: ClientQuotaCache, window: QuotaWindow) {
    this.produce = new ClientQuotaManager('Produce', cache, window);
    this.fetch = new ClientQuotaManager('Fetch', cache, window);
    this.request = new ClientQuotaManager('Request', cache, window);
  }

  expire(now: number): void {
    this.produce.expire(now);
    this.fetch.expire(now);
    this.request.expire(now);
  }
}

/** Thread time in ns as Kafka's request quota counts it: percent of one thread's second. */
export function nanosToPercentage(nanos: number): number {
  return (nanos * 100) / 1e9;
}

/** APIs the request quota leaves alone (Kafka's exempt ones: connection set-up and inter-broker requests). */
const requestQuotaExempt: ReadonlySet<number> = new Set([
  ApiKey.ApiVersions,
  ApiKey.SaslHandshake,
  ApiKey.SaslAuthenticate,
  ApiKey.LeaderAndIsr,
  ApiKey.StopReplica,
  ApiKey.UpdateMetadata,
  ApiKey.ControlledShutdown,
  ApiKey.WriteTxnMarkers,
  ApiKey.AlterPartition,
]);

function followerFetch(request: unknown, version: number): boolean {
  const r = request as FetchRequest;
  return (version >= 15 ? r.replicaState?.replicaId : r.replicaId) >= 0;
}

/**
 * The request quota (request_percentage): records the handler's time and, when over the quota, mutes the
 * connection and says so in the response's throttle_time_ms (the larger of this and a byte-rate throttle).
 */
export function requestQuotaThrottle(
  ctx: RequestContext,
  request: unknown,
  response: unknown,
  handlerMs: number,
): void {
  const manager = ctx.broker.quotas.request;
  if (response === null || !manager.quotasEnabled() || requestQuotaExempt.has(ctx.apiKey)) return;
  if (ctx.apiKey === ApiKey.Fetch && request !== null && followerFetch(request, ctx.apiVersion)) return;
  const ms = manager.recordAndGetThrottleTimeMs(
    ctx.session.principal,
    ctx.clientId,
    nanosToPercentage(handlerMs * 1e6),
    Date.now(),
  );
  if (ms <= 0) return;
  manager.noteThrottle(ms);
  ctx.throttle(ms);
  if (typeof response === 'object') {
    const r = response as { throttleTimeMs?: number };
    r.throttleTimeMs = Math.max(r.throttleTimeMs ?? 0, ms);
  }
}

/**
 * Produce under the producer_byte_rate quota: once the handler's answer is ready (Kafka records in the response
 * callback), the request's bytes are recorded; over the quota the answer carries throttle_time_ms and the
 * connection is muted for as long (acks=0 too, without an answer).
 */
export function withProduceQuota<Req, Res extends { throttleTimeMs?: number }>(
  h: Handler<Req, Res>,
): Handler<Req, Res> {
  const apply = (ctx: RequestContext, res: Res | null): Res | null => {
    const manager = ctx.broker.quotas.produce;
    if (!manager.quotasEnabled()) return res;
    const ms = manager.recordAndGetThrottleTimeMs(
      ctx.session.principal,
      ctx.clientId,
      ctx.requestBytes,
      Date.now(),
    );
    if (ms <= 0) return res;
    manager.noteThrottle(ms);
    ctx.throttle(ms);
    if (res !== null) res.throttleTimeMs = Math.max(res.throttleTimeMs ?? 0, ms);
    return res;
  };
  return {
    apiKey: h.apiKey,
    name: h.name,
    minVersion: h.minVersion,
    maxVersion: h.maxVersion,
    handle(ctx, req) {
      const result = h.handle(ctx, req);
      return result instanceof Promise ? result.then((r) => apply(ctx, r)) : apply(ctx, result);
    },
  };
}

/**
 * The first version of each API whose clients throttle themselves (KIP-219: "on quota violation, brokers send out
 * responses before throttling"; the schemas' notes, Produce v6 as Kafka's ProduceResponse.shouldClientThrottle).
 * Older requests over a quota get their response only once the throttle time has passed, as Kafka does.
 */
const clientThrottlesFrom: ReadonlyMap<number, number> = new Map([
  [ApiKey.Produce, 6],
  [ApiKey.Fetch, 8],
  [ApiKey.ListOffsets, 3],
  [ApiKey.Metadata, 6],
  [ApiKey.OffsetCommit, 4],
  [ApiKey.OffsetFetch, 4],
  [ApiKey.FindCoordinator, 2],
  [ApiKey.JoinGroup, 3],
  [ApiKey.Heartbeat, 2],
  [ApiKey.LeaveGroup, 2],
  [ApiKey.SyncGroup, 2],
  [ApiKey.DescribeGroups, 2],
  [ApiKey.ListGroups, 2],
  [ApiKey.ApiVersions, 2],
  [ApiKey.CreateTopics, 3],
  [ApiKey.DeleteTopics, 2],
  [ApiKey.DeleteRecords, 1],
  [ApiKey.InitProducerId, 1],
  [ApiKey.AddPartitionsToTxn, 1],
  [ApiKey.AddOffsetsToTxn, 1],
  [ApiKey.EndTxn, 1],
  [ApiKey.TxnOffsetCommit, 1],
  [ApiKey.DescribeAcls, 1],
  [ApiKey.CreateAcls, 1],
  [ApiKey.DeleteAcls, 1],
  [ApiKey.DescribeConfigs, 2],
  [ApiKey.AlterConfigs, 1],
  [ApiKey.DescribeLogDirs, 1],
  [ApiKey.CreatePartitions, 1],
  [ApiKey.DeleteGroups, 1],
]);

/** True when a throttled response of this request waits out the throttle before it is sent (pre-KIP-219). */
export function responseHeldWhileThrottled(apiKey: number, apiVersion: number): boolean {
  const from = clientThrottlesFrom.get(apiKey);
  return from !== undefined && apiVersion < from;
}
