// Every bound the broker enforces, named, with its unit last. Values that Kafka exposes as
// configuration keep Kafka's default here and are overridable by the config key named beside them.

/** socket.request.max.bytes: the largest request frame accepted. */
export const requestBytesMaxDefault = 100 * 1024 * 1024;
/** queued.max.request.bytes: request bytes buffered across all connections before reads pause. */
export const queuedRequestBytesMaxDefault = 256 * 1024 * 1024;
/** Requests decoded but not yet answered on one connection; reading pauses beyond this. */
export const inFlightRequestsPerConnectionMax = 128;
/** message.max.bytes: the largest record batch accepted (Kafka's default). */
export const messageBytesMaxDefault = 1024 * 1024 + 12;
/** Upper bound on fetch.max.wait honoured for a long-poll fetch. */
export const fetchWaitMsMax = 30_000;
/** Upper bound on the bytes one fetch response may carry, whatever the client asks. */
export const fetchResponseBytesMax = 64 * 1024 * 1024;
/** Longest topic name (Kafka's limit). */
export const topicNameLengthMax = 249;
/** Partitions one topic may have. */
export const partitionsPerTopicMax = 10_000;
/** Batches of sequence numbers remembered per producer and partition (Kafka keeps 5). */
export const producerBatchesRememberedMax = 5;
/** Producer ids tracked per partition before the oldest idle ones are expired. */
export const producerIdsPerPartitionMax = 100_000;
/** Size of the slab that segment reads are cut from (page-aligned, see PERF-NOTES). */
export const readSlabBytes = 64 * 1024 * 1024;
/** Response bytes waiting in one connection's socket before reading its requests pauses (a client not reading). */
export const responseBytesBufferedMax = 16 * 1024 * 1024;
/** Largest decompressed batch the broker accepts when it recompresses for a topic's compression.type. */
export const recompressBatchBytesMax = 64 * 1024 * 1024;
/** Grace a shutting-down broker gives in-flight requests before closing their connections. */
export const shutdownGraceMs = 5_000;
/** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, per group (also bounded by group.max.size). */
export const groupPendingMembersMax = 10_000;
/**
 * Distinct keys the log cleaner dedupes in one pass (Kafka sizes this with log.cleaner.dedupe.buffer.size). Each
 * key costs 24 bytes (16-byte hash + offset) at a load factor of 0.75, so the map peaks at ~32 MiB; it grows from
 * small as a log needs it. A dirty section with more keys is cleaned over several passes.
 */
export const cleanerDedupeKeysMax = 1_000_000;
/** Bytes of batches the cleaner reads in one synchronous slice before it yields to the event loop. */
export const cleanerSliceBytesMax = 1024 * 1024;
/** Longest synchronous slice of cleaning work before it yields to the event loop. */
export const cleanerSliceMsMax = 5;
/** Largest decompressed batch the cleaner decodes; larger ones are kept as they are. */
export const cleanerBatchBytesMax = 64 * 1024 * 1024;
/** Largest request frame whose assembly buffer is recycled (src/broker/connection.ts FramePool). */
export const framePoolBufferBytesMax = 4 * 1024 * 1024;
/** Bytes of recycled request-frame buffers kept across all connections. */
export const framePoolBytesMax = 16 * 1024 * 1024;
/** Shortest period of the replica manager's background tasks (ISR expiry, high-watermark checkpoints). */
export const replicaTaskIntervalMsMin = 100;
/** Bytes a replica fetch response may carry beyond replica.fetch.response.max.bytes (headers, partition fields). */
export const replicaFetchResponseOverheadBytes = 1024 * 1024;
/** How long creating an internal topic (__consumer_offsets) may take before FindCoordinator gives up. */
export const internalTopicCreateTimeoutMs = 30_000;
