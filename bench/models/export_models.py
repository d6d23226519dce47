#!/usr/bin/env python3
"""export_models.py — write the benchmark's torchvision models as ONNX (not committed).

resnet18 and efficientnet_b0 from torchvision with the first convolution changed to one
input channel, random weights (seeded), eval mode, dynamic batch axis, opset 13.
Input shapes: resnet18 [N,1,64,128], efficientnet_b0 [N,1,64,160].

Usage: /usr/bin/python3 bench/models/export_models.py --out CACHE_DIR
(Debian torch 1.13 + torchvision 0.14; files already there are kept.)
"""
import argparse
import os

import torch
import torchvision

MODELS = {"resnet18": (1, 64, 128), "efficientnet_b0": (1, 64, 160)}


def one_channel(name, m):
    if name == "resnet18":
        c = m.conv1
        m.conv1 = torch.nn.Conv2d(1, c.out_channels, c.kernel_size, c.stride, c.padding, bias=False)
    else:
        c = m.features[0][0]
        m.features[0][0] = torch.nn.Conv2d(1, c.out_channels, c.kernel_size, c.stride, c.padding, bias=False)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, shape in MODELS.items():
        path = os.path.join(a.out, name + ".onnx")
        if os.path.exists(path):
            continue
        torch.manual_seed(0)
        m = one_channel(name, getattr(torchvision.models, name)()).eval()
        x = torch.randn(1, *shape)
        torch.onnx.export(m, x, path, input_names=["x"], output_names=["y"], opset_version=13,
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        print("wrote", path)


if __name__ == "__main__":
    main()
