#!/usr/bin/env bash
# make-test-models.sh — regenerate the big whole-model references (torchvision resnet18,
# resnet50, mobilenet_v2, mobilenet_v3_small, efficientnet_b0 and the CNN14-style network:
# random weights, randomised BatchNorm statistics, PyTorch eval-mode outputs) that are too
# large to commit. The ctests whole_model_<name> read them and skip (exit 77) while absent.
#
# Usage: scripts/make-test-models.sh [--force] [OUT_DIR]
#   OUT_DIR   default $BL_TEST_MODELS_DIR, else build/test-models (what the ctests read
#             unless CMake was configured with -DBL_TEST_MODELS_DIR=...)
#   --force   regenerate even when up to date
# Python: $BL_PYTHON, else /usr/bin/python3 (Debian python3-torch + python3-torchvision;
# the onnx package is not needed). Idempotent: when OUT_DIR holds every model and the stamp
# file .generator-hash equals the hash of tests/models/make_whole_models.py plus the torch
# and torchvision versions, nothing is done. Takes 1-2 minutes on 2 cores; ~250 MB.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
gen="$root/tests/models/make_whole_models.py"
py="${BL_PYTHON:-/usr/bin/python3}"
force=0
out=""
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "make-test-models.sh: unknown option '$a' (see --help)" >&2; exit 1 ;;
    *) out="$a" ;;
  esac
done
out="${out:-${BL_TEST_MODELS_DIR:-$root/build/test-models}}"

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
  echo "make-test-models.sh: $py cannot import torch and torchvision;" \
       "install python3-torch python3-torchvision (apt) or set BL_PYTHON" >&2
  exit 1
fi
hash=$("$py" "$gen" --hash)
names=$("$py" "$gen" --names big)

complete=1
for n in $names; do
  for ext in onnx in.npy out.npy; do
    [ -s "$out/$n.$ext" ] || complete=0
  done
done
if [ "$force" = 0 ] && [ "$complete" = 1 ] && [ "$(cat "$out/.generator-hash" 2>/dev/null)" = "$hash" ]; then
  echo "make-test-models.sh: $out is up to date (generator $hash)"
  exit 0
fi

# Generate into a fresh folder beside OUT_DIR and move the files in only when all succeeded:
# an interrupted run never leaves a half-written model that a ctest would pick up.
mkdir -p "$out"
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
"$py" -W ignore "$gen" --big --out "$tmp"
for n in $names; do
  for ext in onnx in.npy out.npy; do
    mv -f "$tmp/$n.$ext" "$out/$n.$ext"
  done
done
echo "$hash" > "$out/.generator-hash"
echo "make-test-models.sh: wrote $(echo $names | wc -w) models to $out in $(( $(date +%s) - start )) s"
