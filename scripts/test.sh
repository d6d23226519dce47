#!/usr/bin/env bash
# test.sh — the whole test suite, as CI runs it (.ci/run calls this script verbatim):
#   1. install what is missing (scripts/install-deps.sh --tests),
#   2. release build (CUDA language on when nvcc is present; warnings are errors) + ctest,
#   3. debug build with AddressSanitizer and UBSan + the same ctest.
# GPU tests (label gpu) skip with exit 77 where no device answers.
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh --tests
start=$(date +%s)
# Big whole-model references (resnet18/50, mobilenet, efficientnet, CNN14): regenerated, not
# committed; idempotent.
bash scripts/make-test-models.sh

echo "== release build (preset ci) =="
bash scripts/build.sh ci
ctest --preset ci -j "$(nproc)"

if [[ "${1:-}" != "--no-sanitize" ]]; then
  echo "== ASan/UBSan build (preset debug-asan) =="
  bash scripts/build.sh debug-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset debug-asan -j "$(nproc)"
fi
echo "test.sh: all suites passed in $(( $(date +%s) - start )) s"
