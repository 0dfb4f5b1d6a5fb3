// Fetch (key 1), v4-18. Serves whole record batches straight from the segment files: no decoding,
// the bytes go into the response by reference (Writer.external). Long poll: when fewer than
// min_bytes are available the request parks on its partitions and is woken by the next append
// (never by polling), or answered at max_wait_ms. max_bytes and partition_max_bytes are honoured,
// except that the first partition with data returns at least one whole batch (KIP-74).
// Fetch sessions (KIP-227, v7+): fetch-session.ts keeps them; an incremental fetch reads every partition of
// its session, waits like any other, and answers only the partitions with something new. v13+ names topics by
// id. v18 (KIP-1166): a follower sends the high watermark it knows, and is answered at once (not parked) when
// this leader's is ahead, so that followers learn a new high watermark without waiting for the next append.
// Transactions: every partition reports its last stable offset; consumers with isolation_level=1
// (read_committed) read up to it and get the aborted transactions overlapping the batches returned;
// followers (replica id >= 0) read to the log end.

import type { Partition } from '../../cluster/partition.js';
import * as limits from '../../limits.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiKey } from '../../protocol/generated/apis.js';
import type { FetchRequest } from '../../protocol/generated/fetch-request.js';
import type { FetchResponseInput } from '../../protocol/generated/fetch-response.js';
import { readInt64 } from '../../protocol/records.js';
import { fetchDenials } from '../../security/authorizer.js';
import { releaseReadBuffers } from '../../storage/read-buffers.js';
import type { Broker } from '../broker.js';
import {
  type CachedPartition,
  type FetchContext,
  type FetchParams,
  type FetchPartitionKey,
  INVALID_SESSION_ID,
  type PartitionAnswer,
} from '../fetch-session.js';
import { defineHandler, type RequestContext } from '../handler.js';

type TopicOut = NonNullable<FetchResponseInput['responses']>[number];
type PartitionOut = NonNullable<TopicOut['partitions']>[number];

const EMPTY = Buffer.alloc(0);
const ZERO_UUID = '0'.repeat(32);
const READ_COMMITTED = 1;

/** Leader-epoch fencing shared by Fetch, ListOffsets and OffsetForLeaderEpoch. */
export function checkLeaderEpoch(partition: Partition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === partition.leaderEpoch) return ErrorCode.NONE;
  return currentLeaderEpoch > partition.leaderEpoch
    ? ErrorCode.UNKNOWN_LEADER_EPOCH
    : ErrorCode.FENCED_LEADER_EPOCH;
}

/** One partition to read: from the request, or from the session of an incremental fetch. */
interface FetchItem extends FetchPartitionKey {
  params: FetchParams;
}

interface ReadPass {
  /** One answer per item, in item order. */
  outs: PartitionOut[];
  bytes: number;
  partitions: Partition[];
  anyError: boolean;
  /** A v18 follower knows an older high watermark than this leader's (KIP-1166): answer without waiting. */
  hwNews: boolean;
  /** Record data per topic name, for the bytes/records-out metrics of the pass that is answered. */
  sent: { topic: string; records: Buffer }[];
  /** Read buffers the response refers to: recycled once it is written (releaseReadBuffers). */
  reads: Buffer[];
}

/** Offset after the last whole batch of records (header fields only), -1 when there is none. */
function nextOffsetOf(records: Buffer): number {
  let next = -1;
  let pos = 0;
  while (pos + 61 <= records.length) {
    next = readInt64(records, pos) + records.readInt32BE(pos + 23) + 1;
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return next;
}

/** Records in whole batches (header fields only: batchLength at +8, recordCount at +57). */
function countRecords(records: Buffer): number {
  let n = 0;
  let pos = 0;
  while (pos + 61 <= records.length) {
    n += records.readInt32BE(pos + 57);
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return n;
}

function recordTraffic(broker: Broker, pass: ReadPass): void {
  if (!broker.metrics.enabled) return;
  for (const s of pass.sent) broker.metrics.topicOut(s.topic, s.records.length, countRecords(s.records));
}

/** Who is fetching: a consumer (-1), or a follower replica with its broker id (v15+: in replica_state). */
function replicaIdOf(req: FetchRequest, version: number): number {
  return version >= 15 ? req.replicaState.replicaId : req.replicaId;
}

function unknownTopic(errorCode: number): boolean {
  return errorCode === ErrorCode.UNKNOWN_TOPIC_ID || errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}

function errorOut(partition: number, errorCode: number): PartitionOut {
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    records: EMPTY,
  };
}

function readOnce(
  broker: Broker,
  req: FetchRequest,
  version: number,
  items: readonly FetchItem[],
  first: boolean,
  denied: (topic: string) => boolean = () => false,
  quotaBytesMax = Number.MAX_VALUE,
): ReadPass {
  let budget = Math.floor(Math.min(req.maxBytes, limits.fetchResponseBytesMax, quotaBytesMax));
  let bytes = 0;
  let anyError = false;
  let hwNews = false;
  const partitions: Partition[] = [];
  const outs: PartitionOut[] = [];
  const sent: ReadPass['sent'] = [];
  const reads: Buffer[] = [];
  const replicaId = replicaIdOf(req, version);
  const follower = replicaId >= 0;
  const now = Date.now();
  let lastId = '';
  let lastName: string | null = null;
  for (const item of items) {
    const fp = item.params;
    if (version >= 13 && item.topicId !== lastId) {
      lastId = item.topicId;
      lastName = broker.metadataCache.topicById(item.topicId)?.name ?? null;
    }
    const name = version >= 13 ? lastName : item.topic;
    const partition =
      name === null
        ? ErrorCode.UNKNOWN_TOPIC_ID
        : denied(name)
          ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : broker.replicas.leaderFor(name, item.partition);
    if (typeof partition === 'number') {
      // A topic this broker does not know (by name or id) is answered with its error but does not cut the long
      // poll short, as in Kafka (those partitions never reach its delayed fetch): a client that keeps asking for
      // a deleted topic asks once per max_wait_ms, and the partitions that are fine still wait for data.
      if (!unknownTopic(partition)) anyError = true;
      outs.push(errorOut(item.partition, partition));
      continue;
    }
    partitions.push(partition);
    const log = partition.log;
    const epochError = checkLeaderEpoch(partition, fp.currentLeaderEpoch);
    if (epochError === ErrorCode.NONE && follower && first) {
      // The follower's fetch offset says how far it has the log: it may join the ISR, and the high
      // watermark may move (waking consumers and acks=all producers).
      const err = partition.updateFollowerFetchState(replicaId, fp.fetchOffset, fp.logStartOffset, now);
      if (err !== ErrorCode.NONE) {
        anyError = true;
        outs.push(errorOut(item.partition, err));
        continue;
      }
    }
    const readCommitted = !follower && req.isolationLevel === READ_COMMITTED;
    const lastStableOffset = log.lastStableOffset;
    const base = {
      partitionIndex: item.partition,
      highWatermark: log.highWatermark,
      lastStableOffset,
      logStartOffset: log.logStartOffset,
      abortedTransactions: (readCommitted ? [] : null) as
        | { producerId: number; firstOffset: number }[]
        | null,
      preferredReadReplica: -1,
    };
    if (epochError !== ErrorCode.NONE) {
      anyError = true;
      outs.push({ ...base, errorCode: epochError, records: EMPTY });
      continue;
    }
    if (follower && fp.highWatermark < base.highWatermark) hwNews = true;
    const max = Math.min(fp.partitionMaxBytes, budget);
    // Followers copy the whole log; consumers see only what the ISR has (the high watermark), and
    // read_committed consumers only what no open transaction holds (the last stable offset).
    const limit = follower ? log.logEndOffset : readCommitted ? lastStableOffset : log.highWatermark;
    const res = log.read(fp.fetchOffset, Math.max(max, 0), limit, bytes === 0);
    if (res.errorCode !== ErrorCode.NONE) {
      anyError = true;
      outs.push({ ...base, errorCode: res.errorCode, records: EMPTY });
      continue;
    }
    let records: Buffer = EMPTY;
    if (res.chunks.length === 1) {
      records = res.chunks[0] as Buffer;
      reads.push(records);
    } else if (res.chunks.length > 1) {
      // Only when the read crossed a segment boundary: the copy frees the read buffers at once.
      records = Buffer.concat(res.chunks, res.bytes);
      releaseReadBuffers(res.chunks);
    }
    bytes += res.bytes;
    budget -= res.bytes;
    if (records.length > 0 && !follower) sent.push({ topic: partition.topic, records });
    if (readCommitted && records.length > 0) {
      const aborted = log.abortedTransactions(fp.fetchOffset, nextOffsetOf(records));
      if (aborted === null) {
        anyError = true;
        outs.push({ ...base, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, records: EMPTY });
        continue;
      }
      base.abortedTransactions = aborted;
    }
    outs.push({ ...base, errorCode: ErrorCode.NONE, records });
  }
  return { outs, bytes, partitions, anyError, hwNews, sent, reads };
}

/** Groups answers by topic, consecutive partitions of one topic together (Kafka's FetchResponse.of). */
function groupByTopic(
  items: readonly FetchItem[],
  outs: readonly PartitionOut[],
  keep?: boolean[],
): TopicOut[] {
  const responses: TopicOut[] = [];
  let current: TopicOut | undefined;
  for (let i = 0; i < items.length; i++) {
    if (keep !== undefined && !keep[i]) continue;
    const item = items[i] as FetchItem;
    if (current === undefined || current.topic !== item.topic || current.topicId !== item.topicId) {
      current = { topic: item.topic, topicId: item.topicId, partitions: [] };
      responses.push(current);
    }
    (current.partitions as PartitionOut[]).push(outs[i] as PartitionOut);
  }
  return responses;
}

/** The request's partitions, in request order. */
function requestItems(req: FetchRequest, version: number): FetchItem[] {
  const items: FetchItem[] = [];
  for (const ft of req.topics) {
    const topic = version >= 13 ? '' : ft.topic;
    const topicId = version >= 13 ? ft.topicId : ZERO_UUID;
    for (const fp of ft.partitions) {
      items.push({
        topic,
        topicId,
        partition: fp.partition,
        params: {
          fetchOffset: fp.fetchOffset,
          currentLeaderEpoch: fp.currentLeaderEpoch,
          logStartOffset: fp.logStartOffset,
          partitionMaxBytes: fp.partitionMaxBytes,
          lastFetchedEpoch: fp.lastFetchedEpoch,
          highWatermark: fp.highWatermark,
        },
      });
    }
  }
  return items;
}

function forgottenItems(req: FetchRequest, version: number): FetchPartitionKey[] {
  const out: FetchPartitionKey[] = [];
  for (const ft of req.forgottenTopicsData) {
    const topic = version >= 13 ? '' : ft.topic;
    const topicId = version >= 13 ? ft.topicId : ZERO_UUID;
    for (const partition of ft.partitions) out.push({ topic, topicId, partition });
  }
  return out;
}

function answerOf(out: PartitionOut): PartitionAnswer {
  return {
    errorCode: out.errorCode ?? ErrorCode.NONE,
    highWatermark: out.highWatermark ?? -1,
    logStartOffset: out.logStartOffset ?? -1,
    lastStableOffset: out.lastStableOffset ?? -1,
    preferredReadReplica: out.preferredReadReplica ?? -1,
    recordsBytes: out.records?.length ?? 0,
    diverging: false,
  };
}

/**
 * Resolves when any of the partitions has new data for this fetcher (log end for followers, high watermark
 * for consumers and for v18 followers, who are answered when their high watermark is behind; all fire on a
 * leadership change), the deadline passes, or the client goes away.
 */
function waitForData(
  partitions: Partition[],
  wake: { append: boolean; hw: boolean },
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      for (const p of partitions) {
        if (wake.append) p.appendWaiters.remove(done);
        if (wake.hw) p.hwWaiters.remove(done);
      }
      signal.removeEventListener('abort', done);
      resolve();
    };
    timer = setTimeout(done, ms);
    for (const p of partitions) {
      if (wake.append) p.appendWaiters.add(done);
      if (wake.hw) p.hwWaiters.add(done);
    }
    signal.addEventListener('abort', done);
  });
}

export const fetch = defineHandler<FetchRequest, FetchResponseInput>({
  apiKey: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 18,
  async handle(ctx: RequestContext, req) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const follower = replicaIdOf(req, version) >= 0;
    const usesTopicIds = version >= 13;
    const fetchData = requestItems(req, version);
    const context = broker.fetchSessions.newContext(
      {
        sessionId: req.sessionId,
        sessionEpoch: req.sessionEpoch,
        usesTopicIds,
        privileged: follower,
        fetchData,
        toForget: forgottenItems(req, version),
      },
      Date.now(),
    );
    if (context.kind === 'error') {
      return {
        throttleTimeMs: 0,
        errorCode: context.errorCode,
        sessionId: INVALID_SESSION_ID,
        responses: [],
      };
    }
    // An incremental fetch reads every partition of its session (the request listed only the changed ones).
    const itemsNow = (): readonly FetchItem[] =>
      context.kind === 'incremental' ? [...context.session.partitions.values()] : fetchData;
    const deadline = Date.now() + Math.min(Math.max(req.maxWaitMs, 0), limits.fetchWaitMsMax);
    // READ on each topic (followers: CLUSTER_ACTION), asked once per topic of this request (security/authorizer.ts).
    const decisions = new Map<string, boolean>();
    const denied = (topic: string): boolean => {
      let d = decisions.get(topic);
      if (d === undefined) {
        d = fetchDenials(ctx, follower, [topic]).has(topic);
        decisions.set(topic, d);
      }
      return d;
    };
    // A consumer under a consumer_byte_rate quota gets at most what its quota window allows (Kafka's
    // maxValueInQuotaWindow), so one fetch cannot take many windows' worth.
    const quotaBytesMax = follower
      ? Number.MAX_VALUE
      : broker.quotas.fetch.maxValueInQuotaWindow(ctx.session.principal, ctx.clientId);
    let items = itemsNow();
    let pass = readOnce(broker, req, version, items, true, denied, quotaBytesMax);
    const wake = { append: follower, hw: !follower || version >= 18 };
    const parkedAt = performance.now();
    let parked = false;
    while (pass.bytes < req.minBytes && !pass.anyError && !pass.hwNews && !ctx.signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      parked = true;
      await waitForData(pass.partitions, wake, left, ctx.signal);
      releaseReadBuffers(pass.reads);
      items = itemsNow();
      pass = readOnce(broker, req, version, items, false, denied, quotaBytesMax);
    }
    if (parked) broker.metrics.longPollWait((performance.now() - parkedAt) / 1000);
    const throttleMs = follower ? 0 : fetchQuotaThrottle(ctx, pass.bytes);
    if (throttleMs > 0) {
      // Over the quota: an empty answer carrying the throttle time (Kafka's getThrottledResponse); its bytes were
      // taken back from the quota, the connection is muted meanwhile.
      releaseReadBuffers(pass.reads);
      const sessionId = context.kind === 'incremental' ? context.session.id : INVALID_SESSION_ID;
      return { throttleTimeMs: throttleMs, errorCode: ErrorCode.NONE, sessionId, responses: [] };
    }
    const answer = sessionAnswer(broker, context, follower, usesTopicIds, items, pass);
    if (answer.errorCode !== ErrorCode.NONE) {
      releaseReadBuffers(pass.reads);
      return { throttleTimeMs: 0, ...answer };
    }
    recordTraffic(broker, pass);
    if (pass.reads.length > 0) {
      const reads = pass.reads;
      ctx.afterResponseWritten(() => releaseReadBuffers(reads));
    }
    return { throttleTimeMs: 0, ...answer };
  },
});

/** Records a consumer's response bytes; over consumer_byte_rate: takes them back, mutes, returns the throttle. */
function fetchQuotaThrottle(ctx: RequestContext, bytes: number): number {
  const manager = ctx.broker.quotas.fetch;
  if (!manager.quotasEnabled()) return 0;
  const now = Date.now();
  const ms = manager.recordAndGetThrottleTimeMs(ctx.session.principal, ctx.clientId, bytes, now);
  if (ms <= 0) return 0;
  manager.unrecord(ctx.session.principal, ctx.clientId, bytes, now);
  manager.noteThrottle(ms);
  ctx.throttle(ms);
  return ms;
}

/**
 * The response of a read pass under its fetch context: a full fetch may open a session, an incremental one
 * answers only the partitions with something new (and fails if another request of its session came between).
 */
function sessionAnswer(
  broker: Broker,
  context: Exclude<FetchContext, { kind: 'error' }>,
  follower: boolean,
  usesTopicIds: boolean,
  items: readonly FetchItem[],
  pass: ReadPass,
): { errorCode: number; sessionId: number; responses: TopicOut[] } {
  const ok = ErrorCode.NONE;
  switch (context.kind) {
    case 'sessionless':
      return { errorCode: ok, sessionId: INVALID_SESSION_ID, responses: groupByTopic(items, pass.outs) };
    case 'full': {
      const cached: CachedPartition[] = items.map((item, i) => {
        const out = pass.outs[i] as PartitionOut;
        return {
          topic: item.topic,
          topicId: item.topicId,
          partition: item.partition,
          params: item.params,
          highWatermark: out.highWatermark ?? -1,
          logStartOffset: out.logStartOffset ?? -1,
          lastStableOffset: out.lastStableOffset ?? -1,
        };
      });
      const sessionId = broker.fetchSessions.maybeCreateSession(Date.now(), follower, usesTopicIds, cached);
      return { errorCode: ok, sessionId, responses: groupByTopic(items, pass.outs) };
    }
    case 'incremental': {
      const session = context.session;
      if (session.epoch !== context.epoch) {
        // Another request of this session was served while this one waited: the fetcher has lost track.
        return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: session.id, responses: [] };
      }
      const keep = items.map((item, i) =>
        session.mustRespond(session.keyOf(item), answerOf(pass.outs[i] as PartitionOut), true),
      );
      return { errorCode: ok, sessionId: session.id, responses: groupByTopic(items, pass.outs, keep) };
    }
  }
}
