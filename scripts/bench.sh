#!/usr/bin/env bash
# Runs the progress-bar benchmark side by side with tqdm and rich (installed into .venv-bench).
#   ./scripts/bench.sh [RUNS]     RUNS separate runs (default 3); each prints medians over its repeats.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet 'tqdm==4.70.1' 'rich==15.0.0'
fi
swift build -c release --product ProgressBenchmark
for run in $(seq 1 "$runs"); do
    echo "== run $run of $runs"
    .build/release/ProgressBenchmark --python .venv-bench/bin/python
done
