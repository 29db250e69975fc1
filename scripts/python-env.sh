#!/usr/bin/env bash
# Creates .venv-test with the peers' own readers and servers the tests check Tipi's files against:
# TensorBoard (EventAccumulator), tbparse, wandb (its Go reader: `wandb leet inspect`) and MLflow (server);
# and Selenium, which drives Debian's Chromium in the dashboard's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${TIPI_TEST_VENV:-$PWD/.venv-test}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import tensorboard, tbparse, wandb, mlflow, selenium" 2>/dev/null; then
  exit 0
fi
echo "[python-env] installing tensorboard, tbparse, wandb, mlflow and selenium into $VENV (about 2 minutes)" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  'tensorboard==2.21.0' 'tbparse==0.0.9' 'wandb==0.31.0' 'mlflow==3.17.2' 'selenium==4.51.0'
