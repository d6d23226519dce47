#!/usr/bin/env python3
"""make_data.py — the training, validation and test recordings of whalecall-small.

Each recording is made by `baleen synth` and turned into features by `baleen features
--config models/train/frontend.yaml` (so the features are exactly what baleen computes at
inference). Per recording it keeps NAME.npy (float32 [1, 64, frames]) and NAME.truth.csv under
DATA/SPLIT/; the WAV is deleted once its features exist. The recipe of every recording (seed,
noise, level, SNR range, calls, ships, clicks) is drawn from a fixed generator, so the same
command gives the same files; `recipes(split)` is the one definition (evaluate.py and
make_card.py use it too).

Splits and their synth seeds (disjoint; test seeds are never seen by training):
  train  40 x 600 s (6.7 h)  seeds 1000..1039   SNR -5..25 dB, dense calls (one per 6-15 s),
                              ships on in 90 % of files (their lines are the main false alarm)
  val     8 x 300 s (40 min) seeds 5000..5007   SNR  0..20 dB, one call per 20 s
  test   24 x 600 s (4 h)    seeds 900000..900023  SNR 0..20 dB, 30 calls per file,
                              ships and clicks always on
Usage: make_data.py DATA_DIR [--splits train,val,test] [--force]
"""
import argparse
import os
import sys

import numpy as np  # the recipe generator

import common  # baleen path, front-end file

NOISES = ("ocean", "ocean", "pink", "brown", "white")


def recipes(split):
    """The list of recordings of a split: dicts with name and the synth options."""
    if split == "train":
        n, seconds, seed0, gen = 40, 600, 1000, np.random.default_rng(20261122)
    elif split == "val":
        n, seconds, seed0, gen = 8, 300, 5000, np.random.default_rng(20261123)
    elif split == "test":
        n, seconds, seed0, gen = 24, 600, 900000, np.random.default_rng(20261124)
    else:
        raise ValueError(split)
    out = []
    for i in range(n):
        noise = NOISES[gen.integers(len(NOISES))]
        noise_db = round(float(gen.uniform(-50, -20)), 1)
        r = {"name": f"{split}-{seed0 + i}", "seed": seed0 + i, "seconds": seconds,
             "noise": noise, "noise_db": noise_db}
        if split == "train":
            r["snr"] = "-5:25"
            r["calls"] = int(seconds / gen.uniform(6, 15))
            u = gen.uniform()
            r["kinds"] = "upcall" if u < 0.1 else ("song_unit" if u < 0.2 else "upcall,song_unit")
            r["ships"] = bool(gen.uniform() < 0.9)
            r["clicks"] = bool(gen.uniform() < 0.85)
        elif split == "val":
            r.update(snr="0:20", calls=seconds // 20, kinds="upcall,song_unit", ships=True,
                     clicks=True)
        else:
            r.update(snr="0:20", calls=30, kinds="upcall,song_unit", ships=True, clicks=True)
        out.append(r)
    return out


def synth_args(r, wav):
    a = ["synth", "-o", wav, "--seconds", str(r["seconds"]), "--seed", str(r["seed"]),
         "--noise", r["noise"], "--noise-db", str(r["noise_db"]), "--snr", r["snr"],
         "--calls", str(r["calls"]), "--kinds", r["kinds"]]
    if not r["ships"]:
        a.append("--no-ships")
    if not r["clicks"]:
        a.append("--no-clicks")
    return a


def make(data_dir, split, force=False):
    d = os.path.join(data_dir, split)
    os.makedirs(d, exist_ok=True)
    for r in recipes(split):
        base = os.path.join(d, r["name"])
        if not force and os.path.exists(base + ".npy") and os.path.exists(base + ".truth.csv"):
            continue
        wav = base + ".wav"
        common.run_baleen(synth_args(r, wav))
        common.run_baleen(["features", wav, "--config", common.FRONTEND_YAML, "-o",
                           base + ".npy", "--threads", "1"])
        os.remove(wav)
    return d


def load_split(data_dir, split):
    """[(features [64, frames] float32, truth dict, recipe)] of a split."""
    out = []
    for r in recipes(split):
        base = os.path.join(data_dir, split, r["name"])
        x = np.load(base + ".npy")
        out.append((np.ascontiguousarray(x[0]), common.read_truth(base + ".truth.csv"), r))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("--splits", default="train,val,test")
    ap.add_argument("--force", action="store_true", help="remake files that exist")
    a = ap.parse_args()
    for s in a.splits.split(","):
        d = make(a.data_dir, s, a.force)
        print(f"make_data: {s}: {len(recipes(s))} recordings in {d}", file=sys.stderr)


if __name__ == "__main__":
    main()
