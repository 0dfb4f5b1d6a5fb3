#!/usr/bin/env bash
# Lays out a runnable Apache Kafka 4.x (broker, KRaft storage tool, perf tools) from Maven Central
# jars, without the binary tarball: bench/kafka/pom.xml lists kafka_2.13 + kafka-tools + the log4j
# binding, and `mvn dependency:copy-dependencies` copies every runtime jar into
#   .cache/kafka/<version>/libs/        (gitignored; a `.complete` marker makes reruns instant)
# Run a class with: java -cp "<libs>/*" kafka.Kafka ...   (see scripts/kafka-start.sh)
#
# Usage: scripts/kafka-dist.sh [version]      (default $KAFKA_VERSION or 4.1.1)
# Prints the libs directory as the last line of stdout; progress and errors go to stderr.
# Exits 2 with a message when Java 17+ or Maven are missing or the jars cannot be fetched.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${1:-${KAFKA_VERSION:-4.1.1}}"
cache="${SAMSA_CACHE_DIR:-$root/.cache}/kafka/$version"
libs="$cache/libs"

fail() {
  echo "kafka-dist: $*" >&2
  exit 2
}

if [[ -f "$libs/.complete" ]]; then
  echo "$libs"
  exit 0
fi

command -v java >/dev/null || fail "java not found on PATH; Apache Kafka $version needs Java 17+ (apt-get install openjdk-17-jdk-headless)"
command -v mvn >/dev/null || fail "mvn not found on PATH; needed to fetch Apache Kafka $version from Maven Central (apt-get install maven)"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[[ "${java_major:-0}" -ge 17 ]] || fail "Java ${java_major:-?} found; Apache Kafka 4.x brokers need Java 17+"

echo "kafka-dist: fetching Apache Kafka $version jars with Maven into $libs" >&2
tmp="$cache/libs.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
if ! mvn -q -B -f "$root/bench/kafka/pom.xml" -Dkafka.version="$version" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$cache/mvn.log" 2>&1; then
  tail -n 30 "$cache/mvn.log" >&2
  fail "Maven could not resolve org.apache.kafka:kafka_2.13:$version (full log: $cache/mvn.log)"
fi
[[ -f "$tmp/kafka_2.13-$version.jar" ]] || fail "kafka_2.13-$version.jar missing after copy-dependencies"
[[ -f "$tmp/kafka-tools-$version.jar" ]] || fail "kafka-tools-$version.jar missing after copy-dependencies"

rm -rf "$libs"
mv "$tmp" "$libs"
trap - EXIT
touch "$libs/.complete"
echo "kafka-dist: $(find "$libs" -name '*.jar' | wc -l) jars ready" >&2
echo "$libs"
