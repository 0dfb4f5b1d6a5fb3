// Every bound the broker enforces, named, with its unit last. Values that Kafka exposes as
// configuration keep Kafka's default here and are overridable by the config key named beside them.

/** socket.request.max.bytes: the largest request frame accepted. */
export const requestBytesMaxDefault = 100 * 1024 * 1024;
/** queued.max.request.bytes: request bytes buffered across all connections before reads pause. */
export const queuedRequestBytesMaxDefault = 256 * 1024 * 1024;
/**
 * socket.request.receive.timeout.ms: how long a request may take to arrive once its first byte has (time the broker
 * paused reading does not count), on top of the credit below.
 */
export const requestReceiveTimeoutMsDefault = 30_000;
/**
 * The slowest steady rate a request may arrive at without being timed out: each byte received extends the
 * request's receive deadline by 1/this seconds (1 MiB/s: a 100 MB request gets 30 s + 95 s).
 */
export const requestReceiveBytesPerSecMin = 1024 * 1024;
/**
 * Request bytes one connection may have handled in one turn of the event loop before it yields to the others (its
 * socket is paused until the next turn): a client pipelining requests as fast as it can (a producer with acks=0)
 * must not push a consumer's fetch behind megabytes of appends. Kafka gets the same fairness by handling one
 * request per connection at a time.
 */
export const connectionTurnBytesMax = 64 * 1024;
/** Requests decoded but not yet answered on one connection; reading pauses beyond this. */
export const inFlightRequestsPerConnectionMax = 128;
/** message.max.bytes: the largest record batch accepted (Kafka's default). */
export const messageBytesMaxDefault = 1024 * 1024 + 12;
/**
 * samsa.acl.change.notification.expiration.ms: how old an ACL change notification (/kafka-acl-changes,
 * /kafka-acl-extended-changes in ZooKeeper) gets before the brokers delete it, as Kafka's
 * ZkNodeChangeNotificationListener (15 minutes). Every broker reads the ACLs afresh when it starts, so it never
 * needs an older one.
 */
export const aclChangeNotificationExpirationMsDefault = 15 * 60 * 1000;
/** How often a broker looks for expired ACL change notifications (sooner when the expiration is shorter). */
export const aclChangeNotificationPurgeIntervalMsMax = 60_000;
/** Upper bound on fetch.max.wait honoured for a long-poll fetch. */
export const fetchWaitMsMax = 30_000;
/** Upper bound on the bytes one fetch response may carry, whatever the client asks. */
export const fetchResponseBytesMax = 64 * 1024 * 1024;
/** max.incremental.fetch.session.cache.slots: fetch sessions (KIP-227) kept by one broker. */
export const fetchSessionCacheSlotsDefault = 1000;
/**
 * A fetch session unused this long may be evicted by any new session; a younger one only by a more valuable one
 * (Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS, not configurable there either).
 */
export const fetchSessionEvictionMsMin = 120_000;
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
/**
 * At shutdown, how long a connection whose responses are written waits for the client to close its side before
 * the socket is destroyed (a client that neither reads nor closes).
 */
export const shutdownSocketLingerMs = 2_000;
/** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, per group (also bounded by group.max.size). */
export const groupPendingMembersMax = 10_000;
/** Longest SubscribedTopicRegex a consumer group member may send (characters). */
export const consumerGroupRegexLengthMax = 4096;
/** Compiled topic regular expressions kept (cleared when full). */
export const consumerGroupRegexCacheMax = 1000;
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
/** Largest request frame whose assembly buffer is recycled (src/broker/frame-pool.ts). */
export const framePoolBufferBytesMax = 4 * 1024 * 1024;
/** Bytes of recycled request-frame buffers kept across all connections. */
export const framePoolBytesMax = 16 * 1024 * 1024;
/** The internal client's largest response frame, unless a connection sets its own (src/client/connection.ts). */
export const clientResponseBytesMaxDefault = 256 * 1024 * 1024;
/**
 * The internal client's socket read buffer (src/client/frame-reader.ts): what it reads between frames; a frame at
 * least this much larger than what has arrived is read straight into its own buffer.
 */
export const clientReadBufferBytes = 64 * 1024;
/**
 * Largest response frame the internal client receives into recycled memory (requestPooled): a fetch response of
 * up to fetchResponseBytesMax. Frames are pooled in power-of-two sizes, so a frame just over 8 MiB takes 16 MiB of
 * address space; only the pages written are ever touched.
 */
export const clientFramePoolBufferBytesMax = 64 * 1024 * 1024;
/**
 * Bytes of recycled response frames the internal client keeps (two largest frames: the perf consumer has one
 * response being walked while the next is received, per broker).
 */
export const clientFramePoolBytesMax = 128 * 1024 * 1024;
/**
 * Live JS heap below which the broker holds V8's heap growing factor at 4x (src/broker/heap-growth.ts): at most
 * 3x this in extra heap headroom, in exchange for no back-to-back mark-compact GCs under produce traffic.
 */
export const heapGrowthBoostLiveBytesMax = 64 * 1024 * 1024;
/** How often the broker checks its live heap against heapGrowthBoostLiveBytesMax. */
export const heapGrowthCheckIntervalMs = 5_000;
/** Shortest period of the replica manager's background tasks (ISR expiry, high-watermark checkpoints). */
export const replicaTaskIntervalMsMin = 100;
/** Bytes a replica fetch response may carry beyond replica.fetch.response.max.bytes (headers, partition fields). */
export const replicaFetchResponseOverheadBytes = 1024 * 1024;
/** How long creating an internal topic (__consumer_offsets) may take before FindCoordinator gives up. */
export const internalTopicCreateTimeoutMs = 30_000;
/** Requests queued by the controller for one broker before its channel is reset (the broker stopped answering). */
export const controllerQueuedRequestsPerBrokerMax = 100_000;
/** Wait before the controller resends a request to a broker that did not answer. */
export const controllerRetryBackoffMs = 500;

// ZooKeeper (src/cluster/zk/)
/**
 * jute.maxbuffer at its ZooKeeper default (0xfffff): the largest request packet a server reads. A larger one is
 * not refused but makes the server close the connection, so the client checks each request against it first.
 */
export const zkJuteMaxBufferBytes = 0xfffff;
/**
 * Largest data one znode write may carry: below jute.maxbuffer with room for the request's header, path and ACL
 * (Kafka's own znodes are far smaller: a 10,000-partition assignment is ~200 KB).
 */
export const znodeDataBytesMax = 1_000_000;
/** Default time a ZooKeeper call may take, waiting for a connection or a free in-flight slot included. */
export const zkRequestTimeoutMsDefault = 30_000;
/** zookeeper.max.in.flight.requests: requests one client has sent and not had answered (Kafka's default). */
export const zkInFlightRequestsMaxDefault = 10;
/** Longest wait between attempts to open a new session after the old one expired (doubling from 100 ms). */
export const zkSessionRetryBackoffMsMax = 5_000;
/** Znodes deleteRecursive() lists before it refuses (a 10,000-partition topic has ~20,000). */
export const zkSubtreeNodesMax = 1_000_000;
/** Bytes of a four-letter-word answer (srvr, mntr, ...) read before giving up on it. */
export const zkFourLetterAnswerBytesMax = 1024 * 1024;
/** Characters of a local ZooKeeper server's output kept in memory (zookeeper-process.ts logs()). */
export const zooKeeperLogCharsMax = 4 * 1024 * 1024;
/** Producer ids one broker takes from /latest_producer_id_block at a time (Kafka's PRODUCER_ID_BLOCK_SIZE). */
export const producerIdBlockSize = 1000;

// samsa dev-cluster (src/cli/dev-cluster.ts)
/** Brokers one dev cluster may start on this machine. */
export const devClusterBrokersMax = 16;
/** How long a dev cluster may take to start: ZooKeeper, then every broker listing all brokers and a controller. */
export const devClusterStartTimeoutMs = 120_000;
/** How long one broker may take to stop after SIGTERM (controlled shutdown included) before it is killed. */
export const devClusterBrokerStopTimeoutMs = 60_000;

// Transaction coordinator (src/coordinator/txn/)
/** How long a write to __transaction_state may take to be committed (Kafka: request.timeout.ms for it). */
export const transactionLogWriteTimeoutMs = 30_000;
/** Partitions one WriteTxnMarkers request to a broker carries at most (the rest go in the next request). */
export const txnMarkerPartitionsPerRequestMax = 1000;
/** Wait before a marker without a leader, or refused with a retriable error, is routed again. */
export const txnMarkerRetryBackoffMs = 100;
/**
 * How long a broker may take to answer WriteTxnMarkers before the markers are sent again: longer than the 30 s it
 * may wait for them to replicate (txnMarkerReplicationTimeoutMs), so its own REQUEST_TIMED_OUT comes first.
 */
export const txnMarkerRequestTimeoutMs = 40_000;
/**
 * Partitions waiting for their markers across all transactions this coordinator completes. EndTxn beyond it is
 * answered CONCURRENT_TRANSACTIONS (the producer retries) instead of queueing more.
 */
export const txnMarkersQueuedMax = 1_000_000;
/** Partitions one transaction may hold; AddPartitionsToTxn beyond it is refused with INVALID_REQUEST. */
export const txnPartitionsPerTransactionMax = 100_000;
/** How long WriteTxnMarkers waits for a marker to be replicated (Kafka's request.timeout.ms default). */
export const txnMarkerReplicationTimeoutMs = 30_000;
/**
 * How long a partition leader waits for the transaction coordinator of another broker to verify or add the
 * partitions of a transactional produce (AddPartitionsToTxn v4+, KIP-890); the produce then fails with a
 * retriable NOT_ENOUGH_REPLICAS.
 */
export const txnVerifyRequestTimeoutMs = 10_000;

// Client warnings (src/broker/client-warnings.ts)
/** A warning about a client's input repeated by the same client is logged at most once per this, with a count. */
export const clientWarningIntervalMs = 30_000;
/** (client, kind) groups of warnings tracked at once; warnings beyond are only counted. */
export const clientWarningKeysMax = 1000;

// Schema registry (src/registry/)
/** How long a registry waits to read `_schemas` up to its end, or for its own write to come back (Confluent: kafkastore.timeout.ms, 500 ms there). */
export const registryStoreTimeoutMs = 5_000;
/** Largest request body the registry reads (a schema and its JSON envelope); larger ones get 413. */
export const registryRequestBytesMax = 4 * 1024 * 1024;
/** How long a follower waits for a leader to be elected, and for the leader's answer to a forwarded write. */
export const registryForwardTimeoutMs = 10_000;
/** Session timeout of a registry's membership in its election group (Confluent's default 10 s). */
export const registrySessionTimeoutMs = 10_000;
/** Heartbeat interval in the election group (Confluent: 3 s; shorter so a rebalance is noticed sooner). */
export const registryHeartbeatIntervalMs = 1_000;
/** Parsed schemas a registry keeps for compatibility checks (the cache starts over when full). */
export const registryParsedSchemasMax = 10_000;

// samsa sink (src/pipeline/sink*.ts)
/** Rows per Parquet row group; a file with more rows has several. */
export const sinkParquetRowGroupRowsMax = 100_000;
/** Bytes (keys, values, headers) buffered for one partition before it is flushed whatever --flush-records says. */
export const sinkPartitionBufferBytesMax = 128 * 1024 * 1024;
/** Bytes buffered over all partitions before every partition is flushed. */
export const sinkBufferBytesMax = 512 * 1024 * 1024;
/** Schemas (by id) a sink keeps from the schema registry. */
export const sinkRegistrySchemasMax = 10_000;
/** How long a request to the schema registry may take. */
export const sinkRegistryRequestTimeoutMs = 10_000;
/** Bytes one fetch asks for per partition (the consumer default is 1 MiB; a sink catching up wants more). */
export const sinkFetchPartitionBytesMax = 8 * 1024 * 1024;
/** First and longest wait before a sink joins again after a broker or network error. */
export const sinkRetryBackoffMsMin = 500;
export const sinkRetryBackoffMsMax = 10_000;
// samsa mirror (src/pipeline/mirror*.ts)
/**
 * Largest batch the mirror makes by joining small uncompressed source batches of a partition: well under
 * Kafka's default max.message.bytes (1 MiB); a target topic that takes less makes the mirror stop joining for it.
 */
export const mirrorJoinedBatchBytesMax = 256 * 1024;
/** Longest wait between mirror sessions that fail one after the other (retry.backoff.ms doubles up to it). */
export const mirrorRetryBackoffMsMax = 10_000;
/** How long the mirror waits for the leaders of a target topic it created or grew. */
export const mirrorTargetLeaderWaitMs = 30_000;
/** Wait before the mirror asks for metadata again after a fetch found moved leaders or unknown partitions. */
export const mirrorStaleMetadataBackoffMs = 100;
// Audit (`samsa audit`, src/pipeline/audit*.ts): the client's bounds; memory is one fetch response per cluster
/** Bytes one audit Fetch asks for (all partitions of one leader). */
export const auditFetchBytesMax = 32 * 1024 * 1024;
/** Bytes one audit Fetch asks for per partition. */
export const auditPartitionFetchBytesMax = 8 * 1024 * 1024;
/** How long an audit Fetch may wait on the broker for data (the range read is known to exist). */
export const auditFetchWaitMs = 100;
/** Empty Fetch answers in a row below a partition's end offset before the audit gives up on it. */
export const auditEmptyFetchesMax = 20;
/** Broker-side audit counters (samsa.audit.enable) kept in memory at most; idle written ones are dropped first. */
export const auditCountersMax = 1_000_000;
/** Counter records per write to __samsa_audit (each ~150 bytes: one batch stays far below message.max.bytes). */
export const auditCounterRecordsPerWriteMax = 2000;
/** How long a stopping broker waits for its last audit counters to be written. */
export const auditCountersStopTimeoutMs = 10_000;
/** Partitions of __samsa_audit when a broker creates it (its records are keyed, so any count works). */
export const auditTopicPartitions = 1;
/** Replicas of __samsa_audit at most (fewer when fewer brokers are alive when it is created). */
export const auditTopicReplicationFactorMax = 3;
/** Quota sensors (one per quota type and metric entity) kept before the idle ones are dropped early. */
export const quotaSensorsMax = 100_000;
/** A quota sensor not recorded into for this long is dropped (Kafka's INACTIVE_SENSOR_EXPIRATION_TIME_SECONDS). */
export const quotaSensorIdleMs = 3_600_000;
/** The longest throttle (and connection mute) one response hands out for exceeding a client quota. */
export const quotaThrottleTimeMsMax = 300_000;
/** Quota entities one AlterClientQuotas / DescribeClientQuotas request may name or answer with. */
export const clientQuotaEntriesMax = 10_000;
/** How often idle quota sensors are looked for (on a recording, not by a timer). */
export const quotaSensorExpiryCheckMs = 60_000;
/**
 * Sockets accepted while a listener's connection creation rate (max.connection.creation.rate) holds its acceptor
 * back, waiting their turn (paused); beyond, new sockets are closed at once (Kafka leaves them in the kernel's
 * listen backlog, socket.listen.backlog.size, 50 by default).
 */
export const acceptQueueMax = 50;
/**
 * Sockets from IPs over their connection_creation_rate quota held open (paused) until their throttle time has
 * passed (Kafka's delayed close); beyond, such sockets are closed at once.
 */
export const throttledSocketsMax = 1000;
/** IP connection rate sensors kept before the idle ones are dropped early. */
export const ipConnectionRateSensorsMax = 10_000;
/** `samsa perf produce --producers N`: producer clients (each its own connections) one process may run. */
export const perfProducersMax = 10_000;
/** Connections `samsa perf produce --producers N` opens at a time (Kafka's listen backlog defaults to 50). */
export const perfConnectConcurrencyMax = 32;
/**
 * buffer.memory of all `samsa perf produce --producers N` clients together unless --buffer-memory is given, as
 * bench/kafka/ScaleDriver.java sizes its producers: this / N each, within [1 MiB, 32 MiB].
 */
export const perfProducersBufferBytesTotal = 512 * 1024 * 1024;
