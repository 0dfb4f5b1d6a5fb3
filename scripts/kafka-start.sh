#!/usr/bin/env bash
# Starts one Apache Kafka 4.x node (KRaft) for interop tests and side-by-side benchmarks: by default a
# single-node cluster (combined broker + controller); with --roles and --voters one node of a larger
# cluster (scripts/kafka-cluster.sh). Jars come from scripts/kafka-dist.sh (Maven Central, cached).
#
# Usage: scripts/kafka-start.sh --port PORT --dir DIR [--controller-port PORT] [--fresh] [--daemon]
#                               [--version V] [--override key=value]...
#                               [--roles broker,controller|broker|controller] [--node-id N]
#                               [--voters ID@HOST:PORT,...] [--cluster-id ID] [--feature name=level]...
#   --roles    process.roles (default broker,controller). A controller-only node listens on PORT with
#              its CONTROLLER listener (no client listener); a broker-only node needs --voters.
#   --voters   controller.quorum.voters (default: this node alone, 1@127.0.0.1:<controller port>)
#   --cluster-id  the id to format with (every node of one cluster needs the same); default random
#   --feature  a feature level to format with, e.g. transaction.version=1 (Kafka 4.x formats new clusters
#              with transaction.version=2, KIP-890; Samsa implements version 1)
#   --dir      the node's home: DIR/server.properties, DIR/data (log.dirs), DIR/kafka.out (daemon)
#              It is formatted (kafka.tools.StorageTool format) when DIR/data has no meta.properties,
#              so restarting with the same DIR keeps the data.
#   --fresh    delete DIR first
#   --daemon   run in the background, write DIR/kafka.pid, wait until PORT accepts connections and
#              print "started"; stop with scripts/kafka-stop.sh --dir DIR.
#              Without it the script execs the JVM in the foreground (the caller owns the pid).
#   --override extra server.properties lines (later keys win)
# Env: KAFKA_VERSION (4.1.1), KAFKA_HEAP_OPTS (-Xmx1g -Xms256m), KAFKA_JVM_OPTS (extra JVM flags).
# Exits 2 with a message when Kafka cannot be had (no Java/Maven, resolution failure).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="" dir="" cport="" fresh=0 daemon=0 version="${KAFKA_VERSION:-4.1.1}"
roles="broker,controller" node_id=1 voters="" cluster_id=""
overrides=()
features=()
while [[ $# -gt 0 ]]; do
  case "$1" in
  --port) port="$2"; shift 2 ;;
  --dir) dir="$2"; shift 2 ;;
  --controller-port) cport="$2"; shift 2 ;;
  --fresh) fresh=1; shift ;;
  --daemon) daemon=1; shift ;;
  --version) version="$2"; shift 2 ;;
  --override) overrides+=("$2"); shift 2 ;;
  --roles) roles="$2"; shift 2 ;;
  --node-id) node_id="$2"; shift 2 ;;
  --voters) voters="$2"; shift 2 ;;
  --cluster-id) cluster_id="$2"; shift 2 ;;
  --feature) features+=(--feature "$2"); shift 2 ;;
  *) echo "kafka-start: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$port" && -n "$dir" ]] || { echo "kafka-start: --port and --dir are required" >&2; exit 2; }

libs="$(KAFKA_VERSION="$version" "$root/scripts/kafka-dist.sh" | tail -n 1)"

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

[[ $fresh -eq 1 ]] && rm -rf "$dir"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
props="$dir/server.properties"

case "$roles" in
broker,controller | controller,broker)
  # The controller port is part of the KRaft quorum configuration: keep the one chosen at format time.
  if [[ -z "$cport" && -f "$props" ]]; then
    cport="$(sed -n 's/^controller.quorum.voters=[0-9]*@127.0.0.1://p' "$props")"
  fi
  [[ -n "$cport" ]] || cport="$(free_port)"
  [[ -n "$voters" ]] || voters="$node_id@127.0.0.1:$cport"
  listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  advertised="PLAINTEXT://127.0.0.1:$port"
  ;;
broker)
  [[ -n "$voters" ]] || { echo "kafka-start: --roles broker needs --voters" >&2; exit 2; }
  listeners="PLAINTEXT://127.0.0.1:$port"
  advertised="PLAINTEXT://127.0.0.1:$port"
  ;;
controller)
  [[ -n "$voters" ]] || voters="$node_id@127.0.0.1:$port"
  listeners="CONTROLLER://127.0.0.1:$port"
  advertised=""
  ;;
*) echo "kafka-start: --roles must be broker,controller, broker or controller; got $roles" >&2; exit 2 ;;
esac

{
  echo "# Written by scripts/kafka-start.sh"
  echo "process.roles=$roles"
  echo "node.id=$node_id"
  echo "controller.quorum.voters=$voters"
  echo "listeners=$listeners"
  if [[ -n "$advertised" ]]; then echo "advertised.listeners=$advertised"; fi
  echo "controller.listener.names=CONTROLLER"
  if [[ "$roles" != controller ]]; then echo "inter.broker.listener.name=PLAINTEXT"; fi
  echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  echo "log.dirs=$dir/data"
  echo "num.partitions=1"
  echo "offsets.topic.replication.factor=1"
  echo "offsets.topic.num.partitions=1"
  echo "transaction.state.log.replication.factor=1"
  echo "transaction.state.log.min.isr=1"
  echo "transaction.state.log.num.partitions=1"
  echo "share.coordinator.state.topic.replication.factor=1"
  echo "share.coordinator.state.topic.min.isr=1"
  echo "group.initial.rebalance.delay.ms=0"
  for o in "${overrides[@]}"; do echo "$o"; done
} >"$props"

heap="${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m}"
# shellcheck disable=SC2206
jvm=($heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$root/bench/kafka/log4j2.properties" ${KAFKA_JVM_OPTS:-})

if [[ ! -f "$dir/data/meta.properties" ]]; then
  [[ -n "$cluster_id" ]] || cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  # --cluster-id=ID: a random id may begin with '-', which the tool would take for an option.
  if ! out="$(java "${jvm[@]}" -cp "$libs/*" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$props" "${features[@]}" 2>&1)"; then
    echo "$out" >&2
    echo "kafka-start: formatting $dir/data failed" >&2
    exit 2
  fi
fi

cmd=(java "${jvm[@]}" -cp "$libs/*" kafka.Kafka "$props")
if [[ $daemon -eq 0 ]]; then
  exec "${cmd[@]}"
fi

nohup "${cmd[@]}" >"$dir/kafka.out" 2>&1 &
pid=$!
echo "$pid" >"$dir/kafka.pid"
for _ in $(seq 1 180); do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 40 "$dir/kafka.out" >&2
    echo "kafka-start: Kafka exited during start-up (log: $dir/kafka.out)" >&2
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && grep -q 'Kafka Server started' "$dir/kafka.out"; then
    echo "kafka-start: Apache Kafka $version started on 127.0.0.1:$port (pid $pid, dir $dir)"
    exit 0
  fi
  sleep 0.5
done
tail -n 40 "$dir/kafka.out" >&2
echo "kafka-start: Kafka did not accept connections on $port within 90 s (log: $dir/kafka.out)" >&2
exit 1
