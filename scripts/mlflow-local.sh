#!/usr/bin/env bash
# A local MLflow tracking server (SQLite backend) on 127.0.0.1 for the tests.
#
#   scripts/mlflow-local.sh start    start it in the background (installs the test venv if needed), wait for /health
#   scripts/mlflow-local.sh stop     stop it (its whole process group)
#   scripts/mlflow-local.sh status
#
# Environment (defaults): MLFLOW_PORT=5055  MLFLOW_DIR=/tmp/tipi-mlflow  TIPI_TEST_VENV=<repo>/.venv-test
# Adapted from the project's feasibility notes: MLflow 3 needs the full `mlflow` package (mlflow-skinny has
# no server), MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false stops its idle job runner, and setsid lets `stop`
# end the uvicorn workers too.
set -euo pipefail
cd "$(dirname "$0")/.."

CMD="${1:-start}"
PORT="${MLFLOW_PORT:-5055}"
DIR="${MLFLOW_DIR:-/tmp/tipi-mlflow}"
VENV="${TIPI_TEST_VENV:-$PWD/.venv-test}"
PIDF="$DIR/server.pid"
BASE="http://127.0.0.1:$PORT"

log() { printf '[mlflow-local] %s\n' "$*" >&2; }
running() { [ -r "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }
healthy() { curl -sf "$BASE/health" >/dev/null 2>&1; }

start() {
  mkdir -p "$DIR/artifacts"
  [ -x "$VENV/bin/mlflow" ] || scripts/python-env.sh
  if running && healthy; then log "already running on $BASE (pid $(cat "$PIDF"))"; return 0; fi
  if running; then stop; fi
  if healthy; then log "port $PORT answers but is not ours; set MLFLOW_PORT"; exit 1; fi
  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
  setsid "$VENV/bin/mlflow" server \
      --host 127.0.0.1 --port "$PORT" \
      --backend-store-uri "sqlite:///$DIR/mlflow.db" \
      --default-artifact-root "$DIR/artifacts" \
      --artifacts-destination "$DIR/artifacts" \
      --workers 1 \
      >>"$DIR/server.log" 2>&1 </dev/null &
  echo $! >"$PIDF"
  for _ in $(seq 1 360); do            # up to 90 s (a first start creates the database)
    healthy && { log "ready on $BASE (pid $(cat "$PIDF"))"; return 0; }
    running || break
    sleep 0.25
  done
  log "the server did not become healthy; tail of $DIR/server.log:"; tail -n 30 "$DIR/server.log" >&2
  exit 1
}

stop() {
  if running; then
    local pid; pid="$(cat "$PIDF")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    log "stopped (pid $pid)"
  fi
  rm -f "$PIDF"
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) if running && healthy; then echo "running pid $(cat "$PIDF") on $BASE, version $(curl -s "$BASE/version")"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
