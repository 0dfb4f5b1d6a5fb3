// A log dir that holds another broker's data is not Samsa's to use. Kafka 4's stock server.properties
// (which Samsa accepts) points log.dirs at /tmp/kraft-combined-logs, Kafka's own data: opening it would
// overwrite Kafka's meta.properties (its cluster.id and directory.id) and recover Kafka's partition
// folders as Samsa's. Samsa writes meta.properties with a "#Written by Samsa" first line, so a
// meta.properties without that line is another broker's and the broker refuses to start on it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../config/config-error.js';

export const SAMSA_META_MARKER = '#Written by Samsa';

/** Throws ConfigError('log.dirs', ...) naming the first log dir whose meta.properties Samsa did not write. */
export function refuseForeignDataDirs(logDirs: readonly string[]): void {
  for (const dir of logDirs) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, 'meta.properties'), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw e;
    }
    if (text.startsWith(SAMSA_META_MARKER)) continue;
    const clusterId = /^cluster\.id=(.*)$/m.exec(text)?.[1]?.trim();
    throw new ConfigError(
      'log.dirs',
      `${dir} holds another broker's data (its meta.properties was not written by Samsa` +
        `${clusterId !== undefined ? `; cluster.id=${clusterId}` : ''}); Samsa leaves it untouched: ` +
        'point log.dirs at an empty or Samsa directory',
    );
  }
}
