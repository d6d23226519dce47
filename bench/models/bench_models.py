#!/usr/bin/env python3
"""bench_models.py — CPU model throughput: baleen's executor vs ONNX Runtime, in one run.

Models (issue 3): resnet18 [N,1,64,128] and efficientnet_b0 [N,1,64,160] exported by
bench/models/export_models.py (torchvision, first conv with one input channel, random
weights), and the default model models/zoo/whalecall-small/model.onnx (when it is absent,
tests/data/models/small_cnn.onnx stands in and the table says so). Batches 1, 8, 32;
threads 1 and 2. Both runtimes read the same .onnx files.

What is timed (median of --repeat runs after --warmup untimed runs, --repeat raised so that
one sample lasts at least --min-time seconds: a sample of a few milliseconds, as nine runs of
a 0.3 ms model are, is one scheduler hiccup away from any figure; baleen and ORT alternate
for --rounds rounds per configuration, and the median of the round medians is reported):
  baleen — `baleen model run MODEL -i IN.npy -o OUT.npy --threads T --warmup W --repeat R`:
           the executor's bl_exec_run on a batch already in memory (the command prints the
           median time per run; process start, model load and .npy I/O are outside the timing).
  ORT    — InferenceSession.run on the same batch, intra_op_num_threads=T,
           inter_op_num_threads=1, ORT_SEQUENTIAL, ORT_ENABLE_ALL graph optimisations,
           CPUExecutionProvider.
The table gives windows (batch items) per second and baleen/ORT (> 1 means baleen is faster).
--no-spin makes idle worker threads of both runtimes sleep instead of spin (baleen/OpenMP:
OMP_WAIT_POLICY=passive; ORT: session.intra_op.allow_spinning=0): on a machine whose cores
are busy with other work, spinning threads and statically partitioned parallel loops lose
whole scheduler time slices, which dominates 2-thread timings there.

--cpu-time reports, on one thread, CPU time (user + system) per window instead: baleen from
two processes with R and 4R runs (their difference cancels start, load and weight packing),
ORT around its loop. It measures the work done, largely independent of other load.

Usage:
  /usr/bin/python3 bench/models/export_models.py --out build/bench_models
  .venv/bin/python bench/models/bench_models.py --baleen build/release/baleen \
      --cache build/bench_models [--repeat 15] [--warmup 3] [--rounds 3] [--no-spin | --cpu-time]
      [--out bench/models/results.md]
"""
import argparse
import datetime
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ort_time(path, x, threads, warmup, repeat, no_spin):
    so = ort.SessionOptions()
    if no_spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    for _ in range(warmup):
        s.run(None, {name: x})
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        s.run(None, {name: x})
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def baleen_time(baleen, path, xpath, ypath, threads, warmup, repeat, no_spin):
    cmd = [baleen, "model", "run", path, "-i", xpath, "-o", ypath, "--threads", str(threads),
           "--warmup", str(warmup), "--repeat", str(repeat)]
    env = dict(os.environ)
    if no_spin:
        env["OMP_WAIT_POLICY"] = "passive"
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        sys.exit("baleen failed: %s\n%s" % (" ".join(cmd), r.stderr))
    m = re.search(r"median ([0-9.]+) ms per run", r.stdout)
    if not m:
        sys.exit("cannot parse baleen output:\n" + r.stdout)
    return float(m.group(1)) * 1e-3


def cpu_of(fn):
    """User+system CPU seconds of this process and its waited-for children spent in fn()."""
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    fn()
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime +
            c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime)


def cpu_per_run(baleen, path, x, xpath, ypath, repeat):
    """CPU seconds per batch on one thread. baleen: difference of two processes with R and 4R
    runs (cancels start, model load and weight packing); ORT: around the timed loop."""
    def bal(r):
        return cpu_of(lambda: baleen_time(baleen, path, xpath, ypath, 1, 0, r, False))
    # enough runs for about a second of CPU: process CPU times tick in milliseconds
    repeat = max(repeat, min(100000, int(0.5 / baleen_time(baleen, path, xpath, ypath, 1, 1, 3, False))))
    tb = (bal(4 * repeat) - bal(repeat)) / (3 * repeat)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    for _ in range(3):
        s.run(None, {name: x})
    to = cpu_of(lambda: [s.run(None, {name: x}) for _ in range(3 * repeat)]) / (3 * repeat)
    return tb, to


def host_facts():
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d logical CPUs, %s, onnxruntime %s, load %s" % (
        cpu, os.cpu_count(), platform.platform(), ort.__version__, " ".join("%.2f" % v for v in os.getloadavg()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baleen", default=os.path.join(ROOT, "build/release/baleen"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "build/bench_models"),
                    help="folder with resnet18.onnx and efficientnet_b0.onnx (export_models.py)")
    ap.add_argument("--models", default="resnet18,efficientnet_b0,default")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate baleen and ORT this many times per configuration (median of rounds)")
    ap.add_argument("--min-time", type=float, default=0.5,
                    help="raise --repeat so that each sample lasts at least this many seconds (default 0.5)")
    ap.add_argument("--out", help="append the table to this Markdown file")
    ap.add_argument("--cpu-time", action="store_true",
                    help="instead of wall-clock windows/s, report CPU time per window on one "
                         "thread (user+system; much less sensitive to other load on the machine)")
    ap.add_argument("--no-spin", action="store_true",
                    help="idle worker threads sleep instead of spinning, in both runtimes "
                         "(baleen: OMP_WAIT_POLICY=passive; ORT: session.intra_op.allow_spinning=0); "
                         "fairer on a machine shared with other work")
    a = ap.parse_args()

    models = []
    for name in a.models.split(","):
        if name == "default":
            p = os.path.join(ROOT, "models/zoo/whalecall-small/model.onnx")
            label = "whalecall-small"
            if not os.path.exists(p):
                p, label = os.path.join(ROOT, "tests/data/models/small_cnn.onnx"), "small_cnn (default model absent)"
            models.append((label, p))
        else:
            models.append((name, os.path.join(a.cache, name + ".onnx")))
    for _, p in models:
        if not os.path.exists(p):
            sys.exit("%s is missing: run /usr/bin/python3 bench/models/export_models.py --out %s" % (p, a.cache))

    load_before = os.getloadavg()[0]
    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in models:
            s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            shape = s.get_inputs()[0].shape
            for b in [int(v) for v in a.batches.split(",")]:
                x = rng.standard_normal([b] + [int(d) for d in shape[1:]]).astype(np.float32)
                xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
                np.save(xp, x)
                if a.cpu_time:
                    tb, to = cpu_per_run(a.baleen, path, x, xp, yp, a.repeat)
                    rows.append((label, b, 1, b / tb, b / to))
                    print("%-16s batch %2d CPU ms/window: baleen %.3f  ORT %.3f  ratio %.2f" %
                          (label, b, tb * 1e3 / b, to * 1e3 / b, to / tb), flush=True)
                    continue
                for t in [int(v) for v in a.threads.split(",")]:
                    # samples of at least --min-time: the repeat count from a short probe
                    probe = baleen_time(a.baleen, path, xp, yp, t, 1, 3, a.no_spin)
                    rep = max(a.repeat, min(100000, int(a.min_time / max(probe, 1e-6)) + 1))
                    # alternate the two runtimes for --rounds rounds, so that a change of the
                    # machine's load during the run hits both alike; median of round medians
                    tbs, tos = [], []
                    for _ in range(a.rounds):
                        tbs.append(baleen_time(a.baleen, path, xp, yp, t, a.warmup, rep, a.no_spin))
                        tos.append(ort_time(path, x, t, a.warmup, rep, a.no_spin))
                    tb, to = statistics.median(tbs), statistics.median(tos)
                    rows.append((label, b, t, b / tb, b / to))
                    print("%-16s batch %2d threads %d: baleen %9.1f/s  ORT %9.1f/s  ratio %.2f" %
                          (label, b, t, b / tb, b / to, to / tb), flush=True)
    load_after = os.getloadavg()[0]
    if a.cpu_time:
        lines = ["| model | batch | baleen CPU ms/window | ORT CPU ms/window | baleen/ORT speed |",
                 "|---|---:|---:|---:|---:|"]
        for label, b, t, wb, wo in rows:
            lines.append("| %s | %d | %.3f | %.3f | %.2f |" % (label, b, 1e3 / wb, 1e3 / wo, wb / wo))
    else:
        lines = ["| model | batch | threads | baleen windows/s | ORT windows/s | baleen/ORT |",
                 "|---|---:|---:|---:|---:|---:|"]
        for label, b, t, wb, wo in rows:
            lines.append("| %s | %d | %d | %.1f | %.1f | %.2f |" % (label, b, t, wb, wo, wb / wo))
    table = "\n".join(lines)
    print()
    print(table)
    if a.out:
        cmd = "bench/models/bench_models.py " + " ".join(sys.argv[1:])
        with open(a.out, "a") as f:
            f.write("\n## %s%s\n\nHost: %s. 1-min load average %.2f before, %.2f after.\n\n"
                    "Command: `.venv/bin/python %s` (median of %d rounds of >= %d runs and >= %g s after %d warm-up).\n\n%s\n" %
                    (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                     " (CPU time, 1 thread)" if a.cpu_time else " (no spinning)" if a.no_spin else "",
                     host_facts(), load_before, load_after, cmd, a.rounds, a.repeat, a.min_time, a.warmup, table))


if __name__ == "__main__":
    main()
