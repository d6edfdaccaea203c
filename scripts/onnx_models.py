#!/usr/bin/python3
"""Test oracle for the ONNX importer (tests/io/test_onnx_models.cpp). Run from the repo root with
Debian's python3 (python3-torch 1.13, python3-numpy, python3-onnx):

    /usr/bin/python3 scripts/onnx_models.py

1. Exports three small PyTorch 1.13 models with torch.onnx.export into tests/io/data/onnx/
   (mlp.onnx at opset 11, cnn.onnx with batchnorm and pooling at opset 13, transformer.onnx, an
   encoder layer with layernorm, GELU and attention, at opset 17) and records PyTorch's outputs in
   float32 and float64 (the float32 weights converted exactly), and the exported file's outputs
   evaluated in float64 by the interpreter below.
2. Evaluates every network under ../shared/data/vnncomp2022/ in float64 with torch ops, reading the
   same file with python3-onnx (used only here, as the oracle's reader), and records the outputs.
3. Writes the ONNX fuzz seeds fuzz/corpus/onnx/*.onnx (small models reaching most handlers).

Inputs are not stored: both sides draw them from SplitMix64(seed), one value per element in
row-major order across the graph inputs, x = (next() >> 40) * 2^-23 - 1 (exact in binary32, in
[-1, 1)). Outputs are written with repr(), which round-trips binary64.
"""
import glob
import gzip
import json
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F

OUT = "tests/io/data/onnx"
DATA = "../shared/data"
MASK = (1 << 64) - 1


def splitmix_inputs(seed, shapes):
    state = seed
    out = []
    for shape in shapes:
        n = int(np.prod(shape)) if len(shape) else 1
        vals = []
        for _ in range(n):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            z ^= z >> 31
            vals.append((z >> 40) * 2.0**-23 - 1.0)
        out.append(np.array(vals, dtype=np.float64).reshape(shape))
    return out


def flat(t):
    return [float(v) for v in np.asarray(t, dtype=np.float64).reshape(-1)]


# ---- 1. PyTorch models ------------------------------------------------------------------------

class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 16)
        self.fc2 = torch.nn.Linear(16, 8)
        self.fc3 = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc3(torch.tanh(self.fc2(torch.relu(self.fc1(x)))))


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(4, 6, 3, stride=2, padding=(1, 0))
        self.bn2 = torch.nn.BatchNorm2d(6)
        self.avg = torch.nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.avg(torch.nn.functional.leaky_relu(self.bn2(self.conv2(x)), 0.1))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.log_softmax(self.fc(x), dim=1)


class EncoderLayer(torch.nn.Module):
    """Post-norm transformer encoder layer (explicit attention so the export is plain ops)."""

    def __init__(self, d=8, heads=2, ff=16):
        super().__init__()
        self.h, self.dk = heads, d // heads
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ln1 = torch.nn.LayerNorm(d)
        self.ff1 = torch.nn.Linear(d, ff)
        self.ff2 = torch.nn.Linear(ff, d)
        self.ln2 = torch.nn.LayerNorm(d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        split = lambda z: z.reshape(b, t, self.h, self.dk).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        att = torch.softmax(q @ k.transpose(-2, -1) / (self.dk ** 0.5), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = self.ln1(x + self.proj(y))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


def export_pytorch_models():
    torch.manual_seed(0)
    models = [("mlp", MLP(), [(2, 6)], 11), ("cnn", CNN(), [(2, 2, 12, 12)], 13),
              ("transformer", EncoderLayer(), [(2, 5, 8)], 17)]
    refs = []
    for name, model, shapes, opset in models:
        model.eval()
        # Non-trivial batchnorm statistics (a fresh layer has mean 0, var 1).
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)
        seed = 7
        xs = splitmix_inputs(seed, shapes)
        path = f"{OUT}/{name}.onnx"
        torch.onnx.export(model, tuple(torch.tensor(x, dtype=torch.float32) for x in xs), path,
                          opset_version=opset, input_names=["x"], output_names=["y"],
                          training=torch.onnx.TrainingMode.PRESERVE)  # keeps BatchNormalization unfused
        with torch.no_grad():
            y32 = model(*[torch.tensor(x, dtype=torch.float32) for x in xs])
            y64 = model.double()(*[torch.tensor(x) for x in xs])
        # The exported file itself in float64 (its constants, e.g. LeakyReLU's alpha and GELU's
        # sqrt 2, are binary32 there but binary64 in the module).
        y_file = run_onnx(onnx.load(path), {"x": xs[0]})
        refs.append({"file": f"tests/io/data/onnx/{name}.onnx", "seed": seed,
                     "outputs_f32": [flat(y32.numpy())], "outputs_f64": [flat(y64.numpy())],
                     "outputs_file_f64": [flat(y.numpy()) for y in y_file]})
    return refs


# ---- 2. vnncomp2022 networks, evaluated in float64 --------------------------------------------

def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def run_onnx(model, inputs):
    """A float64 interpreter for the ops these networks use, on torch tensors."""
    env = {t.name: torch.tensor(onnx.numpy_helper.to_array(t).astype(np.float64)
                                if onnx.numpy_helper.to_array(t).dtype.kind == "f"
                                else onnx.numpy_helper.to_array(t))
           for t in model.graph.initializer}
    for name, x in inputs.items():
        env[name] = torch.tensor(x)
    for n in model.graph.node:
        i = [env[x] if x else None for x in n.input]
        op = n.op_type
        if op == "MatMul":
            y = torch.matmul(i[0], i[1])
        elif op in ("Add", "Sub", "Mul", "Div"):
            y = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op](i[0], i[1])
        elif op == "Relu":
            y = torch.relu(i[0])
        elif op == "Flatten":
            axis = attr(n, "axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:axis])), -1)
        elif op == "Gemm":
            a = i[0].T if attr(n, "transA", 0) else i[0]
            b = i[1].T if attr(n, "transB", 0) else i[1]
            y = attr(n, "alpha", 1.0) * (a @ b)
            if len(i) > 2 and i[2] is not None:
                y = y + attr(n, "beta", 1.0) * i[2]
        elif op == "Conv":
            pads = attr(n, "pads", [0, 0, 0, 0])
            x = F.pad(i[0], (pads[1], pads[3], pads[0], pads[2]))
            y = F.conv2d(x, i[1], i[2] if len(i) > 2 else None, stride=attr(n, "strides", [1, 1]),
                         dilation=attr(n, "dilations", [1, 1]), groups=attr(n, "group", 1))
        elif op in ("Dropout", "Identity"):
            y = i[0]
        elif op == "Reshape":
            y = i[0].reshape([int(d) if d != 0 else i[0].shape[k] for k, d in enumerate(i[1].tolist())])
        elif op in ("Tanh", "Erf", "Sqrt"):
            y = {"Tanh": torch.tanh, "Erf": torch.erf, "Sqrt": torch.sqrt}[op](i[0])
        elif op == "LeakyRelu":
            y = F.leaky_relu(i[0], attr(n, "alpha", 0.01))
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, attr(n, "epsilon", 1e-5))
        elif op in ("MaxPool", "AveragePool"):
            pads = attr(n, "pads", [0, 0, 0, 0])
            assert pads[0] == pads[2] and pads[1] == pads[3]
            args = dict(kernel_size=attr(n, "kernel_shape", None), stride=attr(n, "strides", [1, 1]),
                        padding=(pads[0], pads[1]), ceil_mode=bool(attr(n, "ceil_mode", 0)))
            y = F.max_pool2d(i[0], **args) if op == "MaxPool" else \
                F.avg_pool2d(i[0], count_include_pad=bool(attr(n, "count_include_pad", 0)), **args)
        elif op == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif op in ("Softmax", "LogSoftmax"):
            y = (torch.softmax if op == "Softmax" else torch.log_softmax)(i[0], dim=attr(n, "axis", -1))
        elif op == "Constant":
            y = onnx.numpy_helper.to_array(attr(n, "value", None))
            y = torch.tensor(y.astype(np.float64) if y.dtype.kind == "f" else y)
        elif op == "Transpose":
            y = i[0].permute(*attr(n, "perm", None))
        elif op == "Split":
            ys = torch.split(i[0], i[1].tolist(), dim=attr(n, "axis", 0))
            for name, part in zip(n.output, ys):
                env[name] = part
            continue
        elif op == "LayerNormalization":
            axis = attr(n, "axis", -1) % i[0].dim()
            y = F.layer_norm(i[0], i[0].shape[axis:], i[1], i[2], attr(n, "epsilon", 1e-5))
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = y
    return [env[o.name] for o in model.graph.output]


def vnncomp_references():
    files = sorted(glob.glob(f"{DATA}/vnncomp2022/*/onnx/*.onnx.gz")) + \
        sorted(glob.glob(f"{DATA}/vnncomp2022/test/*.onnx"))
    refs = []
    for f in files:
        raw = gzip.open(f).read() if f.endswith(".gz") else open(f, "rb").read()
        m = onnx.load_from_string(raw)
        inits = {t.name for t in m.graph.initializer}
        ins = [v for v in m.graph.input if v.name not in inits]
        symbolic = any(not d.HasField("dim_value") for v in ins for d in v.type.tensor_type.shape.dim)
        batch = 2 if symbolic else None
        shapes = [[d.dim_value if d.HasField("dim_value") else batch for d in v.type.tensor_type.shape.dim]
                  for v in ins]
        entry = {"file": os.path.relpath(f, DATA), "batch": batch, "samples": []}
        for seed in (1, 2):
            xs = splitmix_inputs(seed, shapes)
            ys = run_onnx(m, {v.name: x for v, x in zip(ins, xs)})
            entry["samples"].append({"seed": seed, "outputs": [flat(y.numpy()) for y in ys]})
        refs.append(entry)
    return refs


# ---- 3. fuzz seeds: small models that reach most import handlers ------------------------------

def fuzz_corpus():
    from onnx import TensorProto, helper as h
    f32 = lambda name, dims, vals: helper_tensor(name, TensorProto.FLOAT, dims, vals)
    i64 = lambda name, vals, dims=None: helper_tensor(name, TensorProto.INT64,
                                                      [len(vals)] if dims is None else dims, vals)

    def helper_tensor(name, t, dims, vals):
        return h.make_tensor(name, t, dims, vals)

    def save(name, opset, nodes, inputs, outputs, inits):
        g = h.make_graph(nodes, name, [h.make_tensor_value_info(n, TensorProto.FLOAT, d) for n, d in inputs],
                         [h.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs], inits)
        m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
        m.ir_version = 7
        os.makedirs("fuzz/corpus/onnx", exist_ok=True)
        onnx.save(m, f"fuzz/corpus/onnx/{name}.onnx")

    save("layout13", 13, [
        h.make_node("Shape", ["x"], ["s"]),
        h.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        h.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
        h.make_node("Concat", ["n1", "m1"], ["t"], axis=0),
        h.make_node("Reshape", ["x", "t"], ["r"]),
        h.make_node("Slice", ["r", "st", "en", "ax1", "step"], ["sl"]),
        h.make_node("Pad", ["sl", "pads", "pv"], ["p"], mode="constant"),
        h.make_node("Gather", ["p", "idx"], ["g"], axis=1),
        h.make_node("Split", ["g", "sizes"], ["a", "b"], axis=0),
        h.make_node("Squeeze", ["a", "ax0"], ["sq"]),
        h.make_node("Transpose", ["b"], ["tr"], perm=[1, 0]),
        h.make_node("Expand", ["sq", "eshape"], ["e"]),
        h.make_node("Cast", ["e"], ["y"], to=TensorProto.DOUBLE),
    ], [("x", [2, 3, 4])], ["y", "tr"], [
        i64("zero", [0], []), i64("ax0", [0]), i64("m1", [-1]), i64("st", [-1]), i64("en", [-9]),
        i64("ax1", [1]), i64("step", [-2]), i64("pads", [1, 0, 0, 1]), f32("pv", [], [0.5]),
        i64("idx", [0, -1]), i64("sizes", [1, 2]), i64("eshape", [2, 2])])
    save("math10", 10, [
        h.make_node("Softmax", ["x"], ["sm"], axis=1),
        h.make_node("Clip", ["sm"], ["c"], min=0.1, max=0.9),
        h.make_node("ReduceSum", ["c"], ["rs"], axes=[0, 2], keepdims=1),
        h.make_node("Mul", ["c", "rs"], ["m"]),
        h.make_node("Pow", ["m", "two"], ["pw"]),
        h.make_node("LeakyRelu", ["pw"], ["lr"], alpha=0.25),
        h.make_node("Less", ["lr", "x"], ["lt"]),
        h.make_node("Where", ["lt", "lr", "x"], ["w"]),
        h.make_node("Erf", ["w"], ["er"]),
        h.make_node("LogSoftmax", ["er"], ["y"], axis=-1),
    ], [("x", [2, 3, 4])], ["y"], [f32("two", [], [2.0])])
    save("conv9", 9, [
        h.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 0, 1, 0], strides=[1, 2], group=1),
        h.make_node("BatchNormalization", ["c", "s", "bb", "mu", "var"], ["bn"], epsilon=1e-3),
        h.make_node("MaxPool", ["bn"], ["mp"], kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
        h.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[2, 1], count_include_pad=1),
        h.make_node("GlobalAveragePool", ["ap"], ["gp"]),
        h.make_node("Flatten", ["gp"], ["fl"]),
        h.make_node("Gemm", ["fl", "gw", "gb"], ["y"], transB=1),
    ], [("x", [1, 1, 5, 6])], ["y"], [
        f32("w", [2, 1, 3, 3], [0.1 * k for k in range(18)]), f32("b", [2], [0.5, -0.5]),
        f32("s", [2], [1, 2]), f32("bb", [2], [0, 1]), f32("mu", [2], [0.5, 0.25]), f32("var", [2], [1, 4]),
        f32("gw", [3, 2], [1, -1, 2, -2, 3, -3]), f32("gb", [3], [0, 0, 1])])


def main():
    fuzz_corpus()
    os.makedirs(OUT, exist_ok=True)
    with open(f"{OUT}/pytorch_reference.json", "w") as fh:
        json.dump({"models": export_pytorch_models()}, fh, indent=0)
    with open(f"{OUT}/vnncomp_reference.json", "w") as fh:
        json.dump({"models": vnncomp_references()}, fh, indent=0)


if __name__ == "__main__":
    main()
