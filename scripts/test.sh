#!/usr/bin/env bash
# Builds everything and runs the whole test suite. This is the README's test command and what CI runs.
# It installs and starts what the tests need first, so it works on a fresh machine:
#   - .venv-test: TensorBoard, tbparse, wandb and MLflow, whose own readers check Tipi's files;
#   - a local MLflow server on 127.0.0.1:5055 (stopped again at the end if this script started it);
#   - a single-node Slurm cluster (scripts/slurm-local.sh, as root), for the sweep tests;
#   - the fuzz targets, run for TIPI_FUZZ_SECONDS (default 60) each with libFuzzer (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH (Tipi needs Swift 6.2 or newer: https://swift.org/install)" >&2
    exit 1
fi
need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# The MLflow client's HTTPS test: a self-signed certificate (openssl) served by Python's ssl module.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
# The dashboard's browser tests: headless Chromium and its WebDriver (Debian's packages; nothing downloaded).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "[test] installing ${need_apt[*]} with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

scripts/python-env.sh
started_mlflow=0
if ! scripts/mlflow-local.sh status >/dev/null 2>&1; then
    scripts/mlflow-local.sh start
    started_mlflow=1
fi
if [ "$started_mlflow" = 1 ] || [ "${CI:-}" = true ]; then
    trap 'scripts/mlflow-local.sh stop' EXIT
fi
# A single-node Slurm cluster for the sweep tests (needs root and apt; Debian's slurm-wlm). Without it the
# Slurm tests skip; under CI=true they fail, so CI stops here when it cannot start.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    scripts/slurm-local.sh start || [ "${CI:-}" != true ]
elif [ "${CI:-}" = true ]; then
    echo "error: the Slurm tests need root to start scripts/slurm-local.sh" >&2
    exit 1
fi
export TIPI_TEST_VENV="$PWD/.venv-test" TIPI_TEST_MLFLOW_URI="http://127.0.0.1:${MLFLOW_PORT:-5055}"

# The non-terminal bars, tracking and devices are tested on the real executables, so build them first.
swift build
# Each fuzz target for a bounded time (TIPI_FUZZ_SECONDS, default 60; 0 skips them): a crash fails the run.
if [ "${TIPI_FUZZ_SECONDS:-60}" != 0 ]; then
    scripts/fuzz.sh "${TIPI_FUZZ_SECONDS:-60}"
fi
# The DocC catalog, with warnings as errors (so symbol links stay right); ~1 min on two cores.
swift package generate-documentation --target Tipi --warnings-as-errors
swift test
