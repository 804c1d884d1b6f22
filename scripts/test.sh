#!/bin/sh
# npm test: Biome and the layer rules first (a few seconds; they fail fast), then the type-check beside jest. Jest keeps
# both cores of a 2-core machine busy: tsc single-threaded beside it costs less CPU than with its own threads, and
# jest no longer waits for it. Fails when any step fails; arguments go to jest (npm test -- test/unit).
set -u
npm run -s lint && npm run -s layers || exit 1
npm run -s typecheck -- --singleThreaded &
typecheck=$!
npx jest "$@"
status=$?
wait "$typecheck" || status=1
exit "$status"
