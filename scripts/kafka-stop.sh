#!/usr/bin/env bash
# Stops a node started by `scripts/kafka-start.sh --daemon --dir DIR`.
# Usage: scripts/kafka-stop.sh --dir DIR [--kill]     (--kill: SIGKILL at once, no clean shutdown)
# A clean stop (SIGTERM) is given 60 s before SIGKILL.
set -euo pipefail

dir="" sig=TERM
while [[ $# -gt 0 ]]; do
  case "$1" in
  --dir) dir="$2"; shift 2 ;;
  --kill) sig=KILL; shift ;;
  *) echo "kafka-stop: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$dir" ]] || { echo "kafka-stop: --dir is required" >&2; exit 2; }
pidfile="$dir/kafka.pid"
if [[ ! -f "$pidfile" ]]; then
  echo "kafka-stop: no $pidfile; nothing to stop"
  exit 0
fi
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  kill -s "$sig" "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka-stop: pid $pid ignored SIGTERM for 60 s; sending SIGKILL" >&2
    kill -s KILL "$pid" || true
  fi
fi
rm -f "$pidfile"
echo "kafka-stop: stopped pid $pid"
