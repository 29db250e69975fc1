#!/usr/bin/env bash
# The sweep benchmarks, with their Python peers in the same run (Hydra and Optuna, in .venv-bench):
#   1. dispatch: N no-op points as a local sweep, against the same N `run`s started one after another by a
#      shell loop (what the points cost anyway: a process start each), and Hydra's multirun of N no-op jobs;
#   2. a 1,000-point grid submitted to Slurm (script written, sbatch returned: --detach), when sbatch answers;
#   3. search quality on Branin, 40 trials: Tipi's tpe and random against Optuna's TPE and random, the best
#      value of each over SEEDS seeds, and their medians.
#   ./scripts/bench-sweeps.sh [RUNS] [SEEDS]     (defaults 3 and 10; BENCH_POINTS=N, default 50)
# The fixture is a debug build: TipiPipeline needs swift-syntax, whose release build takes 10+ minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
seeds="${2:-10}"
points="${BENCH_POINTS:-50}"
if ! .venv-bench/bin/python -c "import hydra, optuna" 2>/dev/null; then
    [ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet 'hydra-core==1.3.8' 'optuna==5.0.0'
fi
python=.venv-bench/bin/python
swift build --product TipiPipelineFixture >/dev/null
swift build --product tipi >/dev/null
fixture="$PWD/.build/debug/TipiPipelineFixture"
tipi="$PWD/.build/debug/tipi"
work="$(mktemp -d /tmp/tipi-bench-sweeps.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export TIPI_DIR="$work/runs" TIPI_PROGRESS=off BENCH_WORK="$work"
cat >"$work/noop.toml" <<'TOML'
[pipeline]
enable_progress = false
[processes.p]
type = "announce"
TOML
cat >"$work/branin.toml" <<'TOML'
[pipeline]
enable_progress = false
[processes.opt]
type = "branin"
[sweep]
metric = "branin"
trials = 40
[sweep.params]
"processes.opt.params.x" = { distribution = "uniform", min = -5.0, max = 10.0 }
"processes.opt.params.y" = { distribution = "uniform", min = 0.0, max = 15.0 }
TOML
now() { date +%s.%N; }
values="$(seq -s, 0 $((points - 1)))"
results="$work/results.txt"
for run in $(seq 1 "$runs"); do
    start=$(now)
    for i in $(seq 0 $((points - 1))); do
        "$fixture" run "$work/noop.toml" --set "processes.p.params.count=$i" >/dev/null 2>&1
    done
    loop=$(echo "$(now) - $start" | bc)
    start=$(now)
    "$fixture" sweep "$work/noop.toml" --sweep "processes.p.params.count=$values" >/dev/null 2>&1
    sweep=$(echo "$(now) - $start" | bc)
    hydra=$("$python" Benchmarks/SweepBenchmark/peers.py hydra "$points" | awk '{print $4}')
    echo "run $run: $points points: shell loop of runs $loop s, tipi sweep $sweep s, hydra multirun $hydra s" | tee -a "$results"
    echo "loop $loop sweep $sweep hydra $hydra" >>"$work/dispatch.txt"
done
"$python" - "$work/dispatch.txt" "$points" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
n = int(sys.argv[2])
loop = statistics.median(float(r[1]) for r in rows)
sweep = statistics.median(float(r[3]) for r in rows)
hydra = statistics.median(float(r[5]) for r in rows)
print(f"dispatch, medians of {len(rows)} runs, {n} no-op points:")
print(f"  tipi sweep per point: {sweep / n * 1000:.1f} ms, its own cost over the process start: {(sweep - loop) / n * 1000:.1f} ms")
print(f"  a point's process start (shell loop of runs): {loop / n * 1000:.1f} ms")
print(f"  hydra multirun per job: {hydra / n * 1000:.1f} ms; hydra / tipi (per point): {hydra / sweep:.2f}x")
PY

if command -v sbatch >/dev/null 2>&1 && sinfo -h >/dev/null 2>&1; then
    grid="$(seq -s, 0 999)"
    for run in $(seq 1 "$runs"); do
        start=$(now)
        out="$("$fixture" sweep "$work/noop.toml" --launcher slurm --detach --sweep "processes.p.params.count=$grid" 2>&1)"
        seconds=$(echo "$(now) - $start" | bc)
        job="$(sed -n 's/.*as job array \([0-9]*\).*/\1/p' <<<"$out")"
        [ -n "$job" ] && scancel "$job"
        echo "slurm: 1000-point grid submitted (script written, sbatch returned) in $seconds s (job $job)"
    done
else
    echo "slurm: sbatch/sinfo not answering; the submission benchmark is skipped (scripts/slurm-local.sh start)"
fi

for method in tpe random; do
    bests=()
    for seed in $(seq 0 $((seeds - 1))); do
        out="$("$fixture" sweep "$work/branin.toml" --method "$method" --seed "$seed" 2>/dev/null || true)"
        id="$(sed -n 's/^sweep \(sw-[a-z0-9]*\): .*/\1/p' <<<"$out" | head -n1)"
        bests+=("$("$tipi" sweeps show "$id" --json | "$python" -c 'import json,sys; print(json.load(sys.stdin)["best"]["value"])')")
    done
    echo "tipi-$method ${bests[*]}" >>"$work/quality.txt"
done
"$python" Benchmarks/SweepBenchmark/peers.py optuna "$seeds" >>"$work/quality.txt"
"$python" - "$work/quality.txt" <<'PY'
import statistics, sys
print("search quality: Branin (minimum 0.397887), 40 trials; best value per seed, then the median")
for line in open(sys.argv[1]):
    name, *values = line.split()
    values = [float(v) for v in values]
    print(f"  {name:14} median {statistics.median(values):.4f}   ({', '.join(f'{v:.3f}' for v in values)})")
PY
