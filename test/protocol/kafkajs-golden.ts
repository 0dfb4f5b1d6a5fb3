// The kafkajs golden frames kept in test/protocol/golden-kafkajs/ (see its README): one JSON file per kafkajs
// fixtures directory, fixture name -> bytes in hex.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the test file');
    dir = parent;
  }
  return dir;
}

export const kafkajsGoldenDir = path.join(repoRoot(), 'test/protocol/golden-kafkajs');

/** The fixtures of one directory (a request's directory name such as 'produce', or 'recordBatch'). */
export function kafkajsFixtures(dir: string): Map<string, Buffer> {
  const json = JSON.parse(readFileSync(path.join(kafkajsGoldenDir, `${dir}.json`), 'utf8')) as Record<
    string,
    string
  >;
  return new Map(Object.entries(json).map(([name, hex]) => [name, Buffer.from(hex, 'hex')]));
}

/** One fixture, e.g. kafkajsFixture('produce', 'v3_request'). */
export function kafkajsFixture(dir: string, name: string): Buffer {
  const b = kafkajsFixtures(dir).get(name);
  if (b === undefined) throw new Error(`no kafkajs fixture ${dir}/${name}`);
  return b;
}

/** The request directories (every file but recordBatch.json), sorted. */
export function kafkajsRequestDirs(): string[] {
  return readdirSync(kafkajsGoldenDir)
    .filter((f) => f.endsWith('.json') && f !== 'recordBatch.json')
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}
