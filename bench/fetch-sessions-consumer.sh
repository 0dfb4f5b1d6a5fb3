#!/usr/bin/env bash
# What fetch sessions (KIP-227) save a CONSUMER of many partitions: one Samsa broker, one topic of 1000 partitions
# filled with 20,000 records of 100 bytes (Kafka 4.4.0's ProducerPerformance), read by Kafka 4.4.0's
# ConsumerPerformance (kafka-clients 4.4.0, group.protocol=consumer, fetch.max.wait.ms 500 by default), run
# with SLOTS incremental fetch session slots (1000, the default, or 0: no sessions, every fetch is full).
# Prints the Fetch frames' bytes as the broker counts them (samsa_request_bytes_total / samsa_response_bytes_total):
# over the whole run (reading the 20,000 records, then idle) and over 10 s of the idle tail only.
#
#   npm run build && bash bench/fetch-sessions-consumer.sh 1000; bash bench/fetch-sessions-consumer.sh 0
set -eu
cd "$(dirname "$0")/.."
SLOTS=${1:-1000} PORT=$((39300 + RANDOM % 500)) MPORT=$((39900 + RANDOM % 90))
D=$(mktemp -d /tmp/samsa-fetch-sessions-consumer.XXXXXX)
LIBS=$(bash scripts/kafka-dist.sh 4.4.0 | tail -1)
node bin/samsa.js broker --override listeners=PLAINTEXT://127.0.0.1:$PORT --override log.dirs=$D/data \
  --override metrics.http.port=$MPORT --override max.incremental.fetch.session.cache.slots=$SLOTS >$D/broker.log 2>&1 &
BP=$!
CP=
trap 'kill $BP $CP 2>/dev/null || true; wait $BP 2>/dev/null || true; rm -rf $D' EXIT
for _ in $(seq 1 240); do grep -q "Samsa broker started" $D/broker.log && break; sleep 0.5; done
B=127.0.0.1:$PORT
java -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server $B --create --topic p1000 --partitions 1000 >/dev/null
java -cp "$LIBS/*" org.apache.kafka.tools.ProducerPerformance --topic p1000 --num-records 20000 --record-size 100 \
  --throughput -1 --producer-props bootstrap.servers=$B linger.ms=5 >/dev/null
metric() { curl -s http://127.0.0.1:$MPORT/metrics | grep -E "^$1\{[^}]*$2" | awk '{s+=$2} END {printf "%d", s}'; }
snap() { echo "$(metric samsa_requests_total 'api="Fetch"') $(metric samsa_request_bytes_total 'api="Fetch"') $(metric samsa_response_bytes_total 'api="Fetch"')"; }
report() { # label "n r s" "n r s"
  read -r n0 r0 s0 <<<"$2"; read -r n1 r1 s1 <<<"$3"; n=$((n1 - n0))
  echo "slots=$SLOTS $1: $n fetches, request $((r1 - r0)) B ($(((r1 - r0) / n)) B/fetch), response $((s1 - s0)) B ($(((s1 - s0) / n)) B/fetch)"
}
printf 'group.protocol=consumer\nauto.offset.reset=earliest\n' >$D/consumer.properties
start=$(snap)
java -cp "$LIBS/*" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server $B --topic p1000 --messages 1000000 \
  --timeout 25000 --group perf-$SLOTS --command-config $D/consumer.properties >$D/consumer.log 2>&1 &
CP=$!
for _ in $(seq 1 600); do [[ $(metric samsa_topic_records_out_total 'topic="p1000"') -ge 20000 ]] && break; sleep 0.5; done
sleep 2
idle0=$(snap)
sleep 10
idle1=$(snap)
wait $CP || true
CP=
report "whole run" "$start" "$(snap)"
report "idle 10 s" "$idle0" "$idle1"
