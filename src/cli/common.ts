// What every client command shares: Kafka's option names, argument parsing with node:util parseArgs,
// one-line failures with a non-zero exit status, and a progress line on stderr when it is a terminal.
//
// Exit status: 0 success, 1 the operation failed (the broker refused, the network failed), 2 bad usage.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { clientSecurity } from '../client/client-security.js';
import { Cluster, KafkaError } from '../client/cluster.js';
import type { ClientSecurity } from '../client/connection.js';
import { KafkaClientError } from '../client/connection.js';
import { readPropertiesFile } from '../config/broker-config.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

/** Bad command-line usage: exit status 2. */
export class UsageError extends Error {}

/** An operation that failed for a reason already phrased for the user: exit status 1. */
export class CommandError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every client command takes. */
export const commonOptions = {
  'bootstrap-server': { type: 'string', default: DEFAULT_BOOTSTRAP },
  'command-config': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const commonHelp = `  --bootstrap-server HOST:PORT[,HOST:PORT]   broker to connect to (default ${DEFAULT_BOOTSTRAP})
  --command-config FILE                      client properties: security.protocol, ssl.*, sasl.mechanism,
                                             sasl.jaas.config (docs/security.md)
  -h, --help                                 this help
  --version                                  print the version`;

/** parseArgs, with its errors turned into UsageError. */
export function parse<T extends Options>(args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    // Node's message goes on about positionals after `--`; the first sentence is what went wrong.
    const first = (e as Error).message.split('\n')[0] ?? String(e);
    throw new UsageError(first.replace(/\. To specify a positional argument.*$/, ''));
  }
}

/**
 * Runs a command body: failures print one line `samsa <name>: reason` on stderr and give exit status 1
 * (2 for usage errors, with a pointer to --help).
 */
export async function runCommand(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`samsa ${name}: ${e.message}\nRun 'samsa ${name} --help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`samsa ${name}: ${describeError(e)}\n`);
    return 1;
  }
}

export function describeError(e: unknown): string {
  if (e instanceof KafkaError || e instanceof KafkaClientError || e instanceof CommandError) {
    return e.message.split('\n')[0] ?? e.message;
  }
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return (code !== undefined ? `${code}: ` : '') + (e.message.split('\n')[0] ?? '');
  }
  return String(e);
}

export function printHelp(help: string): number {
  process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
  return 0;
}

/**
 * The security (TLS, SASL) of a Kafka client properties file given to option `--<option>`; undefined without a
 * file or for PLAINTEXT. Keys other than the security ones are ignored. A bad file is a CommandError naming it.
 */
export function commandConfigSecurity(
  file: string | undefined,
  option = 'command-config',
): ClientSecurity | undefined {
  if (file === undefined) return undefined;
  try {
    return clientSecurity(readPropertiesFile(file));
  } catch (err) {
    throw new CommandError(`--${option} ${file}: ${(err as Error).message}`);
  }
}

/** Connects to the cluster; `commandConfig` is a Kafka client properties file (TLS, SASL). */
export function connect(bootstrap: string, clientId: string, commandConfig?: string): Promise<Cluster> {
  const security = commandConfigSecurity(commandConfig);
  return Cluster.connect({ bootstrap, clientId, ...(security === undefined ? {} : { security }) });
}

/** An integer option; throws UsageError naming the option otherwise. */
export function intOption(
  name: string,
  value: string | undefined,
  min = Number.MIN_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name} must be an integer; got "${value}"`);
  const n = Number(value);
  if (n < min) throw new UsageError(`--${name} must be >= ${min}; got ${value}`);
  return n;
}

export function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * Parses Kafka's config lists: `k=v,k2=v2`, where a value holding commas is bracketed: `cleanup.policy=[compact,delete]`.
 * Repeated options are concatenated.
 */
export function parseConfigList(items: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const item of items) {
    let i = 0;
    while (i < item.length) {
      const eq = item.indexOf('=', i);
      if (eq < 0) throw new UsageError(`config "${item.slice(i)}" must look like key=value`);
      const key = item.slice(i, eq).trim();
      if (key === '') throw new UsageError(`config "${item}" has an empty key`);
      let value: string;
      if (item[eq + 1] === '[') {
        const close = item.indexOf(']', eq + 2);
        if (close < 0) throw new UsageError(`config ${key}: unclosed [`);
        value = item.slice(eq + 2, close);
        i = close + 1;
        if (i < item.length && item[i] !== ',') throw new UsageError(`config ${key}: expected , after ]`);
        i++;
      } else {
        const comma = item.indexOf(',', eq + 1);
        const end = comma < 0 ? item.length : comma;
        value = item.slice(eq + 1, end);
        i = end + 1;
      }
      out.push([key, value]);
    }
  }
  return out;
}

/** `--property k=v` pairs (Kafka's console tools). */
export function parseProperties(items: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of items ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--property "${p}" must look like key=value`);
    out.set(p.slice(0, eq).trim(), p.slice(eq + 1));
  }
  return out;
}

/** Interprets escapes in separators given on the command line (\t, \n, \\). */
export function unescapeSeparator(s: string): string {
  return s.replace(/\\([tnr\\])/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);
}

/** A status line on stderr, redrawn at most 10 times a second, only when stderr is a terminal. */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled = process.stderr.isTTY === true;

  update(text: () => string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    process.stderr.write(`\r${text()}\x1b[K`);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/** 32-hex topic id to Kafka's display form (URL-safe base64 without padding). */
export function displayTopicId(hex: string): string {
  if (!/^[0-9a-f]{32}$/.test(hex)) return hex;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** Writes to stdout, resolving when the data is handed off (respects back-pressure). */
export function writeOut(text: string): Promise<void> | void {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}
