#!/usr/bin/env python3
"""export_node_tests.py — write the official ONNX backend node tests baleen runs to disk.

usage: export_node_tests.py OUTDIR [--list selected_tests.txt]   write the selected cases
       export_node_tests.py --survey                               print every candidate case
                                                                   with the reason it is kept
                                                                   or excluded

Recent `onnx` releases (1.16+) build the node test cases in memory
(onnx.backend.test.loader.load_model_tests(kind="node")); older ones ship them as files
under onnx/backend/test/data/node. Both are handled: each selected case becomes
OUTDIR/<name>/model.onnx plus test_data_set_<k>/input_<i>.pb and output_<j>.pb, the layout
the C driver (run_node_tests.c) reads.

Two rewrites make a case runnable by baleen without changing what it checks:
 * Conv/ConvTranspose weights and bias, and inputs that decide output shapes (Reshape's shape, Slice's starts/ends/axes/steps,
   Pad's pads, Resize's scales/sizes, Split's split, Squeeze/Unsqueeze/Reduce* axes,
   ConstantOfShape's shape) are
   bound as initializers with the case's values: baleen requires them constant at load
   time (models/shape.c), which is what a PyTorch export produces.
 * opset_import above 21 (baleen's maximum) is lowered to 21 when the op's schema at 21 has
   the same attributes and inputs as at the case's opset: opsets 22-25 only added element
   types (bfloat16, float8, int4...) to these ops, not float32 behaviour.

Exit status 77 when the onnx package is absent (the ctest reports a skip).
Developer/test tool only: baleen itself never runs Python.
"""
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper, defs
except ImportError as e:  # the ctest turns 77 into "skipped"
    print(f"export_node_tests.py: the onnx Python package is not installed ({e}); "
          "install it (pip install onnx) to run the ONNX conformance tests", file=sys.stderr)
    sys.exit(77)

BL_OPSET_MAX = 21
SUPPORTED = set("""Conv ConvTranspose BatchNormalization Relu LeakyRelu PRelu Elu Selu Clip Sigmoid
HardSigmoid HardSwish Tanh Softplus Erf Gelu Add Sub Mul Div Pow Sqrt Exp Log Neg Abs Min Max MaxPool
AveragePool GlobalAveragePool GlobalMaxPool ReduceMean ReduceMax ReduceSum ReduceL2 Gemm MatMul
Flatten Reshape Squeeze Unsqueeze Transpose Concat Split Slice Gather Pad Softmax LogSoftmax Dropout
Identity Constant ConstantOfShape Shape Cast Resize InstanceNormalization LayerNormalization""".split())
# op -> input slots bound as initializers: those that decide shapes, and Conv/ConvTranspose
# weights and bias (parameters of a real model; the executor packs them once at creation)
SHAPE_INPUTS = {
    "Conv": {1, 2}, "ConvTranspose": {1, 2},
    "Reshape": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Resize": {1, 2, 3}, "Split": {1},
    "Squeeze": {1}, "Unsqueeze": {1}, "ReduceMean": {1}, "ReduceMax": {1}, "ReduceSum": {1},
    "ReduceL2": {1}, "ConstantOfShape": {0},
}
OK_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.INT64}


def load_cases():
    try:
        from onnx.backend.test.loader import load_model_tests
        return load_model_tests(kind="node")
    except Exception:  # very old onnx: read the shipped folder directly
        return None


def case_model_and_data(case):
    """(ModelProto, [(inputs[list of ndarray], outputs[list])]) for a TestCase."""
    if case.model is not None:
        return case.model, case.data_sets
    d = case.model_dir
    m = onnx.load(os.path.join(d, "model.onnx"))
    sets = []
    k = 0
    while os.path.isdir(os.path.join(d, f"test_data_set_{k}")):
        sd = os.path.join(d, f"test_data_set_{k}")
        ins, outs = [], []
        for prefix, lst in (("input", ins), ("output", outs)):
            i = 0
            while os.path.exists(os.path.join(sd, f"{prefix}_{i}.pb")):
                t = onnx.TensorProto()
                with open(os.path.join(sd, f"{prefix}_{i}.pb"), "rb") as f:
                    t.ParseFromString(f.read())
                lst.append(numpy_helper.to_array(t))
                i += 1
        sets.append((ins, outs))
        k += 1
    return m, sets


def schema_sig(op, opset):
    s = defs.get_schema(op, opset)
    return (s.since_version, sorted(s.attributes.keys()), [i.name for i in s.inputs], [o.name for o in s.outputs])


def verdict(model):
    """None when the case is runnable, else the reason it is excluded."""
    ops = [n.op_type for n in model.graph.node]
    bad = sorted({o for o in ops if o not in SUPPORTED})
    if bad:
        return "uses unsupported ops " + ",".join(bad)
    if any(n.domain not in ("", "ai.onnx") for n in model.graph.node):
        return "non-default domain"
    for vi in list(model.graph.input) + list(model.graph.output):
        tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
        if tt is None:
            return "non-tensor input/output"
        if tt.elem_type not in OK_TYPES:
            return f"dtype {onnx.TensorProto.DataType.Name(tt.elem_type)} of '{vi.name}' (baleen runs float32, int64 indices)"
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 11:
        return f"opset {opset} < 11"
    if opset > BL_OPSET_MAX:
        for op in set(ops):
            try:
                if schema_sig(op, opset)[1:] != schema_sig(op, BL_OPSET_MAX)[1:]:
                    return f"opset {opset}: {op} differs from its opset-{BL_OPSET_MAX} form"
            except Exception as e:  # op newer than 21
                return f"opset {opset}: {op} has no opset-{BL_OPSET_MAX} form ({e})"
    return None


def rewrite(model, inputs):
    """Bind shape-deciding inputs; lower the opset. Returns (model, kept input indices)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    bind = set()
    names = [vi.name for vi in m.graph.input]
    for n in m.graph.node:
        for slot in SHAPE_INPUTS.get(n.op_type, ()):
            if slot < len(n.input) and n.input[slot] in names:
                bind.add(names.index(n.input[slot]))
    keep = [i for i in range(len(names)) if i not in bind]
    for i in sorted(bind):
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(inputs[i]), names[i]))
    vis = [m.graph.input[i] for i in keep]
    vis = [type(m.graph.input[0])().__class__.FromString(v.SerializeToString()) for v in vis]
    del m.graph.input[:]
    m.graph.input.extend(vis)
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx") and o.version > BL_OPSET_MAX:
            o.version = BL_OPSET_MAX
    if m.ir_version > 10:
        m.ir_version = 10
    return m, keep


def write_case(outdir, name, model, data_sets):
    first_inputs = data_sets[0][0] if data_sets else []
    m, keep = rewrite(model, first_inputs)
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    for k, (ins, outs) in enumerate(data_sets):
        sd = os.path.join(d, f"test_data_set_{k}")
        os.makedirs(sd, exist_ok=True)
        for j, i in enumerate(keep):
            t = numpy_helper.from_array(np.asarray(ins[i]), model.graph.input[i].name)
            with open(os.path.join(sd, f"input_{j}.pb"), "wb") as f:
                f.write(t.SerializeToString())
        for j, o in enumerate(outs):
            t = numpy_helper.from_array(np.asarray(o), model.graph.output[j].name)
            with open(os.path.join(sd, f"output_{j}.pb"), "wb") as f:
                f.write(t.SerializeToString())


def read_list(path):
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()  # "name [rtol=X]": the driver reads options
            if line:
                names.append(line[0])
    return names


def main(argv):
    cases = load_cases()
    if cases is None:
        print("export_node_tests.py: cannot enumerate ONNX node tests with this onnx version", file=sys.stderr)
        return 1
    by_name = {c.name: c for c in cases}
    if len(argv) >= 2 and argv[1] == "--survey":
        for c in cases:
            m, _ = case_model_and_data(c)
            ops = {n.op_type for n in m.graph.node}
            if not ops & SUPPORTED:
                continue
            v = verdict(m)
            print(f"{c.name:60s} {'OK' if v is None else 'EXCLUDE: ' + v}")
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    outdir = argv[1]
    lst = argv[3] if len(argv) >= 4 and argv[2] == "--list" else os.path.join(os.path.dirname(__file__), "selected_tests.txt")
    os.makedirs(outdir, exist_ok=True)
    missing = []
    for name in read_list(lst):
        c = by_name.get(name)
        if c is None:
            missing.append(name)
            continue
        m, sets = case_model_and_data(c)
        write_case(outdir, name, m, sets)
    if missing:
        print(f"export_node_tests.py: {len(missing)} selected cases are not in onnx {onnx.__version__}: "
              + ", ".join(missing[:10]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
