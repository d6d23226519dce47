#!/usr/bin/env python3
"""evaluate.py — held-out evaluation of an exported whalecall-small.

Runs MODEL_DIR/model.onnx with ONNX Runtime (one thread) on baleen's features of the test
split made by make_data.py (synth seeds 900000..900023, never used in training: 24 x 600 s,
SNR 0..20 dB, 30 calls per file, random noise colour and level, ships and clicks on), turns
each class's window scores into events with issue 4's rule (common.events_from_scores:
threshold 0.5, threshold_off 0.35, merge gaps < 1.0 s, drop events < 0.3 s), matches events to
truth calls of the same class by time overlap (common.match) and reports per class: recall
(all calls, SNR >= 6 dB, and per SNR bin), precision and false detections per hour, for both
event-span conventions (`centre`, the one the card quotes, and `window`).

Writes MODEL_DIR/eval.json and prints a Markdown table.
Usage: evaluate.py DATA_DIR MODEL_DIR [--split test] [--check-baleen]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np          # scores
import onnxruntime as ort   # the reference runtime for the exported graph

import common               # framing, events, matching
import make_data            # split loading and recipes
from train import score_split, event_metrics  # same scoring and metrics as validation

SNR_BINS = ((0, 3), (3, 6), (6, 10), (10, 15), (15, 20.01))


def snr_bins(split, scored, convention):
    out = {}
    for c, name in enumerate(common.CLASSES):
        det_all, snr_all = [], []
        for (x, truth, _), (starts, s) in zip(split, scored):
            ev = common.events_from_scores(s[:, c], starts, convention)
            det, snr, _ = common.match(ev, truth, c)
            det_all.append(det), snr_all.append(snr)
        det, snr = np.concatenate(det_all), np.concatenate(snr_all)
        out[name] = {f"{lo:g}-{min(hi, 20):g}": {
            "calls": int(((snr >= lo) & (snr < hi)).sum()),
            "recall": round(float(det[(snr >= lo) & (snr < hi)].mean()), 4)
            if ((snr >= lo) & (snr < hi)).any() else None} for lo, hi in SNR_BINS}
    return out


def check_baleen(model_dir, split, sess):
    """Scores from `baleen model run` against ONNX Runtime on 64 windows (skipped while the
    command is not available)."""
    x, _, _ = split[0]
    starts = common.window_starts(x.shape[1])[:64]
    xb = np.stack([x[:, f:f + common.WINDOW_FRAMES] for f in starts])[:, None].astype(np.float32)
    ref = sess.run(None, {"input": xb})[0]
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "in.npy"), xb)
        r = subprocess.run([common.baleen_path(), "model", "run", model_dir, "--input",
                            os.path.join(d, "in.npy"), "--output", os.path.join(d, "out.npy")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return {"skipped": (r.stderr.strip().splitlines() or ["failed"])[-1]}
        got = np.load(os.path.join(d, "out.npy"))
    rel = float(np.linalg.norm(got - ref) / np.linalg.norm(ref))
    return {"windows": len(starts), "relative_error": rel}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("model_dir")
    ap.add_argument("--split", default="test")
    ap.add_argument("--check-baleen", action="store_true",
                    help="also compare `baleen model run` with ONNX Runtime on a batch")
    a = ap.parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(os.path.join(a.model_dir, "model.onnx"), so,
                                providers=["CPUExecutionProvider"])
    split = make_data.load_split(a.data_dir, a.split)
    scored = score_split(lambda xb: sess.run(None, {"input": xb.astype(np.float32)})[0], split)
    res = {"split": a.split,
           "seeds": [r["seed"] for r in make_data.recipes(a.split)],
           "events": {"threshold": common.THRESHOLD, "threshold_off": common.THRESHOLD_OFF,
                      "min_gap_seconds": common.MIN_GAP_S,
                      "min_duration_seconds": common.MIN_DURATION_S},
           "conventions": {}}
    for conv in ("centre", "window"):
        res["conventions"][conv] = {"metrics": event_metrics(split, scored, conv),
                                    "recall_by_snr_db": snr_bins(split, scored, conv)}
    if a.check_baleen:
        res["baleen_model_run"] = check_baleen(a.model_dir, split, sess)
    with open(os.path.join(a.model_dir, "eval.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")

    hours = res["conventions"]["centre"]["metrics"][common.CLASSES[0]]["hours"]
    print(f"{a.split} split: {len(split)} recordings, {hours:.2f} h, seeds "
          f"{res['seeds'][0]}..{res['seeds'][-1]}\n")
    print("| events | class | calls | recall | calls SNR>=6 | recall SNR>=6 | events | "
          "precision | false/h |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for conv, r in res["conventions"].items():
        for name, m in r["metrics"].items():
            print(f"| {conv} | {name} | {m['calls']} | {m['recall']:.3f} | {m['calls_snr_ge_6']} | "
                  f"{m['recall_snr_ge_6']:.3f} | {m['events']} | {m['precision']:.3f} | "
                  f"{m['false_per_hour']:.2f} |")
    print("\nrecall by SNR (centre):", json.dumps(res["conventions"]["centre"]["recall_by_snr_db"]))
    if "baleen_model_run" in res:
        print("baleen model run vs ONNX Runtime:", res["baleen_model_run"])
    print(f"evaluate: wrote {os.path.join(a.model_dir, 'eval.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()
