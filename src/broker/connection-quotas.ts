// Connection creation rate limits (KIP-612), as Kafka's ConnectionQuotas:
//   - max.connection.creation.rate (broker-wide, over every listener but the inter-broker one when there are
//     several) and listener.name.<l>.max.connection.creation.rate (one listener): each new connection is recorded
//     into the broker's and its listener's rate; over either bound, the listener's acceptor stops taking
//     connections for the throttle time (the larger of the two) and counts the throttle;
//   - the connection_creation_rate quota of an IP (client quotas, entity type ips, the <default> IP): a connection
//     over it is not served but closed once the throttle time has passed (Kafka's delayed close, so that the
//     client backs off), and unrecorded as Kafka does (a refused connection does not count).
// The rates are the client quotas' (client-quota-manager.ts: QuotaRate over quota.window.num samples of
// quota.window.size.seconds, QuotaUtils' throttle time), a throttle at most one window long as Kafka's
// (ConnectionQuotas.maxThrottleTimeMs = quota.window.size.seconds).

import * as limits from '../limits.js';
import type { ClientQuotaCache } from '../security/client-quotas.js';
import { QuotaRate, type QuotaWindow, throttleTimeMs } from './client-quota-manager.js';

/** Kafka's default for the rates: Integer.MAX_VALUE, no limit. */
export const CONNECTION_RATE_UNLIMITED = 2147483647;

/** The key of a listener's own limit. */
export function listenerConnectionRateKey(listenerName: string): string {
  return `listener.name.${listenerName.toLowerCase()}.max.connection.creation.rate`;
}

/** An IPv4 address as Kafka's InetAddress has it (a dual-stack socket reports ::ffff:a.b.c.d). */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export class ConnectionQuotas {
  private readonly brokerRate: QuotaRate;
  private readonly listenerRates = new Map<string, QuotaRate>();
  private readonly ipRates = new Map<string, QuotaRate>();
  private brokerBound = CONNECTION_RATE_UNLIMITED;
  private listenerBounds: ReadonlyMap<string, number> = new Map();
  private readonly maxThrottleMs: number;
  private lastExpireMs = 0;
  /** Throttles of acceptors (broker-wide or listener rate) and their time, since start (metrics). */
  acceptThrottles = 0;
  acceptThrottleMsTotal = 0;
  /** Connections closed after a delay for their IP's quota and the delays, since start (metrics). */
  ipThrottles = 0;
  ipThrottleMsTotal = 0;

  constructor(
    private readonly window: QuotaWindow,
    /** The inter-broker listener when there are several (exempt from the broker-wide rate), else null. */
    private readonly protectedListener: string | null,
  ) {
    this.brokerRate = this.newRate();
    this.maxThrottleMs = window.windowSeconds * 1000;
  }

  private newRate(): QuotaRate {
    return new QuotaRate(this.window.windowSeconds * 1000, this.window.numSamples);
  }

  /** max.connection.creation.rate and the listeners' own (listener name -> rate); dynamic. */
  setRates(brokerRate: number, listenerRates: ReadonlyMap<string, number>): void {
    this.brokerBound = brokerRate;
    this.listenerBounds = listenerRates;
  }

  /**
   * Records a connection the listener is about to take; returns how long (ms) its acceptor waits before taking
   * it and the next ones (0: at once).
   */
  recordAccept(listener: string, now: number): number {
    let ms = 0;
    if (listener !== this.protectedListener) {
      this.brokerRate.record(1, now);
      ms = throttleTimeMs(this.brokerRate, this.brokerBound, now);
    }
    let rate = this.listenerRates.get(listener);
    if (rate === undefined) {
      rate = this.newRate();
      this.listenerRates.set(listener, rate);
    }
    rate.record(1, now);
    const bound = this.listenerBounds.get(listener) ?? CONNECTION_RATE_UNLIMITED;
    ms = Math.min(Math.max(ms, throttleTimeMs(rate, bound, now)), this.maxThrottleMs);
    if (ms > 0) {
      this.acceptThrottles++;
      this.acceptThrottleMsTotal += ms;
    }
    return ms;
  }

  /**
   * Records a connection from ip against its connection_creation_rate quota; returns 0 within it (or without
   * one), else the throttle time after which the connection is to be closed (then it is not counted).
   */
  recordIp(quotas: ClientQuotaCache, ip: string, now: number): { throttleMs: number; quota: number } {
    const quota = quotas.connectionRateFor(ip);
    if (quota === null) return { throttleMs: 0, quota: CONNECTION_RATE_UNLIMITED };
    if (now - this.lastExpireMs >= limits.quotaSensorExpiryCheckMs) {
      this.lastExpireMs = now;
      this.expireIpRates(now, false);
    }
    let rate = this.ipRates.get(ip);
    if (rate === undefined) {
      if (this.ipRates.size >= limits.ipConnectionRateSensorsMax) this.expireIpRates(now, true);
      rate = this.newRate();
      this.ipRates.set(ip, rate);
    }
    rate.record(1, now);
    const ms = Math.min(throttleTimeMs(rate, quota, now), this.maxThrottleMs);
    if (ms > 0) {
      rate.record(-1, now);
      this.ipThrottles++;
      this.ipThrottleMsTotal += ms;
    }
    return { throttleMs: ms, quota };
  }

  /** Drops IP sensors idle for a whole measured window (all of them, oldest first, when forced). */
  private expireIpRates(now: number, force: boolean): void {
    const idleMs = this.window.numSamples * this.window.windowSeconds * 1000;
    for (const [ip, r] of this.ipRates) {
      if (force && this.ipRates.size < limits.ipConnectionRateSensorsMax / 2) break;
      if (force || now - r.lastRecordMs >= idleMs) this.ipRates.delete(ip);
    }
  }
}
