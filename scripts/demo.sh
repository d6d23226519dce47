#!/usr/bin/env bash
# demo.sh — the Quickstart's first command: install what is missing, build, then the demo job:
# synthesize an hour of hydrophone-like audio with known whale calls (`baleen synth`, first
# run only), scan it with the default model (`baleen run configs/demo.yaml`), and print the
# detections with precision and recall against the synth's truth file.
#
# Matching rule: an event matches a truth call of the same class (the truth's `kind`) on the
# same channel when their time spans overlap. Precision = matched events / events; recall =
# matched calls / calls.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ "${BL_DEMO_SKIP_BUILD:-0}" != 1 ]]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh release
fi
bin=${BALEEN:-build/release/baleen}
mkdir -p demo
if [[ ! -f demo/demo.wav ]]; then
  "$bin" synth -o demo/demo.wav --seconds 3600 --calls 120 --seed 2026
fi
rm -rf demo/out   # a fresh run each time (use --resume to continue an interrupted one)
"$bin" run configs/demo.yaml
echo
zstdcat demo/out/events/part-*.csv.zst > demo/events.csv
awk -F, '
  FNR == 1 { file++; next }                       # headers
  file == 1 { n_t++; tk[n_t] = $1; tc[n_t] = $2; ts[n_t] = $3; te[n_t] = $4; next }
  file == 2 {
    n_e++; ec = $3; ch = $2; s = $4 + 0; e = $5 + 0; hit = 0
    for (i = 1; i <= n_t; i++)
      if (tk[i] == ec && tc[i] == ch && ts[i] < e && te[i] > s) { hit = 1; found[i] = 1 }
    events[ec]++; if (hit) matched[ec]++
    if (n_e <= 15) printf "  %-10s ch%-2s %9.2f - %9.2f s  peak %.3f  %s\n", ec, ch, s, e, $6, hit ? "true call" : "false alarm"
  }
  END {
    if (n_e > 15) printf "  ... %d events in all (demo/events.csv)\n", n_e
    for (i = 1; i <= n_t; i++) { calls[tk[i]]++; if (found[i]) got[tk[i]]++ }
    printf "\n  %-10s %7s %7s %8s %10s %7s\n", "class", "calls", "events", "matched", "precision", "recall"
    for (k in calls) seen[k] = 1
    for (k in events) seen[k] = 1
    for (k in seen) {
      p = events[k] ? matched[k] / events[k] : 0; r = calls[k] ? got[k] / calls[k] : 0
      printf "  %-10s %7d %7d %8d %10.2f %7.2f\n", k, calls[k], events[k], matched[k], p, r
    }
  }' demo/demo.truth.csv demo/events.csv | { echo "demo: detections (first 15) and their match with the truth:"; cat; }
echo
echo "demo: segments in demo/out/segments/, events in demo/out/events/ (zstd CSV: zstdcat, pandas, DuckDB)"
