#!/usr/bin/env bash
# Brings the whole tree to biome.jsonc in one go, for one commit that only
# reformats: Biome's fixes for the rules whose fixes are sure (three of them
# are "unsafe" only in Biome's general sense: string + x -> template, a['k']
# -> a.k, a && a.b -> a?.b), then the formatter and the safe fixes. It does
# not commit. Then it lists what is left by hand (lint Biome cannot fix, lines
# over 120 characters the formatter cannot wrap, broken import rules) and
# checks that the TypeScript still builds and the generated files are fresh.
#
#   scripts/format-tree.sh            # on a clean work tree
#   git commit -am 'Format the tree with Biome (biome.jsonc)'
#   then add that commit's hash to .git-blame-ignore-revs so blame skips it.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} != --dirty-ok && -n $(git status --porcelain) ]]; then
  echo 'format-tree: the work tree has changes; commit or stash them first (or pass --dirty-ok)' >&2
  exit 2
fi
[[ -x node_modules/.bin/biome ]] || npm ci --no-audit --no-fund --loglevel=error
biome=node_modules/.bin/biome

$biome lint --write --unsafe --colors=off --max-diagnostics=0 \
  --only=complexity/useOptionalChain --only=complexity/useLiteralKeys --only=style/useTemplate . >/dev/null 2>&1
$biome check --write --colors=off --max-diagnostics=0 . >/dev/null 2>&1

echo "format-tree: $(git diff --shortstat)"
rc=0
echo '--- left to fix by hand: Biome (fix, or suppress one line with // biome-ignore RULE: why) ---'
$biome ci --error-on-warnings --colors=off --reporter=concise --diagnostic-level=warn --max-diagnostics=none . || rc=1
echo '--- left to fix by hand: lines over 120 characters ---'
node scripts/long-lines.mjs || rc=1
echo '--- import rules (.dependency-cruiser.cjs) ---'
node_modules/.bin/depcruise src --config .dependency-cruiser.cjs --output-type err || rc=1
echo '--- build and generated files ---'
node_modules/.bin/tsc -p tsconfig.json || rc=1
node scripts/gen-types.mjs --check || rc=1
node scripts/gen-vocabulary.mjs --check || rc=1
exit "$rc"
