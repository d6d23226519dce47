#!/usr/bin/env python3
"""bench_frontend.py — front-end throughput: baleen vs torchaudio vs librosa, in one run.

Workload (issue 2): 20 min of 16 kHz mono audio (made by `baleen synth`), log-mel with
n_fft 1024, hop 300, 64 mels (slaney scale + norm, 0–8 kHz), ln(S + 1e-6), center=True,
reflect padding. Each tool is run with 1 and 2 threads; median of --repeat runs.

What is timed:
  baleen      — (a) the whole CLI: process start, WAV decode, front end, .npy write
                (`baleen features AUDIO --config CFG -o OUT --threads N`); and (b) compute
                only, like the peers: `bench_fe_compute` (bench/frontend/fe_compute.c, built
                next to the baleen binary) decodes the file into memory untimed, then times
                the front end (bl_fe_stream: push all samples, finish) into a [frames][mels]
                array. The ratios are given for both; (b) is the like-for-like one.
  torchaudio  — compute only, on a float32 tensor already in memory
                (torchaudio.transforms.MelSpectrogram + log), torch.set_num_threads(N).
  librosa     — compute only, on a float32 array already in memory
                (librosa.feature.melspectrogram + log); numpy FFT is single-threaded, so the
                thread count only caps BLAS (OPENBLAS/OMP_NUM_THREADS) for the mel product.
Row (a) times baleen on more work than the peers: its ratios are conservative.

Usage: .venv/bin/python bench/frontend/bench_frontend.py --baleen build/release/baleen
       [--seconds 1200] [--repeat 5] [--out bench/frontend/results.md]
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def timeit(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baleen", default="build/release/baleen")
    ap.add_argument("--seconds", type=float, default=1200.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=None, help="append a Markdown table here")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bl_bench_fe_")
    wav = os.path.join(tmp, "bench.wav")
    subprocess.run([args.baleen, "-q", "synth", "-o", wav, "--seconds", str(args.seconds),
                    "--seed", "7"], check=True)
    cfg = os.path.join(tmp, "fe.yaml")
    with open(cfg, "w") as f:
        f.write("frontend:\n  sample_rate: 16000\n  n_fft: 1024\n  win_length: 1024\n"
                "  hop_length: 300\n  center: true\n  pad_mode: reflect\n  power: 2.0\n"
                "  mel: {n_mels: 64, fmin: 0, fmax: 8000, scale: slaney, norm: slaney}\n"
                "  compression: {type: log, eps: 1.0e-6}\n")

    import numpy as np
    import soundfile as sf
    import torch
    import torchaudio
    import librosa

    audio, sr = sf.read(wav, dtype="float32")
    assert sr == 16000
    threads = [int(t) for t in args.threads.split(",")]
    rows = []
    out_npy = os.path.join(tmp, "f.npy")
    compute_bin = os.path.join(os.path.dirname(os.path.abspath(args.baleen)), "bench_fe_compute")
    if not os.path.exists(compute_bin):
        print(f"note: {compute_bin} not found: no compute-only baleen column", file=sys.stderr)
    ref = None
    for nt in threads:
        def run_baleen():
            subprocess.run([args.baleen, "-q", "features", wav, "--config", cfg, "-o", out_npy,
                            "--threads", str(nt)], check=True)
        run_baleen()  # warm the page cache
        t_b = timeit(run_baleen, args.repeat)
        ours = np.load(out_npy)[0]
        t_c = float("nan")
        if os.path.exists(compute_bin):
            r = subprocess.run([compute_bin, wav, "--config", cfg, "--threads", str(nt),
                                "--repeat", str(args.repeat)], check=True, capture_output=True,
                               text=True)
            kv = dict(tok.split("=", 1) for tok in r.stdout.split() if "=" in tok)
            t_c = float(kv["median_s"])

        torch.set_num_threads(nt)
        mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=16000, n_fft=1024, win_length=1024, hop_length=300, f_min=0.0, f_max=8000.0,
            n_mels=64, power=2.0, center=True, pad_mode="reflect", norm="slaney", mel_scale="slaney")
        x = torch.from_numpy(audio)

        def run_torch():
            with torch.no_grad():
                return torch.log(mel(x) + 1e-6)
        run_torch()
        t_t = timeit(run_torch, args.repeat)
        ref = run_torch().numpy()

        def run_librosa():
            S = librosa.feature.melspectrogram(y=audio, sr=16000, n_fft=1024, hop_length=300,
                                               win_length=1024, center=True, pad_mode="reflect",
                                               power=2.0, n_mels=64, fmin=0.0, fmax=8000.0,
                                               htk=False, norm="slaney")
            return np.log(S + 1e-6)
        run_librosa()
        t_l = timeit(run_librosa, args.repeat)

        err = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
        rows.append((nt, t_b, t_c, t_t, t_l, err))

    audio_s = len(audio) / 16000.0
    lines = [
        f"Front end, {audio_s/60:.0f} min of 16 kHz audio, n_fft 1024, hop 300, 64 mels, log; "
        f"median of {args.repeat} runs; host: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; torch {torch.__version__}, torchaudio {torchaudio.__version__}, "
        f"librosa {librosa.__version__}.",
        "",
        "| threads | baleen whole CLI (s) | baleen compute (s) | torchaudio compute (s) | "
        "librosa compute (s) | vs torchaudio (CLI / compute) | vs librosa (CLI / compute) | "
        "max abs diff / max |ref| |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for nt, t_b, t_c, t_t, t_l, err in rows:
        lines.append(f"| {nt} | {t_b:.3f} | {t_c:.3f} | {t_t:.3f} | {t_l:.3f} | "
                     f"{t_t/t_b:.1f}× / {t_t/t_c:.1f}× | {t_l/t_b:.1f}× / {t_l/t_c:.1f}× | "
                     f"{err:.1e} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text + "\n\n")


if __name__ == "__main__":
    sys.exit(main())
