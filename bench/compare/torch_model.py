#!/usr/bin/env python3
"""torch_model.py — the "PyTorch for the model alone" peer of compare.py.

Builds the PyTorch definition of a benchmark model (whalecall-small: models/train/train.py's
WhaleCallNet with its Sigmoid; resnet18: torchvision's, first conv to 1 channel, 2 classes, as
bench/pipeline/bench_pipeline.py exports it), with random weights (the time does not depend on
them), in eval mode, traced and frozen by torch.jit.optimize_for_inference (BatchNorm folded
into the convolutions, as baleen's passes and ONNX Runtime do), and times --windows windows
in batches of --batch on --threads threads after one untimed pass. Prints one JSON line:
{"model", "batch", "threads", "windows", "time_s" (median of --repeat), "times", "windows_per_s"}.

Usage: torch_model.py {default|resnet18} --batch 32 --threads 2 --windows 3994 [--repeat 3]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build(name):
    torch.manual_seed(0)
    if name == "default":
        sys.path.insert(0, os.path.join(ROOT, "models", "train"))
        import train  # WhaleCallNet, Exported
        net = train.Exported(train.WhaleCallNet())
        shape = (1, 64, 96)
    elif name == "resnet18":
        import torchvision
        net = torchvision.models.resnet18(num_classes=2)
        net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        shape = (1, 64, 128)
    else:
        raise SystemExit(f"torch_model.py: no PyTorch definition for {name!r} (default, resnet18)")
    return net.eval(), shape


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net, shape = build(a.model)
    x = torch.randn((a.batch,) + shape)
    with torch.inference_mode():
        try:
            net = torch.jit.optimize_for_inference(torch.jit.trace(net, x))
        except Exception as e:  # an eager model still times the same layers
            print(f"torch_model.py: optimize_for_inference failed ({e}); eager mode", file=sys.stderr)
        calls = -(-a.windows // a.batch)
        for _ in range(calls):  # warm-up
            net(x)
        times = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            for _ in range(calls):
                net(x)
            times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    print(json.dumps({"model": a.model, "batch": a.batch, "threads": a.threads, "windows": a.windows,
                      "time_s": t, "times": times, "windows_per_s": a.windows / t}))


if __name__ == "__main__":
    main()
