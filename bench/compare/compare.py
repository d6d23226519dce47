#!/usr/bin/env python3
"""compare.py — `baleen bench` side by side with the Python peers available here, on the same
model and the same audio, the sides alternating so that both see the same minutes.

Peers (docs/benchmarks.md, "Side by side with peers"):
  - soundfile + torchaudio + ONNX Runtime: bench/pipeline/py_pipeline.py (the pipeline of
    issue 4: blocks read with soundfile, torchaudio's mel, ONNX Runtime in fixed batches,
    numpy pooling and events, csv);
  - librosa + ONNX Runtime: the same script with --frontend librosa;
  - PyTorch for the model alone: bench/compare/torch_model.py (eval, traced and frozen).
Both pipelines are timed two ways: the work alone (baleen bench's streaming time, which leaves
out the set-up; the Python script's own clock from after its imports and session set-up to the
end) and the whole process (`baleen run` on the same audio and model vs the Python script,
from process start to exit, imports included). The model alone: `baleen bench --only model` vs
torch_model.py, windows per second on the same number of windows.

--compete N (the contention study): every measured command runs once on the quiet machine and
once beside N busy loops, and the table gives each side's slowdown (loaded / quiet, medians).
A busy loop is one process running `sh -c 'while :; do :; done'`: it spins in user space on
one core, never sleeping, at the default priority, started 0.2 s before the measured command
and killed after it (the same loops for both sides).

Usage: .venv/bin/python bench/compare/compare.py --baleen build/release/baleen
       [--models default,resnet18] [--seconds 1200] [--threads N] [--batch 32] [--repeat 3]
       [--compete N] [--env KEY=VALUE] [--no-librosa] [--cache DIR] [--out FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "pipeline"))
import bench_pipeline  # export_resnet18: the resnet18 benchmark model and its card  # noqa: E402

PY = sys.executable


class Busy:
    """N busy loops for the duration of a `with` block (none when n == 0)."""

    def __init__(self, n):
        self.n, self.procs = n, []

    def __enter__(self):
        self.procs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(self.n)]
        if self.n:
            time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


BALEEN_ENV = dict(os.environ)  # --env KEY=VALUE: switches for baleen's side (docs/benchmarks.md)


def run(cmd, busy=0):
    """Wall time of cmd (s) under `busy` loops; its stdout."""
    with Busy(busy):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=BALEEN_ENV if cmd[0] != PY else None)
        dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return dt, p.stdout


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def steal_ticks():
    with open("/proc/stat") as f:
        v = f.readline().split()
    return int(v[8]) if len(v) > 8 else 0, sum(int(x) for x in v[1:9])


class Sides:
    """The measured commands of one model."""

    def __init__(self, a, name, mdir, wav, tmp, windows):
        self.a, self.name, self.mdir, self.wav, self.tmp, self.windows = a, name, mdir, wav, tmp, windows
        self.cfg = os.path.join(tmp, f"{name}.yaml")
        with open(self.cfg, "w") as f:
            f.write(f"sources: [{wav}]\nmodel: {mdir}\nbatch: {{size: {a.batch}}}\n"
                    "pooling: {segment_seconds: 60, aggregates: [max, mean, p90]}\n"
                    f"runtime: {{threads: {a.threads if a.threads_given else 0}, progress: none}}\n")

    def bench(self, only, busy):
        js = os.path.join(self.tmp, "b.json")
        threads = ["--threads", str(self.a.threads)] if self.a.threads_given else []
        run([self.a.baleen, "-q", "bench", self.mdir, "--input", self.wav, "--only", only, "--batch",
             str(self.a.batch), *threads, "--repeat", "1", "--json", js], busy)
        r = json.load(open(js))["results"][0]
        return r["time_s"], r["windows_per_s"]

    def baleen_run(self, busy):
        out = os.path.join(self.tmp, "out")
        shutil.rmtree(out, ignore_errors=True)
        dt, _ = run([self.a.baleen, "-q", "run", self.cfg, "-o", out], busy)
        shutil.rmtree(out, ignore_errors=True)
        return dt

    def python(self, frontend, busy):
        out, js = os.path.join(self.tmp, "py"), os.path.join(self.tmp, "py.json")
        dt, _ = run([PY, os.path.join(ROOT, "bench", "pipeline", "py_pipeline.py"), self.wav, self.mdir, out,
                     "--threads", str(self.a.threads), "--batch", str(self.a.batch), "--frontend", frontend,
                     "--timing-json", js], busy)
        shutil.rmtree(out, ignore_errors=True)
        return json.load(open(js))["work_s"], dt

    def torch(self, busy):
        _, out = run([PY, os.path.join(HERE, "torch_model.py"), self.name, "--batch", str(self.a.batch),
                      "--threads", str(self.a.threads), "--windows", str(self.windows), "--repeat", "1"], busy)
        return json.loads(out.strip().splitlines()[-1])["windows_per_s"]


def med(v):
    return statistics.median(v) if v else float("nan")


def spread(v):
    m = med(v)
    return (max(v) - min(v)) / m if v and m else 0.0


def fmt(v, unit="s"):
    return f"{med(v):.2f} {unit} (±{100 * spread(v) / 2:.0f}%)" if unit == "s" else f"{med(v):.0f} (±{100 * spread(v) / 2:.0f}%)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baleen", default=os.path.join(ROOT, "build/release/baleen"))
    ap.add_argument("--models", default="default,resnet18")
    ap.add_argument("--seconds", type=int, default=1200)
    ap.add_argument("--threads", type=int, default=None,
                    help="threads of every side; default: the usable CPUs, and baleen left at its default "
                         "(runtime.threads 0, which adapts to other work on the machine)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compete", type=int, default=0)
    ap.add_argument("--no-librosa", action="store_true", help="leave the (slow) librosa peer out")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build/bench-cache"))
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="set in baleen's environment (an A/B switch such as BL_ADAPT_THREADS=0)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    a.threads_given = a.threads is not None
    if not a.threads_given:
        a.threads = len(os.sched_getaffinity(0))
    for kv in a.env:
        k, _, v = kv.partition("=")
        BALEEN_ENV[k] = v
    a.baleen = os.path.abspath(a.baleen)
    os.makedirs(a.cache, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bl_compare_")
    wav = os.path.join(a.cache, f"compare_{a.seconds}s.wav")
    if not os.path.exists(wav):
        subprocess.run([a.baleen, "-q", "synth", "-o", wav, "--seconds", str(a.seconds), "--seed", "11"], check=True)
    default_dir = os.path.join(ROOT, "models/zoo/whalecall-small")
    # windows of the audio at 16 kHz, hop 300, center: frames 1 + n / 300; windows (frames - W) / 16 + 1
    frames = 1 + a.seconds * 16000 // 300
    lines = []
    load0, (st0, tot0) = loadavg(), steal_ticks()
    t_start = time.strftime("%Y-%m-%d %H:%M")
    rows = []
    for name in a.models.split(","):
        if name == "default":
            mdir, win = default_dir, 96
        elif name == "resnet18":
            mdir, win = os.path.join(a.cache, "resnet18"), 128
            bench_pipeline.export_resnet18(mdir, os.path.join(default_dir, "model.yaml"))
        else:
            raise SystemExit(f"unknown model {name} (default, resnet18)")
        s = Sides(a, name, mdir, wav, tmp, (frames - win) // 16 + 1)
        m = {k: [] for k in ("bench", "py_ta", "py_lr", "run", "py_ta_wall", "bmodel", "torch",
                             "bench_l", "py_l", "run_l", "py_wall_l")}
        for r in range(a.repeat):
            print(f"compare.py: {name}, round {r + 1} of {a.repeat} (load {loadavg():.2f})", file=sys.stderr)
            if a.compete == 0:
                m["bench"].append(s.bench("pipeline", 0)[0])
                w, dt = s.python("torchaudio", 0)
                m["py_ta"].append(w), m["py_ta_wall"].append(dt)
                if not a.no_librosa:
                    m["py_lr"].append(s.python("librosa", 0)[0])
                m["run"].append(s.baleen_run(0))
                m["bmodel"].append(s.bench("model", 0)[1])
                m["torch"].append(s.torch(0))
            else:
                for busy, sfx in ((0, ""), (a.compete, "_l")):
                    m["bench" + sfx].append(s.bench("pipeline", busy)[0])
                    w, dt = s.python("torchaudio", busy)
                    m[("py_ta" if not sfx else "py_l")].append(w)
                    m[("py_ta_wall" if not sfx else "py_wall_l")].append(dt)
                    m["run" + sfx].append(s.baleen_run(busy))
        rows.append((name, m))
    st1, tot1 = steal_ticks()
    steal = (st1 - st0) / max(1, tot1 - tot0)
    head = (f"{t_start}, {a.seconds} s of 16 kHz audio (baleen synth --seed 11), {a.threads} threads"
            f"{'' if a.threads_given else ' (baleen: runtime.threads 0)'}, batch "
            f"{a.batch}, {a.repeat} rounds (sides alternating); load average {load0:.2f} before, "
            f"{loadavg():.2f} after; steal {100 * steal:.1f}% of the CPUs' time. Medians (± half the spread)."
            + (f" baleen's environment: {' '.join(a.env)}." if a.env else ""))
    lines += [head, ""]
    if a.compete == 0:
        lines += ["| model | baleen bench (work, s) | soundfile+torchaudio+ORT (work, s) | × | librosa+ORT (work, s) | × "
                  "| baleen run (process, s) | torchaudio pipeline (process, s) | × | baleen model alone (windows/s) "
                  "| PyTorch (windows/s) | × |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, m in rows:
            lr = (fmt(m["py_lr"]), f"**{med(m['py_lr']) / med(m['bench']):.1f}×**") if m["py_lr"] else ("-", "-")
            lines.append(f"| {name} | {fmt(m['bench'])} | {fmt(m['py_ta'])} | **{med(m['py_ta']) / med(m['bench']):.1f}×** "
                         f"| {lr[0]} | {lr[1]} | {fmt(m['run'])} | {fmt(m['py_ta_wall'])} | "
                         f"**{med(m['py_ta_wall']) / med(m['run']):.1f}×** | {fmt(m['bmodel'], 'w')} | "
                         f"{fmt(m['torch'], 'w')} | **{med(m['bmodel']) / med(m['torch']):.2f}×** |")
    else:
        lines += [f"Under {a.compete} busy loop(s):", "",
                  "| model | side | quiet (s) | loaded (s) | slowdown |", "| --- | --- | --- | --- | --- |"]
        for name, m in rows:
            for label, q, l in (("baleen bench --only pipeline (work)", "bench", "bench_l"),
                                ("Python pipeline (work)", "py_ta", "py_l"),
                                ("baleen run (process)", "run", "run_l"),
                                ("Python pipeline (process)", "py_ta_wall", "py_wall_l")):
                lines.append(f"| {name} | {label} | {fmt(m[q])} | {fmt(m[l])} | **{med(m[l]) / med(m[q]):.2f}×** |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "a") as f:
            f.write(text + "\n\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
