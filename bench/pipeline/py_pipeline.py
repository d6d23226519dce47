#!/usr/bin/env python3
"""py_pipeline.py — the reference Python pipeline that bench_pipeline.py races baleen against.

It does the work `baleen run` does, the way a careful Python user would write it:
soundfile reads the WAV in 10-minute blocks (bounded memory, frame carry between blocks),
torchaudio computes the card's log-mel front end, ONNX Runtime scores model windows in
fixed batches, numpy pools scores into segments (max, mean, p90) and finds events with the
same hysteresis rules, and csv writes segments.csv and events.csv.

--frontend librosa computes the same mel spectrogram with librosa instead (the "librosa +
ONNX Runtime" peer of bench/compare/compare.py). --timing-json FILE writes the time spent
importing, setting up (front end, ONNX Runtime session) and working (reading, features,
model, pooling, writing), so that a comparison can leave interpreter start and imports out.

Usage: py_pipeline.py WAV MODEL_DIR OUT_DIR --threads N [--batch 32] [--frontend torchaudio|librosa]
                      [--timing-json FILE]
"""
import time
T_START = time.perf_counter()
import argparse
import csv
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import soundfile as sf
import torch
import torchaudio
import yaml


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav")
    ap.add_argument("model_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frontend", choices=("torchaudio", "librosa"), default="torchaudio")
    ap.add_argument("--timing-json", default=None)
    a = ap.parse_args()
    t_imports = time.perf_counter()
    torch.set_num_threads(a.threads)
    card = yaml.safe_load(open(os.path.join(a.model_dir, "model.yaml")))
    fe = card["frontend"]
    sr, n_fft, hop = fe["sample_rate"], fe["n_fft"], fe["hop_length"]
    mel = fe.get("mel", {})
    comp = fe.get("compression", {})
    wf, hf = card["window_frames"], card["hop_frames"]
    classes = card["classes"]
    act = card.get("output_activation", "sigmoid")
    spec = torchaudio.transforms.MelSpectrogram(
        sample_rate=sr, n_fft=n_fft, win_length=fe.get("win_length") or n_fft, hop_length=hop,
        f_min=float(mel.get("fmin", 0.0)), f_max=float(mel.get("fmax") or sr / 2),
        n_mels=mel.get("n_mels", 64), power=float(fe.get("power", 2.0)), center=False,
        norm="slaney" if mel.get("norm", "slaney") == "slaney" else None,
        mel_scale=mel.get("scale", "slaney"))
    eps = float(comp.get("eps", 1e-6))
    if a.frontend == "librosa":
        import librosa
        mel_kw = dict(sr=sr, n_fft=n_fft, hop_length=hop, win_length=fe.get("win_length") or n_fft,
                      window="hann", center=False, power=float(fe.get("power", 2.0)),
                      n_mels=mel.get("n_mels", 64), fmin=float(mel.get("fmin", 0.0)),
                      fmax=float(mel.get("fmax") or sr / 2), htk=mel.get("scale", "slaney") == "htk",
                      norm="slaney" if mel.get("norm", "slaney") == "slaney" else None)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(os.path.join(a.model_dir, "model.onnx"), so,
                                providers=["CPUExecutionProvider"])
    iname = sess.get_inputs()[0].name
    t_ready = time.perf_counter()

    info = sf.info(a.wav)
    assert info.samplerate == sr, "the benchmark input is made at the model's rate"
    block = 600 * sr
    carry = None
    feats = []  # frames of the current model context (bounded by the carry logic below)
    scores = []
    frames_done = 0
    first = True
    pending = np.zeros((0, mel.get("n_mels", 64)), np.float32)
    win_start = 0  # index of the next window's first frame within `pending`
    batch_x, batch_start = [], []

    def run_batch(force=False):
        nonlocal batch_x, batch_start
        if not batch_x or (len(batch_x) < a.batch and not force):
            return
        x = np.stack(batch_x)
        n = len(x)
        if n < a.batch:  # fixed-shape batches, as baleen does
            x = np.concatenate([x, np.zeros((a.batch - n,) + x.shape[1:], np.float32)])
        y = sess.run(None, {iname: x[:, None, :, :]})[0][:n]
        if act == "sigmoid":
            y = 1.0 / (1.0 + np.exp(-y))
        elif act == "softmax":
            e = np.exp(y - y.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        scores.extend(zip(batch_start, y))
        batch_x, batch_start = [], []

    next_window = 0  # absolute frame index of the next window
    for blk in sf.blocks(a.wav, blocksize=block, dtype="float32", always_2d=True):
        x = blk[:, 0]
        if first:  # center=True: reflect-pad the start
            x = np.concatenate([x[1:n_fft // 2 + 1][::-1], x])
            first = False
        if carry is not None:
            x = np.concatenate([carry, x])
        nfr = 1 + (len(x) - n_fft) // hop if len(x) >= n_fft else 0
        if nfr <= 0:
            carry = x
            continue
        if a.frontend == "librosa":
            m = librosa.feature.melspectrogram(y=x[: (nfr - 1) * hop + n_fft], **mel_kw)[:, :nfr]
            m = np.ascontiguousarray(np.log(m + eps).T, dtype=np.float32)
        else:
            with torch.no_grad():
                m = spec(torch.from_numpy(x[: (nfr - 1) * hop + n_fft].copy()))[:, :nfr]
                m = torch.log(m + eps).T.contiguous().numpy()
        carry = x[nfr * hop:]
        pending = np.concatenate([pending, m])
        base = frames_done - (len(pending) - nfr)  # absolute index of pending[0]
        frames_done += nfr
        while next_window + wf <= frames_done:
            off = next_window - base
            batch_x.append(pending[off:off + wf].T.copy())
            batch_start.append(next_window * hop)
            next_window += hf
            run_batch()
        keep_from = next_window - base
        pending = pending[keep_from:]
    run_batch(force=True)

    os.makedirs(a.out_dir, exist_ok=True)
    starts = np.array([s for s, _ in scores], dtype=np.int64)
    sc = np.array([y for _, y in scores], dtype=np.float32).reshape(len(scores), len(classes))
    seg = 60 * sr
    centre = starts + wf * hop // 2
    seg_idx = centre // seg
    with open(os.path.join(a.out_dir, "segments.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "channel", "start_s", "end_s", "class", "max", "mean", "p90"])
        for k in np.unique(seg_idx):
            sel = sc[seg_idx == k]
            for c, name in enumerate(classes):
                v = sel[:, c]
                w.writerow([a.wav, 0, f"{k * 60:.6f}", f"{(k + 1) * 60:.6f}", name,
                            f"{v.max():.6g}", f"{v.mean():.6g}", f"{np.quantile(v, 0.9):.6g}"])
    ev = card.get("events", {})
    thr, thr_off, gap, mind = 0.5, 0.35, 1.0, 0.3
    hop_s = hf * hop / sr
    with open(os.path.join(a.out_dir, "events.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "channel", "class", "start_s", "end_s", "peak", "mean"])
        for c, name in enumerate(classes):
            ev = []
            cur = None
            for i in range(len(sc)):
                s = sc[i, c]
                t0 = centre[i] / sr - hop_s / 2
                if cur is None:
                    if s >= thr:
                        cur = [t0, t0 + hop_s, s, [s]]
                elif s >= thr_off:
                    cur[1] = t0 + hop_s
                    cur[2] = max(cur[2], s)
                    cur[3].append(s)
                else:
                    ev.append(cur)
                    cur = None
            if cur is not None:
                ev.append(cur)
            merged = []
            for e in ev:
                if merged and e[0] - merged[-1][1] < gap:
                    merged[-1][1] = e[1]
                    merged[-1][2] = max(merged[-1][2], e[2])
                    merged[-1][3] += e[3]
                else:
                    merged.append(e)
            for e in merged:
                if e[1] - e[0] >= mind:
                    w.writerow([a.wav, 0, name, f"{e[0]:.6f}", f"{e[1]:.6f}", f"{e[2]:.6g}",
                                f"{np.mean(e[3]):.6g}"])
    t_end = time.perf_counter()
    if a.timing_json:
        with open(a.timing_json, "w") as f:
            json.dump({"import_s": t_imports - T_START, "setup_s": t_ready - t_imports,
                       "work_s": t_end - t_ready, "windows": len(scores), "frontend": a.frontend}, f)
    print(f"py_pipeline: {len(scores)} windows", file=sys.stderr)


if __name__ == "__main__":
    main()
