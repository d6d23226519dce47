#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets with clang (preset fuzz: ASan + UBSan) and run each
# for SECONDS (default 60) from its seed corpus under tests/fuzz/corpus/<name>/.
# New interesting inputs go to build/fuzz/corpus/<name>/ (not committed); crashes to
# build/fuzz/crash-*. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-60}; shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "${f%.c}")"); done
fi
for t in "${targets[@]}"; do
  short=${t#fuzz_}
  mkdir -p "build/fuzz/corpus/$short"
  echo "== $t for ${secs}s =="
  (cd build/fuzz && ASAN_OPTIONS=detect_leaks=1 "./tests/$t" -max_total_time="$secs" -max_len=65536 \
      -print_final_stats=1 "corpus/$short" "$root/tests/fuzz/corpus/$short" 2>&1 | tail -n 12)
done
