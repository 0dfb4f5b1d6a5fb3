// Structured logging: one JSON object per line on stderr, e.g.
// {"ts":"2026-11-25T17:00:00.000Z","level":"info","logger":"storage","msg":"segment rolled","topic":"t"}
// Levels follow log4j's names so operators coming from Kafka read them without translation.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = rank[(process.env.SAMSA_LOG_LEVEL as Level | undefined) ?? 'info'] ?? rank.info;
let sink: (line: string) => void = (line) => process.stderr.write(line);

export function setLogLevel(level: Level): void {
  threshold = rank[level];
}

/** Redirects log lines (tests capture them to assert that bad input is reported). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(name: string): Logger;
}

export function createLogger(name: string): Logger {
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (rank[level] < threshold) return;
    const entry: Record<string, unknown> = { ts: new Date().toISOString(), level, logger: name, msg };
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) {
        entry[k] = v instanceof Error ? v.message : typeof v === 'bigint' ? v.toString() : v;
      }
    }
    sink(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${name}.${sub}`),
  };
}
