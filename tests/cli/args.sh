#!/bin/sh
# args.sh — CLI tests of the command-line options (core/cli_args.c and the core/cmd_*.c that
# use it) and of a stopped `baleen synth` (core/synth.c), driven by tests/cmake/cli_args.cmake:
# `args.sh BALEEN SOURCE_DIR WORK_DIR CASE`. Exit 0 = pass; any other code names the check.
set -u
bin=$1 src=$2 work=$3 case=$4
rm -rf "$work"; mkdir -p "$work" || exit 90
cd "$work" || exit 90

# a small run: the tests/data small_cnn model and one 6 s file
setup_run() {
  mkdir -p model audio
  cp "$src/tests/data/models/small_cnn.onnx" model/model.onnx || exit 91
  cp "$src/tests/data/cards/small_cnn/model.yaml" model/model.yaml || exit 91
  "$bin" -q synth -o audio/a.wav --seconds 6 --rate 8000 --calls 1 --seed 1 || exit 92
  printf 'sources: [audio]\nmodel: model\nevents: {threshold: 0.5, threshold_off: 0.4}\nruntime: {threads: 1, progress: none}\n' > run.yaml
}

# wait_exit PID SECONDS: 0 when PID ended within SECONDS, else kill -9 it and return 1
wait_exit() {
  i=0
  while kill -0 "$1" 2>/dev/null; do
    [ $i -lt $(($2 * 20)) ] || { kill -9 "$1"; return 1; }
    sleep 0.05; i=$((i + 1))
  done
  return 0
}

case $case in
twice)
  # issue 10 item 15: five value options; the second -o used to push --progress json out
  setup_run
  "$bin" run run.yaml -o A --backend cpu --threads 2 --progress json -o B 2> err.txt; rc=$?
  [ $rc -eq 1 ] || { echo "exit $rc"; cat err.txt; exit 1; }
  grep -q "given twice" err.txt || { cat err.txt; exit 2; }
  grep -q "'-o A' (argument 2)" err.txt && grep -q "'-o B' (argument 10)" err.txt || { cat err.txt; exit 3; }
  [ ! -e A ] && [ ! -e B ] || exit 4
  # any spelling: --output=B is the same option
  "$bin" run run.yaml -o A --output=B --dry-run > /dev/null 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q "'--output=B'" err.txt || { echo "exit $rc"; cat err.txt; exit 5; }
  # a repeated --set is fine (repeatable), a repeated flag is not
  "$bin" run run.yaml --dry-run --dry-run > /dev/null 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q "dry-run given twice" err.txt || { echo "exit $rc"; cat err.txt; exit 6; }
  ;;
once)
  # the same options once each: every one takes effect, in the plan and in run.json
  setup_run
  "$bin" run run.yaml -o A --backend cpu --threads 2 --progress json --set batch.size=3 --set events.threshold=0.6 \
    --dry-run > plan.txt || { cat plan.txt; exit 1; }
  for want in '  dir: A' '  backend: cpu' '  threads: 2' '  progress: json' '  size: 3' '  threshold: 0.6'; do
    grep -qx "$want" plan.txt || { echo "plan lacks '$want'"; cat plan.txt; exit 2; }
  done
  [ ! -e A ] || exit 3
  # (the writer waits 1.5 s: a json progress object is printed every second)
  BL_TEST_ITEM_DELAY_MS=1500 "$bin" run run.yaml --output=A --backend=cpu --threads=2 --progress=json 2> progress.txt ||
    { cat progress.txt; exit 4; }
  grep -q 'threads: 2\\nprogress: json' A/run.json || grep -q 'threads: 2\\n  progress: json' A/run.json || {
    cat A/run.json; exit 5; }
  grep -q '^{' progress.txt || { echo "no json progress on stderr"; cat progress.txt; exit 6; }
  ;;
flags)
  # a flag's bad value names the flag as typed, not the --set it becomes
  setup_run
  "$bin" run run.yaml -o out --backend gpu 2> err.txt; rc=$?
  [ $rc -eq 1 ] || { echo "exit $rc"; cat err.txt; exit 1; }
  grep -q -- '--backend gpu: .*auto, cpu, cuda' err.txt || { cat err.txt; exit 2; }
  grep -q -- '--set\|runtime\.backend' err.txt && { cat err.txt; exit 3; }
  "$bin" run run.yaml -o out --threads=many 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- '--threads many: ' err.txt || { echo "exit $rc"; cat err.txt; exit 4; }
  grep -q -- '--set' err.txt && { cat err.txt; exit 5; }
  "$bin" run run.yaml --progress loud -o out 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- '--progress loud: .*json' err.txt || { echo "exit $rc"; cat err.txt; exit 6; }
  "$bin" run run.yaml -o '' 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- "-o '': " err.txt || { echo "exit $rc"; cat err.txt; exit 7; }
  [ ! -e out ] || exit 8
  # unknown options: a hint when one is close
  "$bin" run run.yaml --thread 2 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q 'did you mean --threads' err.txt || { echo "exit $rc"; cat err.txt; exit 9; }
  "$bin" run run.yaml -o --resume 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- '--output=--resume' err.txt || { echo "exit $rc"; cat err.txt; exit 10; }
  ;;
set)
  # a bad --set names the --set argument, never a place in a YAML file
  setup_run
  "$bin" run run.yaml --set batch.size=abc --dry-run 2> err.txt; rc=$?
  [ $rc -eq 1 ] || { echo "exit $rc"; cat err.txt; exit 1; }
  grep -q -- '--set batch.size=abc' err.txt || { cat err.txt; exit 2; }
  grep -q 'yaml:[0-9]' err.txt && { cat err.txt; exit 3; }
  # a --set that breaks a rule with a key of the file: the --set is named (first)
  "$bin" run run.yaml --set events.threshold=0.3 --dry-run 2> err.txt; rc=$?
  [ $rc -eq 1 ] || { echo "exit $rc"; cat err.txt; exit 4; }
  grep -q -- 'error: run: --set events.threshold=0.3 and run.yaml:3:' err.txt || { cat err.txt; exit 5; }
  "$bin" config check run.yaml --set events.threshold=0.3 > /dev/null 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- '--set events.threshold=0.3' err.txt || { echo "exit $rc"; cat err.txt; exit 6; }
  # ... and one that breaks a rule with the model card's front end
  "$bin" run run.yaml --set frontend.n_fft=128 --set frontend.win_length=200 --dry-run 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- '--set frontend.win_length=200' err.txt || { echo "exit $rc"; cat err.txt; exit 7; }
  ;;
long)
  # no fixed-size buffer for what the user typed: a 1500-byte -o and a 20 kB command line
  setup_run
  d=o; for i in 1 2 3 4 5 6; do d="$d/$(printf "%0240d" $i)"; done
  "$bin" run run.yaml -o "$d" --dry-run > plan.txt || exit 1
  grep -qx "  dir: $d" plan.txt || { echo "-o cut short"; grep 'dir:' plan.txt; exit 2; }
  set --
  i=0; while [ $i -lt 600 ]; do set -- "$@" --set runtime.files_in_flight=2; i=$((i + 1)); done
  "$bin" -q run run.yaml -o out "$@" --set runtime.files_in_flight=3 2> err.txt || { cat err.txt; exit 3; }
  grep -q 'runtime.files_in_flight=2 --set runtime.files_in_flight=3"' out/run.json || {
    echo "run.json's command line is cut short"; exit 4; }
  grep -q '  files_in_flight: 3' out/run.json || grep -q 'files_in_flight: 3' out/run.json || exit 5
  ;;
duration)
  setup_run
  "$bin" features audio/a.wav -o f.npy --duration 0 2> err.txt; rc=$?
  [ $rc -eq 1 ] || { echo "exit $rc"; cat err.txt; exit 1; }
  grep -q -- '--duration 0: .*> 0' err.txt || { cat err.txt; exit 2; }
  [ ! -e f.npy ] || exit 3
  "$bin" features audio/a.wav -o f.npy --duration -1 2> /dev/null; [ $? -eq 1 ] || exit 4
  "$bin" features audio/a.wav -o f.npy --duration=2 -o g.npy 2> err.txt; rc=$?
  [ $rc -eq 1 ] && grep -q 'given twice' err.txt || { echo "exit $rc"; cat err.txt; exit 5; }
  # absent: to the end (6 s at the default 16 kHz, hop 300: 321 frames); --duration 2: 107
  "$bin" -q features audio/a.wav -o f.npy || exit 6
  head -c 128 f.npy | grep -q "'shape': (1, 64, 321)" || { head -c 128 f.npy; exit 7; }
  "$bin" -q features audio/a.wav -o g.npy --duration 2 || exit 8
  head -c 128 g.npy | grep -q "'shape': (1, 64, 107)" || { head -c 128 g.npy; exit 9; }
  ;;
synth_stop)
  # SIGTERM and SIGINT stop a long synth: exit 3, a message, nothing left behind (the
  # unnamed temporary, and the named one of filesystems without O_TMPFILE)
  mkdir d && : > d/existing.txt
  n=0
  for sig in TERM INT; do
    for named in 0 1; do
      n=$((n + 1))
      if [ $named = 1 ]; then
        BL_TEST_NO_TMPFILE=1 "$bin" synth -o d/big.wav --seconds 36000 --rate 48000 2> err.txt &
      else
        "$bin" synth -o d/big.wav --seconds 36000 --rate 48000 2> err.txt &
      fi
      pid=$!
      sleep 0.5
      kill -0 $pid 2>/dev/null || { echo "synth ended before the signal"; cat err.txt; exit $((10 * n + 1)); }
      [ $named = 0 ] || ls d | grep -q 'big.wav.tmp-' || { echo "no named temporary"; ls d; exit $((10 * n + 2)); }
      kill -$sig $pid
      wait_exit $pid 20 || { echo "SIG$sig did not stop synth"; exit $((10 * n + 3)); }
      wait $pid; rc=$?
      [ $rc -eq 3 ] || { echo "SIG$sig, named=$named: exit $rc"; cat err.txt; exit $((10 * n + 4)); }
      grep -q 'interrupted' err.txt || { cat err.txt; exit $((10 * n + 5)); }
      [ "$(ls -A d)" = existing.txt ] || { echo "SIG$sig, named=$named left:"; ls -A d; exit $((10 * n + 6)); }
    done
  done
  # kill -9: where the filesystem has O_TMPFILE (no named temporary while it runs), nothing
  # is left either
  "$bin" synth -o d/big.wav --seconds 36000 --rate 48000 2> err.txt &
  pid=$!
  sleep 0.5
  if [ "$(ls -A d)" = existing.txt ]; then
    kill -9 $pid; wait $pid 2>/dev/null
    [ "$(ls -A d)" = existing.txt ] || { echo "kill -9 left:"; ls -A d; exit 91; }
  else
    echo "note: no O_TMPFILE here ($(ls -A d | tr '\n' ' ')); kill -9 check skipped"
    kill -9 $pid; wait $pid 2>/dev/null
  fi
  # and an uninterrupted synth still writes both files
  "$bin" -q synth -o d/s.wav --seconds 3 --rate 8000 || exit 92
  [ -s d/s.wav ] && [ -s d/s.truth.csv ] || { ls -A d; exit 93; }
  [ "$(ls -A d | grep -c tmp)" -eq 0 ] || { ls -A d; exit 94; }
  ;;
*) echo "unknown case $case"; exit 99 ;;
esac
exit 0
