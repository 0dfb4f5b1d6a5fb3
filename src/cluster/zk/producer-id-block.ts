// Producer ids for idempotent and transactional producers, handed out in blocks through ZooKeeper (Kafka's
// ZkProducerIdManager.getNewProducerIdBlock): read /latest_producer_id_block with its version, take the
// `count` ids after the block it names, and write that block back conditionally on the version read. A
// broker that loses the race (BADVERSION) reads again and takes the next block; so does one whose write
// was lost with its connection (it may have landed: then that block is skipped, never shared). Blocks
// never overlap, whatever the number of brokers asking at once.
//
// The znode: {"version":1,"broker":<id>,"block_start":"<first>","block_end":"<last>"} (zk-data.ts); a
// missing or empty znode means no block was handed out yet (the first block starts at 0).

import * as limits from '../../limits.js';
import type { Logger } from '../../logger.js';
import type { ZkClient } from './zk-client.js';
import { decodeProducerIdBlock, encodeProducerIdBlock, zkPaths } from './zk-data.js';
import { isZkError, ZkTimeoutError } from './zk-errors.js';

export interface ProducerIdBlockRequest {
  /** The broker asking (recorded in the znode). */
  brokerId: number;
  /** Ids in the block; default 1000 (Kafka's). */
  count?: number;
  /** Give up after this long; default 30 s. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface AllocatedBlock {
  /** First id of the block. */
  blockStart: number;
  /** Last id of the block (inclusive). */
  blockEnd: number;
}

/** Errors worth another read-compute-write round: a lost race, a lost connection, a vanished znode. */
function retriable(e: unknown): boolean {
  return (
    isZkError(e, 'BADVERSION') ||
    isZkError(e, 'NODEEXISTS') ||
    isZkError(e, 'NONODE') ||
    isZkError(e, 'CONNECTIONLOSS') ||
    isZkError(e, 'SESSIONEXPIRED')
  );
}

export async function allocateProducerIdBlock(
  zk: ZkClient,
  req: ProducerIdBlockRequest,
): Promise<AllocatedBlock> {
  const count = req.count ?? limits.producerIdBlockSize;
  if (!Number.isInteger(count) || count < 1 || count > 0x7fffffff) {
    throw new Error(`producer id block size must be in [1, 2147483647]; got ${count}`);
  }
  const path = zkPaths.latestProducerIdBlock;
  const timeoutMs = req.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    if (Date.now() > deadline) {
      throw new ZkTimeoutError('allocateProducerIdBlock', path, `no block after ${attempt - 1} attempts`);
    }
    try {
      const current = await zk.get(path);
      const blockStart =
        current === null || current.data.length === 0 ? 0 : decodeProducerIdBlock(current.data).blockEnd + 1;
      const blockEnd = blockStart + count - 1;
      if (!Number.isSafeInteger(blockEnd)) {
        throw new Error(`producer ids exhausted: the next block would end at ${blockEnd}, past 2^53`);
      }
      const data = encodeProducerIdBlock({ brokerId: req.brokerId, blockStart, blockEnd });
      if (current === null) await zk.create(path, data);
      else await zk.set(path, data, current.stat.version);
      req.logger?.info('acquired a producer id block', { blockStart, blockEnd, attempts: attempt });
      return { blockStart, blockEnd };
    } catch (e) {
      if (!retriable(e)) throw e;
      req.logger?.debug('producer id block race lost; retrying', { attempt, error: e });
    }
  }
}
