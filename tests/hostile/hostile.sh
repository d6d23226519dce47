#!/bin/sh
# hostile.sh — the hostile-input classes of issue 10, one ctest case each, driven by
# tests/cmake/hostile.cmake: `hostile.sh BALEEN SOURCE_DIR WORK_DIR MKAUDIO CASE`.
# Each case tries a class of bad input the way a careless user or an attacker would and checks
# that nothing is destroyed or silently lost, memory stays bounded, exit codes are honest and
# messages name what the user typed. Device files are only ever made with mknod inside the
# work folder, never the real /dev. Parts that need root (mknod, running as nobody) say
# "skipped" and go on when not root. docs/reliability.md tabulates the classes.
# Exit 0 = pass; any other code names the failed check (the script prints why).
set -u
bin=$1 src=$2 work=$3 mkaudio=$4 case=$5
rm -rf "$work"; mkdir -p "$work" || exit 90
cd "$work" || exit 90
mkdir -p model audio
cp "$src/tests/data/models/small_cnn.onnx" model/model.onnx || exit 91
cp "$src/tests/data/cards/small_cnn/model.yaml" model/model.yaml || exit 91
q() { "$bin" -q "$@"; }
fail() { echo "FAIL: $*"; exit "${code:-1}"; }
root=0; [ "$(id -u)" = 0 ] && root=1
q synth -o audio/a.wav --seconds 12 --rate 8000 --calls 4 --seed 1 || exit 92
cat > run.yaml <<YAML
sources: [audio]
model: model
pooling: {segment_seconds: 5}
events: {threshold: 0.5, threshold_off: 0.4, min_gap_seconds: 0.2, min_duration_seconds: 0.1}
output: {dir: out}
runtime: {threads: 1, progress: none}
YAML
# npy WRITER: a float32 .npy of SHAPE filled with VALUE (python3 stdlib only).
npy() { python3 - "$@" <<'PY'
import struct, sys
path, shape, value = sys.argv[1], tuple(int(x) for x in sys.argv[2].split(',')), float(sys.argv[3])
n = 1
for d in shape: n *= d
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
h += ' ' * (63 - (10 + len(h)) % 64) + '\n'
open(path, 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + struct.pack('<%df' % n, *([value] * n)))
PY
}
rows() { zstdcat "$1"/"$2"/part-*.csv.zst | grep -vc '^source,'; }

case $case in

devices)
  # 1. -o onto a device, a FIFO, a symlink, stdout: written in place, never replaced.
  q run run.yaml -o out || fail "reference run"
  npy in.npy 2,1,16,16 0.1
  if [ $root = 1 ] && mknod nul c 1 3 2>/dev/null; then
    for cmd in "features audio/a.wav -o nul" "synth --seconds 1 --truth t.csv -o nul" \
               "export out --format csv -o nul" "model run model --input in.npy -o nul"; do
      q $cmd || fail "$cmd"
      [ -c nul ] || fail "$cmd turned the device into a regular file"
    done
  else
    echo "skipped: mknod (not root)"
  fi
  q features audio/a.wav -o feat.npy || fail "features"
  ln -s feat.npy link.npy
  q features audio/a.wav -o link.npy || fail "features through a link"
  [ -L link.npy ] || fail "the symlink was replaced"
  cmp -s feat.npy link.npy || fail "the link's target was not written"
  mkfifo fifo
  for cmd in "features audio/a.wav" "export out --format csv" "synth --seconds 1 --truth t2.csv"; do
    cat fifo > got.bin & r=$!
    q $cmd -o fifo || fail "$cmd -o fifo"
    wait $r
    [ -p fifo ] || fail "$cmd replaced the FIFO"
    [ -s got.bin ] || fail "$cmd wrote nothing into the FIFO"
  done
  q features audio/a.wav -o - > std.npy || fail "features -o -"
  cmp -s std.npy feat.npy || fail "features -o - differs from the file"
  q export out --format csv -o - > std.csv && [ -s std.csv ] || fail "export -o -"
  ls | grep -q 'tmp' && fail "a temporary was left: $(ls | grep tmp)"
  ;;

names)
  # 2, 6. Sources that share a sanitised name keep their own clips, features and exports;
  # a source key longer than any file name still gets its features.
  mkdir -p audio/x
  q synth -o audio/x/b.wav --seconds 12 --rate 8000 --calls 3 --seed 2 || exit 92
  q synth -o audio/x_b.wav --seconds 12 --rate 8000 --calls 3 --seed 3 || exit 92
  long=audio/$(printf 'd%.0s' $(seq 1 200))/$(printf 'e%.0s' $(seq 1 200))
  mkdir -p "$long"
  q synth -o "$long/$(printf 'f%.0s' $(seq 1 240)).wav" --seconds 12 --rate 8000 --calls 3 --seed 4 || exit 92
  q run run.yaml -o out --set output.clips.enabled=true --set persist.features=true; rc=$?
  [ $rc -eq 0 ] || fail "run exit $rc"
  n_src=$(zstdcat out/segments/part-*.csv.zst | grep -v '^source,' | cut -d, -f1 | sort -u | wc -l)
  [ "$n_src" -eq 4 ] || fail "$n_src sources in segments"
  [ "$(ls out/features | wc -l)" -eq 4 ] || fail "features: $(ls out/features)"
  # every event's clip exists, and no two sources share one
  zstdcat out/events/part-*.csv.zst | grep -v '^source,' | awk -F, '{print $NF}' | sort -u > clips.txt
  [ -s clips.txt ] || fail "no clips"
  while read -r c; do [ -f "out/$c" ] || fail "missing clip $c"; done < clips.txt
  zstdcat out/events/part-*.csv.zst | grep -v '^source,' | awk -F, '{print $NF" "$1}' | sort -u | awk '{print $1}' | uniq -d > shared.txt
  [ ! -s shared.txt ] || fail "clips shared by two sources: $(cat shared.txt)"
  # per-source export: one file per source, every row kept
  q export out --format csv --table events --per-source -o per || fail "export --per-source"
  [ "$(ls per | wc -l)" -eq 4 ] || fail "per-source files: $(ls per)"
  [ "$(cat per/* | grep -vc '^source,')" -eq "$(rows out events)" ] || fail "per-source rows lost"
  # again: nothing replaced without --overwrite; with it, the same files
  "$bin" -q export out --format csv --table events --per-source -o per 2> e.txt; rc=$?
  [ $rc -eq 1 ] && grep -q -- --overwrite e.txt || fail "second export: exit $rc $(cat e.txt)"
  q export out --format csv --table events --per-source -o per --overwrite || fail "--overwrite"
  # resume after a kill re-writes the same features, no "File name too long"
  BL_TEST_ITEM_DELAY_MS=300 "$bin" -q run run.yaml -o k --set persist.features=true --set output.rows_per_chunk=1 &
  pid=$!; sleep 1; kill -9 $pid; wait $pid 2>/dev/null
  q run run.yaml -o k --set persist.features=true --set output.rows_per_chunk=1 --resume || fail "resume"
  (cd out/features && ls) > f1.txt; (cd k/features && ls) > f2.txt
  cmp -s f1.txt f2.txt || fail "features after resume: $(diff f1.txt f2.txt)"
  ;;

foreign_dir)
  # 3. A non-empty folder that is not a baleen output is refused; nothing of it is touched.
  mkdir -p mine/segments
  echo "my notes" > mine/errors.csv; echo keep > mine/run.json; echo data > mine/segments/part-00000.csv.zst
  (cd mine && find . -type f | sort | xargs sha256sum) > before.txt
  "$bin" run run.yaml -o mine 2> e.txt; rc=$?
  [ $rc -eq 1 ] || fail "run into a foreign folder: exit $rc"
  grep -q -- --force-dir e.txt || fail "no --force-dir hint: $(cat e.txt)"
  (cd mine && find . -type f | sort | xargs sha256sum) > after.txt
  cmp -s before.txt after.txt || fail "the foreign folder changed"
  # --force-dir refuses as long as one of baleen's names is taken ...
  "$bin" run run.yaml -o mine --force-dir 2> e2.txt; rc=$?
  [ $rc -eq 1 ] && grep -q 'run.json\|errors.csv\|segments' e2.txt || fail "--force-dir over taken names: exit $rc"
  # ... and adds its own files next to the user's otherwise
  mkdir -p other; echo "my notes" > other/notes.txt
  q run run.yaml -o other --force-dir || fail "--force-dir"
  [ "$(cat other/notes.txt)" = "my notes" ] && [ -f other/.baleen-output ] || fail "--force-dir result"
  # a baleen output is recognised by its marker: --resume works, a fresh run is refused
  q run run.yaml -o other --resume || fail "resume of a --force-dir output"
  "$bin" run run.yaml -o other 2>/dev/null && fail "fresh run over a finished output accepted"
  [ "$(cat other/notes.txt)" = "my notes" ] || fail "the user's file changed"
  ;;

long_paths)
  # 4. Long paths are used whole or refused; nothing lands at a truncated path.
  deep=$(printf 'p%.0s' $(seq 1 200))
  d=o/$deep/$deep/$deep/$deep/$deep/$deep/$deep
  mkdir -p "$d"
  q run run.yaml -o "$d/run" --set persist.features=true || fail "run into a ${#d}-byte folder"
  [ -f "$d/run/manifest.json" ] && [ "$(ls "$d/run/features" | wc -l)" -eq 1 ] || fail "outputs not at the long path"
  [ "$(find . -name manifest.json | wc -l)" -eq 1 ] || fail "an output landed somewhere else"
  q features audio/a.wav -o "$d/x.npy" && [ -f "$d/x.npy" ] || fail "features to a long path"
  huge=$(printf 'z%.0s' $(seq 1 5000))
  "$bin" run run.yaml -o "$huge" 2> e.txt; rc=$?
  [ $rc -ne 0 ] && grep -qi 'long' e.txt || fail "an over-long -o: exit $rc $(head -c 300 e.txt)"
  ;;

clip_fail)
  # 5. A clip the source does not let us cut (GSM 6.10 WAV cannot seek) is a warning; the
  # item's scores and events stay.
  "$mkaudio" gsm audio/g.wav 12 8000 || exit 92
  q run run.yaml -o out --set output.clips.enabled=true --set events.threshold=0.0001 --set events.threshold_off=0.00005; rc=$?
  [ $rc -eq 0 ] || fail "exit $rc"
  zstdcat out/segments/part-*.csv.zst | grep -q '^audio/g.wav,' || fail "the GSM file lost its segments"
  zstdcat out/events/part-*.csv.zst | grep -q '^audio/g.wav,' || fail "the GSM file lost its events"
  grep -q 'g.wav.*clips' out/warnings.csv || fail "no clip warning: $(cat out/warnings.csv 2>&1)"
  [ ! -e out/errors.csv ] || fail "errors.csv: $(cat out/errors.csv)"
  ;;

memory)
  # 8. The memory a configuration implies is checked before starting; threads 0 = usable CPUs.
  # Under AddressSanitizer RSS means nothing (shadow memory) and ulimit -v breaks ASan itself.
  [ -z "${BL_TEST_SANITIZED:-}" ] || { echo "skipped: sanitizer build"; exit 77; }
  for m in model "$src/models/zoo/whalecall-small"; do
    q synth -o long.wav --seconds 60 --rate 16000 --seed 5 || exit 92
    for b in 1 64 1024; do
      rm -rf mo
      "$bin" run run.yaml -o mo --set "sources=[long.wav]" --set "model=$m" --set batch.size=$b 2> s.txt || fail "run b=$b"
      line=$(grep -o 'peak RSS [0-9.]* MiB (estimated [0-9.]* MiB)' s.txt)
      peak=$(echo "$line" | awk '{print $3}'); est=$(echo "$line" | awk '{print $6}')
      awk -v p="$peak" -v e="$est" 'BEGIN { r = e / p; exit !(r > 0.75 && r < 1.25) }' ||
        fail "$m batch $b: estimate $est MiB vs peak $peak MiB (outside 25%)"
      echo "$m batch $b: peak $peak MiB, estimated $est MiB"
    done
  done
  # refused with the estimate and the limit (here an address-space limit), nothing written
  (ulimit -v 3000000; "$bin" run run.yaml -o big --set "model=$src/models/zoo/whalecall-small" --set batch.size=65536 2> e.txt); rc=$?
  [ $rc -eq 1 ] && grep -q 'needs about' e.txt && grep -q 'batch.size' e.txt || fail "batch 65536: exit $rc $(cat e.txt)"
  [ ! -e big ] || fail "a refused run created its output folder"
  if command -v taskset > /dev/null; then
    taskset -c 0 "$bin" -q run run.yaml -o t1 --threads 0 || fail "taskset run"
    grep -q '"threads": 1,' t1/run.json || fail "threads 0 on one CPU: $(grep threads t1/run.json)"
  fi
  ;;

fifo_loaders)
  # 9. A FIFO given as any input file is refused at once (a reader would block forever).
  mkfifo f.yaml f.onnx f.csv f.npy
  mkdir fm; cp model/model.yaml fm/; mkfifo fm/model.onnx
  mkdir fc; cp model/model.onnx fc/; mkfifo fc/model.yaml
  for cmd in "run f.yaml -o o1" "config check f.yaml" "model info f.onnx" "model info fm" \
             "run run.yaml -o o2 --set model=fm" "run run.yaml -o o3 --set model=fc" \
             "run run.yaml -o o4 --set sources=[f.csv]" "model run model --input f.npy -o x.npy" \
             "features f.npy -o y.npy"; do
    timeout 20 "$bin" $cmd 2> e.txt; rc=$?
    [ $rc -ne 124 ] || fail "$cmd hung on a FIFO"
    [ $rc -ne 0 ] && grep -qi 'fifo' e.txt || fail "$cmd: exit $rc, $(cat e.txt)"
  done
  ;;

sizes)
  # 10. A size declared in a file is checked against the file before anything is allocated.
  python3 - <<'PY'
import struct
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 6144), }"
h += ' ' * (63 - (10 + len(h)) % 64) + '\n'
open('huge.npy', 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode() + b'\0' * 64)
PY
  (ulimit -v 4000000; timeout 20 "$bin" model run model --input huge.npy -o x.npy 2> e.txt); rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && ! grep -qi 'out of memory' e.txt || fail "huge .npy header: exit $rc $(cat e.txt)"
  # a config of 84 MB is named in MB, not as a count of a limit
  head -c 84000000 /dev/zero | tr '\0' '#' > big.yaml
  "$bin" config check big.yaml 2> e.txt; rc=$?
  [ $rc -eq 1 ] && grep -q '84.0 MB' e.txt || fail "84 MB config: $(cat e.txt)"
  : > empty.onnx
  "$bin" model info empty.onnx 2> e.txt; [ $? -ne 0 ] && grep -q 'empty' e.txt || fail "0-byte model: $(cat e.txt)"
  ;;

nonfinite)
  # 11. NaN/Inf samples: fail by default with the count and the positions; zero replaces them
  # (the scores are those of the same file with zeros there) and warns.
  mkdir nf; cd nf || exit 90
  "$mkaudio" float n.wav 12 8000 8000=nan 8001=inf 50000=-inf || exit 92
  "$mkaudio" float z.wav 12 8000 8000=0 8001=0 50000=0 || exit 92
  cd .. || exit 90
  "$bin" -q run run.yaml -o o1 --set 'sources=[nf/n.wav]' 2> e.txt; rc=$?
  [ $rc -eq 2 ] || fail "NaN file: exit $rc"
  grep -q '3 NaN/Inf sample' o1/errors.csv && grep -q 'frame 8000' o1/errors.csv || fail "errors.csv: $(cat o1/errors.csv)"
  q run run.yaml -o o2 --set 'sources=[nf/n.wav]' --set input.non_finite=zero --set persist.window_scores=true || fail "zero mode"
  grep -q 'replaced by 0' o2/warnings.csv || fail "no warning in zero mode"
  q run run.yaml -o o3 --set 'sources=[nf/z.wav]' --set persist.window_scores=true || fail "zeros file"
  zstdcat o2/window_scores/part-*.csv.zst | cut -d, -f2- > s2.txt
  zstdcat o3/window_scores/part-*.csv.zst | cut -d, -f2- > s3.txt
  cmp -s s2.txt s3.txt || fail "zeroed NaN file scores differ from the file with zeros"
  # the executor keeps NaN as ONNX does
  npy nan.npy 2,1,16,16 nan
  q model run model --input nan.npy -o out.npy || fail "model run on NaN"
  python3 -c "
import struct,sys
b=open('out.npy','rb').read(); hl=struct.unpack('<H',b[8:10])[0]; d=b[10+hl:]
v=struct.unpack('<%df'%(len(d)//4),d); sys.exit(0 if all(x!=x for x in v) else 1)" || fail "model run on all-NaN input gave finite scores"
  ;;

truncated)
  # 12. Cut-off files fail their items (errors.csv, exit 2) unless input.truncated: keep; a
  # file shorter than a window warns; an unreadable subfolder is a failed input.
  mkdir tr; cd tr || exit 90
  "$bin" -q synth -o full.wav --seconds 12 --rate 8000 --seed 7 --truth /dev/null
  head -c 60000 full.wav > cut.wav
  "$bin" -q synth -o full.flac --format flac --seconds 12 --rate 8000 --seed 8 --truth /dev/null
  head -c 30000 full.flac > cut.flac; rm full.flac
  "$mkaudio" mp3 full.mp3 12 16000 && head -c 8000 full.mp3 > cut.mp3 && rm full.mp3
  "$mkaudio" ogg full.ogg 30 16000 && head -c $(( $(wc -c < full.ogg) * 6 / 10 )) full.ogg > cut.ogg && rm full.ogg
  "$bin" -q synth -o tiny.wav --seconds 0.1 --rate 8000 --seed 9 --truth /dev/null
  rm -f full.wav
  cd .. || exit 90
  "$bin" -q run run.yaml -o o1 --set 'sources=[tr]' 2> e.txt; rc=$?
  [ $rc -eq 2 ] || fail "truncated inputs: exit $rc"
  for f in cut.wav cut.flac cut.mp3 cut.ogg; do
    [ -e "tr/$f" ] || continue
    grep -q "$f.*truncated" o1/errors.csv || fail "$f not in errors.csv: $(cat o1/errors.csv)"
  done
  grep -q 'tiny.wav.*shorter than one model window' o1/warnings.csv || fail "tiny file: $(cat o1/warnings.csv 2>&1)"
  q run run.yaml -o o2 --set 'sources=[tr]' --set input.truncated=keep || fail "keep: exit $?"
  grep -q 'cut.wav.*truncated' o2/warnings.csv || fail "keep: no warning"
  zstdcat o2/segments/part-*.csv.zst | grep -q '^tr/cut.wav,' || fail "keep: no rows for cut.wav"
  if [ $root = 1 ] && command -v setpriv > /dev/null; then
    # as nobody, in a folder nobody can reach (the work folder's parents may be private)
    pub=$(mktemp -d /tmp/bl-hostile-XXXXXX) || exit 90
    mkdir -p "$pub/ur/ok" "$pub/ur/closed"; cp -r model run.yaml "$pub/"
    cp audio/a.wav "$pub/ur/ok/"; cp audio/a.wav "$pub/ur/closed/"
    chmod -R a+rX "$pub"; chmod 777 "$pub"; chmod 000 "$pub/ur/closed"
    (cd "$pub" && setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" -q run run.yaml -o o3 --set 'sources=[ur]'); rc=$?
    chmod 755 "$pub/ur/closed"
    ok=0; [ $rc -eq 2 ] && grep -q 'ur/closed.*cannot read this folder' "$pub/o3/errors.csv" && ok=1
    cp "$pub/o3/errors.csv" unreadable-errors.csv 2>/dev/null; rm -rf "$pub"
    [ $ok = 1 ] || fail "unreadable subfolder: exit $rc $(cat unreadable-errors.csv 2>/dev/null)"
  else
    echo "skipped: unreadable subfolder (needs root and setpriv)"
  fi
  ;;

export)
  # 13. Export checks the table: a chunk missing from the manifest, a corrupt chunk (per
  # source: nothing written), a symlinked chunk.
  q run run.yaml -o out --set output.rows_per_chunk=2 || fail "run"
  cp -r out o_sym; cp -r out o_del; cp -r out o_bad
  python3 - <<'PY'
import json
m = json.load(open('o_del/manifest.json'))
m['tables']['segments']['chunks'].pop()
json.dump(m, open('o_del/manifest.json', 'w'), indent=2)
PY
  "$bin" export o_del --format csv -o x.csv 2> e.txt; rc=$?
  [ $rc -ne 0 ] && [ ! -e x.csv ] || fail "a chunk missing from the manifest: exit $rc"
  first=$(ls o_bad/segments | head -1); last=$(ls o_bad/segments | tail -1)
  printf 'x' | dd of="o_bad/segments/$last" bs=1 seek=20 conv=notrunc 2> /dev/null
  "$bin" export o_bad --format csv --per-source -o per 2> e.txt; rc=$?
  [ $rc -ne 0 ] && [ -z "$(ls -A per 2>/dev/null)" ] || fail "per-source over a corrupt chunk left files: $(ls -A per)"
  rm "o_sym/segments/$last"; ln -s "$first" "o_sym/segments/$last"
  "$bin" export o_sym --format csv -o y.csv 2> e.txt; rc=$?
  [ $rc -ne 0 ] && grep -q 'symbolic link' e.txt && [ ! -e y.csv ] || fail "symlinked chunk: exit $rc $(cat e.txt)"
  ;;

ranges)
  # 14. Extreme values are refused with the key, wherever they are set.
  for set in pooling.segment_seconds=1e-300 pooling.segment_seconds=0.0001 windows.hop_frames=17 \
             runtime.block_seconds=1e-300 batch.size=0 events.threshold=2; do
    "$bin" run run.yaml -o o --set "$set" 2> e.txt; rc=$?
    [ $rc -eq 1 ] && grep -q "${set%%=*}\|hop_frames" e.txt || fail "--set $set: exit $rc $(cat e.txt)"
  done
  printf 'sources: [audio]\nmodel: model\nwindows: {hop_frames: 40}\n' > h.yaml
  "$bin" run h.yaml -o o 2> e.txt; rc=$?
  [ $rc -eq 1 ] && grep -q hop_frames e.txt || fail "hop_frames > window in a config: exit $rc"
  [ ! -e o ] || fail "a refused config created its output"
  ;;

messages)
  # 16. Messages name what the user typed and what to do.
  q run run.yaml -o out || fail "run"
  "$bin" run run.yaml -o out --resume --set events.threshold=0.6 2> e.txt
  grep -q "events.threshold: was '0.5', now '0.6'" e.txt || fail "resume refusal: $(cat e.txt)"
  mkfifo pipe.wav; ln -s loop2 loop1; ln -s loop1 loop2
  for s in pipe.wav loop1; do
    "$bin" run run.yaml -o o --set "sources=[$s]" 2> e.txt
    grep -qi 'fifo\|loop' e.txt && ! grep -q 'no such file' e.txt || fail "source $s: $(cat e.txt)"
  done
  "$bin" run run.yaml -o o --backend gpu 2> e.txt; grep -q -- '--backend gpu' e.txt || fail "--backend gpu: $(cat e.txt)"
  "$bin" run run.yaml -o o --set batch.size=abc 2> e.txt; grep -q -- '--set batch.size=abc' e.txt || fail "--set: $(cat e.txt)"
  "$bin" run run.yaml -o A --threads 2 --progress json -o B 2> e.txt; rc=$?
  [ $rc -eq 1 ] && grep -q "'-o A'" e.txt && grep -q "'-o B'" e.txt || fail "repeated -o: $(cat e.txt)"
  # a damaged MP3: no stray libmpg123 lines on the terminal
  "$mkaudio" mp3 m.mp3 10 16000 || exit 92
  python3 -c "
b = bytearray(open('m.mp3', 'rb').read())
for k in range(len(b) // 3, len(b) // 3 + 400): b[k] = (k * 131) & 255
open('bad.mp3', 'wb').write(b)"
  "$bin" run run.yaml -o o5 --set 'sources=[bad.mp3]' 2> e.txt
  ! grep -q '^Note:\|^Warning: Xing' e.txt || fail "libmpg123 printouts: $(cat e.txt)"
  # features --duration 0 is refused
  "$bin" features audio/a.wav -o f.npy --duration 0 2> e.txt; [ $? -eq 1 ] || fail "features --duration 0"
  ;;

*) echo "unknown case $case"; exit 99 ;;
esac
exit 0
