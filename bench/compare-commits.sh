#!/usr/bin/env bash
# Runs one benchmark on an earlier commit and on this checkout, interleaved, so that both see the
# same phases of a shared machine: earlier, current, earlier, current, ... Prints each run's
# table rows with the time and load average it started at.
#
#   bash bench/compare-commits.sh <commit> [rounds] [bench file]
#
# Default: 2 rounds of bench/abuse-workers.bench.ts (BENCH_WORKER_COUNTS etc. pass through).
# The earlier commit is checked out in a temporary git worktree that shares this checkout's
# node_modules and built MongoDB-wire server (tools/mongo-wire/target), so it must use the same
# dependencies; its own copy of the bench file runs, so the file must exist in that commit.
set -euo pipefail

commit=${1:?usage: bash bench/compare-commits.sh <commit> [rounds] [bench file]}
rounds=${2:-2}
bench=${3:-bench/abuse-workers.bench.ts}
here=$(git rev-parse --show-toplevel)
earlier=$(mktemp -d /tmp/keyward-compare.XXXXXX)

cleanup() {
  git -C "$here" worktree remove --force "$earlier" >/dev/null 2>&1 || rm -rf "$earlier"
}
trap cleanup EXIT

git -C "$here" worktree add --detach --quiet "$earlier" "$commit"
ln -s "$here/node_modules" "$earlier/node_modules"
if [ -d "$here/tools/mongo-wire/target" ]; then
  mkdir -p "$earlier/tools/mongo-wire"
  cp -r "$here/tools/mongo-wire/target" "$earlier/tools/mongo-wire/"
fi

for round in $(seq 1 "$rounds"); do
  for tree in "$earlier" "$here"; do
    label=$([ "$tree" = "$here" ] && echo "current ($(git -C "$here" rev-parse --short HEAD))" || echo "$commit")
    echo "=== $label, round $round, $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    (cd "$tree" && node --expose-gc --import tsx "$bench" 2>&1 | grep -E '^│ *[0-9]')
  done
done
