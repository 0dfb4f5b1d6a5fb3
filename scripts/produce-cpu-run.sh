#!/bin/bash
# One produce run against a broker started by hand, for A/B comparisons of builds (docs/performance/profiles/big-batches.md):
#   scripts/produce-cpu-run.sh DIST PORT PARTITIONS BATCH_BYTES RECORDS [extra node flags for the broker...]
# DIST is a built dist/ (copy an old one aside, with node_modules and package.json beside it, to compare).
# Prints one line: MB/s as samsa perf reports it, the broker's CPU seconds on its event-loop thread and on its
# other threads (V8's GC helpers), the client's CPU, and the broker's mark-compact and scavenge counts (--trace-gc).
set -u
DIST=$1; PORT=$2; P=$3; B=$4; N=$5; shift 5
D=$(mktemp -d)
node --trace-gc "$@" $DIST/src/cli/main.js broker --override listeners=PLAINTEXT://127.0.0.1:$PORT --override log.dirs=$D > $D.out 2>&1 &
BP=$!
for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
m0=$(awk '{print $14+$15}' /proc/$BP/task/$BP/stat); a0=$(awk '{print $14+$15}' /proc/$BP/stat)
g0=$(grep -c "Mark-Compact" $D.out); s0=$(grep -c "Scavenge" $D.out)
OUT=$(/usr/bin/time -f "%U %S" node $DIST/src/cli/main.js perf produce --bootstrap-server 127.0.0.1:$PORT --topic t --partitions $P --records $N --record-size 1024 --batch-size $B 2>&1 | tail -2)
m1=$(awk '{print $14+$15}' /proc/$BP/task/$BP/stat); a1=$(awk '{print $14+$15}' /proc/$BP/stat)
g1=$(grep -c "Mark-Compact" $D.out); s1=$(grep -c "Scavenge" $D.out)
MBS=$(echo "$OUT" | head -1 | sed -E 's/.*\(([0-9.]+) MB\/sec\).*/\1/')
CL=$(echo "$OUT" | tail -1 | awk '{print $1+$2}')
echo "$(basename $(dirname $DIST)) p=$P b=$B MB/s=$MBS brokerMain=$(echo "($m1-$m0)/100" | bc -l | xargs printf %.2f) brokerOther=$(echo "($a1-$a0-($m1-$m0))/100" | bc -l | xargs printf %.2f) client=$CL MC=$((g1-g0)) Sc=$((s1-s0)) load=$(cut -d' ' -f1 /proc/loadavg)"
kill -INT $BP; wait $BP
rm -rf $D
[ -n "${KEEP_BROKER_OUT:-}" ] || rm -f $D.out
