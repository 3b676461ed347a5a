#!/usr/bin/env bash
# The habits checks, writing nothing (npm run lint): Biome's format and lint,
# lines over 120 characters, the import rules. Runs all three and fails if
# any failed; the test suite runs the same checks (test/biome.test.ts,
# test/long-lines.test.ts, test/import-rules.test.ts).
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
node_modules/.bin/biome ci --error-on-warnings --diagnostic-level=warn . ||
  { rc=1; echo 'lint: run `npx biome check --write` (npm run format), then fix what is left by hand' >&2; }
node scripts/long-lines.mjs || rc=1
node_modules/.bin/depcruise src --config .dependency-cruiser.cjs --output-type err || rc=1
exit "$rc"
