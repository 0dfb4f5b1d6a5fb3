// The TLS rows of the bench (T*): the same workload over each broker's PLAINTEXT and SSL listeners, driven by the
// same client (Kafka's ProducerPerformance / ConsumerPerformance with security.protocol=SSL and a PEM trust store).
// Both brokers serve the same openssl-made certificate (a PEM key store: key + chain), made per run in the scratch
// directory. The summary pairs each `-plaintext` row with its `-ssl` row: the TLS cost (SSL/PLAINTEXT) per broker
// and Samsa/Kafka over each protocol.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTestPki } from '../../test/helpers/tls-certs.js';
import type { BrokerTls } from './brokers.js';
import { fmtNum, type Measurement, type Result } from './report.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL';

export interface BenchTls extends BrokerTls {
  /** A client properties file for security.protocol=SSL (ConsumerPerformance --consumer.config). */
  clientConfig: string;
  /** The same as key=value words (ProducerPerformance --producer-props). */
  clientProps: string[];
}

/** A CA and a broker certificate for 127.0.0.1 (openssl), and the client settings trusting the CA. */
export function makeBenchTls(workDir: string): BenchTls {
  const dir = path.join(workDir, 'tls');
  fs.mkdirSync(dir, { recursive: true });
  const pki = makeTestPki(dir);
  const clientProps = [
    'security.protocol=SSL',
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${pki.ca}`,
  ];
  const clientConfig = path.join(dir, 'client.properties');
  fs.writeFileSync(clientConfig, `${clientProps.join('\n')}\n`);
  return { keystore: pki.brokerKeystore, clientConfig, clientProps };
}

/** A T row's id: `T1k-plaintext`, `T1k-ssl` (`--only T` selects them all, `--only T1` one pair). */
export function tlsId(base: string, protocol: SecurityProtocol): string {
  return `${base}-${protocol.toLowerCase()}`;
}

export interface TlsCost {
  workload: string;
  broker: string;
  plaintext: Measurement;
  ssl: Measurement;
  /** rec/s of each run, [min, max]. */
  plaintextRange: [number, number];
  sslRange: [number, number];
  /** SSL rec/s / PLAINTEXT rec/s (< 1: what TLS costs). */
  sslOverPlaintext: number;
  /** Broker CPU seconds, SSL / PLAINTEXT (same record count: CPU per record). */
  cpuSslOverPlaintext: number;
}

const range = (ms: Measurement[]): [number, number] => {
  const v = ms.filter((m) => m.ok && m.recordsPerSec !== undefined).map((m) => m.recordsPerSec as number);
  return v.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...v), Math.max(...v)];
};

/** Pairs the `-plaintext` and `-ssl` results of each T workload, per broker. */
export function tlsCosts(results: Result<{ id: string }>[], brokers: string[]): TlsCost[] {
  const out: TlsCost[] = [];
  for (const p of results) {
    if (!p.workload.id.endsWith('-plaintext')) continue;
    const base = p.workload.id.slice(0, -'-plaintext'.length);
    const s = results.find((r) => r.workload.id === tlsId(base, 'SSL'));
    if (s === undefined) continue;
    for (const b of brokers) {
      const pm = p.median[b] ?? { ok: false };
      const sm = s.median[b] ?? { ok: false };
      out.push({
        workload: p.label.replace(p.workload.id, base).replace(' PLAINTEXT', ''),
        broker: b,
        plaintext: pm,
        ssl: sm,
        plaintextRange: range(p.runs[b] ?? []),
        sslRange: range(s.runs[b] ?? []),
        sslOverPlaintext: (sm.recordsPerSec ?? Number.NaN) / (pm.recordsPerSec ?? Number.NaN),
        cpuSslOverPlaintext: (sm.cpuSec ?? Number.NaN) / (pm.cpuSec ?? Number.NaN),
      });
    }
  }
  return out;
}

const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '');
const rate = (m: Measurement, r: [number, number]): string =>
  m.ok
    ? `${fmtNum(m.recordsPerSec, 0)} [${fmtNum(r[0], 0)}-${fmtNum(r[1], 0)}]`
    : `n/a (${m.error ?? 'not run'})`;

function rows(costs: TlsCost[]): string[][] {
  const header = [
    'workload',
    'broker',
    'PLAINTEXT rec/s [min-max]',
    'MB/s',
    'SSL rec/s [min-max]',
    'MB/s',
    'SSL/PLAINTEXT',
    'CPU s PT',
    'CPU s SSL',
  ];
  const out = [header];
  const workloads = [...new Set(costs.map((c) => c.workload))];
  for (const w of workloads) {
    const of = costs.filter((c) => c.workload === w);
    for (const [i, c] of of.entries()) {
      out.push([
        i === 0 ? w : '',
        c.broker === 'samsa' ? 'Samsa' : 'Kafka',
        rate(c.plaintext, c.plaintextRange),
        fmtNum(c.plaintext.mbPerSec, 1),
        rate(c.ssl, c.sslRange),
        fmtNum(c.ssl.mbPerSec, 1),
        x(c.sslOverPlaintext),
        fmtNum(c.plaintext.cpuSec, 1),
        fmtNum(c.ssl.cpuSec, 1),
      ]);
    }
    const s = of.find((c) => c.broker === 'samsa');
    const k = of.find((c) => c.broker === 'kafka');
    if (s !== undefined && k !== undefined) {
      const r = (a?: number, b?: number): string => x((a ?? Number.NaN) / (b ?? Number.NaN));
      out.push([
        '',
        'Samsa/Kafka',
        r(s.plaintext.recordsPerSec, k.plaintext.recordsPerSec),
        '',
        r(s.ssl.recordsPerSec, k.ssl.recordsPerSec),
        '',
        '',
        r(s.plaintext.cpuSec, k.plaintext.cpuSec),
        r(s.ssl.cpuSec, k.ssl.cpuSec),
      ]);
    }
  }
  return out;
}

export function tlsCostText(costs: TlsCost[]): string {
  const all = rows(costs);
  const widths = (all[0] as string[]).map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function tlsCostMarkdown(costs: TlsCost[]): string {
  const [header, ...body] = rows(costs);
  const h = header as string[];
  return [
    `| ${h.join(' | ')} |`,
    `|${h.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
