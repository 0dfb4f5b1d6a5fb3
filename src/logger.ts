// Structured logging on stderr, in one of two formats:
//   json  one object per line, for log collectors (the default, and what `samsa broker` writes when
//         stderr is not a terminal):
//         {"ts":"2026-11-25T17:00:00.000Z","level":"info","logger":"storage","msg":"segment rolled","topic":"t"}
//   text  one line for a person at a terminal:
//         2026-11-25T17:00:00.000Z INFO  storage: segment rolled topic=t
// Levels follow log4j's names so operators coming from Kafka read them without translation. The level
// starts from SAMSA_LOG_LEVEL (info when unset); `samsa broker` then applies log.level and log.format
// (src/cli/broker.ts). An invalid SAMSA_LOG_LEVEL is refused by the CLI before any command runs.

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';

export const logLevels: readonly Level[] = ['debug', 'info', 'warn', 'error'];
export const logFormats: readonly LogFormat[] = ['json', 'text'];
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The level named by s, or null when s is not one of logLevels. */
export function parseLogLevel(s: string): Level | null {
  return (logLevels as readonly string[]).includes(s) ? (s as Level) : null;
}

/**
 * The level SAMSA_LOG_LEVEL asks for (undefined when unset or empty); throws an Error naming the variable
 * and the accepted values when it is set to anything else.
 */
export function envLogLevel(env: NodeJS.ProcessEnv = process.env): Level | undefined {
  const v = env.SAMSA_LOG_LEVEL;
  if (v === undefined || v === '') return undefined;
  const level = parseLogLevel(v.trim().toLowerCase());
  if (level === null) {
    throw new Error(`SAMSA_LOG_LEVEL must be one of ${logLevels.join(', ')}; got "${v}"`);
  }
  return level;
}

function initialLevel(): Level {
  try {
    return envLogLevel() ?? 'info';
  } catch {
    return 'info'; // the CLI reports the bad value and exits; library users get the default
  }
}

let threshold: number = rank[initialLevel()];
let format: LogFormat = 'json';
let sink: (line: string) => void = (line) => process.stderr.write(line);

export function setLogLevel(level: Level): void {
  threshold = rank[level];
}

export function setLogFormat(f: LogFormat): void {
  format = f;
}

/**
 * Applies a process's logging settings: the level (null: SAMSA_LOG_LEVEL, else info) and the format
 * ('auto': text when stderr is a terminal, json otherwise).
 */
export function configureLogging(level: Level | null, f: LogFormat | 'auto'): void {
  setLogLevel(level ?? envLogLevel() ?? 'info');
  setLogFormat(f === 'auto' ? (process.stderr.isTTY === true ? 'text' : 'json') : f);
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

function fieldValue(v: unknown): unknown {
  return v instanceof Error ? v.message : typeof v === 'bigint' ? v.toString() : v;
}

/** A field value in the text format: bare when that cannot be misread, JSON otherwise. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return JSON.stringify(v) ?? String(v);
}

export function formatLine(
  f: LogFormat,
  ts: string,
  level: Level,
  name: string,
  msg: string,
  fields?: Record<string, unknown>,
): string {
  if (f === 'text') {
    let line = `${ts} ${level.toUpperCase().padEnd(5)} ${name}: ${msg}`;
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) line += ` ${k}=${textValue(fieldValue(v))}`;
    }
    return `${line}\n`;
  }
  const entry: Record<string, unknown> = { ts, level, logger: name, msg };
  if (fields !== undefined) {
    for (const [k, v] of Object.entries(fields)) entry[k] = fieldValue(v);
  }
  return `${JSON.stringify(entry)}\n`;
}

export function createLogger(name: string): Logger {
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (rank[level] < threshold) return;
    sink(formatLine(format, new Date().toISOString(), level, name, msg, fields));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${name}.${sub}`),
  };
}
