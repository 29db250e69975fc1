#!/usr/bin/env bash
# Runs the benchmarks side by side with their Python peers (installed into .venv-bench):
# progress bars against tqdm and rich, tracking against W&B offline, tensorboardX and a JSONL append.
#   ./scripts/bench.sh [RUNS]     RUNS separate runs (default 3); each prints medians over its repeats.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
if ! .venv-bench/bin/python -c "import tqdm, rich, wandb, tensorboardX" 2>/dev/null; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet 'tqdm==4.70.1' 'rich==15.0.0' 'wandb==0.31.0' 'tensorboardX==2.6.5'
fi
swift build -c release --product ProgressBenchmark
swift build -c release --product TrackingBenchmark
for run in $(seq 1 "$runs"); do
    echo "== run $run of $runs"
    .build/release/ProgressBenchmark --python .venv-bench/bin/python
    .build/release/TrackingBenchmark --python .venv-bench/bin/python
done
