#!/usr/bin/env bash
# Level 3 on a machine with NVIDIA GPUs: what `tipi devices` sees beside `nvidia-smi`, the level-3 example,
# two processes racing for claims, and the CPU fallback when another program fills the GPUs.
#
#   scripts/device-check.sh [TIPI] [LEVEL3]
#
# TIPI and LEVEL3 default to the release builds (`swift build -c release --product tipi`, `--product Level3`);
# on a machine without Swift, pass binaries built elsewhere with `--static-swift-stdlib`. The memory-pressure
# step needs python3 with torch (skipped, and said so, without it). Everything runs in a temporary folder:
# runs go to its store, claims to its own claims directory. docs/devices.md records one run of this script.
set -u
tipi=$(realpath "${1:-.build/release/tipi}")
level3=$(realpath "${2:-.build/release/Level3}")
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
export TIPI_DIR="$work/store" TIPI_CLAIMS_DIR="$work/claims"

step() { printf '\n== %s\n' "$*"; }
# The median of five runs of a command, in milliseconds.
median_ms() {
    local times=()
    for _ in 1 2 3 4 5; do
        local start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        times+=($(( ($(date +%s%N) - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{ printf "%.1f ms\n", $1 / 1000 }'
}

step "machine"
date -u '+%Y-%m-%d %H:%M UTC'
uname -srm
"$tipi" --version

step "nvidia-smi"
nvidia-smi
nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu --format=csv,noheader,nounits

step "tipi devices (NVML)"
"$tipi" devices
step "tipi devices --json (NVML)"
"$tipi" devices --json
step "TIPI_NVML=0 tipi devices --json (nvidia-smi)"
TIPI_NVML=0 "$tipi" devices --json

step "time to answer, median of 5"
echo "tipi devices, NVML:       $(median_ms "$tipi" devices)"
echo "tipi devices, nvidia-smi: $(TIPI_NVML=0 median_ms "$tipi" devices)"
echo "nvidia-smi --query-gpu:   $(median_ms nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu --format=csv,noheader,nounits)"

step "CUDA_VISIBLE_DEVICES"
uuid=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1)
echo "CUDA_VISIBLE_DEVICES='' (every GPU hidden):"
CUDA_VISIBLE_DEVICES= "$tipi" devices
echo "CUDA_VISIBLE_DEVICES=${uuid:0:12} (a UUID prefix):"
CUDA_VISIBLE_DEVICES="${uuid:0:12}" "$tipi" devices
echo "CUDA_VISIBLE_DEVICES=7 (no such GPU):"
CUDA_VISIBLE_DEVICES=7 "$tipi" devices

step "the level-3 example (5 epochs)"
"$level3" 5 2>&1 | grep -E "training on|accuracy|warning"
"$tipi" runs --project spirals
"$tipi" runs show --json "$("$tipi" runs --project spirals --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print("recorded device:", json.dumps(r.get("device")), "fallback:", r.get("deviceFallback"))'

step "two processes racing for claims (each holds its claim 4 s)"
"$tipi" devices --claim 4 >"$work/claim1" 2>&1 &
"$tipi" devices --claim 4 >"$work/claim2" 2>&1 &
sleep 1.5
echo "while both hold their claims:"
"$tipi" devices
wait
echo "first:"; cat "$work/claim1"
echo "second:"; cat "$work/claim2"
ls -l "$work/claims"

step "another program holds 85% of every GPU's memory (torch)"
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    python3 - "$work/filled" <<'EOF' &
import pathlib, sys, time, torch
held = []
for index in range(torch.cuda.device_count()):
    free, total = torch.cuda.mem_get_info(index)
    held.append(torch.empty(int(total * 0.85), dtype=torch.uint8, device=f"cuda:{index}"))
pathlib.Path(sys.argv[1]).write_text("filled")
time.sleep(60)
EOF
    for _ in $(seq 600); do [ -e "$work/filled" ] && break; sleep 0.1; done
    "$tipi" devices
    echo "the level-3 example (1 epoch):"
    "$level3" 1 2>&1 | grep -E "training on|accuracy|warning"
    "$tipi" runs show --json "$("$tipi" runs --project spirals --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')" |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print("recorded device:", json.dumps(r.get("device")), "fallback:", r.get("deviceFallback"))'
    echo "with TIPI_MAX_MEMORY_USAGE=0.95:"
    TIPI_MAX_MEMORY_USAGE=0.95 "$tipi" devices
    kill %1 2>/dev/null
    wait 2>/dev/null
else
    echo "skipped: no python3 with torch and a GPU"
fi
