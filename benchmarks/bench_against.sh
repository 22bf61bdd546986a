#!/usr/bin/env bash
# Benchmark script: `facexpr bench` of this checkout side by side with an earlier commit's, alternated in one run so
# both see the same machine load. Usage: benchmarks/bench_against.sh REV [ROUNDS] [extra facexpr bench flags...]
# The earlier commit runs from a temporary git worktree with this checkout's .venv (it needs what that commit needs,
# e.g. facexpr[train] for a commit before the LiteRT runtime).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: benchmarks/bench_against.sh REV [ROUNDS] [facexpr bench flags...]}
rounds=${2:-2}
shift $(( $# >= 2 ? 2 : 1 ))
python=$PWD/.venv/bin/python
old=$(mktemp -d)
trap 'git worktree remove --force "$old"' EXIT
git worktree add --detach --force "$old" "$rev" >/dev/null
for round in $(seq "$rounds"); do
  echo "--- $rev, round $round"
  (cd "$old" && PYTHONPATH="$old" "$python" -m pipeline bench --frames 300 "$@" 2>/dev/null)
  echo "--- this checkout, round $round"
  "$python" -m pipeline bench --frames 300 "$@"
done
