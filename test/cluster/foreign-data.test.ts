// A log dir with another broker's meta.properties (Kafka's) is refused before anything is written to it.

import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { MetadataStore } from '../../src/cluster/metadata-store.js';
import { ConfigError } from '../../src/config/config-error.js';
import { kafkaMetaProperties } from '../config/kafka4-server-properties.js';

describe('log dirs that hold another broker data', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'samsa-foreign-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a Kafka data dir, naming it and its cluster id, and leaves it as it was', () => {
    const kafka = path.join(root, 'kraft-combined-logs');
    mkdirSync(path.join(kafka, '__cluster_metadata-0'), { recursive: true });
    writeFileSync(path.join(kafka, 'meta.properties'), kafkaMetaProperties);
    const samsa = path.join(root, 'samsa');
    assert.throws(
      () => MetadataStore.open([samsa, kafka], 0, null),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'log.dirs' &&
        e.message.includes(`${kafka} holds another broker's data`) &&
        e.message.includes('cluster.id=MkU3OEVBNTcwNTJENDM2Qk'),
    );
    assert.equal(readFileSync(path.join(kafka, 'meta.properties'), 'utf8'), kafkaMetaProperties);
    assert.deepEqual(readdirSync(kafka).sort(), ['__cluster_metadata-0', 'meta.properties']);
    assert.ok(!existsSync(samsa), 'nothing created before the refusal');
  });

  it("opens Samsa's own dir again, and a new one", () => {
    const dir = path.join(root, 'own');
    const first = MetadataStore.open([dir], 0, null);
    const again = MetadataStore.open([dir], 0, null);
    assert.equal(again.clusterId, first.clusterId);
  });
});
