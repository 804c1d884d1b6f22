#!/bin/sh
# npm test: the quick checks first, side by side (Biome, the layer rules and the type-check, ~10 s; they fail fast,
# before jest's minute), then jest on both cores. Fails when any step fails; arguments go to jest
# (npm test -- test/unit). Running the type-check beside jest instead measured no faster: the three processes then
# contend for two cores.
set -u
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm run -s lint >"$out/lint" 2>&1 &
lint=$!
npm run -s layers >"$out/layers" 2>&1 &
layers=$!
npm run -s typecheck >"$out/typecheck" 2>&1 &
typecheck=$!
status=0
wait "$lint" || status=1
wait "$layers" || status=1
wait "$typecheck" || status=1
cat "$out/lint" "$out/layers" "$out/typecheck"
[ "$status" -eq 0 ] || exit 1
npx jest "$@"
