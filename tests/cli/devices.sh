#!/bin/sh
# devices.sh — the CUDA module loader (core/cudamod.c) and `baleen devices`, driven by
# tests/cmake/devices.cmake: `devices.sh BALEEN SOURCE_DIR WORK_DIR FAKE_DIR CASE`. FAKE_DIR
# holds the stand-in modules of tests/cuda/fake_module.c. Each refusal must name its reason;
# the real module (when this build has one) must load and say whether a GPU answers.
set -u
bin=$1 src=$2 work=$3 fake=$4 case=$5
rm -rf "$work"; mkdir -p "$work" || exit 90
cd "$work" || exit 90
fail() { echo "FAIL: $*"; exit 1; }
case $case in
listing)
  "$bin" devices > d.txt || fail "devices: exit $?"
  grep -q '^  cpu   yes' d.txt || fail "no cpu line: $(cat d.txt)"
  grep -q '^  cuda  ' d.txt || fail "no cuda line: $(cat d.txt)"
  if [ -e "$(dirname "$bin")/libbaleen_cuda.so" ]; then
    # the real module: accepted, probed; here either a GPU answers or the reason says why not
    grep -q 'cuda module: .*libbaleen_cuda.so (ABI' d.txt || fail "the real module was not accepted: $(cat d.txt)"
    grep -q 'cuda  yes\|no NVIDIA driver\|no CUDA device\|too old' d.txt || fail "no verdict: $(cat d.txt)"
    grep -q 'versions:    driver .*runtime .*cuFFT .*cuDNN .*cuBLAS' d.txt || fail "no versions: $(cat d.txt)"
  else
    grep -q 'no CUDA module' d.txt || fail "no module, but: $(cat d.txt)"
  fi
  # the binary itself needs no CUDA library
  ldd "$bin" | grep -qi 'cuda\|cufft\|cudnn\|cublas' && fail "ldd baleen lists a CUDA library"
  ;;
refusals)
  BL_CUDA_MODULE=$PWD/missing.so "$bin" devices > d1.txt
  grep -q "no CUDA module at $PWD/missing.so" d1.txt || fail "missing module: $(cat d1.txt)"
  echo "not a library" > broken.so
  BL_CUDA_MODULE=$PWD/broken.so "$bin" devices > d2.txt
  grep -q 'cannot be loaded' d2.txt || fail "broken module: $(cat d2.txt)"
  BL_CUDA_MODULE=$fake/libbl_fake_abi.so "$bin" devices > d3.txt
  grep -q 'ABI version is 999' d3.txt || fail "ABI mismatch: $(cat d3.txt)"
  BL_CUDA_MODULE=$fake/libbl_fake_build.so "$bin" devices > d4.txt
  grep -q 'built from baleen 0.0.0-other' d4.txt || fail "other build: $(cat d4.txt)"
  BL_CUDA_MODULE=$fake/libbl_fake_none.so "$bin" devices > d5.txt
  grep -q 'is not a baleen CUDA module' d5.txt || fail "no entry points: $(cat d5.txt)"
  ;;
run)
  # `run` says why it falls back to the CPU, and --backend cuda is refused with the reason
  mkdir -p model audio
  cp "$src/tests/data/models/small_cnn.onnx" model/model.onnx
  cp "$src/tests/data/cards/small_cnn/model.yaml" model/model.yaml
  "$bin" -q synth -o audio/a.wav --seconds 3 --rate 8000 --seed 1 || exit 92
  printf 'sources: [audio]\nmodel: model\nruntime: {progress: none}\n' > r.yaml
  BL_CUDA_MODULE=$fake/libbl_fake_abi.so "$bin" run r.yaml -o o1 2> e1.txt || fail "auto run: $(cat e1.txt)"
  grep -q 'backend auto: cpu (the CUDA module .* ABI version is 999' e1.txt || fail "auto: $(cat e1.txt)"
  BL_CUDA_MODULE=$fake/libbl_fake_abi.so "$bin" run r.yaml -o o2 --backend cuda 2> e2.txt; rc=$?
  [ $rc -eq 1 ] && grep -q 'runtime.backend cuda: the CUDA module' e2.txt || fail "--backend cuda: exit $rc $(cat e2.txt)"
  [ ! -e o2 ] || fail "a refused backend created its output"
  # run.json and the fingerprint hold the resolved backend: auto resumes as cpu
  grep -q '"backend": "cpu"' o1/run.json || fail "run.json backend"
  "$bin" -q run r.yaml -o o1 --backend cpu --resume || fail "resume of an auto run with --backend cpu"
  ;;
*) echo "unknown case $case"; exit 99 ;;
esac
exit 0
