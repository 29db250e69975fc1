#!/usr/bin/env bash
# Builds everything and runs the whole test suite. This is the README's test command and what CI runs.
# It installs what the tests need first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH (Tipi needs Swift 6.2 or newer: https://swift.org/install)" >&2
    exit 1
fi

# The non-terminal behaviour of the bars is tested on the real `tipi` executable, so build it first.
swift build
swift test
