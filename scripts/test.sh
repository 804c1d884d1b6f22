#!/bin/sh
# npm test: Biome and the layer rules first, side by side (a few seconds; they fail fast), then the type-check beside
# jest. Jest keeps both cores of a 2-core machine busy: tsc single-threaded beside it costs less CPU than with its own
# threads, and jest no longer waits for it. Fails when any step fails; arguments go to jest (npm test -- test/unit).
set -u
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm run -s lint >"$out/lint" 2>&1 &
lint=$!
npm run -s layers >"$out/layers" 2>&1 &
layers=$!
status=0
wait "$lint" || status=1
wait "$layers" || status=1
cat "$out/lint" "$out/layers"
[ "$status" -eq 0 ] || exit 1
npm run -s typecheck -- --singleThreaded &
typecheck=$!
npx jest "$@"
status=$?
wait "$typecheck" || status=1
exit "$status"
