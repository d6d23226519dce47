#!/usr/bin/env python3
"""train.py — train whalecall-small on baleen's features and export it to ONNX.

Reads the train and val splits made by make_data.py (features computed by baleen itself),
trains a compact CNN on randomly placed windows of WINDOW_FRAMES frames with labels from the
truth CSVs (common.window_labels), checks it on the val split with issue 4's event rule every
EVAL_EVERY steps, keeps the best checkpoint, and exports it to OUT/model.onnx (opset 17, input
'input' [N, 1, 64, WINDOW_FRAMES], output 'scores' [N, 2] after a Sigmoid).

Single-threaded on purpose (torch.set_num_threads(1)) and fully seeded: the same data and
command give the same weights on the same torch build.
Usage: train.py DATA_DIR OUT_DIR [--steps N] [--seed S]
"""
import argparse
import json
import os
import sys
import time

import numpy as np    # batches and labels
import torch          # the model
import torch.nn as nn

import common         # framing, labels, events
import make_data      # split loading

CHANNELS = (8, 16, 32, 64, 64)
HIDDEN = 64


class WhaleCallNet(nn.Module):
    """Two input channels: x - mean(x) (level invariance: a gain is an additive constant after
    the log) and x - mean over time of each band (stationary lines — ship tonals, coloured
    noise — vanish, while calls, short against the window, stay), then five
    3x3 conv-BN-ReLU blocks with 2x2 max pooling after the first four (64x96 -> 4x6), a max over
    time that keeps the 4 frequency rows (where a call sits in frequency tells the classes
    apart), and a two-layer head. Returns logits; Exported adds the Sigmoid."""

    def __init__(self, window_frames=common.WINDOW_FRAMES):
        super().__init__()
        layers, c = [], 2
        for k, o in enumerate(CHANNELS):
            layers += [nn.Conv2d(c, o, 3, padding=1, bias=False), nn.BatchNorm2d(o),
                       nn.ReLU(inplace=True)]
            if k < len(CHANNELS) - 1:
                layers.append(nn.MaxPool2d(2))
            c = o
        self.features = nn.Sequential(*layers)
        f = common.N_MELS // 16
        t = window_frames // 16
        self.time_pool = nn.MaxPool2d((1, t))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * f, HIDDEN), nn.ReLU(inplace=True),
                                  nn.Dropout(0.2), nn.Linear(HIDDEN, len(common.CLASSES)))

    def forward(self, x):
        g = x - x.mean(dim=(1, 2, 3), keepdim=True)
        b = x - x.mean(dim=3, keepdim=True)
        x = torch.cat([g, b], dim=1)
        return self.head(self.time_pool(self.features(x)))


class Exported(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.sigmoid(self.net(x))


class Sampler:
    """Random training windows: a share CALL_SHARE of each batch is placed on a random call
    (the window start drawn so that the call's centre is inside), the rest uniformly over all
    recordings (weighted by length)."""
    CALL_SHARE = 0.25

    def __init__(self, split, rng):
        self.split, self.rng = split, rng
        self.frames = np.array([x.shape[1] for x, _, _ in split])
        self.p = (self.frames - common.WINDOW_FRAMES) / (self.frames - common.WINDOW_FRAMES).sum()

    def batch(self, n):
        W, fs = common.WINDOW_FRAMES, common.frame_seconds()
        xs = np.empty((n, 1, common.N_MELS, W), np.float32)
        ys = np.empty((n, len(common.CLASSES)), np.float32)
        ms = np.empty_like(ys)
        files = self.rng.choice(len(self.split), size=n, p=self.p)
        on_call = self.rng.uniform(size=n) < self.CALL_SHARE
        for k in range(n):
            x, truth, _ = self.split[files[k]]
            hi = x.shape[1] - W
            if on_call[k] and len(truth["kind"]):
                j = self.rng.integers(len(truth["kind"]))
                centre = int(0.5 * (truth["start"][j] + truth["end"][j]) / fs)
                f0 = int(np.clip(centre - self.rng.integers(4, W - 4), 0, hi))
            else:
                f0 = int(self.rng.integers(0, hi + 1))
            xs[k, 0] = x[:, f0:f0 + W]
            y, m = common.window_labels(truth, [f0])
            ys[k], ms[k] = y[0], m[0]
        return torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(ms)


def score_split(predict, split, batch=256):
    """Window scores [n_windows, n_classes] of every recording, by predict(x [B,1,64,W])."""
    out = []
    for x, _, _ in split:
        starts = common.window_starts(x.shape[1])
        s = np.empty((len(starts), len(common.CLASSES)), np.float32)
        for i in range(0, len(starts), batch):
            st = starts[i:i + batch]
            xb = np.stack([x[:, f:f + common.WINDOW_FRAMES] for f in st])[:, None]
            s[i:i + batch] = predict(xb)
        out.append((starts, s))
    return out


def event_metrics(split, scored, convention="centre", snr_hi=6.0):
    """Per class: calls, detected, recall, recall at SNR >= snr_hi, events, true events,
    precision, false detections per hour."""
    hours = sum(x.shape[1] for x, _, _ in split) * common.frame_seconds() / 3600
    res = {}
    for c, name in enumerate(common.CLASSES):
        det_all, snr_all, tev_all = [], [], []
        for (x, truth, _), (starts, s) in zip(split, scored):
            ev = common.events_from_scores(s[:, c], starts, convention)
            det, snr, tev = common.match(ev, truth, c)
            det_all.append(det), snr_all.append(snr), tev_all.append(tev)
        det, snr, tev = np.concatenate(det_all), np.concatenate(snr_all), np.concatenate(tev_all)
        hi = snr >= snr_hi
        res[name] = {
            "calls": int(len(det)), "detected": int(det.sum()),
            "recall": float(det.mean()) if len(det) else float("nan"),
            "calls_snr_ge_6": int(hi.sum()),
            "recall_snr_ge_6": float(det[hi].mean()) if hi.any() else float("nan"),
            "events": int(len(tev)), "true_events": int(tev.sum()),
            "precision": float(tev.mean()) if len(tev) else float("nan"),
            "false_per_hour": float((~tev).sum() / hours),
            "hours": hours,
        }
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--eval-every", type=int, default=500)
    a = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    train = make_data.load_split(a.data_dir, "train")
    val = make_data.load_split(a.data_dir, "val")
    sampler = Sampler(train, rng)

    net = WhaleCallNet()
    n_params = sum(p.numel() for p in net.parameters())
    print(f"train: {n_params} parameters ({n_params * 4 / 1024:.0f} KiB float32)", file=sys.stderr)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.steps,
                                                pct_start=0.15)
    best, best_state, log = -1e9, None, []
    run_loss = 0.0
    for step in range(1, a.steps + 1):
        net.train()
        x, y, m = sampler.batch(a.batch)
        loss = (nn.functional.binary_cross_entropy_with_logits(net(x), y, reduction="none") * m)
        loss = loss.sum() / m.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run_loss = 0.98 * run_loss + 0.02 * loss.item() if step > 1 else loss.item()
        if step % a.eval_every == 0 or step == a.steps:
            net.eval()
            with torch.no_grad():
                scored = score_split(lambda xb: torch.sigmoid(net(torch.from_numpy(xb))).numpy(),
                                     val)
            met = event_metrics(val, scored)
            # selection: recall at SNR >= 6 dB, minus a penalty for false detections per hour
            sel = sum(v["recall_snr_ge_6"] - 0.01 * v["false_per_hour"] for v in met.values())
            line = {"step": step, "loss": round(run_loss, 4), "select": round(sel, 4),
                    "wall_s": round(time.time() - t0, 1)}
            for k, v in met.items():
                line[k] = {"r": round(v["recall"], 3), "r6": round(v["recall_snr_ge_6"], 3),
                           "p": round(v["precision"], 3), "fph": round(v["false_per_hour"], 2)}
            print(json.dumps(line), file=sys.stderr, flush=True)
            log.append(line)
            if sel > best:
                best = sel
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    net.eval()
    os.makedirs(a.out_dir, exist_ok=True)
    onnx_path = os.path.join(a.out_dir, "model.onnx")
    dummy = torch.zeros(1, 1, common.N_MELS, common.WINDOW_FRAMES)
    torch.onnx.export(Exported(net), dummy, onnx_path, opset_version=17,
                      input_names=["input"], output_names=["scores"],
                      dynamic_axes={"input": {0: "N"}, "scores": {0: "N"}},
                      do_constant_folding=True)
    info = {"parameters": n_params, "weights_kib": round(n_params * 4 / 1024, 1),
            "steps": a.steps, "batch": a.batch, "lr": a.lr, "seed": a.seed,
            "train_wall_s": round(time.time() - t0, 1), "torch": torch.__version__,
            "best_select": best, "log": log}
    with open(os.path.join(a.data_dir, "train_log.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"train: wrote {onnx_path} in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
