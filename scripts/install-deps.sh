#!/usr/bin/env bash
# install-deps.sh — install every Debian package that baleen's build, tests and demo need.
# Idempotent and non-interactive: does nothing when all are present; otherwise runs
# `apt-get update` then installs the missing ones. Works with or without the CUDA toolkit
# (nvcc from NVIDIA under /usr/local/cuda enables the CUDA backend; without it baleen builds
# CPU-only). Usage: scripts/install-deps.sh [--tests | --bench]
#   (none)   what the build and the demo need (baleen itself needs no Python)
#   --tests  + what the test suite needs: clang (fuzz targets), Debian's CPU PyTorch and
#            torchvision (big whole-model references), a venv with `onnx` (ONNX node tests)
#   --bench  + the Python peers of bench/: torchaudio, librosa, onnxruntime, soundfile
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config git ca-certificates
            libsndfile1-dev libsoxr-dev libcurl4-openssl-dev libyaml-dev libzstd-dev zstd
            libkissfft-dev libdnnl-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev)
# Tests: clang for the libFuzzer targets (scripts/fuzz.sh); Debian's CPU PyTorch and torchvision
# regenerate the big whole-model references (scripts/make-test-models.sh); a venv with the
# `onnx` package provides the official ONNX backend node tests (tests/onnx_conformance/).
TEST_PKGS=(clang libclang-rt-14-dev python3 python3-venv python3-numpy python3-torch python3-torchvision)
BENCH_PKGS=(python3-torchaudio hyperfine)

want=("${BUILD_PKGS[@]}")
tests=0 bench=0
case "${1:-}" in
  "") ;;
  --tests) tests=1 ;;
  --bench) tests=1; bench=1 ;;
  *) echo "install-deps: unknown option '$1' (use --tests or --bench)" >&2; exit 1 ;;
esac
((tests)) && want+=("${TEST_PKGS[@]}")
((bench)) && want+=("${BENCH_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: all Debian packages present"
fi

# nvcc is often installed without being on PATH.
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "install-deps: CUDA toolkit found at /usr/local/cuda (add /usr/local/cuda/bin to PATH)"
fi

((tests)) || exit 0
# Python venv (developer tools and tests only; baleen itself never needs Python).
# numpy<2: Debian's torch 1.13 is built against numpy 1.x. A PyPI that cannot be reached is a
# warning, not a failure: the ONNX node tests then skip and say why.
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -x "$root/.venv/bin/python" ]]; then
  /usr/bin/python3 -m venv --system-site-packages "$root/.venv"
fi
pip_install() {
  "$root/.venv/bin/pip" install -q "$@" ||
    echo "install-deps: WARNING: pip could not install $* (PyPI unreachable?); tests that need it will skip" >&2
}
"$root/.venv/bin/python" -c 'import onnx' 2>/dev/null || pip_install 'numpy<2' onnx
if ((bench)); then
  "$root/.venv/bin/python" -c 'import librosa, onnxruntime, soundfile' 2>/dev/null ||
    pip_install 'numpy<2' librosa onnxruntime soundfile
fi
