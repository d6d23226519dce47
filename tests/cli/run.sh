#!/bin/sh
# run.sh — CLI tests of `baleen run` (core/cmd_run.c, core/pipeline.c), driven by
# tests/cmake/run.cmake: `run.sh BALEEN SOURCE_DIR WORK_DIR CASE`.
# Each case builds a small model folder (tests/data small_cnn: 8 kHz, 16 mels, 3 classes) and a
# few short synthesized files, runs baleen several ways and compares the chunk files byte for
# byte (cmp), or the scores within a tolerance. Exit 0 = pass; any other code names the check.
set -u
bin=$1 src=$2 work=$3 case=$4
rm -rf "$work"; mkdir -p "$work" || exit 90
cd "$work" || exit 90
mkdir -p model audio
cp "$src/tests/data/models/small_cnn.onnx" model/model.onnx || exit 91
cp "$src/tests/data/cards/small_cnn/model.yaml" model/model.yaml || exit 91
q() { "$bin" -q "$@"; }
q synth -o audio/a.wav --seconds 20 --rate 8000 --calls 4 --seed 1 || exit 92
q synth -o audio/b.wav --seconds 13 --rate 16000 --calls 3 --seed 2 --channels 2 || exit 92
q synth -o audio/c.flac --format flac --seconds 9 --rate 8000 --calls 2 --seed 3 || exit 92
q synth -o audio/d.wav --seconds 11 --rate 8000 --calls 2 --seed 4 || exit 92
cat > run.yaml <<YAML
sources: [audio]
model: model
pooling: {segment_seconds: 5, aggregates: [max, mean, p90]}
events: {threshold: 0.5, threshold_off: 0.4, min_gap_seconds: 0.2, min_duration_seconds: 0.1}
output: {dir: out, rows_per_chunk: 40}
persist: {window_scores: true}
runtime: {threads: 1, progress: none}
YAML

# same_chunks A B: every chunk of every table identical, and the same chunk names.
same_chunks() {
  for t in segments events window_scores; do
    [ -d "$1/$t" ] || [ ! -d "$2/$t" ] || return 1
    [ -d "$1/$t" ] || continue
    (cd "$1/$t" && ls) > l1.txt; (cd "$2/$t" && ls) > l2.txt
    cmp -s l1.txt l2.txt || { echo "chunk lists differ in $t"; diff l1.txt l2.txt; return 1; }
    [ -s l1.txt ] || { echo "no chunks in $1/$t"; return 1; }
    for f in $(cat l1.txt); do
      cmp "$1/$t/$f" "$2/$t/$f" || return 1
    done
  done
  return 0
}
rows() { zstdcat "$1"/"$2"/part-*.csv.zst | grep -v '^source,' | wc -l; }

case $case in
basic)
  q run run.yaml -o ref; rc=$?; [ $rc -eq 0 ] || { echo "exit $rc"; exit 1; }
  for f in run.json manifest.json; do [ -s ref/$f ] || exit 2; done
  zstdcat ref/segments/part-*.csv.zst | head -1 | grep -qx 'source,channel,start_s,end_s,class,max,mean,p90' || exit 3
  zstdcat ref/events/part-*.csv.zst | head -1 | grep -qx 'source,channel,class,start_s,end_s,peak,mean' || exit 4
  # b.wav is stereo: both channels have rows; 4 files, 5 work items
  zstdcat ref/segments/part-*.csv.zst | grep -q '^audio/b.wav,1,' || zstdcat ref/segments/part-*.csv.zst | grep -q 'b.wav,1,' || exit 5
  n=$(rows ref window_scores)
  # windows: floor((frames - 16)/8) + 1 per channel, frames = 1 + samples/80
  # a 20 s: 2001 frames → 249; b 13 s ×2: 1301 → 161 each; c 9 s: 901 → 111; d 11 s: 1101 → 136
  [ "$n" -eq $((249 + 161 + 161 + 111 + 136)) ] || { echo "window rows $n"; exit 6; }
  grep -q '"sha256"' ref/run.json || exit 7
  [ ! -e ref/errors.csv ] || exit 8
  ;;
blocks)
  q run run.yaml -o ref || exit 1
  q run run.yaml -o b1 --set runtime.block_seconds=0.37 || exit 2
  q run run.yaml -o b2 --set runtime.block_seconds=3 || exit 3
  same_chunks ref b1 || exit 4
  same_chunks ref b2 || exit 5
  ;;
inflight)
  q run run.yaml -o ref || exit 1
  q run run.yaml -o f1 --set runtime.files_in_flight=1 || exit 2
  q run run.yaml -o f4 --set runtime.files_in_flight=4 --set runtime.block_seconds=1 || exit 3
  same_chunks ref f1 || exit 4
  same_chunks ref f4 || exit 5
  ;;
batch)
  # Across batch sizes and thread counts: the same windows, scores within 1e-5 relative.
  q run run.yaml -o ref || exit 1
  q run run.yaml -o b7 --set batch.size=7 --threads 2 || exit 2
  zstdcat ref/window_scores/part-*.csv.zst > s1.csv; zstdcat b7/window_scores/part-*.csv.zst > s2.csv
  paste -d, s1.csv s2.csv | awk -F, 'NR > 1 {
      n = NF / 2
      for (i = 1; i <= 4; i++) if ($i != $(i + n)) { print "row " NR " key differs"; bad = 1; exit }
      for (i = 5; i <= n; i++) { a = $i; b = $(i + n); d = a - b; if (d < 0) d = -d
        m = a < 0 ? -a : a; if (d > 1e-5 * m + 1e-6) { print "row " NR ": " a " vs " b; bad = 1; exit } }
    } END { exit bad }' || exit 3
  [ "$(wc -l < s1.csv)" -eq "$(wc -l < s2.csv)" ] || exit 4
  ;;
resume)
  # kill -9 mid-run (the writer sleeps 400 ms per item, chunks are cut at every item), then
  # --resume: the chunks equal an uninterrupted run's.
  q run run.yaml -o ref --set output.rows_per_chunk=1 || exit 1
  BL_TEST_ITEM_DELAY_MS=400 "$bin" -q run run.yaml -o killed --set output.rows_per_chunk=1 &
  pid=$!
  i=0
  while [ $i -lt 300 ] && ! ls killed/segments/part-00001.csv.zst >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); done
  kill -9 $pid; wait $pid 2>/dev/null
  ls killed/segments/part-*.csv.zst >/dev/null 2>&1 || { echo "no chunk before the kill"; exit 2; }
  [ "$(ls killed/segments | wc -l)" -lt "$(ls ref/segments | wc -l)" ] || { echo "the run finished before the kill"; exit 3; }
  q run run.yaml -o killed --set output.rows_per_chunk=1 --resume || exit 4
  same_chunks ref killed || exit 5
  # resume with another config is refused (exit 1), naming the key
  "$bin" run run.yaml -o killed --resume --set events.threshold=0.6 2> err.txt; rc=$?
  [ $rc -eq 1 ] || { echo "changed config: exit $rc"; cat err.txt; exit 6; }
  grep -q threshold err.txt || { cat err.txt; exit 7; }
  ;;
sigint)
  BL_TEST_ITEM_DELAY_MS=400 "$bin" run run.yaml -o int --set output.rows_per_chunk=1 2> err.txt &
  pid=$!
  i=0
  while [ $i -lt 300 ] && ! ls int/segments/part-00000.csv.zst >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); done
  kill -INT $pid; wait $pid; rc=$?
  [ $rc -eq 3 ] || { echo "exit $rc"; cat err.txt; exit 1; }
  grep -q -- '--resume' err.txt || { cat err.txt; exit 2; }
  q run run.yaml -o ref --set output.rows_per_chunk=1 || exit 3
  q run run.yaml -o int --set output.rows_per_chunk=1 --resume || exit 4
  same_chunks ref int || exit 5
  ;;
corrupt)
  head -c 3000 /dev/urandom > audio/bad.wav
  printf 'RIFF\044\000\000\000WAVEfmt ' > audio/trunc.wav
  "$bin" -q run run.yaml -o out 2> err.txt; rc=$?
  [ $rc -eq 2 ] || { echo "exit $rc"; cat err.txt; exit 1; }
  [ -s out/errors.csv ] || exit 2
  grep -q 'bad.wav' out/errors.csv || exit 3
  grep -q 'trunc.wav' out/errors.csv || exit 4
  zstdcat out/segments/part-*.csv.zst | grep -q 'a.wav,0,' || exit 5
  zstdcat out/segments/part-*.csv.zst | grep -q 'd.wav,0,' || exit 6
  ;;
lock)
  BL_TEST_ITEM_DELAY_MS=300 "$bin" -q run run.yaml -o out &
  pid=$!
  i=0
  while [ $i -lt 200 ] && [ ! -e out/run.json ]; do sleep 0.05; i=$((i + 1)); done
  "$bin" run run.yaml -o out --resume 2> err.txt; rc=$?
  kill -9 $pid; wait $pid 2>/dev/null
  [ $rc -ne 0 ] || exit 1
  grep -qi 'lock\|another\|in use\|running' err.txt || { cat err.txt; exit 2; }
  # a fresh run into a directory that holds a run is refused without --resume
  "$bin" run run.yaml -o out 2> err2.txt; rc=$?
  [ $rc -ne 0 ] || exit 3
  ;;
diskfull)
  q run run.yaml -o ref --set output.rows_per_chunk=1 || exit 1
  # the budget lets run.json and a few chunks through, then the disk is "full" mid-run
  BL_TEST_ENOSPC_AFTER_BYTES=12000 "$bin" run run.yaml -o full --set output.rows_per_chunk=1 2> err.txt; rc=$?
  [ $rc -eq 3 ] || { echo "exit $rc"; cat err.txt; exit 2; }
  n=$(ls full/segments 2>/dev/null | grep -c part-)
  [ "$n" -ge 1 ] && [ "$n" -lt "$(ls ref/segments | wc -l)" ] || { echo "$n chunks before the disk was full"; cat err.txt; exit 7; }
  grep -qi 'space\|full' err.txt || { cat err.txt; exit 3; }
  grep -q -- '--resume' err.txt || { cat err.txt; exit 4; }
  q run run.yaml -o full --set output.rows_per_chunk=1 --resume || exit 5
  same_chunks ref full || exit 6
  ;;
dryrun)
  "$bin" run run.yaml -o dry --dry-run > plan.txt || exit 1
  [ ! -e dry ] || exit 2
  grep -q 'work items (5, over 4 inputs)' plan.txt || { cat plan.txt; exit 3; }
  grep -q 'batch:' plan.txt || exit 4
  grep -q 'b.wav, 1,' plan.txt || exit 5
  ;;
errors)
  printf 'sources: [audio]\nmodel: model\nbatch: {sise: 4}\n' > bad.yaml
  "$bin" run bad.yaml 2> e1.txt; rc=$?
  [ $rc -eq 1 ] || exit 1
  grep -q 'size' e1.txt || { cat e1.txt; exit 2; }
  "$bin" run run.yaml -o x --backend cuda 2> e2.txt; rc=$?
  if [ $rc -ne 0 ]; then
    [ $rc -eq 1 ] || exit 3
    grep -qi cuda e2.txt || exit 4
  fi
  "$bin" run run.yaml -o y --set model=nowhere 2> e3.txt; rc=$?
  [ $rc -eq 1 ] || { echo "missing model: exit $rc"; cat e3.txt; exit 5; }
  "$bin" run run.yaml --bogus 2> /dev/null; [ $? -eq 1 ] || exit 6
  "$bin" run 2> /dev/null; [ $? -eq 1 ] || exit 7
  "$bin" run run.yaml -o z --set 'sources=[nothing-here/*.wav]' 2> e4.txt; rc=$?
  [ $rc -eq 1 ] || { echo "no sources: exit $rc"; cat e4.txt; exit 8; }
  ;;
features)
  # persist.features: one .npy per work item, OUT/features/<NNNNN>_<stem>.ch<C>.npy [1, n_mels, frames],
  # byte for byte what `baleen features` writes for that source with the run's front end (the
  # card's); kill -9 + --resume leaves the same files and no temporaries.
  cat > fe.yaml <<YAML
frontend:
  sample_rate: 8000
  n_fft: 256
  hop_length: 80
  mel: {n_mels: 16, fmin: 50}
  compression: {type: db}
YAML
  q run run.yaml -o ref --set persist.features=true || exit 1
  (cd ref/features && ls -A) > list.txt
  printf '%s\n' 00000_a.ch0.npy 00001_b.ch0.npy 00001_b.ch1.npy 00002_c.ch0.npy \
    00003_d.ch0.npy | cmp - list.txt || { cat list.txt; exit 2; }
  q features audio/a.wav --config fe.yaml -o a.npy || exit 3
  cmp a.npy ref/features/00000_a.ch0.npy || exit 4
  q features audio/c.flac --config fe.yaml -o c.npy || exit 5
  cmp c.npy ref/features/00002_c.ch0.npy || exit 6
  # the stereo file: [2, 16, 1301] from `baleen features` is channel 0's rows then channel 1's
  head -c 128 ref/features/00001_b.ch1.npy | grep -q "'shape': (1, 16, 1301)" || exit 7
  q features audio/b.wav --config fe.yaml -o b.npy || exit 8
  data() { tail -c +$(($(od -An -tu2 -j8 -N2 "$1") + 11)) "$1"; } # past the .npy header
  data b.npy > b.bin
  { data ref/features/00001_b.ch0.npy; data ref/features/00001_b.ch1.npy; } > b01.bin
  [ "$(wc -c < b.bin)" -eq $((2 * 16 * 1301 * 4)) ] || exit 9
  cmp b.bin b01.bin || exit 10
  # kill -9 mid-run: every file under its final name is already complete
  BL_TEST_ITEM_DELAY_MS=400 "$bin" -q run run.yaml -o killed --set persist.features=true \
    --set output.rows_per_chunk=1 &
  pid=$!
  i=0
  while [ $i -lt 300 ] && ! ls killed/segments/part-00001.csv.zst >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); done
  kill -9 $pid; wait $pid 2>/dev/null
  [ "$(ls killed/segments | wc -l)" -lt 5 ] || { echo "the run finished before the kill"; exit 11; }
  # (a temporary the kill caught between its link and its rename may be there too: resume
  # removes it, below)
  for f in $(cd killed/features && ls | grep -v '\.npy\.\(tmp\|spill\)[.-]'); do
    cmp "killed/features/$f" "ref/features/$f" || exit 12
  done
  # a temporary left by a killed run where the filesystem has no unnamed files goes on resume
  : > killed/features/00003_d.ch0.npy.tmp-Ab12Cd
  q run run.yaml -o killed --set persist.features=true --set output.rows_per_chunk=1 --resume || exit 13
  (cd killed/features && ls -A) > list2.txt
  cmp list.txt list2.txt || { diff list.txt list2.txt; exit 14; }
  for f in $(cat list.txt); do cmp "killed/features/$f" "ref/features/$f" || exit 15; done
  ;;
pair)
  # Pair mode (core/stage_model.c: two one-thread executors taking turns with the batches,
  # used under CPU contention; forced here by a test hook): every table byte for byte as
  # --threads 1, with odd batch sizes, a stereo file and several files in flight, so that
  # the order of scores and item ends is exercised.
  for b in 7 32; do
    q run run.yaml -o ref$b --threads 1 --set batch.size=$b || exit 1
    BL_TEST_PAIR_MODE=1 "$bin" -q run run.yaml -o pair$b --threads 0 --set batch.size=$b || exit 2
    same_chunks ref$b pair$b || { echo "pair mode differs at batch $b"; exit 3; }
  done
  ;;
*) echo "unknown case $case"; exit 99 ;;
esac
exit 0
