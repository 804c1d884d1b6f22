#!/usr/bin/env bash
# How long `npm test` takes on this machine: each step alone (wall time, and CPU time of the step and its children),
# then `npm test` itself (the three checks side by side, then jest). Prints figures and asserts nothing; the house
# rule is npm test under 90 s on 2 cores. The machines these run on vary by a fifth from hour to hour: compare runs
# made one after the other, and run twice after a fresh clone (the first jest run also fills its transform cache).
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
TIMEFORMAT='%R %U %S'

measure() {
  local name=$1 figures
  shift
  # bash's `time` reports the real, user and system seconds of the command and every process it started.
  figures=$({ time "$@" >/dev/null 2>&1; } 2>&1) || {
    echo "$name failed: run it alone to see why" >&2
    exit 1
  }
  read -r real user sys <<<"$figures"
  awk -v n="$name" -v r="$real" -v u="$user" -v s="$sys" \
    'BEGIN { printf "%-28s %6.1f s wall %6.1f s CPU (user %.1f, sys %.1f)\n", n, r, u + s, u, s }'
}

echo "$(nproc) cores, node $(node --version)"
measure 'biome (lint + format)' npm run -s lint
measure 'layers (dependency-cruiser)' npm run -s layers
measure 'tsc --noEmit' npm run -s typecheck
measure 'jest' npx jest
measure 'npm test' npm test
