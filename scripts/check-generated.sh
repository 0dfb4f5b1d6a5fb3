#!/usr/bin/env bash
# CI check: regenerating the protocol codecs from the schemas must not change anything in git.
set -euo pipefail
cd "$(dirname "$0")/.."
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
