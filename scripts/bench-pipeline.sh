#!/usr/bin/env bash
# The pipeline benchmark with Python tipi measured in the same invocation:
#   sets up PyPI tensorimgpipeline 1.2.5 in .venv-bench (without torch: a stub `torch` package on
#   PYTHONPATH, since its CLI only needs `import torch` to succeed), scaffolds a project with
#   `tipi create bench`, makes its process silent, writes configs of 1 and N no-op processes, then runs
#   Benchmarks/PipelineBenchmark, which times both pipelines (ours in-process, Python tipi as `tipi run`).
#   ./scripts/bench-pipeline.sh [REPEATS]      (default 3; BENCH_PROCESSES=N, default 20000;
#                                               BENCH_PYTHON_PROCESSES=M, default 200000;
#                                               BENCH_BUILD=release|debug, default release)
# Python tipi takes 2.5-3.5 s to start here, ±0.4 s from one start to the next: at 20,000 processes (about
# 0.5 s of its work) that is as large as what is measured, so it runs M = 200,000 (and ours too, for the ratio).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
processes="${BENCH_PROCESSES:-20000}"
python_processes="${BENCH_PYTHON_PROCESSES:-200000}"
for pair in "REPEATS=$repeats" "BENCH_PROCESSES=$processes" "BENCH_PYTHON_PROCESSES=$python_processes"; do
    value="${pair#*=}"
    if ! [[ "$value" =~ ^[0-9]+$ ]] || [ "$value" -lt 1 ] || { [ "${pair%%=*}" != REPEATS ] && [ "$value" -lt 2 ]; }; then
        echo "bench-pipeline.sh: ${pair%%=*} must be a whole number (at least 2 processes, 1 repeat), not '$value'" >&2
        exit 2
    fi
done
configuration="${BENCH_BUILD:-release}"
work="$(mktemp -d /tmp/tipi-bench-pipeline.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/stub/torch" "$work/home"
cat >"$work/stub/torch/__init__.py" <<'PY'
"""A stub: Python tipi's CLI needs only `import torch` to succeed (no tensor work is benchmarked)."""
class Tensor:  # scipy's array-api helpers look up torch.Tensor once torch is imported
    pass
PY
export PYTHONPATH="$work/stub" HOME="$work/home" WANDB_MODE=disabled
if ! .venv-bench/bin/python -c "import tipi.cli" 2>/dev/null; then
    [ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
    # Its declared dependencies less torch/torchvision/opencv (not needed by the CLI, torch stubbed).
    .venv-bench/bin/pip install --quiet --no-deps 'tensorimgpipeline==1.2.5'
    .venv-bench/bin/pip install --quiet typer rich jinja2 tqdm pydantic defusedxml numpy matplotlib polars scipy seaborn
fi
python_tipi="$PWD/.venv-bench/bin/tipi"
(cd "$work" && "$python_tipi" create bench --example basic >/dev/null)
# The scaffolded process prints a line per run: made silent, as ours is.
sed -i 's/print("Executing MyProcess")/pass/' "$work/bench/bench/processes.py"
grep -q 'print(' "$work/bench/bench/processes.py" && { echo "could not silence the scaffolded process" >&2; exit 1; }
"$python_tipi" add "$work/bench" >/dev/null
.venv-bench/bin/python - "$work" "$python_processes" <<'PY'
import sys
work, count = sys.argv[1], int(sys.argv[2])
head = open(f"{work}/bench/configs/pipeline_config.toml").read().split("[processes]")[0]
for n in (1, count):
    with open(f"{work}/p{n}.toml", "w") as f:
        f.write(head + "[processes]\n" + "".join(f'[processes.p{i}]\ntype = "MyProcess"\nforce = false\n' for i in range(n)))
PY
if [ "$configuration" = release ]; then
    swift build -c release --product PipelineBenchmark >/dev/null
    bench=.build/release/PipelineBenchmark
else
    swift build --product PipelineBenchmark >/dev/null
    bench=.build/debug/PipelineBenchmark
fi
"$bench" --repeats "$repeats" --processes "$processes" --python-tipi "$python_tipi" --python-configs "$work" \
    --python-processes "$python_processes"
