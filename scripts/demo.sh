#!/usr/bin/env bash
# demo.sh — the Quickstart's first command: install what is missing, build, run the demo.
# Until `baleen run` lands, the demo job is: synthesize an hour of hydrophone-like audio
# with known calls (`baleen synth`), then compute its log-mel features (`baleen features`)
# with configs/demo.yaml's front end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
bash scripts/build.sh release
bin=build/release/baleen
mkdir -p demo
if [[ ! -f demo/demo.wav ]]; then
  "$bin" synth -o demo/demo.wav --seconds 3600 --calls 120 --seed 2026
fi
"$bin" config check configs/demo.yaml >/dev/null
t0=$(date +%s.%N)
"$bin" features demo/demo.wav --config configs/demo.yaml -o demo/demo_features.npy
t1=$(date +%s.%N)
python3 - "$t0" "$t1" <<'PY' 2>/dev/null || true
import sys
dt = float(sys.argv[2]) - float(sys.argv[1])
print(f"demo: 1 h of audio → log-mel features in {dt:.2f} s ({3600/dt:.0f}× realtime)")
PY
echo "demo: truth (first calls):"
head -n 6 demo/demo.truth.csv
echo "demo: features in demo/demo_features.npy; audio in demo/demo.wav"
