#!/usr/bin/env python3
"""bench_pipeline.py — `baleen run` end to end against an equivalent Python pipeline.

Issue 4's benchmark: 1 hour of 16 kHz audio (made by `baleen synth`), scanned with the
default model (models/zoo/whalecall-small) and with resnet18 (torchvision, first conv →
1 channel, 2 outputs, random weights; exported here into --cache with a card that reuses the
default model's front end, 128-frame windows, hop 32), side by side in one run with
py_pipeline.py (soundfile + torchaudio mel + ONNX Runtime + numpy pooling + CSV writing)
with the same thread count. Each side runs as its own process; wall time and peak RSS
(ru_maxrss from wait4) are measured per process, the two sides alternating. Median of
--repeat runs, and best of them: on a virtual machine the hypervisor's steal time (CPU time
taken by other guests, from /proc/stat) can add seconds to any single run, so the table also
gives each side's mean steal as a share of its wall time; the best-of ratio is the one least
disturbed by it.

--rss-check adds baleen's peak RSS on a 10-minute file vs a --long-hours file (default 6 h):
memory must be flat in input length.

Usage: .venv/bin/python bench/pipeline/bench_pipeline.py --baleen build/release/baleen
       [--threads 2] [--hours 1] [--repeat 3] [--rss-check] [--out docs-fragment.md]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def steal_s():
    """Steal time summed over all CPUs (s), from /proc/stat; 0 where there is none."""
    try:
        with open("/proc/stat") as f:
            v = f.readline().split()
        return int(v[8]) / os.sysconf("SC_CLK_TCK") if len(v) > 8 else 0.0
    except OSError:
        return 0.0


STEAL = []  # steal share of wall time of each run_measured call


def run_measured(cmd, env=None):
    s0 = steal_s()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    STEAL.append((steal_s() - s0) / (dt * (os.cpu_count() or 1)))
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return dt, ru.ru_maxrss / 1024.0  # MiB


def export_resnet18(model_dir, card_src):
    if os.path.exists(os.path.join(model_dir, "model.onnx")):
        return
    os.makedirs(model_dir, exist_ok=True)
    code = f"""
import torch, torchvision
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=2)
m.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
m.eval()
x = torch.randn(1, 1, 64, 128)
torch.onnx.export(m, x, {os.path.join(model_dir, 'model.onnx')!r}, opset_version=13,
                  input_names=['input'], output_names=['logits'],
                  dynamic_axes={{'input': {{0: 'N'}}, 'logits': {{0: 'N'}}}})
"""
    subprocess.run(["/usr/bin/python3", "-c", code], check=True)
    import yaml
    card = yaml.safe_load(open(card_src))
    card.update({"name": "resnet18-bench", "version": "0", "description": "benchmark only: random weights",
                 "window_frames": 128, "hop_frames": 32, "output_activation": "sigmoid",
                 "trained_on": "nothing (random weights)"})
    card.pop("metrics", None)
    card.pop("input", None)
    with open(os.path.join(model_dir, "model.yaml"), "w") as f:
        yaml.safe_dump(card, f, sort_keys=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baleen", default=os.path.join(ROOT, "build/release/baleen"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default="default,resnet18")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build/bench-cache"))
    ap.add_argument("--rss-check", action="store_true")
    ap.add_argument("--long-hours", type=float, default=6.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    bl = os.path.abspath(a.baleen)
    os.makedirs(a.cache, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bl_bench_run_")
    wav = os.path.join(a.cache, f"bench_{a.hours:g}h.wav")
    if not os.path.exists(wav):
        subprocess.run([bl, "-q", "synth", "-o", wav, "--seconds", str(int(a.hours * 3600)), "--seed", "11"],
                       check=True)
    default_dir = os.path.join(ROOT, "models/zoo/whalecall-small")
    models = {}
    for m in a.models.split(","):
        if m == "default":
            models[m] = default_dir
        elif m == "resnet18":
            d = os.path.join(a.cache, "resnet18")
            export_resnet18(d, os.path.join(default_dir, "model.yaml"))
            models[m] = d
    py = sys.executable
    audio_s = a.hours * 3600
    rows = []
    for name, mdir in models.items():
        cfg = os.path.join(tmp, f"{name}.yaml")
        with open(cfg, "w") as f:
            f.write(f"sources: [{wav}]\nmodel: {mdir}\nbatch: {{size: 32}}\n"
                    "pooling: {segment_seconds: 60, aggregates: [max, mean, p90]}\n"
                    f"runtime: {{threads: {a.threads}, progress: none}}\n")
        tb, rb, tp, rp, sb, sp = [], [], [], [], [], []
        for r in range(a.repeat):
            out = os.path.join(tmp, f"out_{name}_{r}")
            t, rss = run_measured([bl, "-q", "run", cfg, "-o", out])
            tb.append(t); rb.append(rss); sb.append(STEAL[-1])
            shutil.rmtree(out, ignore_errors=True)
            out = os.path.join(tmp, f"py_{name}_{r}")
            t, rss = run_measured([py, os.path.join(HERE, "py_pipeline.py"), wav, mdir, out,
                                   "--threads", str(a.threads)])
            tp.append(t); rp.append(rss); sp.append(STEAL[-1])
            shutil.rmtree(out, ignore_errors=True)
        b, p = statistics.median(tb), statistics.median(tp)
        rows.append((name, b, p, min(tb), min(tp), statistics.mean(sb), statistics.mean(sp),
                     max(rb), max(rp)))
    lines = [f"End to end, {a.hours:g} h of 16 kHz audio, {a.threads} threads, batch 32, "
             f"{a.repeat} runs each (alternating); host {os.cpu_count()} cores.", "",
             "| model | baleen median (s) | baleen × realtime | Python median (s) | Python × realtime | "
             "speed-up (median) | baleen best (s) | Python best (s) | speed-up (best) | "
             "steal baleen / Python | baleen peak RSS (MiB) | Python peak RSS (MiB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, b, p, bmin, pmin, stb, stp, rb, rp in rows:
        lines.append(f"| {name} | {b:.2f} | {audio_s/b:.0f}× | {p:.2f} | {audio_s/p:.0f}× | "
                     f"{p/b:.2f}× | {bmin:.2f} | {pmin:.2f} | {pmin/bmin:.2f}× | "
                     f"{100*stb:.0f}% / {100*stp:.0f}% | {rb:.0f} | {rp:.0f} |")
    if a.rss_check:
        lines += ["", "| input | baleen wall (s) | peak RSS (MiB) |", "| --- | --- | --- |"]
        for hours in (10 / 60, a.long_hours):
            w = os.path.join(a.cache, f"rss_{hours:g}h.wav")
            if not os.path.exists(w):
                subprocess.run([bl, "-q", "synth", "-o", w, "--seconds", str(int(hours * 3600)),
                                "--seed", "12"], check=True)
            cfg = os.path.join(tmp, "rss.yaml")
            with open(cfg, "w") as f:
                f.write(f"sources: [{w}]\nmodel: {default_dir}\n"
                        f"runtime: {{threads: {a.threads}, progress: none}}\n")
            out = os.path.join(tmp, f"rss_{hours:g}")
            t, rss = run_measured([bl, "-q", "run", cfg, "-o", out])
            shutil.rmtree(out, ignore_errors=True)
            lines.append(f"| {hours * 60:.0f} min | {t:.1f} | {rss:.1f} |")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "a") as f:
            f.write(text + "\n\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
