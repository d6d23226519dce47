#!/usr/bin/env python3
"""make_models.py — regenerate the tiny ONNX models the model-loader tests read.

Run from anywhere with a Python that has torch (1.13+) and onnx:
    /work/main/.venv/bin/python tests/data/models/make_models.py

Writes next to this script, for each model NAME:
    NAME.onnx            exported with torch.onnx.export (opset 11, 13 or 14, dynamic batch axis "N")
    NAME.expected.csv    key,value lines the C tests compare against: PyTorch's parameter
                         count, the op counts of the exported graph, input/output shapes
and for the external-data model a folder ext/ with model.onnx + model.onnx.data.
Repro models for specific export patterns (export_repro: NAME.onnx, NAME.ref_in.npy and
NAME.ref_out.npy with PyTorch's output for a batch of 3, no .expected.csv):
    sym_batch_mul, sym_batch_div   the batch size used as a value (x * x.shape[0])
    pad_{reflect,constant}_{1d,2d} F.pad, which PyTorch exports through ConstantOfShape
`make_models.py NAME...` regenerates only the named models.
Weights are random (fixed seed) and BatchNorm statistics are randomised so that folding
BatchNorm into Conv is visible in the numbers. Keep the total size under 300 KB.
"""
import collections
import os
import sys

import onnx
import onnx.numpy_helper
import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def randomise_bn(model):
    g = torch.Generator().manual_seed(1234)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g) + 0.5
            m.bias.data = torch.randn(n, generator=g) * 0.1
            m.running_mean.data = torch.randn(n, generator=g) * 0.1
            m.running_var.data = torch.rand(n, generator=g) + 0.5


class SmallCNN(nn.Module):
    """Conv+BN+ReLU, MaxPool, Conv+BN+ReLU, GlobalAvgPool, Flatten, Gemm, Sigmoid."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.p1 = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(16)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        x = self.p1(torch.relu(self.b1(self.c1(x))))
        x = torch.relu(self.b2(self.c2(x)))
        x = torch.flatten(self.gap(x), 1)
        return torch.sigmoid(self.fc(x))


class ViewNet(nn.Module):
    """x.view(x.size(0), -1): the Shape/Gather/Unsqueeze/Concat/Reshape chain."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 4, (3, 5), stride=(1, 2), padding=(1, 2))
        self.fc = nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        x = torch.nn.functional.leaky_relu(self.c1(x), 0.1)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class DepthwiseNet(nn.Module):
    """MobileNet-style block: pointwise, depthwise (groups=C) with ReLU6, pointwise, residual."""

    def __init__(self):
        super().__init__()
        self.expand = nn.Conv2d(4, 12, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(12)
        self.dw = nn.Conv2d(12, 12, 3, padding=1, groups=12, bias=False)
        self.bn2 = nn.BatchNorm2d(12)
        self.project = nn.Conv2d(12, 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4)

    def forward(self, x):
        y = nn.functional.relu6(self.bn1(self.expand(x)))
        y = nn.functional.hardswish(self.bn2(self.dw(y)))
        y = self.bn3(self.project(y))
        return (x + y).mean(dim=(2, 3))


class ExtNet(nn.Module):
    """A 1-D conv net whose weights are stored as ONNX external data."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(3, 6, 5, padding=2)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        x = torch.relu(self.c1(x)).amax(dim=2)
        return self.fc(x)


class SymBatchMul(nn.Module):
    """x * x.shape[0]: Shape, Gather, Cast to float, Mul — the batch size as data."""

    def forward(self, x):
        return x * x.shape[0]


class SymBatchDiv(nn.Module):
    """x + x.shape[0] / 8.0: Shape, Gather, Cast, Div by a constant, Add."""

    def forward(self, x):
        return x + x.shape[0] / 8.0


class PadNet(nn.Module):
    """F.pad on the last (1-D) or last two (2-D) axes; opset >= 11 exports the pads through
    ConstantOfShape, Concat, Reshape, Slice (step -1), Transpose, Reshape and Cast."""

    def __init__(self, pads, mode, value=0.0):
        super().__init__()
        self.pads, self.mode, self.value = pads, mode, value

    def forward(self, x):
        if self.mode == "constant":
            return nn.functional.pad(x, self.pads, mode="constant", value=self.value)
        return nn.functional.pad(x, self.pads, mode=self.mode)


def export_repro(name, model, shape, opset=OPSET, fold=True):
    """Export with a dynamic batch and save a batch-3 input and PyTorch's output for it."""
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(11))
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=fold)
    xr = torch.randn(3, *shape[1:], generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        yr = model(xr)
    np.save(os.path.join(HERE, name + ".ref_in.npy"), xr.numpy().astype(np.float32))
    np.save(os.path.join(HERE, name + ".ref_out.npy"), yr.numpy().astype(np.float32))
    print(name, dict(op_counts(onnx.load(path))))


def op_counts(model_proto):
    return collections.Counter(n.op_type for n in model_proto.graph.node)


def folded_params(model):
    """Parameter count after BatchNorm is folded into the preceding Conv: the BN scale and
    shift disappear, and a Conv without bias gains one bias per output channel."""
    n = sum(p.numel() for p in model.parameters())
    mods = list(model.modules())
    for prev, m in zip(mods, mods[1:]):
        if isinstance(m, nn.BatchNorm2d) and isinstance(prev, nn.Conv2d):
            n -= m.weight.numel() + m.bias.numel()
            if prev.bias is None:
                n += prev.out_channels
    return n


def export(name, model, shape, out_dir=HERE, external=False, opset=OPSET):
    torch.manual_seed(0)
    model.eval()
    x = torch.randn(*shape)
    path = os.path.join(out_dir, name + ".onnx") if not external else os.path.join(out_dir, "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=False,
                      # PRESERVE keeps BatchNormalization nodes (EVAL would fold them during
                      # export), so that baleen's own folding pass is what the tests check.
                      training=torch.onnx.TrainingMode.PRESERVE)
    m = onnx.load(path)
    if external:
        data_path = os.path.join(out_dir, "model.onnx.data")
        if os.path.exists(data_path):
            os.remove(data_path)  # onnx appends to an existing data file
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=0)
    with torch.no_grad():
        y = model(x)
    params = sum(p.numel() for p in model.parameters())
    bn_stats = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    rows = [("params_torch", params), ("params_folded", folded_params(model)), ("bn_running_stats", bn_stats),
            ("input_shape", "N," + ",".join(str(d) for d in shape[1:])),
            ("output_shape", "N," + ",".join(str(d) for d in y.shape[1:])), ("opset", opset)]
    # Float Constant nodes (e.g. Clip bounds) are parameters to baleen until a pass removes them.
    fconst = sum(onnx.numpy_helper.to_array(a.t).size for n in m.graph.node if n.op_type == "Constant"
                 for a in n.attribute if a.name == "value" and a.t.data_type == onnx.TensorProto.FLOAT)
    rows.append(("float_constant_elems", fconst))
    for op, c in sorted(op_counts(m).items()):
        rows.append(("op_before_" + op, c))
    csv = path[:-len(".onnx")] + ".expected.csv" if not external else os.path.join(out_dir, "expected.csv")
    with open(csv, "w") as f:
        f.write("key,value\n")
        for k, v in rows:
            f.write(f"{k},{v}\n")
    # Reference batch for the executor tests (tests/unit/test_exec.c): 5 items from a private
    # generator (the global RNG, and so the exported weights, are untouched) and PyTorch's
    # eval-mode output for them, as float32 .npy.
    xr = torch.randn(5, *shape[1:], generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        yr = model(xr)
    base = path[:-len(".onnx")] if not external else os.path.join(out_dir, "model")
    np.save(base + ".ref_in.npy", xr.numpy().astype(np.float32))
    np.save(base + ".ref_out.npy", yr.numpy().astype(np.float32))
    print(name, params, dict(op_counts(m)))


def make_small_cnn():
    torch.manual_seed(0)
    m = SmallCNN(); randomise_bn(m); export("small_cnn", m, (1, 1, 16, 16))


def make_view_net():
    torch.manual_seed(1)
    export("view_net", ViewNet(), (1, 2, 8, 16), opset=11)


def make_depthwise():
    torch.manual_seed(2)
    m = DepthwiseNet(); randomise_bn(m); export("depthwise", m, (1, 4, 10, 12), opset=14)


def make_ext():
    torch.manual_seed(3)
    export("ext", ExtNet(), (1, 3, 20), out_dir=os.path.join(HERE, "ext"), external=True)


MAKERS = {
    "small_cnn": make_small_cnn,
    "view_net": make_view_net,
    "depthwise": make_depthwise,
    "ext": make_ext,
    # exported without constant folding: Shape -> Gather -> Cast -> Mul as PyTorch writes it
    "sym_batch_mul": lambda: export_repro("sym_batch_mul", SymBatchMul(), (2, 4), fold=False),
    "sym_batch_div": lambda: export_repro("sym_batch_div", SymBatchDiv(), (2, 4)),
    "pad_reflect_1d": lambda: export_repro("pad_reflect_1d", PadNet((1, 2), "reflect"), (2, 3, 8)),
    "pad_constant_1d": lambda: export_repro("pad_constant_1d", PadNet((2, 1), "constant", 0.5), (2, 3, 8),
                                            opset=11),
    "pad_reflect_2d": lambda: export_repro("pad_reflect_2d", PadNet((1, 2, 2, 1), "reflect"), (2, 2, 6, 6),
                                           opset=11, fold=False),
    "pad_constant_2d": lambda: export_repro("pad_constant_2d", PadNet((0, 3, 1, 0), "constant"), (2, 2, 6, 6),
                                            fold=False),
}


def main():
    names = sys.argv[1:] or list(MAKERS)
    for n in names:
        if n not in MAKERS:
            sys.exit(f"unknown model '{n}'; known: {', '.join(MAKERS)}")
        MAKERS[n]()


if __name__ == "__main__":
    main()
