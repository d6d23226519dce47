#!/bin/sh
# train.sh — rebuild models/zoo/whalecall-small from nothing, with fixed seeds:
#   1. make_data.py   synth recordings (train/val/test seeds) -> baleen features -> .npy
#   2. train.py       CNN on those features (1 thread, seeded) -> model.onnx
#   3. evaluate.py    held-out test split with ONNX Runtime -> eval.json (+ table on stdout)
#   4. make_card.py   model.yaml and CARD.md from frontend.yaml, the training log and eval.json
# Needs: a built baleen (BALEEN=path, default build/ci/baleen), python with torch, onnx and
# onnxruntime (PYTHON=path, default .venv/bin/python). Scratch data goes to DATA (default
# build/h-train/data, ~0.4 GB). Takes about 15-25 minutes on one core.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
DATA=${DATA:-$ROOT/build/h-train/data}
OUT=${OUT:-$ROOT/models/zoo/whalecall-small}
cd "$ROOT/models/train"
"$PYTHON" make_data.py "$DATA"
"$PYTHON" train.py "$DATA" "$OUT"
"$PYTHON" evaluate.py "$DATA" "$OUT" --check-baleen
"$PYTHON" make_card.py "$DATA" "$OUT"
echo "train.sh: $OUT/model.onnx, model.yaml, CARD.md and eval.json written"
