#!/usr/bin/env python3
"""make_card.py — write models/zoo/whalecall-small/model.yaml and CARD.md.

Takes the front end from models/train/frontend.yaml, the framing and classes from common.py,
the training facts from DATA/train_log.json and the held-out numbers from MODEL_DIR/eval.json
(evaluate.py), so the card can only say what was measured.
Usage: make_card.py DATA_DIR MODEL_DIR
"""
import argparse
import json
import os
import re

import common     # framing, classes, event rule
import make_data  # recipes (seeds)

VERSION = "1.0.0"
CONVENTION = "centre"   # the event-span convention the card's metrics use (see common.event_regions)
EVAL_CMD = ("cd models/train && ../../.venv/bin/python evaluate.py ../../build/h-train/data "
            "../zoo/whalecall-small")   # after make_data.py; train.sh runs every step


def frontend_block():
    """The frontend: section of frontend.yaml, verbatim (comments dropped)."""
    with open(common.FRONTEND_YAML) as f:
        lines = [l.rstrip("\n") for l in f if not l.lstrip().startswith("#") and l.strip()]
    i = lines.index("frontend:")
    return "\n".join(lines[i:])


def seeds(split):
    s = [r["seed"] for r in make_data.recipes(split)]
    return f"{s[0]}..{s[-1]}"


def fmt(v):
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("model_dir")
    a = ap.parse_args()
    with open(os.path.join(a.model_dir, "eval.json")) as f:
        ev = json.load(f)
    with open(os.path.join(a.data_dir, "train_log.json")) as f:
        tr = json.load(f)
    m = ev["conventions"][CONVENTION]["metrics"]
    hours = m[common.CLASSES[0]]["hours"]
    train_h = sum(r["seconds"] for r in make_data.recipes("train")) / 3600
    W, H = common.WINDOW_FRAMES, common.HOP_FRAMES
    fs = common.frame_seconds()

    y = []
    y.append("# model.yaml — card of whalecall-small, baleen's default detector (written by")
    y.append("# models/train/make_card.py; CARD.md has the full description).")
    y.append("# A compact CNN on 64 log-mel bands that scores 1.8 s windows every 0.3 s for two")
    y.append("# kinds of baleen whale call as `baleen synth` makes them: `upcall` (right-whale-like")
    y.append("# 40-80 -> 180-280 Hz upsweep, 0.6-1.5 s) and `song_unit` (humpback-like tonal unit,")
    y.append("# 100-2000 Hz, 0.5-3 s, with harmonics). Multi-label: one independent score per class.")
    y.append("# Trained on synthetic audio only: a demonstration model, not a survey-grade detector.")
    y.append("name: whalecall-small")
    y.append(f"version: {VERSION}")
    y.append("licence: MIT")
    y.append(f"sample_rate: {common.SAMPLE_RATE}")
    y.append("# Features exactly as `baleen features --config models/train/frontend.yaml` computes")
    y.append("# them (the training data was made that way); same keys as the config's frontend:.")
    y.append(frontend_block())
    y.append(f"window_frames: {W}     # {W * fs:.1f} s of audio per model input")
    y.append(f"hop_frames: {H}        # {H * fs:.1f} s between successive windows")
    y.append(f"input: {{name: input, layout: NCHW}}    "
             f"# [N, 1, {common.N_MELS} mel bands (low to high), {W} frames]; "
             f"output [N, {len(common.CLASSES)}]: one score per class, in the order of classes")
    y.append(f"classes: [{', '.join(common.CLASSES)}]")
    y.append("output_activation: none   # the graph already ends with Sigmoid: scores are in [0, 1]")
    y.append("trained_on: >-")
    ntr = len(make_data.recipes("train"))
    trs = make_data.recipes("train")[0]["seconds"]
    y.append(f"  {train_h:.1f} h of `baleen synth` recordings ({ntr} x {trs} s, synth seeds {seeds('train')}),")
    y.append("  noise colour ocean/pink/brown/white, background -50..-20 dBFS, call SNR -5..25 dB,")
    y.append("  one call per 6-15 s, ships on in ~90 % and clicks in ~85 % of files; features by")
    y.append("  `baleen features`; model selected on a validation split (seeds "
             f"{seeds('val')}).")
    y.append("  Window labels: positive for a class when the window holds >= 50 % of a call of")
    y.append("  that class and sees its start or end (calls below -2 dB SNR masked), negative when")
    y.append("  <= 10 %, ignored between.")
    y.append("  Reproduce: models/train/train.sh.")
    y.append("metrics:")
    y.append(f"  split: test       # {len(ev['seeds'])} x 600 s = {hours:.1f} h, never used in training")
    y.append(f"  synth_seeds: \"{seeds('test')}\"")
    y.append("  synth_options: \"--seconds 600 --calls 30 --snr 0:20, noise colour and --noise-db "
             "-50..-20 drawn per file (models/train/make_data.py)\"")
    y.append(f"  command: \"{EVAL_CMD}\"   # all steps: models/train/train.sh")
    e = ev["events"]
    y.append(f"  events: {{threshold: {e['threshold']}, threshold_off: {e['threshold_off']}, "
             f"min_gap_seconds: {e['min_gap_seconds']}, min_duration_seconds: "
             f"{e['min_duration_seconds']}}}")
    y.append(f"  event_span: {CONVENTION}   # a window's score stands for the {H}-frame region "
             "around its centre")
    y.append("  matching: an event detects a call of its class when their time spans overlap")
    for name in common.CLASSES:
        c = m[name]
        y.append(f"  {name}:")
        for k in ("calls", "recall", "calls_snr_ge_6", "recall_snr_ge_6", "events", "precision"):
            y.append(f"    {k}: {fmt(c[k])}")
        y.append(f"    false_per_hour: {c['false_per_hour']:.2f}")
    with open(os.path.join(a.model_dir, "model.yaml"), "w") as f:
        f.write("\n".join(y) + "\n")

    # CARD.md: the long form.
    rows = []
    for conv, r in ev["conventions"].items():
        for name, c in r["metrics"].items():
            rows.append(f"| {conv} | {name} | {c['calls']} | {c['recall']:.3f} | "
                        f"{c['calls_snr_ge_6']} | {c['recall_snr_ge_6']:.3f} | {c['events']} | "
                        f"{c['precision']:.3f} | {c['false_per_hour']:.2f} |")
    bins = ev["conventions"][CONVENTION]["recall_by_snr_db"]
    bin_names = list(bins[common.CLASSES[0]].keys())
    brows = [f"| {name} | " + " | ".join(
        f"{bins[name][b]['recall']:.2f} ({bins[name][b]['calls']})" for b in bin_names) + " |"
        for name in common.CLASSES]
    target = all(m[n]["recall_snr_ge_6"] >= 0.9 and m[n]["false_per_hour"] <= 5
                 for n in common.CLASSES)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "CARD.template.md")) as f:
        card = f.read()
    subs = {
        "VERSION": VERSION, "PARAMS": str(tr["parameters"]), "KIB": f"{tr['weights_kib']:.0f}",
        "TRAIN_S": f"{tr['train_wall_s']:.0f}", "STEPS": str(tr["steps"]),
        "BATCH": str(tr["batch"]), "TORCH": tr["torch"], "HOURS": f"{hours:.1f}",
        "TRAIN_H": f"{train_h:.1f}", "TRAIN_N": str(len(make_data.recipes("train"))),
        "TRAIN_LEN": str(make_data.recipes("train")[0]["seconds"]), "TRAIN_SEEDS": seeds("train"), "VAL_SEEDS": seeds("val"),
        "TEST_SEEDS": seeds("test"), "ROWS": "\n".join(rows),
        "BIN_HEAD": " | ".join(f"{b} dB" for b in bin_names),
        "BIN_SEP": " | ".join("---:" for _ in bin_names), "BIN_ROWS": "\n".join(brows),
        "TARGET": ("met" if target else "not met") + " (recall >= 0.9 at SNR >= 6 dB with <= 5 "
                   "false detections per hour, per class, `centre` spans)",
    }
    bc = ev.get("baleen_model_run")
    if bc and "relative_error" in bc:
        subs["BALEEN_CHECK"] = (f"`baleen model run` on {bc['windows']} test windows matches ONNX "
                                f"Runtime within {bc['relative_error']:.1e} relative (evaluate.py "
                                "--check-baleen).")
    else:
        subs["BALEEN_CHECK"] = "not checked (`baleen model run` was not available)."
    card = re.sub(r"@(\w+)@", lambda mo: subs[mo.group(1)], card)
    with open(os.path.join(a.model_dir, "CARD.md"), "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
