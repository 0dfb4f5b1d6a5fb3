// Rate-limited warnings about client input. A client that repeats a bad request (a Metadata request for an
// invalid topic name, thousands of times a second) must not flood the log with one line per request.
//
// Warnings are grouped by (client host, client id, kind): the first of a group is logged as it comes; the
// repeats are counted, and once per interval (limits.clientWarningIntervalMs) each group that repeated gets one
// summary line: the same message with `suppressed` (how many were not logged) and the latest fields. A group
// that stayed quiet for a whole interval is forgotten, so its next warning is logged at once again. The host,
// not host:port, keys a group: a client reconnecting for every bad request is still one client. At most
// limits.clientWarningKeysMax groups are tracked (the client id is the client's to choose); warnings beyond
// are only counted, and reported in one line per interval.

import * as limits from '../limits.js';
import type { Logger } from '../logger.js';

/** Who a warning is about: a RequestContext fits. */
export interface WarningSource {
  readonly clientAddress: string;
  readonly clientId: string | null;
}

interface Group {
  readonly msg: string;
  readonly kind: string;
  readonly host: string;
  readonly clientId: string | null;
  /** Warnings of this group not logged since the last summary. */
  suppressed: number;
  fields: Record<string, unknown>;
}

/** The host part of host:port (IPv6 addresses contain colons; the port follows the last one). */
function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return i > 0 ? address.slice(0, i) : address;
}

export class ClientWarnings {
  private readonly groups = new Map<string, Group>();
  /** Warnings not tracked because groups was full, since the last summary. */
  private untracked = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number = limits.clientWarningIntervalMs,
    private readonly keysMax: number = limits.clientWarningKeysMax,
    /** The level of the lines (the authorizer's denials are info, as Kafka's authorizer log). */
    private readonly level: 'warn' | 'info' = 'warn',
  ) {}

  /** Logs msg (with the client's address and id and fields) unless its group already did in this interval. */
  warn(source: WarningSource, kind: string, msg: string, fields: Record<string, unknown> = {}): void {
    const host = hostOf(source.clientAddress);
    const key = `${kind}\u0000${host}\u0000${source.clientId ?? ''}`;
    const group = this.groups.get(key);
    if (group !== undefined) {
      group.suppressed++;
      group.fields = fields;
    } else if (this.groups.size >= this.keysMax) {
      this.untracked++;
    } else {
      this.groups.set(key, { msg, kind, host, clientId: source.clientId, suppressed: 0, fields });
      this.log[this.level](msg, { client: source.clientAddress, clientId: source.clientId, ...fields });
    }
    if (this.timer === null) {
      this.timer = setInterval(() => this.summarize(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Groups tracked now (for tests and metrics). */
  get trackedGroups(): number {
    return this.groups.size;
  }

  /**
   * One summary line per group that repeated since the last one; groups that did not are forgotten. Runs every
   * interval; close() runs it a last time.
   */
  summarize(): void {
    const seconds = this.intervalMs / 1000;
    for (const [key, g] of this.groups) {
      if (g.suppressed === 0) {
        this.groups.delete(key);
        continue;
      }
      this.log[this.level](`${g.msg} (${g.suppressed} more not logged, at most one line per ${seconds} s)`, {
        client: g.host,
        clientId: g.clientId,
        ...g.fields,
        suppressed: g.suppressed,
      });
      g.suppressed = 0;
    }
    if (this.untracked > 0) {
      this.log.warn('client warnings not logged: too many clients warned about at once', {
        suppressed: this.untracked,
        clientsTracked: this.keysMax,
      });
      this.untracked = 0;
    }
    if (this.groups.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Logs what is still counted and stops the timer (broker shutdown). */
  close(): void {
    this.summarize();
    this.groups.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
