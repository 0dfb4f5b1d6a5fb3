// Time windows of the audit (`samsa audit`, docs/pipeline.md, "samsa audit"): parsing --window and --from/--to, and the
// window a timestamp falls in. Windows are aligned on the Unix epoch, so a window of a minute starts on the
// minute in UTC, an hour on the hour, a day at midnight UTC.

/** Units --window accepts, in ms. */
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10s", "1m", "5m", "1h", "1d", "250ms" -> ms; null when the text is not a positive duration. */
export function parseWindow(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) return null;
  const ms = Number(m[1]) * (unitMs[m[2] as string] as number);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

/** An ISO-8601 time ("2026-12-06T01:41:00Z") or epoch milliseconds -> epoch ms; null when it is neither. */
export function parseTime(text: string): number | null {
  const s = text.trim();
  if (/^-?\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : null;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

/** Start (epoch ms) of the window holding timestamp ts. */
export function windowStart(ts: number, windowMs: number): number {
  return Math.floor(ts / windowMs) * windowMs;
}

/** A window start as "2026-12-06T01:41:00Z" (milliseconds shown only when the window has them). */
export function formatWindow(start: number): string {
  const iso = new Date(start).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Counts per window start; the only state an audit keeps while it reads a log. */
export class WindowCounts {
  readonly counts = new Map<number, number>();

  constructor(readonly windowMs: number) {}

  add(ts: number, n = 1): void {
    const w = windowStart(ts, this.windowMs);
    this.counts.set(w, (this.counts.get(w) ?? 0) + n);
  }

  get(start: number): number {
    return this.counts.get(start) ?? 0;
  }

  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
}
