#!/usr/bin/env bash
# CI check: regenerating the protocol codecs from the schemas must not change anything in git.
# The schemas are Kafka's JSON files, found at $SAMSA_KAFKA_PROTOCOL or ../shared/kafka-protocol-4.4 beside the
# repository (the retired ZooKeeper-era requests from ../shared/kafka-protocol; scripts/gen-protocol.ts);
# the repository itself does not carry them. Without them there is
# nothing to regenerate from: the check says so and passes (the tests use the committed generated code).
set -euo pipefail
cd "$(dirname "$0")/.."
schemas="${SAMSA_KAFKA_PROTOCOL:-../shared/kafka-protocol-4.4}"
if [ ! -d "$schemas/message" ] || [ ! -d "$schemas/records" ]; then
  echo "check-generated: skipped, Kafka's schemas are not at $schemas (set SAMSA_KAFKA_PROTOCOL to check)" >&2
  exit 0
fi
node --import tsx scripts/gen-protocol.ts
if ! git diff --exit-code -- src/protocol/generated; then
  echo 'src/protocol/generated is stale: run `npm run gen` and commit the result.' >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- src/protocol/generated)
if [ -n "$untracked" ]; then
  echo "untracked generated files (run \`npm run gen\` and commit them):" >&2
  echo "$untracked" >&2
  exit 1
fi
