// `npm run bench:micro`: codec, CRC32C, partition-log append and read. Prints one table per area
// and writes bench/results/micro.json.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codecBenchmarks } from './codec.js';
import { crcBenchmarks } from './crc.js';
import { type MicroResult, report } from './harness.js';
import { storageBenchmarks } from './storage.js';

/** The repository: the nearest ancestor of this (compiled) file holding package.json. */
function repoRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'bench'))) return d;
    if (path.dirname(d) === d) return process.cwd();
  }
}
const root = repoRoot(path.dirname(fileURLToPath(import.meta.url)));
const only = process.argv[2];
const sections: [string, () => MicroResult[]][] = [
  ['codec', codecBenchmarks],
  ['crc32c', crcBenchmarks],
  ['storage', storageBenchmarks],
];
const results: Record<string, MicroResult[]> = {};
for (const [name, fn] of sections) {
  if (only !== undefined && only !== name) continue;
  results[name] = fn();
  process.stdout.write(`${report(name, results[name])}\n\n`);
}
const out = path.join(root, 'bench', 'results', 'micro.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadAvg: os.loadavg(), results }, null, 2)}\n`,
);
process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
