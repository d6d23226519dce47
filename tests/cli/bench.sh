#!/bin/sh
# bench.sh — CLI tests of `baleen bench` (core/cmd_bench.c, core/bench*.c), driven by
# tests/cmake/bench.cmake: `bench.sh BALEEN SOURCE_DIR WORK_DIR CASE`.
# Each case runs the tiny test model (tests/data small_cnn: 8 kHz, 16 mels, 3 classes) on a few
# seconds of audio with --repeat 2, so that the whole file takes seconds. JSON is checked with
# python3's json module, the SVG with its xml.etree parser (standard library only).
# Exit 0 = pass; any other code names the check.
set -u
bin=$1 src=$2 work=$3 case=$4
rm -rf "$work"; mkdir -p "$work/tmp" || exit 90
cd "$work" || exit 90
mkdir -p model bare
cp "$src/tests/data/models/small_cnn.onnx" model/model.onnx || exit 91
cp "$src/tests/data/cards/small_cnn/model.yaml" model/model.yaml || exit 91
cp "$src/tests/data/models/small_cnn.onnx" bare/tiny.onnx || exit 91
# every temporary folder of the benchmark goes here, and must be gone afterwards
TMPDIR=$work/tmp; export TMPDIR
tmp_empty() { [ -z "$(ls -A "$work/tmp")" ] || { echo "left behind in TMPDIR:"; ls -la "$work/tmp"; return 1; }; }
b() { "$bin" bench model --seconds 4 --repeat 2 "$@"; }
py() { python3 -c "$@"; }

case $case in
json)
  b --batch 1,4 --json out.json > table.txt 2> err.txt || { cat err.txt; exit 1; }
  tmp_empty || exit 2
  grep -q '^batch  *realtime' table.txt || { cat table.txt; exit 3; }
  grep -q '^bottleneck' table.txt || exit 4
  py '
import json, sys
d = json.load(open("out.json"))
assert set(d) >= {"env", "results"}, d.keys()
env = d["env"]
for k in ("cpu_model", "cpus_usable", "isa", "cpu_peak_gflops", "cpu_peak_how", "gpu", "libraries",
          "baleen_version", "baleen_commit", "model_sha256", "backend", "threads", "loadavg"):
    assert k in env, k
assert len(env["model_sha256"]) == 64
assert {"onednn", "libsndfile", "soxr", "zstd", "libyaml"} <= set(env["libraries"])
r = d["results"]
assert [x["batch"] for x in r] == [1, 4], r
for x in r:
    for k in ("batch", "realtime_factor", "windows_per_s", "gflops", "peak_rss_mb", "stages",
              "latency_p50_ms", "latency_p95_ms", "spread", "runs"):
        assert k in x, k
    assert x["realtime_factor"] > 0 and x["windows_per_s"] > 0 and x["gflops"] > 0 and x["peak_rss_mb"] > 1
    assert set(x["stages"]) == {"decode", "frontend", "model", "score+write"}, x["stages"]
    assert all(v >= 0 for v in x["stages"].values())
    assert x["runs"] == 2 and x["latency_p95_ms"] >= x["latency_p50_ms"] > 0
    # windows of 4 s at 8 kHz: frames 1 + 32000/80 = 401, windows (401 - 16) / 8 + 1 = 49
    assert x["windows"] == 49, x["windows"]
' || exit 5
  ;;
svg)
  b --batch 1,2,4 --plot out.svg > table.txt 2> err.txt || { cat err.txt; exit 1; }
  tmp_empty || exit 2
  py '
import xml.etree.ElementTree as ET
root = ET.parse("out.svg").getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
lines = root.findall(ns + "polyline")
assert len(lines) == 5, len(lines)   # end to end + four stages
for l in lines:
    assert len(l.get("points").split()) == 3
texts = "".join(t.text or "" for t in root.iter(ns + "text"))
assert "batch size" in texts and "realtime factor" in texts and "small-cnn" in texts
' || exit 3
  ;;
only)
  for s in pipeline model frontend io; do
    if [ $s = frontend ] || [ $s = io ]; then extra=""; else extra="--batch 2"; fi
    b --only $s $extra --json $s.json --plot $s.svg > $s.txt 2> $s.err || { cat $s.err; exit 1; }
    py '
import json, sys
import xml.etree.ElementTree as ET
s = sys.argv[1]
d = json.load(open(s + ".json"))
assert d["env"]["only"] == s
r = d["results"]
assert len(r) == 1 and not r[0]["failed"], r
want = {"pipeline": {"decode", "frontend", "model", "score+write"}, "model": {"model"},
        "frontend": {"frontend"}, "io": {"decode"}}[s]
assert set(r[0]["stages"]) == want, r[0]["stages"]
assert r[0]["realtime_factor"] > 0
assert (r[0]["batch"] is None) == (s in ("frontend", "io")), r[0]["batch"]
if s == "model": assert r[0]["gflops"] > 0 and r[0]["latency_p50_ms"] > 0
ET.parse(s + ".svg")
' $s || exit 2
  done
  tmp_empty || exit 3
  # a bare .onnx (no card): the model alone runs, the pipeline names what is missing
  "$bin" bench bare/tiny.onnx --only model --batch 2 --repeat 2 > bare.txt 2>&1 || { cat bare.txt; exit 4; }
  "$bin" bench bare/tiny.onnx --seconds 4 > bare2.txt 2>&1; rc=$?
  [ $rc -eq 1 ] && grep -q 'no card' bare2.txt || { echo "rc $rc"; cat bare2.txt; exit 5; }
  # --input: another rate (resampled) and two channels
  "$bin" -q synth -o in.wav --seconds 3 --rate 16000 --channels 2 --seed 3 || exit 6
  "$bin" bench model --input in.wav --batch 4 --repeat 2 --json in.json > in.txt 2>&1 || { cat in.txt; exit 7; }
  py '
import json
r = json.load(open("in.json"))["results"][0]
# 3 s at 8 kHz per channel: 1 + 24000/80 = 301 frames, (301 - 16) / 8 + 1 = 36 windows, x 2 channels
assert r["windows"] == 72, r["windows"]
assert abs(r["audio_s"] - 3) < 0.01, r["audio_s"]
' || exit 8
  [ -f in.wav ] || exit 9   # the user's input is not removed
  ;;
auto)
  b --batch auto --json auto.json > auto.txt 2> auto.err || { cat auto.err; exit 1; }
  grep -q '^recommended batch size: [0-9]' auto.txt || { cat auto.txt; exit 2; }
  grep -q 'best throughput: batch' auto.txt || exit 3
  py '
import json
d = json.load(open("auto.json"))
rec = d["recommendation"]
batches = [x["batch"] for x in d["results"] if not x["failed"]]
assert rec["batch"] in batches, (rec, batches)
assert batches[:3] == [1, 2, 4], batches
best = max((x for x in d["results"] if not x["failed"]), key=lambda x: x["windows_per_s"])
tol = best["windows_per_s_max"] - best["windows_per_s_min"]
pick = next(x for x in d["results"] if x["batch"] == rec["batch"])
assert pick["windows_per_s"] >= best["windows_per_s"] - tol - 1e-6
assert all(x["windows_per_s"] < best["windows_per_s"] - tol + 1e-6 for x in d["results"]
           if not x["failed"] and x["batch"] < rec["batch"])
' || exit 4
  tmp_empty || exit 5
  ;;
busy)
  BL_TEST_LOADAVG="9.5 8 7" b --batch 2 --json busy.json > busy.txt 2> busy.err || { cat busy.err; exit 1; }
  grep -q 'warning: the machine is busy: 1-minute load average 9.50' busy.txt || { cat busy.txt; exit 2; }
  grep -q 'machine is busy' busy.err || exit 3
  py '
import json
d = json.load(open("busy.json"))
assert d["env"]["loadavg"][0] == 9.5 and d["env"]["loadavg_injected"] is True
assert any("machine is busy" in w for w in d["warnings"]), d["warnings"]
' || exit 4
  BL_TEST_LOADAVG=0 b --batch 2 > quiet.txt 2> quiet.err || exit 5
  ! grep -q 'load average 0.00 on' quiet.txt || exit 6
  # --compete runs its busy loops and stops them
  "$bin" bench model --seconds 4 --batch 2 --compete 1 --repeat 1 > comp.txt 2> comp.err || { cat comp.err; exit 7; }
  grep -q '1 busy loop competed' comp.txt || exit 8
  ;;
errors)
  "$bin" bench model --backend cuda --seconds 4 > e1.txt 2>&1; rc=$?
  [ $rc -eq 1 ] && grep -q 'no CUDA backend' e1.txt || { echo "cuda rc $rc"; cat e1.txt; exit 1; }
  for args in "--seconds 3 --input x.wav" "--batch 0" "--batch 1,,2" "--batch x" "--only foo" \
              "--only io --batch 4" "--repeat 0" "--threads -1" "--backend gpu" "--seconds 0" "a b"; do
    "$bin" bench model $args > e.txt 2>&1; rc=$?
    [ $rc -eq 1 ] || { echo "$args: rc $rc"; cat e.txt; exit 2; }
    grep -q 'baleen bench --help' e.txt || { echo "$args"; cat e.txt; exit 3; }
  done
  "$bin" bench nowhere --seconds 4 > e2.txt 2>&1; rc=$?
  [ $rc -eq 1 ] || { echo "missing model rc $rc"; cat e2.txt; exit 4; }
  "$bin" bench model --input missing.wav > e3.txt 2>&1; rc=$?
  [ $rc -ne 0 ] && grep -q 'missing.wav' e3.txt || { echo "missing input rc $rc"; cat e3.txt; exit 5; }
  tmp_empty || exit 6
  ;;
*) echo "unknown case $case"; exit 99 ;;
esac
exit 0
