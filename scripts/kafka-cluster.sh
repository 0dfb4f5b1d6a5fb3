#!/usr/bin/env bash
# A multi-broker Apache Kafka 4.x cluster (KRaft) on this machine, for the cluster benchmarks
# (bench/lib/clusters.ts): one controller-only node (node.id 100, the metadata quorum, as ZooKeeper is
# for Samsa) and N broker-only nodes (node.id 1..N), each started by scripts/kafka-start.sh --daemon
# under DIR/controller and DIR/broker-<id>, formatted with one cluster id.
#
# Usage:
#   scripts/kafka-cluster.sh start --dir DIR [--brokers 3] [--fresh] [--override key=value]... [--feature k=v]...
#        Starts the controller, then the brokers in parallel; waits until every broker says
#        "Kafka Server started". Prints "bootstrap=127.0.0.1:P1,127.0.0.1:P2,..." as the last line.
#        Per node: DIR/<node>/kafka.pid, kafka.out, server.properties; DIR/<node>.args (its start line).
#        --override keys go to every node (e.g. broker.session.timeout.ms, read by the controller).
#        --feature name=level is passed to every node's format (e.g. transaction.version=1).
#   scripts/kafka-cluster.sh restart-node --dir DIR --node broker-<id>|controller
#        Starts a node again (after a kill) with the same ports and data.
#   scripts/kafka-cluster.sh stop --dir DIR [--kill]
#        Stops the brokers, then the controller (scripts/kafka-stop.sh).
# Env: as scripts/kafka-start.sh (KAFKA_VERSION, KAFKA_HEAP_OPTS, KAFKA_JVM_OPTS).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"
shift || true
dir="" brokers=3 fresh=0 node="" kill=()
overrides=()
features=()
while [[ $# -gt 0 ]]; do
  case "$1" in
  --dir) dir="$2"; shift 2 ;;
  --brokers) brokers="$2"; shift 2 ;;
  --fresh) fresh=1; shift ;;
  --override) overrides+=(--override "$2"); shift 2 ;;
  --feature) features+=(--feature "$2"); shift 2 ;;
  --node) node="$2"; shift 2 ;;
  --kill) kill=(--kill); shift ;;
  *) echo "kafka-cluster: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$dir" ]] || { echo "kafka-cluster: --dir is required" >&2; exit 2; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Runs one node from its saved start line (DIR/<node>.args, one argument per line).
start_node() {
  local name="$1"
  mapfile -t args <"$dir/$name.args"
  "$root/scripts/kafka-start.sh" "${args[@]}" --daemon
}

case "$cmd" in
start)
  [[ $fresh -eq 1 ]] && rm -rf "$dir"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  # Fetch the jars once, before the nodes start in parallel.
  "$root/scripts/kafka-dist.sh" >/dev/null
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  cport="$(free_port)"
  voters="100@127.0.0.1:$cport"
  common=(--cluster-id "$cluster_id" --voters "$voters"
    --override "offsets.topic.replication.factor=$((brokers < 3 ? brokers : 3))"
    --override "transaction.state.log.replication.factor=$((brokers < 3 ? brokers : 3))"
    --override "share.coordinator.state.topic.replication.factor=$((brokers < 3 ? brokers : 3))"
    ${overrides[@]+"${overrides[@]}"} ${features[@]+"${features[@]}"})
  printf '%s\n' --port "$cport" --dir "$dir/controller" --roles controller --node-id 100 "${common[@]}" \
    >"$dir/controller.args"
  bootstrap=()
  for id in $(seq 1 "$brokers"); do
    p="$(free_port)"
    bootstrap+=("127.0.0.1:$p")
    printf '%s\n' --port "$p" --dir "$dir/broker-$id" --roles broker --node-id "$id" "${common[@]}" \
      >"$dir/broker-$id.args"
  done
  start_node controller >&2
  pids=()
  for id in $(seq 1 "$brokers"); do
    start_node "broker-$id" >&2 &
    pids+=($!)
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  if [[ $failed -ne 0 ]]; then
    echo "kafka-cluster: a broker did not start; stopping the cluster (logs under $dir)" >&2
    "$0" stop --dir "$dir" --kill >&2 || true
    exit 1
  fi
  (IFS=,; echo "bootstrap=${bootstrap[*]}")
  ;;
restart-node)
  [[ -n "$node" ]] || { echo "kafka-cluster: restart-node needs --node" >&2; exit 2; }
  start_node "$node"
  ;;
stop)
  for d in "$dir"/broker-*; do
    [[ -d "$d" ]] && "$root/scripts/kafka-stop.sh" --dir "$d" ${kill[@]+"${kill[@]}"} &
  done
  wait
  [[ -d "$dir/controller" ]] && "$root/scripts/kafka-stop.sh" --dir "$dir/controller" ${kill[@]+"${kill[@]}"}
  ;;
*)
  echo "kafka-cluster: usage: kafka-cluster.sh start|restart-node|stop --dir DIR ..." >&2
  exit 2
  ;;
esac
