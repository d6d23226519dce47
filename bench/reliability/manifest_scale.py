#!/usr/bin/env python3
"""manifest_scale.py — how loading a big output folder scales (issue 10, item 7).

Builds real output folders with `baleen run` (many tiny synthesized files and the small test
model of tests/data), then times what reads them back: `baleen export DIR --format csv -o F`
(manifest.json, then every chunk verified and decompressed) and `baleen run CONFIG --resume`
on the finished folder (manifest.json and checkpoint/journal.tsv parsed and replayed, the
plan rebuilt and checked against the journal, the folder closed again). Folders:

  chunks1k   500 one-second files, output.rows_per_chunk 1: every item cuts a chunk in the
             segments and the events table, 1,000 chunks
  chunks10k  5,000 files, rows_per_chunk 1: 10,000 chunks
  items20k   20,000 files, rows_per_chunk at its default (100,000): 20,000 items in a few
             chunks whose "sources" lists hold one span per file (the issue's 20k items)
  listed1k   1,000 files named one by one in the config's sources (not a folder), default
             rows_per_chunk: checkpoint/fingerprint (the resolved config) has 4,000 lines,
             which --resume compares with the config's

The files are hard links to one `baleen synth` file (1 s, 8 kHz, no calls), so building costs
the runs only. With --baseline OLD_BALEEN the same commands run with a second binary (e.g.
one built from the previous io/json.c), alternating with --baleen on the same folders; the
folders themselves are built with --baleen. Each figure is the median of --repeat runs
(--baseline-repeat for the baseline, which can take minutes per run before the fix), wall
time of the whole process. Prints a Markdown table. Benchmarks are never assertions.

Usage: .venv/bin/python bench/reliability/manifest_scale.py --baleen build/h-json/baleen
       [--baseline /tmp/old/baleen] [--work /tmp/baleen-manifest-scale] [--repeat 3]
       [--baseline-repeat 1] [--only chunks1k,chunks10k,items20k] [--build-only]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

FIXTURES = [  # name, files, rows_per_chunk (None: the default), files listed one by one
    ("chunks1k", 500, 1, False),
    ("chunks10k", 5000, 1, False),
    ("items20k", 20000, None, False),
    ("listed1k", 1000, None, True),
]


def sh(cmd, **kw):
    """Run a command, fail loudly (the benchmark needs every step to work)."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r


def timed(cmd):
    t = time.perf_counter()
    sh(cmd)
    return time.perf_counter() - t


def build_fixture(baleen, work, name, n_files, rows_per_chunk, listed):
    """Folder work/name/out, made once (a marker file records that it finished)."""
    base = os.path.join(work, name)
    out = os.path.join(base, "out")
    marker = os.path.join(base, "built")
    cfg = os.path.join(base, "run.yaml")
    if os.path.exists(marker):
        return cfg, out
    sh(["rm", "-rf", base])
    os.makedirs(os.path.join(base, "audio"))
    model = os.path.join(work, "model")
    one = os.path.join(work, "one.wav")
    files = [os.path.join(base, "audio", f"f{i:06d}.wav") for i in range(n_files)]
    for f in files:
        os.link(one, f)
    output = "{dir: out" + (f", rows_per_chunk: {rows_per_chunk}" if rows_per_chunk else "") + "}"
    sources = "".join(f"\n  - {f}" for f in files) if listed else f" [{os.path.join(base, 'audio')}]"
    with open(cfg, "w") as f:
        f.write(f"sources:{sources}\nmodel: {model}\noutput: {output}\n"
                "runtime: {threads: 1, progress: none}\n")
    t = timed([baleen, "-q", "run", cfg, "-o", out])
    print(f"# built {name}: {n_files} files in {t:.1f} s", file=sys.stderr)
    open(marker, "w").close()
    return cfg, out


def describe(out):
    with open(os.path.join(out, "manifest.json")) as f:
        m = json.load(f)
    chunks = sum(len(t["chunks"]) for t in m["tables"].values())
    spans = sum(len(c["sources"]) for t in m["tables"].values() for c in t["chunks"])
    with open(os.path.join(out, "checkpoint", "journal.tsv"), "rb") as f:
        lines = sum(1 for _ in f) - 1
    return {"items": m["items_committed"], "chunks": chunks, "spans": spans, "journal_lines": lines,
            "manifest_bytes": os.path.getsize(os.path.join(out, "manifest.json"))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baleen", required=True)
    ap.add_argument("--baseline", help="a second baleen binary to time on the same folders")
    ap.add_argument("--work", default="/tmp/baleen-manifest-scale")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-repeat", type=int, default=1)
    ap.add_argument("--only", default=",".join(f[0] for f in FIXTURES))
    ap.add_argument("--build-only", action="store_true", help="make the folders, time nothing")
    a = ap.parse_args()
    baleen = os.path.abspath(a.baleen)
    baseline = os.path.abspath(a.baseline) if a.baseline else None
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model")
    if not os.path.exists(os.path.join(model, "model.yaml")):
        os.makedirs(model, exist_ok=True)
        sh(["cp", os.path.join(ROOT, "tests/data/models/small_cnn.onnx"), os.path.join(model, "model.onnx")])
        sh(["cp", os.path.join(ROOT, "tests/data/cards/small_cnn/model.yaml"), os.path.join(model, "model.yaml")])
    one = os.path.join(work, "one.wav")
    if not os.path.exists(one):
        sh([baleen, "-q", "synth", "-o", one, "--seconds", "1", "--rate", "8000", "--calls", "0", "--seed", "1"])
    wanted = a.only.split(",")
    export_to = os.path.join(work, "export.csv")  # a file, not /dev/null (see docs/benchmarks.md)
    rows = []
    for name, n_files, rpc, listed in FIXTURES:
        if name not in wanted:
            continue
        cfg, out = build_fixture(baleen, work, name, n_files, rpc, listed)
        if a.build_only:
            continue
        d = describe(out)
        bins = [("new", baleen, a.repeat)] + ([("baseline", baseline, a.baseline_repeat)] if baseline else [])
        res = {}
        for what, cmd in (("export", lambda b: [b, "-q", "export", out, "--format", "csv", "-o", export_to]),
                          ("resume", lambda b: [b, "-q", "run", cfg, "-o", out, "--resume"])):
            times = {tag: [] for tag, _, _ in bins}
            for k in range(max(r for _, _, r in bins)):  # alternate the binaries
                for tag, b, reps in bins:
                    if k < reps:
                        times[tag].append(timed(cmd(b)))
            for tag in times:
                res[(what, tag)] = statistics.median(times[tag])
        rows.append((name, d, res))
        print(f"# {name}: {d} {res}", file=sys.stderr)
    load = os.getloadavg()[0]
    print(f"\nload average (1 min) at the end: {load:.1f}\n")
    head = "| folder | items | chunks | spans | manifest.json | journal lines | export (s) | resume (s) |"
    if baseline:
        head = ("| folder | items | chunks | spans | manifest.json | journal lines | export before (s) | "
                "export after (s) | resume before (s) | resume after (s) |")
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for name, d, res in rows:
        cells = [name, f"{d['items']:,}", f"{d['chunks']:,}", f"{d['spans']:,}",
                 f"{d['manifest_bytes'] / 1e6:.2f} MB", f"{d['journal_lines']:,}"]
        if baseline:
            cells += [f"{res[('export', 'baseline')]:.2f}", f"{res[('export', 'new')]:.2f}",
                      f"{res[('resume', 'baseline')]:.2f}", f"{res[('resume', 'new')]:.2f}"]
        else:
            cells += [f"{res[('export', 'new')]:.2f}", f"{res[('resume', 'new')]:.2f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
