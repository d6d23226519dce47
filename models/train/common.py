"""common.py — what training, evaluation and the card of whalecall-small share.

Defines the model's framing (window_frames, hop_frames), the classes, how a window gets its
labels from a `baleen synth` truth CSV, how window scores become events (issue 4's rules)
and how events are matched to truth calls. One place, so train.py, evaluate.py and
make_card.py cannot disagree. No global mutable state; no threads.
"""
import csv
import os
import subprocess

import numpy as np  # features and scores are arrays

# --- front end and framing (the card's values) ---------------------------------------------
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FRONTEND_YAML = os.path.join(HERE, "frontend.yaml")
SAMPLE_RATE = 16000
HOP_LENGTH = 300              # samples between frames; frame t is centred on sample t*300
N_MELS = 64
WINDOW_FRAMES = 96            # 1.8 s of audio per model input
HOP_FRAMES = 16               # 0.3 s between successive windows
CLASSES = ("upcall", "song_unit")

# --- labels ----------------------------------------------------------------------------------
POS_FRACTION = 0.5            # a window is positive for a class if it holds >= 50 % of a call
NEG_FRACTION = 0.1            # ... negative if every call of the class has <= 10 % inside;
                              # in between the window is ignored for that class (mask 0)
MASK_SNR_BELOW_DB = -2.0      # calls quieter than this never make a window positive: they are
                              # masked instead (the label would mostly teach the net to guess)
# A window lying wholly inside a call (neither its start nor its end visible: only calls longer
# than the window) is masked, not positive: a flat tonal filling the window looks exactly like a
# ship's line, and labelling it positive taught the net to fire on ships.

# --- events (issue 4; configs/demo.yaml) -----------------------------------------------------
THRESHOLD = 0.5
THRESHOLD_OFF = 0.35
MIN_GAP_S = 1.0
MIN_DURATION_S = 0.3


def baleen_path():
    """The baleen binary: $BALEEN, else build/ci/baleen, else build/release/baleen."""
    env = os.environ.get("BALEEN")
    if env:
        return env
    for sub in ("build/ci/baleen", "build/release/baleen"):
        p = os.path.join(ROOT, sub)
        if os.access(p, os.X_OK):
            return p
    raise SystemExit("baleen binary not found: build it (cmake --preset ci && cmake --build "
                     "--preset ci) or set BALEEN=/path/to/baleen")


def run_baleen(args):
    subprocess.run([baleen_path(), "-q"] + list(args), check=True)


def frame_seconds():
    return HOP_LENGTH / SAMPLE_RATE


def read_truth(path):
    """Truth CSV of `baleen synth` -> dict of arrays (kind index, start_s, end_s, snr_db), channel 0."""
    kinds, starts, ends, snrs = [], [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if int(row["channel"]) != 0:
                continue
            kinds.append(CLASSES.index(row["kind"]))
            starts.append(float(row["start_s"]))
            ends.append(float(row["end_s"]))
            snrs.append(float(row["snr_db"]))
    return {"kind": np.array(kinds, dtype=np.int64), "start": np.array(starts),
            "end": np.array(ends), "snr": np.array(snrs)}


def window_span_s(first_frame, n_frames=WINDOW_FRAMES):
    """A window's time span: from its first frame's centre to one hop past its last frame's
    centre, [f0*hop, (f0+W)*hop) seconds."""
    fs = frame_seconds()
    return first_frame * fs, (first_frame + n_frames) * fs


def window_labels(truth, first_frames, n_frames=WINDOW_FRAMES):
    """Labels and masks [len(first_frames), n_classes] (float32) for windows starting at the
    given frames: per class, the largest fraction of one call's duration inside the window
    decides — >= POS_FRACTION: 1, <= NEG_FRACTION: 0, in between: masked. Calls below
    MASK_SNR_BELOW_DB never count as positive; a window they reach beyond NEG_FRACTION is masked.
    A window that sees neither end of a call (the call covers it) gets no positive from it."""
    first_frames = np.asarray(first_frames)
    w0, w1 = window_span_s(first_frames, n_frames)
    n = len(first_frames)
    y = np.zeros((n, len(CLASSES)), np.float32)
    m = np.ones((n, len(CLASSES)), np.float32)
    if len(truth["kind"]) == 0:
        return y, m
    s, e = truth["start"][None, :], truth["end"][None, :]
    ov = np.clip(np.minimum(w1[:, None], e) - np.maximum(w0[:, None], s), 0, None)
    frac = ov / (e - s)
    loud = truth["snr"] >= MASK_SNR_BELOW_DB
    covers = (s <= w0[:, None]) & (e >= w1[:, None])
    frac_pos = np.where(covers, 0.0, frac)
    for c in range(len(CLASSES)):
        sel = truth["kind"] == c
        f_loud = frac_pos[:, sel & loud].max(axis=1, initial=0.0)
        f_all = frac[:, sel].max(axis=1, initial=0.0)
        pos = f_loud >= POS_FRACTION
        y[pos, c] = 1.0
        m[(~pos) & (f_all > NEG_FRACTION), c] = 0.0
    return y, m


def window_starts(n_frames_total, hop_frames=HOP_FRAMES, window_frames=WINDOW_FRAMES):
    """First frames of every whole window of a feature array (the end is not padded)."""
    if n_frames_total < window_frames:
        return np.zeros(0, np.int64)
    return np.arange(0, n_frames_total - window_frames + 1, hop_frames, dtype=np.int64)


def event_regions(first_frames, convention):
    """Per window, the time span its score stands for, in samples (integers, so that
    durations compare exactly against min_duration).
      centre: the hop_frames-long region around the window's centre, so that successive
              windows tile the time axis: [c - hop/2, c + hop/2) with c = f0 + W/2 frames;
      window: the whole window span [f0, f0 + W) frames."""
    f0 = np.asarray(first_frames, np.int64)
    if convention == "centre":
        a = f0 + (WINDOW_FRAMES - HOP_FRAMES) // 2
        b = a + HOP_FRAMES
    elif convention == "window":
        a, b = f0, f0 + WINDOW_FRAMES
    else:
        raise ValueError(convention)
    return a * HOP_LENGTH, b * HOP_LENGTH


def events_from_scores(scores, first_frames, convention="centre", threshold=THRESHOLD,
                       threshold_off=THRESHOLD_OFF, min_gap_s=MIN_GAP_S,
                       min_duration_s=MIN_DURATION_S):
    """Issue 4's event rule on one class's window scores (in window order): an event begins at
    a window whose score is >= threshold and continues over the following windows while the
    score stays >= threshold_off; its span is the union of its windows' regions
    (event_regions); events whose gap is shorter than min_gap are merged; then events shorter
    than min_duration are dropped. Returns a list of (start_s, end_s, peak, mean)."""
    a, b = event_regions(first_frames, convention)
    raw = []  # [start_sample, end_sample, [scores]]
    i, n = 0, len(scores)
    while i < n:
        if scores[i] >= threshold:
            j = i
            while j + 1 < n and scores[j + 1] >= threshold_off:
                j += 1
            raw.append([int(a[i]), int(b[j]), list(scores[i:j + 1])])
            i = j + 1
        else:
            i += 1
    gap = int(round(min_gap_s * SAMPLE_RATE))
    merged = []
    for ev in raw:
        if merged and ev[0] - merged[-1][1] < gap:
            merged[-1][1] = max(merged[-1][1], ev[1])
            merged[-1][2].extend(ev[2])
        else:
            merged.append(ev)
    mind = int(round(min_duration_s * SAMPLE_RATE))
    return [(s / SAMPLE_RATE, e / SAMPLE_RATE, float(max(v)), float(np.mean(v)))
            for s, e, v in merged if e - s >= mind]


def match(events, truth, cls):
    """Events of class cls against the truth calls of that class: a call is detected when an
    event overlaps it in time (open intervals); an event is a true detection when it overlaps
    at least one call. Returns (detected[bool per call of the class], snr per call,
    true_event[bool per event])."""
    sel = truth["kind"] == cls
    cs, ce, snr = truth["start"][sel], truth["end"][sel], truth["snr"][sel]
    det = np.zeros(len(cs), bool)
    tev = np.zeros(len(events), bool)
    for k, (s, e, _, _) in enumerate(events):
        hit = (cs < e) & (ce > s)
        det |= hit
        tev[k] = hit.any()
    return det, snr, tev
