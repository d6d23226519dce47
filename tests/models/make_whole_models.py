#!/usr/bin/env python3
"""make_whole_models.py — whole-model references for baleen's executor: PyTorch models with
random weights and randomised BatchNorm statistics, exported to ONNX, with PyTorch's
eval-mode output for a random batch.

Usage (any Python with torch 1.13+ and, for --big, torchvision; the onnx package is NOT
needed: a small protobuf reader below lists op types and sets opset versions):
    python3 tests/models/make_whole_models.py --small            # the committed models, here
    python3 tests/models/make_whole_models.py --big --out DIR    # torchvision + CNN14-style
    python3 tests/models/make_whole_models.py --list-ops FILE.onnx ...
    python3 tests/models/make_whole_models.py --check-coverage   # required-op union only
scripts/make-test-models.sh runs --big into build/test-models/ (and skips when done).

For every model NAME it writes NAME.onnx, NAME.in.npy (float32 batch of >= 2 random items)
and NAME.out.npy (PyTorch's output for that batch, float32). Exports use
training=TrainingMode.PRESERVE on a model in eval mode: BatchNormalization nodes stay in the
graph (EVAL mode would fold them inside the exporter), so baleen's own folding pass is what
the references check. The batch axis is dynamic ("N").

The small models between them use every op of the models issue's required list; --small
asserts that (printing what is missing). Ops PyTorch 1.13 never emits are produced by
autograd Functions whose `symbolic` writes the ONNX node directly while `forward` computes
the same thing in PyTorch (asymmetric Conv pads, auto_pad, Dropout, Identity, Gelu).
Everything is seeded: rerunning gives the same files (for the same torch build).
"""
import argparse
import copy
import hashlib
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# The models issue's required op list (float32), in its order.
REQUIRED_OPS = """Conv ConvTranspose BatchNormalization Relu LeakyRelu PRelu Elu Selu Clip Sigmoid
HardSigmoid HardSwish Tanh Softplus Erf Gelu Add Sub Mul Div Pow Sqrt Exp Log Neg Abs Min Max
MaxPool AveragePool GlobalAveragePool GlobalMaxPool ReduceMean ReduceMax ReduceSum ReduceL2 Gemm
MatMul Flatten Reshape Squeeze Unsqueeze Transpose Concat Split Slice Gather Pad Softmax
LogSoftmax Dropout Identity Constant Shape Cast Resize InstanceNormalization
LayerNormalization""".split()


# ---------------------------------------------------------------------------------------------
# Minimal protobuf wire-format reading/writing: just enough of onnx.proto (ModelProto.graph=7,
# ModelProto.opset_import=8, GraphProto.node=1, NodeProto.op_type=4, NodeProto.attribute=5,
# AttributeProto.name=1/s=4, OperatorSetIdProto.domain=1/version=2).

def _varint(buf, i):
    v = s = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << s
        s += 7
        if b < 0x80:
            return v, i


def _enc_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _fields(buf):
    """Yields (field_number, wire_type, value, raw_bytes) for one message."""
    i = 0
    while i < len(buf):
        start = i
        key, i = _varint(buf, i)
        fn, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wt)
        yield fn, wt, val, buf[start:i]


def onnx_nodes(path):
    """[(op_type, {attr_name: string value or None})] of the main graph of an .onnx file."""
    with open(path, "rb") as f:
        buf = f.read()
    nodes = []
    for fn, wt, val, _ in _fields(buf):
        if fn == 7 and wt == 2:
            for gfn, gwt, gval, _ in _fields(val):
                if gfn == 1 and gwt == 2:
                    op, attrs = "", {}
                    for nfn, nwt, nval, _ in _fields(gval):
                        if nfn == 4:
                            op = bytes(nval).decode()
                        elif nfn == 5:
                            name, s = "", None
                            for afn, _, aval, _ in _fields(nval):
                                if afn == 1:
                                    name = bytes(aval).decode()
                                elif afn == 4:
                                    s = bytes(aval).decode()
                            attrs[name] = s
                    nodes.append((op, attrs))
    return nodes


def onnx_opset(path):
    with open(path, "rb") as f:
        buf = f.read()
    for fn, wt, val, _ in _fields(buf):
        if fn == 8 and wt == 2:
            dom, ver = "", None
            for ofn, _, oval, _ in _fields(val):
                if ofn == 1:
                    dom = bytes(oval).decode()
                elif ofn == 2:
                    ver = oval
            if dom in ("", "ai.onnx"):
                return ver
    return None


def set_default_opset(path, version):
    """Rewrites the default-domain opset_import entry of an .onnx file to `version`."""
    with open(path, "rb") as f:
        buf = f.read()
    out = bytearray()
    for fn, wt, val, raw in _fields(buf):
        if fn == 8 and wt == 2 and all(bytes(v) in (b"", b"ai.onnx") for f2, _, v, _ in _fields(val) if f2 == 1):
            body = b"\x10" + _enc_varint(version)  # domain "" is the default: omit it
            out += b"\x42" + _enc_varint(len(body)) + body
        else:
            out += raw
    with open(path, "wb") as f:
        f.write(bytes(out))


# ---------------------------------------------------------------------------------------------
# Helpers shared by the models.

def randomise_bn(model, seed, shape):
    """Random affine parameters and running statistics for every BatchNorm, so that folding
    BatchNormalization into Conv changes the numbers a lot if it is done wrong.

    Purely random statistics (mean ~ 0, var ~ 1) shrink the small activations of a randomly
    initialised network at every layer until the output no longer depends on the input. So
    the statistics are first measured on random inputs (BatchNorm layers alone in train mode,
    cumulative average) and then perturbed: mean += 0.2·sd·N(0,1), var ·= U(0.5, 2); weight
    U(0.5, 1.5), bias 0.2·N(0,1). Deep residual networks are then chaotic, though: each block
    renormalised to unit scale roughly doubles a perturbation, and float32 PyTorch ends up
    7e-4 from float64 PyTorch on efficientnet_b0, which makes a 1e-4 test meaningless. The
    last BatchNorm of every residual branch (torchvision BasicBlock.bn2, Bottleneck.bn3, the
    last BatchNorm of blocks with use_res_connect) is therefore scaled by 0.5, which keeps
    float32 within ~2e-6 of float64 while the output still varies with the input."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, *shape, generator=g))
    model.eval()
    for m in bns:
        n = m.num_features
        with torch.no_grad():
            if m.affine:
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.2)
            sd = m.running_var.sqrt()
            m.running_mean.add_(torch.randn(n, generator=g) * 0.2 * sd)
            m.running_var.mul_(torch.rand(n, generator=g) * 1.5 + 0.5)
    for mod in model.modules():
        last = None
        if type(mod).__name__ == "BasicBlock":
            last = mod.bn2
        elif type(mod).__name__ == "Bottleneck":
            last = mod.bn3
        elif getattr(mod, "use_res_connect", False):
            last = [b for b in mod.modules() if isinstance(b, nn.BatchNorm2d)][-1]
        if last is not None:
            with torch.no_grad():
                last.weight.mul_(0.5)
                last.bias.mul_(0.5)
    return model


def same_pads(size, k, s, d, lower):
    """ONNX auto_pad SAME_UPPER / SAME_LOWER pads (begin, end) for one spatial axis."""
    out = -(-size // s)
    total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


class OnnxConv(nn.Module):
    """A Conv whose ONNX node carries what PyTorch never writes: asymmetric `pads` or an
    `auto_pad` mode. forward() pads explicitly (F.pad) and convolves, which is exactly what
    the ONNX node means; the autograd Function's symbolic writes the single Conv node.
    pads = (begin..., end...) in ONNX order; auto_pad = None | SAME_UPPER | SAME_LOWER | VALID
    (for SAME_* the pads are computed from the input size given)."""

    def __init__(self, cin, cout, k, stride=1, dilation=1, groups=1, pads=None, auto_pad=None, in_size=None):
        super().__init__()
        nd = len(k)
        self.conv = (nn.Conv1d if nd == 1 else nn.Conv2d)(cin, cout, k, stride=stride, dilation=dilation,
                                                          groups=groups)
        st = (stride,) * nd if isinstance(stride, int) else tuple(stride)
        dl = (dilation,) * nd if isinstance(dilation, int) else tuple(dilation)
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pp = [same_pads(in_size[i], k[i], st[i], dl[i], auto_pad == "SAME_LOWER") for i in range(nd)]
            pads = [p[0] for p in pp] + [p[1] for p in pp]
        elif auto_pad == "VALID" or pads is None:
            pads = [0] * (2 * nd)
        self.pads = list(pads)
        attrs = {"kernel_shape_i": list(k), "strides_i": list(st), "dilations_i": list(dl), "group_i": groups}
        if auto_pad:
            attrs["auto_pad_s"] = auto_pad
        else:
            attrs["pads_i"] = self.pads
        # F.pad takes (last-axis begin, last-axis end, previous-axis begin, ...)
        tpad = []
        for i in reversed(range(nd)):
            tpad += [self.pads[i], self.pads[nd + i]]
        conv = self.conv

        class Fn(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, b):
                y = F.pad(x, tpad)
                f = F.conv1d if nd == 1 else F.conv2d
                return f(y, w, b, stride=conv.stride, dilation=conv.dilation, groups=conv.groups)

            @staticmethod
            def symbolic(g, x, w, b):
                return g.op("Conv", x, w, b, **attrs)

        self.fn = Fn

    def forward(self, x):
        return self.fn.apply(x, self.conv.weight, self.conv.bias)


def _unary_symbolic_fn(torch_fn, op, **attrs):
    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch_fn(x)

        @staticmethod
        def symbolic(g, x):
            return g.op(op, x, **attrs)

    return Fn


IdentityFn = _unary_symbolic_fn(lambda x: x.clone(), "Identity")
DropoutFn = _unary_symbolic_fn(lambda x: x.clone(), "Dropout")  # no training_mode: inference
GeluFn = _unary_symbolic_fn(lambda x: F.gelu(x), "Gelu", approximate_s="none")
GeluTanhFn = _unary_symbolic_fn(lambda x: F.gelu(x, approximate="tanh"), "Gelu", approximate_s="tanh")
# PyTorch 1.13 writes adaptive_max_pool2d(x, 1) as a MaxPool over the whole map.
GlobalMaxPoolFn = _unary_symbolic_fn(lambda x: F.adaptive_max_pool2d(x, 1), "GlobalMaxPool")


def make_pad(tpad, mode, value=0.0):
    """F.pad with a plain ONNX Pad node (constant pads input). PyTorch 1.13 writes F.pad at
    opset >= 11 with the pads computed by a ConstantOfShape/Concat/Reshape/Slice/Transpose/
    Cast chain; ConstantOfShape is not on baleen's required op list, so the chain would hide
    every other op of the model behind one load error."""
    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return F.pad(x, tpad, mode=mode, value=value) if mode == "constant" else F.pad(x, tpad, mode=mode)

        @staticmethod
        def symbolic(g, x):
            nd = 4  # these models pad 4-D tensors
            begin, end = [0] * nd, [0] * nd
            for i in range(len(tpad) // 2):
                begin[nd - 1 - i], end[nd - 1 - i] = tpad[2 * i], tpad[2 * i + 1]
            pads = g.op("Constant", value_t=torch.tensor(begin + end, dtype=torch.int64))
            if mode == "constant":
                v = g.op("Constant", value_t=torch.tensor(value, dtype=torch.float32))
                return g.op("Pad", x, pads, v, mode_s=mode)
            return g.op("Pad", x, pads, mode_s=mode)

    return Fn


class DropoutRatioFn(torch.autograd.Function):
    """Dropout with an explicit ratio input and training_mode = false: what an opset-12+
    exporter writes for a Dropout layer whose mode was decided at run time."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def symbolic(g, x):
        r = g.op("Constant", value_t=torch.tensor(0.3, dtype=torch.float32))
        t = g.op("Constant", value_t=torch.tensor(False))
        return g.op("Dropout", x, r, t)


def cbr(cin, cout, k=3, **kw):
    return nn.Sequential(nn.Conv2d(cin, cout, k, bias=False, **kw), nn.BatchNorm2d(cout), nn.ReLU())


# ---------------------------------------------------------------------------------------------
# Small custom models (committed). Input shapes exclude the batch axis.

class Conv2dNet(nn.Module):
    """2-D Conv variants: plain, grouped+dilated, depthwise stride 2, asymmetric pads,
    SAME_UPPER (stride 2), SAME_LOWER (even kernel), VALID; ConvTranspose (stride 2, output
    padding); BatchNorm folded after Conv and BatchNorm standalone after a ReLU."""
    shape = (1, 24, 40)

    def __init__(self):
        super().__init__()
        self.c1 = cbr(1, 8, 3, padding=1)
        self.c2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2), nn.BatchNorm2d(8), nn.ReLU6())
        self.c3 = cbr(8, 8, 3, stride=2, padding=1, groups=8)  # depthwise: 12x20
        self.c4 = OnnxConv(8, 12, (3, 2), stride=(1, 2), pads=(0, 1, 2, 1))  # -> 12x11
        self.b4 = nn.BatchNorm2d(12)
        self.c5 = OnnxConv(12, 12, (4, 3), stride=2, auto_pad="SAME_UPPER", in_size=(12, 11))  # -> 6x6
        self.c6 = OnnxConv(12, 16, (2, 2), auto_pad="SAME_LOWER", in_size=(6, 6))  # -> 6x6
        self.c7 = OnnxConv(16, 16, (3, 1), auto_pad="VALID")  # -> 4x6
        self.up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)  # -> 8x12
        self.bn_up = nn.BatchNorm2d(8)
        self.bn_free = nn.BatchNorm2d(8)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.c3(self.c2(self.c1(x)))
        x = torch.relu(self.b4(self.c4(x)))
        x = torch.relu(self.c5(x))
        x = torch.relu(self.c6(x))
        x = self.c7(x)
        x = torch.relu(self.bn_up(self.up(x)))
        x = self.bn_free(x)  # after a ReLU: cannot fold into a Conv
        return self.head(x)


class ConvTransposeNet(nn.Module):
    """ConvTranspose2d variants: grouped with dilation, asymmetric stride and kernel, no bias."""
    shape = (1, 10, 16)

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 8, 3, padding=1)
        self.t1 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, dilation=2, groups=2)
        self.t2 = nn.ConvTranspose2d(8, 4, (2, 4), stride=(1, 2), padding=(0, 1), bias=False)

    def forward(self, x):
        x = torch.relu(self.c(x))
        x = torch.relu(self.t1(x))
        return self.t2(x)


class Conv1dNet(nn.Module):
    """1-D Conv variants on a [N, 1, 16, T] input squeezed to [N, 16, T]: grouped + dilated +
    strided, depthwise, asymmetric pads, SAME_UPPER, BatchNorm1d, MaxPool1d, AvgPool1d."""
    shape = (1, 16, 50)

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(16, 24, 5, stride=2, dilation=2, padding=4, groups=4)  # -> 25
        self.b1 = nn.BatchNorm1d(24)
        self.dw = nn.Conv1d(24, 24, 3, padding=1, groups=24, bias=False)
        self.b2 = nn.BatchNorm1d(24)
        self.c3 = OnnxConv(24, 16, (4,), pads=(2, 1))  # -> 25
        self.c4 = OnnxConv(16, 16, (3,), stride=2, auto_pad="SAME_UPPER", in_size=(25,))  # -> 13
        self.mp = nn.MaxPool1d(3, stride=2, padding=1)  # -> 7
        self.ap = nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        x = x.squeeze(1)
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.relu(self.b2(self.dw(x)))
        x = torch.tanh(self.c3(x))
        x = self.c4(x)
        return self.ap(self.mp(x))


class PoolReduceNet(nn.Module):
    """MaxPool (pads, ceil_mode), AveragePool with and without count_include_pad,
    GlobalAveragePool, GlobalMaxPool, ReduceMean/Max/Sum/L2 over various axes."""
    shape = (1, 32, 48)

    def __init__(self):
        super().__init__()
        self.c = cbr(1, 6, 3, padding=1)

    def forward(self, x):
        x = self.c(x)
        a = F.max_pool2d(x, 3, stride=2, padding=1)  # 16x24
        b = F.max_pool2d(x, (2, 3), stride=(2, 3), ceil_mode=True)  # 16x16
        c = F.avg_pool2d(a, 3, stride=1, padding=1, count_include_pad=True)  # 16x24
        d = F.avg_pool2d(a, 3, stride=1, padding=1, count_include_pad=False)
        e = F.avg_pool2d(x, 2)  # 16x24
        gap = F.adaptive_avg_pool2d(c + d + e, 1).flatten(1)  # [N, 6]
        gmp = GlobalMaxPoolFn.apply(b).flatten(1)
        gmp2 = F.adaptive_max_pool2d(c, 1).flatten(1)
        r1 = (c - d).mean(dim=(2, 3))
        r2 = torch.amax(e, dim=2).sum(dim=2)
        r3 = torch.norm(a, p=2, dim=3).mean(dim=2)
        r4 = b.sum(dim=(1, 3), keepdim=True).flatten(1)  # [N, 16]
        return torch.cat([gap, gmp, gmp2, r1, r2, r3, r4], 1)


class ActivationNet(nn.Module):
    """Every activation of the required list on branches of one feature map."""
    shape = (1, 12, 20)

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 4, 3, padding=1)
        self.prelu = nn.PReLU(4)
        with torch.no_grad():
            self.prelu.weight.copy_(torch.linspace(-0.5, 0.7, 4))
        self.prelu1 = nn.PReLU()  # one shared slope
        self.mix = nn.Conv2d(4 * 16, 8, 1)

    def forward(self, x):
        x = self.c(x) * 2.0
        ys = [torch.relu(x), F.leaky_relu(x, 0.15), self.prelu(x), self.prelu1(x), F.elu(x, 0.7), F.selu(x),
              torch.clamp(x, -0.5, 0.8), F.relu6(x), torch.sigmoid(x), F.hardsigmoid(x), F.hardswish(x),
              torch.tanh(x), F.softplus(x), torch.erf(x), F.gelu(x), F.silu(x)]
        return self.mix(torch.cat(ys, 1))


class ArithNet(nn.Module):
    """Add/Sub/Mul/Div/Pow/Sqrt/Exp/Log/Neg/Abs/Min/Max with broadcasting between feature maps
    and per-channel, per-column and scalar constants."""
    shape = (1, 10, 14)

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 6, 3, padding=1)
        g = torch.Generator().manual_seed(5)
        self.pc = nn.Parameter(torch.randn(6, 1, 1, generator=g))          # per channel
        self.pw = nn.Parameter(torch.randn(1, 1, 14, generator=g))         # per column
        self.pe = nn.Parameter(torch.rand(6, 1, 1, generator=g) + 0.5)     # exponents

    def forward(self, x):
        x = self.c(x)
        rows = x.mean(dim=3, keepdim=True)   # [N, 6, 10, 1]
        cols = x.amax(dim=2, keepdim=True)   # [N, 6, 1, 14]
        a = x + self.pc - self.pw            # Add, Sub
        b = rows * cols / (x.abs() + 1.0)    # Mul, Div, Abs (broadcast both ways)
        c = torch.sqrt(x * x + 0.5) - torch.log(torch.abs(x) + 1.0)
        d = torch.exp(-torch.abs(x)) * x.pow(2)
        e = torch.pow(torch.abs(x) + 0.5, self.pe)  # Pow with a tensor exponent
        f = torch.minimum(x, self.pw) + torch.maximum(x, self.pc) + torch.min(a, b)
        g = 3.0 - x / 4.0
        return torch.cat([a, b, c, d, e, f, g, -x], 1)


class ShapeNet(nn.Module):
    """Flatten, Reshape (x.view(x.size(0), ...): the Shape/Gather/Unsqueeze/Concat chain),
    Squeeze, Unsqueeze, Transpose, Concat, Split, Slice (steps, negative ends), Gather,
    Pad (constant and reflect), Softmax, LogSoftmax, Dropout, Identity, Gemm, MatMul, Cast
    (of a fixed dimension) with PyTorch's shape subgraphs left unfolded."""
    shape = (1, 12, 16)

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 6, 3, padding=1)
        self.lin3 = nn.Linear(16, 8)          # on [N, C, H, W]: MatMul + Add
        self.w = nn.Parameter(torch.randn(8, 5) * 0.3)
        self.fc = nn.Linear(6 * 6 * 5 + 12, 10)  # Gemm
        self.idx = torch.tensor([3, 0, 2])
        self.pad_c = make_pad((1, 2, 0, 1), "constant", 0.25)
        self.pad_r = make_pad((2, 1, 1, 2), "reflect")

    def forward(self, x):
        x = self.c(x)                                   # [N, 6, 12, 16]
        x = IdentityFn.apply(x)
        x = self.pad_c.apply(x)                         # Pad constant [N, 6, 13, 19]
        x = self.pad_r.apply(x)                         # Pad reflect [N, 6, 16, 22]
        x = x[:, :, 1:13, 2:18]                         # Slice -> [N, 6, 12, 16]
        s1, s2 = torch.split(x, [2, 4], dim=1)          # Split
        x = torch.cat([s2, s1 * 0.5], 1)                # Concat
        y = torch.relu(self.lin3(x))                    # MatMul + Add [N, 6, 12, 8]
        y = torch.matmul(y, self.w)                     # MatMul [N, 6, 12, 5]
        y = y.permute(0, 2, 1, 3)                       # Transpose [N, 12, 6, 5]
        y = y[:, ::2]                                   # Slice step 2 -> [N, 6, 6, 5]
        y = DropoutFn.apply(y)
        z = torch.index_select(x, 1, self.idx)          # Gather [N, 3, 12, 16]
        z = z[:, 1]                                     # Gather (scalar index) [N, 12, 16]
        z = z.unsqueeze(1).mean(dim=3, keepdim=True)    # Unsqueeze, ReduceMean [N, 1, 12, 1]
        z = z.squeeze(3).squeeze(1)                     # Squeeze [N, 12]
        h = torch.cat([torch.flatten(y, 1), z], 1)      # Flatten
        h = h.view(h.size(0), -1)                       # Shape/Gather/Unsqueeze/Concat/Reshape
        h = DropoutRatioFn.apply(self.fc(h))            # Gemm
        h = h + x.shape[2] / 8.0                        # Shape -> Gather -> Cast -> Div
        return torch.cat([F.softmax(h, dim=-1), F.log_softmax(h, dim=1)], 1)


class NormResizeNet(nn.Module):
    """InstanceNormalization, LayerNormalization (last axis and last two), Resize nearest and
    linear (by scale and by size). Needs opset 17 for LayerNormalization."""
    shape = (1, 8, 12)

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 4, 3, padding=1)
        self.inorm = nn.InstanceNorm2d(4, affine=True)
        self.ln1 = nn.LayerNorm(24)
        self.ln2 = nn.LayerNorm([16, 24])
        g = torch.Generator().manual_seed(3)
        with torch.no_grad():
            for p in (self.inorm.weight, self.ln1.weight, self.ln2.weight):
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            for p in (self.inorm.bias, self.ln1.bias, self.ln2.bias):
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def forward(self, x):
        x = self.inorm(self.c(x))                                         # [N, 4, 8, 12]
        a = F.interpolate(x, scale_factor=2, mode="nearest")              # [N, 4, 16, 24]
        b = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        c = F.interpolate(x[:, :, :, :6], size=(16, 24), mode="bilinear", align_corners=False)
        d = F.interpolate(a, size=(16, 24), mode="nearest")
        return torch.cat([self.ln1(a + b), self.ln2(c - d)], 1)


class GeluNet(nn.Module):
    """ONNX Gelu (opset 20), approximate none and tanh. The file's opset is set to 20 after
    export; every other op in the graph has the same definition in opsets 17 and 20."""
    shape = (1, 10, 12)
    set_opset = 20

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 3, padding=1)
        self.c2 = nn.Conv2d(6, 6, 3, padding=1)

    def forward(self, x):
        x = GeluFn.apply(self.c1(x) * 2.0)
        return GeluTanhFn.apply(self.c2(x) * 2.0)


class Cnn14(nn.Module):
    """PANNs CNN14-style network (Kong et al. 2020) on 64 mel bins: six conv blocks of
    2 x (3x3 conv, BatchNorm, ReLU) followed by 2x2 average pooling (1x1 after the last),
    channels base..32*base (PANNs: base 64); the mean over frequency, max + mean over time,
    fc 32*base -> ReLU -> dropout -> fc classes -> sigmoid. PANNs also batch-norms the
    input mel bins (bn0); kept here as a BatchNorm over the frequency axis via transposes."""
    shape = (1, 64, 256)

    def __init__(self, base=64, classes=527):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(64)
        chans = [1] + [base * 2 ** i for i in range(6)]
        self.blocks = nn.ModuleList(
            nn.Sequential(cbr(chans[i], chans[i + 1], 3, padding=1), cbr(chans[i + 1], chans[i + 1], 3, padding=1))
            for i in range(6))
        self.fc1 = nn.Linear(chans[-1], chans[-1])
        self.fc_out = nn.Linear(chans[-1], classes)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = self.bn0(x.transpose(1, 2)).transpose(1, 2)  # [N, 1, 64, T]: normalise each mel bin
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            x = F.avg_pool2d(x, 2) if i < 5 else x
            x = self.drop(x) if i < 5 else x
        x = x.mean(dim=2)                                  # over frequency -> [N, C, T']
        x = x.amax(dim=2) + x.mean(dim=2)                  # max + mean over time
        x = self.drop(torch.relu(self.fc1(x)))
        return torch.sigmoid(self.fc_out(x))


class Cnn14Tiny(Cnn14):
    """The CNN14-style topology at 1/32 of the width (channels 2..64), 10 classes, T = 64:
    small enough to commit."""
    shape = (1, 64, 64)

    def __init__(self):
        super().__init__(base=2, classes=10)


# ---------------------------------------------------------------------------------------------
# Big models (regenerated into a cache folder by scripts/make-test-models.sh).

def _tv_one_channel(model, path):
    """Replaces the first Conv2d (at attribute path) with the same conv on 1 input channel."""
    parent = model
    for p in path[:-1]:
        parent = parent[int(p)] if p.isdigit() else getattr(parent, p)
    last = path[-1]
    old = parent[int(last)] if last.isdigit() else getattr(parent, last)
    new = nn.Conv2d(1, old.out_channels, old.kernel_size, stride=old.stride, padding=old.padding,
                    dilation=old.dilation, groups=1, bias=old.bias is not None)
    if last.isdigit():
        parent[int(last)] = new
    else:
        setattr(parent, last, new)
    return model


def tv_model(name):
    import torchvision.models as tvm
    ctor = getattr(tvm, name)
    m = ctor(weights=None, num_classes=10)
    first = {"resnet18": "conv1", "resnet50": "conv1", "mobilenet_v2": "features.0.0",
             "mobilenet_v3_small": "features.0.0", "efficientnet_b0": "features.0.0"}[name]
    return _tv_one_channel(m, first.split("."))


# name -> (constructor, input shape without N, opset, do_constant_folding)
SMALL = {
    "conv2d_net": (Conv2dNet, Conv2dNet.shape, 13, False),
    "convtranspose_net": (ConvTransposeNet, ConvTransposeNet.shape, 14, True),
    "conv1d_net": (Conv1dNet, Conv1dNet.shape, 15, True),
    "pool_reduce_net": (PoolReduceNet, PoolReduceNet.shape, 13, True),
    "activation_net": (ActivationNet, ActivationNet.shape, 14, True),
    "arith_net": (ArithNet, ArithNet.shape, 13, False),
    "shape_net": (ShapeNet, ShapeNet.shape, 13, False),
    "norm_resize_net": (NormResizeNet, NormResizeNet.shape, 17, True),
    "gelu_net": (GeluNet, GeluNet.shape, 17, True),
    "cnn14_tiny": (Cnn14Tiny, Cnn14Tiny.shape, 16, True),
}

BIG = {
    "resnet18": (lambda: tv_model("resnet18"), (1, 64, 128), 13, True),
    "resnet50": (lambda: tv_model("resnet50"), (1, 64, 128), 17, True),
    "mobilenet_v2": (lambda: tv_model("mobilenet_v2"), (1, 64, 128), 13, True),
    "mobilenet_v3_small": (lambda: tv_model("mobilenet_v3_small"), (1, 64, 128), 14, True),
    "efficientnet_b0": (lambda: tv_model("efficientnet_b0"), (1, 64, 160), 15, True),
    "cnn14": (lambda: Cnn14(base=32, classes=527), (1, 64, 256), 13, True),
}

REF_BATCH = 3


def export(name, ctor, shape, opset, fold, out_dir, seed):
    torch.manual_seed(seed)
    model = randomise_bn(ctor(), seed + 1000, shape)
    model.eval()
    path = os.path.join(out_dir, name + ".onnx")
    x = torch.randn(REF_BATCH, *shape, generator=torch.Generator().manual_seed(seed + 2000))
    t0 = time.time()
    try:
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, do_constant_folding=fold,
                          training=torch.onnx.TrainingMode.PRESERVE)
    except torch.onnx.errors.CheckerError:
        # Only GeluNet: opset-17 checker does not know Gelu; the file is written before the
        # check and its opset is raised below.
        if not getattr(ctor, "set_opset", None):
            raise
    if getattr(ctor, "set_opset", None):
        set_default_opset(path, ctor.set_opset)
    with torch.no_grad():
        y = model(x)
    # A reference whose rows do not depend on the input (dead ReLUs, saturated sigmoid)
    # would let a broken executor pass: insist that the items of the batch differ.
    spread = float((y - y.mean(0)).norm() / y.norm())
    if not spread > 1e-3:
        raise SystemExit("%s: the output hardly depends on the input (spread %.2g): change the seed or the model"
                         % (name, spread))
    # The reference must be well conditioned: float32 PyTorch within 1e-5 of float64 PyTorch,
    # so that a correct float32 executor lands well inside the tests' 1e-4.
    with torch.no_grad():
        y64 = copy.deepcopy(model).double()(x.double())
    cond = float((y.double() - y64).norm() / y64.norm())
    if not cond < 1e-5:
        raise SystemExit("%s: ill-conditioned: float32 vs float64 PyTorch differ by %.2g relative" % (name, cond))
    np.save(os.path.join(out_dir, name + ".in.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out_dir, name + ".out.npy"), y.numpy().astype(np.float32))
    ops = sorted({op for op, _ in onnx_nodes(path)})
    print("%-20s opset %-2s %8.1f KB  %5.1f s  out %s  spread %.2f  f32-vs-f64 %.1e  ops: %s" % (
        name, onnx_opset(path), os.path.getsize(path) / 1024, time.time() - t0, tuple(y.shape), spread, cond,
        " ".join(ops)))
    return path


def check_coverage(paths):
    seen = set()
    for p in paths:
        for op, attrs in onnx_nodes(p):
            seen.add(op)
            if op in ("Pad",):
                seen.add("Pad:" + (attrs.get("mode") or "constant"))
            if op == "Resize":
                seen.add("Resize:" + (attrs.get("mode") or "nearest"))
    need = REQUIRED_OPS + ["Pad:constant", "Pad:reflect", "Resize:nearest", "Resize:linear"]
    missing = [op for op in need if op not in seen]
    if missing:
        print("required ops NOT covered by the small models: " + " ".join(missing))
        return False
    print("all %d required ops (and Pad/Resize modes) are covered by the small models" % len(REQUIRED_OPS))
    return True


def generator_hash():
    with open(os.path.abspath(__file__), "rb") as f:
        h = hashlib.sha256(f.read())
    h.update(torch.__version__.encode())
    try:
        import torchvision
        h.update(torchvision.__version__.encode())
    except ImportError:
        pass
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="write the committed small models next to this script")
    ap.add_argument("--big", action="store_true", help="write the big models into --out")
    ap.add_argument("--out", default=None, help="output folder (default: this folder for --small)")
    ap.add_argument("--only", nargs="*", help="only these model names")
    ap.add_argument("--list-ops", nargs="*", metavar="ONNX", help="print the op types of these files")
    ap.add_argument("--check-coverage", action="store_true", help="check the op coverage of the small models")
    ap.add_argument("--hash", action="store_true", help="print the generator hash (script + torch versions)")
    ap.add_argument("--names", choices=["small", "big"], help="print the model names of a set")
    a = ap.parse_args()
    if a.hash:
        print(generator_hash())
        return 0
    if a.names:
        print(" ".join(SMALL if a.names == "small" else BIG))
        return 0
    if a.list_ops:
        for p in a.list_ops:
            print(p, onnx_opset(p), " ".join(sorted({op for op, _ in onnx_nodes(p)})))
        return 0
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    ok = True
    if a.small or a.check_coverage:
        out = a.out or HERE
        os.makedirs(out, exist_ok=True)
        paths = []
        for i, (name, (ctor, shape, opset, fold)) in enumerate(SMALL.items()):
            if a.only and name not in a.only:
                continue
            p = os.path.join(out, name + ".onnx")
            paths.append(export(name, ctor, shape, opset, fold, out, 100 + i) if a.small else p)
        if not a.only:
            ok = check_coverage(paths) and ok
    if a.big:
        if not a.out:
            ap.error("--big needs --out DIR")
        os.makedirs(a.out, exist_ok=True)
        for i, (name, (ctor, shape, opset, fold)) in enumerate(BIG.items()):
            if a.only and name not in a.only:
                continue
            export(name, ctor, shape, opset, fold, a.out, 200 + i)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
