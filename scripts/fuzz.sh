#!/usr/bin/env bash
# Runs Tipi's fuzz targets with libFuzzer for a bounded time each, starting from the seed corpus in
# Fuzz/Corpus/<target>. Usage: scripts/fuzz.sh [SECONDS per target, default 60] [TARGET …]
# Targets: nvidia-smi, metric-log, config. A crash fails the script and leaves the input in
# .fuzz-work/<target>/crash-*; new interesting inputs stay in .fuzz-work/<target>/corpus (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(nvidia-smi metric-log config)

product() {
    case "$1" in
        nvidia-smi) echo FuzzNvidiaSMI ;;
        metric-log) echo FuzzMetricLog ;;
        config) echo FuzzConfig ;;
        *) echo "fuzz.sh: unknown target '$1' (nvidia-smi, metric-log, config)" >&2; exit 2 ;;
    esac
}

status=0
for target in "${targets[@]}"; do
    name=$(product "$target")
    echo "[fuzz] building $name with libFuzzer" >&2
    swift build --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -DTIPI_FUZZ --product "$name" 2>&1 \
        | grep -E "error|warning: unhandled|Compiling $name|Build complete" >&2 || true
    binary=".build-fuzz/debug/$name"
    [ -x "$binary" ] || { echo "[fuzz] $name did not build" >&2; exit 1; }
    work=".fuzz-work/$target"
    mkdir -p "$work/corpus"
    log="$work/fuzz.log"
    echo "[fuzz] $target for ${seconds}s" >&2
    if (cd "$work" && SWIFT_BACKTRACE=enable=no "../../$binary" -artifact_prefix=./ -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
            -max_len=65536 -print_final_stats=1 corpus "../../Fuzz/Corpus/$target") >"$log" 2>&1; then
        runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
        echo "[fuzz] $target: $runs inputs, 0 crashes" >&2
    else
        echo "[fuzz] $target: FAILED (see $log)" >&2
        grep -E "ERROR|Fatal error|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
        status=1
    fi
done
exit $status
