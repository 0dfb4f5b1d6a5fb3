#!/usr/bin/env bash
# Captures the golden frames of the versions Kafka 4.4 added (Produce v13, Fetch v18, Metadata v13,
# ConsumerGroupHeartbeat, OffsetCommit/OffsetFetch v10, transactions v2) into test/protocol/golden/java44/,
# from Kafka 4.4.0's own tools (kafka-clients 4.4.0) talking to Apache Kafka 4.4.0 through the recording proxy
# (scripts/capture-golden.ts). Only this directory is re-captured; scripts/capture-golden.sh records the rest.
# Needs Java 17+ and Maven (scripts/kafka-dist.sh 4.4.0). Not run by CI: the captured files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
export KAFKA_VERSION=4.4.0
KPORT=39192 PPORT=39193 DIR=/tmp/samsa-golden-kafka44 OUT=test/protocol/golden.new44
LIBS=$(bash scripts/kafka-dist.sh "$KAFKA_VERSION" | tail -1)
rm -rf "$OUT"
bash scripts/kafka-start.sh --port $KPORT --dir $DIR --fresh --daemon \
  --override "advertised.listeners=PLAINTEXT://127.0.0.1:$PPORT" >/dev/null
trap 'bash scripts/kafka-stop.sh --dir $DIR >/dev/null 2>&1 || true; kill $PROXY 2>/dev/null || true' EXIT

node --import tsx scripts/capture-golden.ts --client java44 --listen $PPORT --target 127.0.0.1:$KPORT \
  --out "$OUT" 2>>/tmp/capture44.log &
PROXY=$!
sleep 2
B=127.0.0.1:$PPORT
printf "group.protocol=consumer\nauto.offset.reset=earliest\nauto.commit.interval.ms=100\n" >/tmp/golden44-consumer.properties
T() { java -cp "$LIBS/*" "$@"; }
T org.apache.kafka.tools.TopicCommand --bootstrap-server $B --create --topic g-j44 --partitions 3 >/dev/null
T org.apache.kafka.tools.ProducerPerformance --topic g-j44 --num-records 50 --record-size 100 --throughput -1 \
  --producer-props bootstrap.servers=$B compression.type=zstd >/dev/null
T org.apache.kafka.tools.ProducerPerformance --topic g-j44 --num-records 20 --record-size 50 --throughput -1 \
  --transactional-id g-j44-txn --transaction-duration-ms 100 --producer-props bootstrap.servers=$B >/dev/null
T org.apache.kafka.tools.ConsumerPerformance --bootstrap-server $B --topic g-j44 --messages 70 --timeout 30000 \
  --group g-j44-group --consumer.config /tmp/golden44-consumer.properties >/dev/null
T org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server $B --describe --group g-j44-group >/dev/null 2>&1 || true
kill $PROXY
wait $PROXY 2>/dev/null || true

rm -rf test/protocol/golden/java44 && mv "$OUT/java44" test/protocol/golden/java44 && rm -rf "$OUT"
npx biome format --write test/protocol/golden/java44 >/dev/null
echo "captured $(find test/protocol/golden/java44 -name '*.json' | wc -l) frames"
