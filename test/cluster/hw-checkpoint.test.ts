// The periodic high-watermark checkpoint (replication-offset-checkpoint), written in the background
// (src/cluster/replica-manager.ts): it follows the high watermark while the broker runs, leaves no temporary
// file behind, and the final one at shutdown still holds the last high watermark.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopic } from '../../src/client/perf/cluster.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/generated/apis.js';
import type { ProduceResponse } from '../../src/protocol/generated/produce-response.js';
import { encodeRecordBatch } from '../../src/protocol/records.js';
import { type InProcessBroker, startInProcess } from '../helpers/in-process.js';

const FILE = 'replication-offset-checkpoint';

function checkpointed(dataDir: string, topic: string): number | undefined {
  const file = path.join(dataDir, FILE);
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${topic} 0 `));
  return line === undefined ? undefined : Number(line.split(' ')[2]);
}

async function waitForCheckpoint(dataDir: string, topic: string, hw: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (checkpointed(dataDir, topic) !== hw) {
    if (Date.now() > deadline) {
      throw new Error(`the checkpoint says ${checkpointed(dataDir, topic)} for ${topic}-0, expected ${hw}`);
    }
    await sleep(20);
  }
}

describe('high-watermark checkpoint', () => {
  let b: InProcessBroker;
  before(async () => {
    b = await startInProcess({ 'replica.high.watermark.checkpoint.interval.ms': '100' });
  });
  after(async () => {
    await b.stop(true);
  });

  it('follows the high watermark in the background and leaves no temporary file', async () => {
    const conn = await b.connect();
    try {
      await createTopic(conn, 'hw', 1);
      for (let i = 1; i <= 3; i++) {
        const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [
            {
              name: 'hw',
              partitionData: [{ index: 0, records: encodeRecordBatch({ records: [{ value: `v${i}` }] }) }],
            },
          ],
        });
        assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE);
        await waitForCheckpoint(b.dataDir, 'hw', i);
      }
    } finally {
      conn.close();
    }
    // A write in progress has its temporary file (every 100 ms here); none may stay behind: the listing must
    // come back to the checkpoint alone.
    const listing = () => readdirSync(b.dataDir).filter((f) => f.startsWith(FILE));
    const deadline = Date.now() + 5_000;
    let files = listing();
    while (files.length !== 1 && Date.now() < deadline) {
      await sleep(5);
      files = listing();
    }
    assert.deepEqual(files, [FILE]);
  });

  it('writes the last high watermark at shutdown', async () => {
    const conn = await b.connect();
    try {
      await createTopic(conn, 'hw-stop', 1);
      const res = await conn.request<ProduceResponse>(ApiKey.Produce, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 10_000,
        topicData: [
          {
            name: 'hw-stop',
            partitionData: [
              { index: 0, records: encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b' }] }) },
            ],
          },
        ],
      });
      assert.equal(res.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE);
    } finally {
      conn.close();
    }
    await b.broker.stop();
    assert.equal(checkpointed(b.dataDir, 'hw-stop'), 2);
    b = await b.restart();
  });
});
