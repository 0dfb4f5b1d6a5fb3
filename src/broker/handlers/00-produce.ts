// Produce (key 0), v3-13 (v0-2 carry message format v0/v1, which Kafka 4 dropped too). v13 names topics by
// id (an unknown id: UNKNOWN_TOPIC_ID). A transactional write is first checked with the transaction coordinator
// (produce-txn.ts, KIP-890): v12+ under transaction version 2 adds the partition to the transaction, older
// versions verify it was added; the append waits for that in the partition's queue.
//
// Per partition: validate the batch from its header alone (one v2 batch, sane length, magic 2,
// CRC32C, size <= max.message.bytes, record count matching the offset delta), then append the
// bytes as received; the log sets only the broker-owned fields. No per-record work, with one
// exception: when the topic's compression.type names a codec other than the batch's, the batch is
// decompressed, its records checked and re-encoded with the topic's codec (new batchLength and CRC),
// as Kafka's LogValidator does. That path is asynchronous, so appends to a partition queue behind any
// recompression still running for it: the log sees batches in the order the requests arrived.
// Kafka's per-record checks (a key on a compacted topic, timestamps within message.timestamp.before/after.max.ms
// on a CreateTime topic) are decided from the header where they can be (record-errors.ts); when the records must
// be walked they are walked in place (record-scan.ts), after decompression for a compressed batch (which then
// takes the asynchronous path). A batch with bad records is refused whole, as Kafka does, with INVALID_RECORD or
// INVALID_TIMESTAMP, Kafka's message and record errors naming every bad record (KIP-467, Produce v8+).
// Appends go through the partition layer (src/cluster/partition.ts) as leader: acks=1 is answered once the
// leader's log has the batch; acks=all is refused with NOT_ENOUGH_REPLICAS before the append when the ISR
// is smaller than min.insync.replicas, and otherwise answered once the high watermark passes the batch
// (every ISR member has it), or with REQUEST_TIMED_OUT after the request's timeout_ms, or
// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync.replicas meanwhile, as in Kafka.
// acks=0 sends no response at all.

import { isInternalTopic } from '../../cluster/metadata-cache.js';
import type { Partition } from '../../cluster/partition.js';
import { topicConfigValue } from '../../config/topic-config.js';
import * as limits from '../../limits.js';
import { batchBody, recompressBatch } from '../../protocol/batch-compression.js';
import { codecFromName } from '../../protocol/compression.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { ProduceRequest } from '../../protocol/generated/produce-request.js';
import type { ProduceResponseInput } from '../../protocol/generated/produce-response.js';
import {
  BATCH_HEADER_BYTES,
  type BatchHeader,
  batchCrcValid,
  CONTROL_FLAG_MASK,
  LOG_OVERHEAD,
  readBatchHeader,
  TRANSACTIONAL_FLAG_MASK,
} from '../../protocol/records.js';
import { produceDenial } from '../../security/authorizer.js';
import type { Broker } from '../broker.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { gateKey, gateMessage, startTxnChecks, type TxnGates } from '../produce-txn.js';
import {
  checkRecords,
  type RecordChecks,
  type RecordError,
  type RecordRefusal,
  recordWalk,
} from '../record-errors.js';
import { type TimestampBounds, timestampBounds } from '../timestamp-bounds.js';

type PartitionOut = NonNullable<ProduceResponseInput['responses']>[number]['partitionResponses'] extends
  | (infer P)[]
  | undefined
  ? P
  : never;

function failure(
  index: number,
  errorCode: number,
  errorMessage: string | null,
  recordErrors: RecordError[] = [],
  logStartOffset = -1,
): PartitionOut {
  return {
    index,
    errorCode,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset,
    errorMessage,
    recordErrors,
  };
}

/** Checks the batch framing; returns an error code and message, or null when the bytes are acceptable. */
export function validateBatches(records: Buffer, maxMessageBytes: number): [number, string] | null {
  const r = checkBatch(records, maxMessageBytes);
  return Array.isArray(r) ? r : null;
}

/** validateBatches, returning the batch header when the bytes are acceptable (read once per batch). */
function checkBatch(records: Buffer, maxMessageBytes: number): BatchHeader | [number, string] {
  if (records.length < BATCH_HEADER_BYTES) {
    return [
      ErrorCode.CORRUPT_MESSAGE,
      `record data of ${records.length} bytes is shorter than a batch header`,
    ];
  }
  const h = readBatchHeader(records, 0);
  const total = LOG_OVERHEAD + h.batchLength;
  if (h.batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD || total > records.length) {
    return [
      ErrorCode.CORRUPT_MESSAGE,
      `batch length ${h.batchLength} does not fit the ${records.length} bytes sent`,
    ];
  }
  if (total < records.length) {
    return [ErrorCode.INVALID_RECORD, 'produce requests may carry exactly one record batch per partition'];
  }
  if (h.magic !== 2) {
    return [ErrorCode.INVALID_RECORD, `record batch magic ${h.magic} is not supported (only 2)`];
  }
  if (total > maxMessageBytes) {
    return [
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${total} bytes exceeds max.message.bytes ${maxMessageBytes}`,
    ];
  }
  if (!batchCrcValid(records, 0, h.batchLength)) {
    return [ErrorCode.CORRUPT_MESSAGE, 'record batch CRC32C does not match its contents'];
  }
  if ((h.attributes & 0x07) > 4) {
    return [ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression codec ${h.attributes & 0x07}`];
  }
  if (h.recordCount <= 0 || h.lastOffsetDelta !== h.recordCount - 1) {
    return [
      ErrorCode.INVALID_RECORD,
      `record count ${h.recordCount} does not match last offset delta ${h.lastOffsetDelta}`,
    ];
  }
  return h;
}

/**
 * Kafka's checks of a batch's transactional bits: control batches are the coordinators' (INVALID_RECORD); a
 * transactional batch needs a transactional id on the request (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as
 * Kafka answers when it is missing) and a producer id (INVALID_RECORD). The log opens the transaction.
 */
function transactionProblem(h: BatchHeader, transactionalId: string | null): [number, string] | null {
  if ((h.attributes & CONTROL_FLAG_MASK) !== 0)
    return [ErrorCode.INVALID_RECORD, 'Clients are not allowed to write control records'];
  if ((h.attributes & TRANSACTIONAL_FLAG_MASK) === 0) return null;
  if (transactionalId === null)
    return [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional records need a transactional id'];
  if (h.producerId < 0)
    return [ErrorCode.INVALID_RECORD, 'Transactional records need a producer id (InitProducerId)'];
  return null;
}

/** The topic-level settings a produce needs, resolved once per topic per request. */
interface TopicSettings {
  topic: string;
  maxMessageBytes: number;
  minInsyncReplicas: number;
  /** The topic's compression.type as a codec, -1 for 'producer'. */
  codec: number;
  /** cleanup.policy includes compact: every record needs a key. */
  compacted: boolean;
  /** message.timestamp.before/after.max.ms of a CreateTime topic; null for LogAppendTime (not checked). */
  timestampBounds: TimestampBounds | null;
}

function rejected(
  ctx: RequestContext,
  broker: Broker,
  topicName: string,
  index: number,
  [errorCode, error]: [number, string],
): PartitionOut {
  broker.log.warn('produce rejected', {
    client: ctx.clientAddress,
    clientId: ctx.clientId,
    topic: topicName,
    partition: index,
    error,
    errorCode,
  });
  return failure(index, errorCode, error);
}

function topicSettings(broker: Broker, topic: string): TopicSettings {
  const configs = broker.topicConfig(topic);
  const compressionType = topicConfigValue(broker.config, configs, 'compression.type');
  return {
    topic,
    maxMessageBytes: Number(topicConfigValue(broker.config, configs, 'max.message.bytes')),
    minInsyncReplicas: Number(topicConfigValue(broker.config, configs, 'min.insync.replicas')),
    codec: compressionType === 'producer' ? -1 : codecFromName(compressionType),
    compacted: topicConfigValue(broker.config, configs, 'cleanup.policy').includes('compact'),
    timestampBounds:
      topicConfigValue(broker.config, configs, 'message.timestamp.type') === 'LogAppendTime'
        ? null
        : timestampBounds(
            topicConfigValue(broker.config, configs, 'message.timestamp.before.max.ms'),
            topicConfigValue(broker.config, configs, 'message.timestamp.after.max.ms'),
          ),
  };
}

/** How one produce request waits for its acks=all partitions: the request's timeout_ms. */
interface Acks {
  acks: number;
  timeoutMs: number;
}

/**
 * Walks the records of a batch (decompressing a compressed one) for Kafka's per-record checks: null when they
 * pass, else the partition's refusal, logged. Records that do not decode give CORRUPT_MESSAGE.
 */
async function recordRefusal(
  ctx: RequestContext,
  broker: Broker,
  partition: Partition,
  topicName: string,
  records: Buffer,
  h: BatchHeader,
  now: number,
  checks: RecordChecks,
  refuse: boolean,
): Promise<PartitionOut | null> {
  let body: Buffer;
  try {
    body = await batchBody(records, limits.recompressBatchBytesMax);
  } catch (e) {
    return rejected(ctx, broker, topicName, partition.index, [
      ErrorCode.CORRUPT_MESSAGE,
      `Record batch could not be decompressed: ${(e as Error).message}`,
    ]);
  }
  return checkedRecords(ctx, broker, partition, topicName, body, h, now, checks, refuse);
}

/** checkRecords on an uncompressed body, answered as the partition's response (null when the records pass). */
function checkedRecords(
  ctx: RequestContext,
  broker: Broker,
  partition: Partition,
  topicName: string,
  body: Buffer,
  h: BatchHeader,
  now: number,
  checks: RecordChecks,
  refuse: boolean,
): PartitionOut | null {
  let r: RecordRefusal | null;
  try {
    r = checkRecords(body, h, now, checks, refuse);
  } catch (e) {
    return rejected(ctx, broker, topicName, partition.index, [
      ErrorCode.CORRUPT_MESSAGE,
      `Record batch does not decode: ${(e as Error).message}`,
    ]);
  }
  if (r === null) return null;
  broker.log.warn('produce rejected', {
    client: ctx.clientAddress,
    clientId: ctx.clientId,
    topic: topicName,
    partition: partition.index,
    error: r.errorMessage,
    errorCode: r.errorCode,
    recordErrors: r.recordErrors.length,
    firstRecordError: r.recordErrors[0]?.batchIndexErrorMessage,
  });
  // Kafka answers a RecordValidationException with the partition's log start offset.
  return failure(partition.index, r.errorCode, r.errorMessage, r.recordErrors, partition.log.logStartOffset);
}

/** Recompressions (and the appends queued behind them) still running, per partition. */
const appendQueues = new WeakMap<Partition, Promise<unknown>>();

function appendNow(
  ctx: RequestContext,
  broker: Broker,
  partition: Partition,
  topicName: string,
  records: Buffer,
  now: number,
  acks: Acks,
  minInsyncReplicas: number,
  h: BatchHeader = readBatchHeader(records, 0),
): PartitionOut | Promise<PartitionOut> {
  const index = partition.index;
  const res = partition.appendAsLeader(records, acks.acks, minInsyncReplicas, now);
  if (res.errorCode !== ErrorCode.NONE) {
    // A storage error was logged once by the log when it happened (a full disk, an offline dir): not per request,
    // which on a full disk would only add to what fills it.
    const level = res.errorCode === ErrorCode.KAFKA_STORAGE_ERROR ? 'debug' : 'warn';
    broker.log[level]('produce rejected by the log', {
      client: ctx.clientAddress,
      clientId: ctx.clientId,
      topic: topicName,
      partition: index,
      errorCode: res.errorCode,
      error: res.errorMessage,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
    });
    return failure(index, res.errorCode, res.errorMessage);
  }
  if (!res.duplicate) {
    broker.metrics.topicIn(topicName, records.length, h.recordCount);
    broker.auditCounters?.onAppend(topicName, index, records);
  }
  const ok: PartitionOut = {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset: res.baseOffset,
    logAppendTimeMs: res.logAppendTime,
    logStartOffset: partition.log.logStartOffset,
    errorMessage: null,
  };
  if (acks.acks !== -1 || partition.highWatermark > res.lastOffset) return ok;
  return partition
    .waitForHighWatermark(res.lastOffset, minInsyncReplicas, acks.timeoutMs)
    .then((errorCode) => (errorCode === ErrorCode.NONE ? ok : failure(index, errorCode, null)));
}

/** Recompresses for the topic's codec, then appends (unless the partition went away meanwhile). */
async function recompressAndAppend(
  ctx: RequestContext,
  broker: Broker,
  partition: Partition,
  topicName: string,
  records: Buffer,
  codec: number,
  maxMessageBytes: number,
  checks: RecordChecks | null,
  now: number,
  acks: Acks,
  minInsyncReplicas: number,
): Promise<PartitionOut> {
  const index = partition.index;
  if (checks !== null) {
    const h = readBatchHeader(records, 0);
    const refused = await recordRefusal(ctx, broker, partition, topicName, records, h, now, checks, false);
    if (refused !== null) return refused;
  }
  let batch: Buffer;
  try {
    batch = await recompressBatch(records, codec, limits.recompressBatchBytesMax);
  } catch (e) {
    broker.log.warn('produce rejected: batch could not be recompressed', {
      client: ctx.clientAddress,
      clientId: ctx.clientId,
      topic: topicName,
      partition: index,
      error: (e as Error).message,
    });
    return failure(
      index,
      ErrorCode.CORRUPT_MESSAGE,
      `Record batch could not be recompressed: ${(e as Error).message}`,
    );
  }
  if (broker.replicas.partition(topicName, index) !== partition || !partition.isLeader) {
    return failure(index, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'This broker no longer leads the partition.');
  }
  if (batch.length > maxMessageBytes) {
    return failure(
      index,
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${batch.length} bytes after recompression exceeds max.message.bytes ${maxMessageBytes}`,
    );
  }
  if (batch !== records) broker.metrics.recompressed(topicName);
  return appendNow(ctx, broker, partition, topicName, batch, Date.now(), acks, minInsyncReplicas);
}

function produceToPartition(
  ctx: RequestContext,
  broker: Broker,
  topicName: string,
  settings: TopicSettings | undefined,
  index: number,
  records: Buffer | null,
  transactionalId: string | null,
  acks: Acks,
  now: number,
  gate: Promise<number> | undefined,
): PartitionOut | Promise<PartitionOut> {
  const partition = broker.replicas.leaderFor(topicName, index);
  if (typeof partition === 'number' || settings === undefined) {
    const code = typeof partition === 'number' ? partition : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return failure(
      index,
      code,
      code === ErrorCode.NOT_LEADER_OR_FOLLOWER
        ? 'This broker is not the leader of the partition.'
        : 'This server does not host this topic-partition.',
    );
  }
  if (isInternalTopic(topicName)) {
    return failure(index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topicName}`);
  }
  if (records === null || records.length === 0) {
    return failure(index, ErrorCode.INVALID_RECORD, 'Produce request must contain at least one record batch');
  }
  const maxMessageBytes = settings.maxMessageBytes;
  const checked = checkBatch(records, maxMessageBytes);
  if (Array.isArray(checked)) {
    const problem = checked;
    broker.log.warn('produce rejected', {
      client: ctx.clientAddress,
      clientId: ctx.clientId,
      topic: topicName,
      partition: index,
      error: problem[1],
      errorCode: problem[0],
    });
    return failure(index, problem[0], problem[1]);
  }
  const h = checked;
  const problem = transactionProblem(h, transactionalId);
  if (problem !== null) return rejected(ctx, broker, topicName, index, problem);
  const codec = settings.codec;
  const batchCodec = h.attributes & 0x07;
  const checks: RecordChecks = {
    topicPartition: `${topicName}-${index}`,
    compacted: settings.compacted,
    bounds: settings.timestampBounds,
    partialRecords: batchCodec !== 0 && (codec === -1 || codec === batchCodec),
  };
  const walk = recordWalk(h, checks, now);
  const refuse = walk === 'refuse';
  // A batch refused from its header alone: the records are walked only to name the bad ones (nothing is appended,
  // so no need to queue); checkRecords refuses it even if they all pass.
  if (refuse && batchCodec !== 0) {
    return recordRefusal(ctx, broker, partition, topicName, records, h, now, checks, true).then(
      (r) => r ?? failure(index, ErrorCode.UNKNOWN_SERVER_ERROR, null),
    );
  }
  if (refuse || (walk === 'check' && batchCodec === 0)) {
    const body = records.subarray(BATCH_HEADER_BYTES);
    const refused = checkedRecords(ctx, broker, partition, topicName, body, h, now, checks, refuse);
    if (refused !== null) return refused;
    if (refuse) return failure(index, ErrorCode.UNKNOWN_SERVER_ERROR, null);
  }
  const queued = appendQueues.get(partition);
  const checkCompressed = walk === 'check' && batchCodec !== 0;
  if (
    gate === undefined &&
    queued === undefined &&
    !checkCompressed &&
    (codec === -1 || codec === batchCodec)
  ) {
    return appendNow(ctx, broker, partition, topicName, records, now, acks, settings.minInsyncReplicas, h);
  }
  // Recompress (or wait behind a recompression already running for this partition), keeping arrival order.
  const target = codec === -1 ? h.attributes & 0x07 : codec;
  const run = (queued ?? Promise.resolve()).then(async () => {
    const code = gate === undefined ? ErrorCode.NONE : await gate;
    if (code !== ErrorCode.NONE) {
      broker.log[code === ErrorCode.NOT_ENOUGH_REPLICAS ? 'debug' : 'warn'](
        'transactional produce refused by the transaction coordinator',
        {
          client: ctx.clientAddress,
          clientId: ctx.clientId,
          transactionalId,
          topic: topicName,
          partition: index,
          producerId: h.producerId,
          producerEpoch: h.producerEpoch,
          errorCode: code,
        },
      );
      return failure(index, code, gateMessage(code));
    }
    return recompressAndAppend(
      ctx,
      broker,
      partition,
      topicName,
      records,
      target,
      maxMessageBytes,
      checkCompressed ? checks : null,
      now,
      acks,
      settings.minInsyncReplicas,
    );
  });
  appendQueues.set(partition, run);
  void run.finally(() => {
    if (appendQueues.get(partition) === run) appendQueues.delete(partition);
  });
  return run;
}

/** A topic of the request: v13 names it by id (null name: an unknown id). */
interface RequestTopic {
  name: string | null;
  /** The response's key: the name (v3-12) or the id (v13). */
  key: { name: string } | { topicId: string };
  partitionData: ProduceRequest['topicData'][number]['partitionData'];
}

function requestTopics(broker: Broker, req: ProduceRequest, version: number): RequestTopic[] {
  return req.topicData.map((t) =>
    version >= 13
      ? {
          name: broker.metadataCache.topicById(t.topicId)?.name ?? null,
          key: { topicId: t.topicId },
          partitionData: t.partitionData,
        }
      : { name: t.name, key: { name: t.name }, partitionData: t.partitionData },
  );
}

export const produce = defineHandler<ProduceRequest, ProduceResponseInput>({
  apiKey: ApiKey.Produce,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 13,
  handle(ctx, req) {
    const broker = ctx.broker;
    const now = Date.now();
    const topics = requestTopics(broker, req, ctx.apiVersion);
    if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
      return {
        responses: topics.map((t) => ({
          ...t.key,
          partitionResponses: t.partitionData.map((p) =>
            failure(p.index, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1; got ${req.acks}`),
          ),
        })),
        throttleTimeMs: 0,
      };
    }
    const gates: TxnGates | null = startTxnChecks(
      broker,
      ctx.apiVersion,
      req.transactionalId,
      topics.flatMap((t) =>
        t.name === null
          ? []
          : t.partitionData.map((p) => ({ topic: t.name as string, index: p.index, records: p.records })),
      ),
    );
    const waits: Promise<void>[] = [];
    const acksOf: Acks = { acks: req.acks, timeoutMs: Math.max(0, req.timeoutMs) };
    const responses = topics.map((t) => {
      const name = t.name;
      if (name === null) {
        return {
          ...t.key,
          partitionResponses: t.partitionData.map((p) =>
            failure(p.index, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.'),
          ),
        };
      }
      const partitionResponses: PartitionOut[] = [];
      const settings =
        broker.metadataCache.topic(name) === undefined ? undefined : topicSettings(broker, name);
      const denied = produceDenial(ctx, req.transactionalId, name);
      t.partitionData.forEach((p, i) => {
        if (denied !== 0) {
          partitionResponses.push(failure(p.index, denied, null));
          return;
        }
        const out = produceToPartition(
          ctx,
          broker,
          name,
          settings,
          p.index,
          p.records,
          req.transactionalId,
          acksOf,
          now,
          gates?.get(gateKey(name, p.index)),
        );
        if (out instanceof Promise) {
          partitionResponses.push(failure(p.index, ErrorCode.UNKNOWN_SERVER_ERROR, null));
          waits.push(
            out.then((o) => {
              partitionResponses[i] = o;
            }),
          );
        } else {
          partitionResponses.push(out);
        }
      });
      return { ...t.key, partitionResponses };
    });
    if (waits.length > 0) {
      return Promise.all(waits).then(() => (req.acks === 0 ? null : { responses, throttleTimeMs: 0 }));
    }
    if (req.acks === 0) return null;
    return { responses, throttleTimeMs: 0 };
  },
});
