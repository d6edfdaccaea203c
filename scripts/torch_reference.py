#!/usr/bin/python3
"""Generate tests/conformance/data/torch_reference.json: PyTorch (float64) reference values for the
TorchLean v1 ops and the extension ops that have a PyTorch equivalent (gradient-only ops through
torch.autograd), plus TorchLean's MLP fixture evaluated in float32,
float64 and exact rational arithmetic.

Run with Debian's python3 (torch 1.13 + numpy), from the repository root:

    /usr/bin/python3 scripts/torch_reference.py

The output is deterministic (fixed seeds, one thread). Every float is written with repr(), which
round-trips exactly; inf/nan are written as the strings "inf", "-inf", "nan". The script also
checks PyTorch against independent oracles (Python's correctly rounded float arithmetic, exact
fractions, mpmath at 256 bits) and refuses to write a file whose reference values break the error
bounds that docs/conformance.md relies on.
"""

import argparse
import json
import math
import os
import random
import struct
import sys
from fractions import Fraction

import mpmath
import numpy as np
import torch
import torch.nn.functional as F

SEED = 20260301
LAYERNORM_EPS = 1e-6  # TorchLean's fixed layernorm epsilon
REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MLP_FIXTURE = "../shared/data/torchlean/Interop/PyTorch/MLP/mlp.json"  # relative to the repo root
OUT_PATH = os.path.join(REPO, "tests", "conformance", "data", "torch_reference.json")

# Largest ulp distance from the correctly rounded result that PyTorch's float64 CPU kernels may
# have: exp/log/sin/cos/tanh go through SLEEF's *_u10 routines (documented max error 1.0 ulp) on
# the vectorised path and glibc on the scalar tail; sigmoid is 1/(1+exp(-x)) in three roundings,
# relative error < 4u, hence < 4 ulp. Stats.check_elementary enforces these on every stored value.
TORCH_ULP_BOUND = {"exp": 1, "log": 1, "sin": 1, "cos": 1, "tanh": 1, "sigmoid": 4}

INF = float("inf")
NAN = float("nan")
SPECIALS = [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 5e-324, -5e-324, 2.2250738585072014e-308,
            1.7976931348623157e308, -1.7976931348623157e308]


# ----------------------------------------------------------------------------------------------
# Encoding


def enc(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x  # json writes float.__repr__, the shortest string that round-trips


def tensor_json(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "values": [enc(v) for v in t.reshape(-1).tolist()]}


def f64(values, shape):
    return torch.tensor(np.asarray(values, dtype=np.float64).reshape(shape), dtype=torch.float64)


# ----------------------------------------------------------------------------------------------
# Oracles used to validate PyTorch before its values are written


def ordered(x):
    """Maps a double to an integer so that adjacent doubles differ by 1 (and -0 == +0)."""
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def ulp_distance(a, b):
    return abs(ordered(a) - ordered(b))


def mp_to_double(v):
    """Round an mpmath value to the nearest double (via an exact fraction; ties to even)."""
    if mpmath.isinf(v):
        return INF if v > 0 else -INF
    sign, man, exp, bc = v._mpf_
    if exp + bc > 1100:  # far above DBL_MAX (also avoids building a huge Fraction)
        return -INF if sign else INF
    if exp + bc < -1100:  # far below the smallest subnormal
        return -0.0 if sign else 0.0
    q = Fraction(int(man)) * Fraction(2) ** int(exp)
    try:
        return -float(q) if sign else float(q)
    except OverflowError:
        return -INF if sign else INF


MP_FUNCS = {
    "exp": mpmath.exp, "log": mpmath.log, "sin": mpmath.sin, "cos": mpmath.cos,
    "tanh": mpmath.tanh, "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
}


def correctly_rounded(op, x):
    with mpmath.workprec(256):
        v = MP_FUNCS[op](mpmath.mpf(x))
        if v == 0:
            return 0.0
        return mp_to_double(v)


class Stats:
    def __init__(self):
        self.max_ulp = {k: 0 for k in TORCH_ULP_BOUND}

    def check_elementary(self, op, xs, ys):
        for x, y in zip(xs, ys):
            if not math.isfinite(x):
                continue
            cr = correctly_rounded(op, x)
            if math.isnan(y) or math.isinf(y) != math.isinf(cr):
                raise SystemExit(f"torch {op}({x!r}) = {y!r}, expected about {cr!r}")
            if math.isinf(cr):
                if y != cr:
                    raise SystemExit(f"torch {op}({x!r}) = {y!r}, expected {cr!r}")
                continue
            d = ulp_distance(y, cr)
            self.max_ulp[op] = max(self.max_ulp[op], d)
            if d > TORCH_ULP_BOUND[op]:
                raise SystemExit(f"torch {op}({x!r}) = {y!r} is {d} ulp from {cr!r}")


def same_double(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


# IEEE-correct scalar references for the exactly rounded ops (Python floats are binary64 with
# round-to-nearest-even). Zero signs are compared too, except where the torch convention
# (documented in docs/conformance.md) is the thing being recorded.
def check_exact_unary(op, xs, ys):
    for x, y in zip(xs, ys):
        if op == "abs":
            ref = abs(x)
        elif op == "inv":
            ref = 1.0 / x if x != 0 else math.copysign(INF, x)
        elif op == "sqrt":
            c = x if (math.isnan(x) or x >= 0) else 0.0  # clamp(min=0): -0 stays -0
            ref = math.sqrt(c)
        else:
            continue
        if not same_double(ref, y):
            raise SystemExit(f"torch {op}({x!r}) = {y!r}, IEEE reference {ref!r}")


def check_exact_binary(op, xs, zs, ys):
    refs = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul_elem": lambda a, b: a * b}
    if op not in refs:
        return
    for a, b, y in zip(xs, zs, ys):
        ref = refs[op](a, b)
        if not same_double(ref, y):
            raise SystemExit(f"torch {op}({a!r}, {b!r}) = {y!r}, IEEE reference {ref!r}")


# ----------------------------------------------------------------------------------------------
# Case generation


class Gen:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.cases = []
        self.stats = Stats()

    def add(self, name, op, attrs, inputs, out, payload=None):
        self.cases.append({
            "name": name,
            "op": op,
            "attrs": attrs,
            "inputs": [tensor_json(t) for t in inputs],
            "payload": {k: tensor_json(v) for k, v in (payload or {}).items()},
            "output": tensor_json(out),
        })

    # --- value helpers ---

    def shape(self, rank, lo=1, hi=4):
        return [self.rnd.randint(lo, hi) for _ in range(rank)]

    def normal(self, shape, scale=1.0, offset=0.0):
        n = int(np.prod(shape)) if shape else 1
        return f64(self.rng.standard_normal(n) * scale + offset, shape)

    def uniform(self, shape, lo, hi):
        n = int(np.prod(shape)) if shape else 1
        return f64(self.rng.uniform(lo, hi, n), shape)

    def mixed(self, shape):
        """Normal values over several magnitudes, with some exact +-0 and small integers."""
        n = int(np.prod(shape)) if shape else 1
        scales = self.rng.choice([1e-3, 1.0, 10.0, 1e3], n)
        v = self.rng.standard_normal(n) * scales
        for i in range(n):
            r = self.rnd.random()
            if r < 0.06:
                v[i] = 0.0
            elif r < 0.12:
                v[i] = -0.0
            elif r < 0.18:
                v[i] = float(self.rnd.randint(-4, 4))
        return f64(v, shape)

    def elem_shapes(self):
        """Random shapes of rank 0..4, one with a zero-size dim."""
        shapes = [[], self.shape(1, 1, 7), self.shape(2), self.shape(3), self.shape(4, 1, 3)]
        z = self.shape(3)
        z[self.rnd.randrange(3)] = 0
        shapes.append(z)
        return shapes


def domain_values(g, op, shape):
    n = int(np.prod(shape)) if shape else 1
    if op == "exp":
        v = g.uniform(shape, -30, 30)
        if n >= 4:  # overflow, subnormal results and underflow to zero
            flat = v.reshape(-1)
            flat[0], flat[1], flat[2], flat[3] = 709.5, 710.0, -740.0, -746.0
        return v
    if op == "log":
        v = f64(10.0 ** g.rng.uniform(-300, 300, n), shape)
        if n >= 3:
            flat = v.reshape(-1)
            flat[0], flat[1], flat[2] = 1.0, 1.0 + 2.0 ** -40, 0.75
        return v
    if op in ("sin", "cos"):
        return g.uniform(shape, -50, 50)
    if op == "tanh":
        return g.normal(shape, 3.0)
    if op == "sigmoid":
        return g.normal(shape, 6.0)
    if op == "sqrt":
        return g.mixed(shape)  # negatives exercise the clamp
    return g.mixed(shape)


UNARY = {
    "abs": torch.abs,
    "sqrt": lambda x: torch.sqrt(torch.clamp(x, min=0.0)),
    "inv": torch.reciprocal,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "exp": torch.exp,
    "log": torch.log,
    "sin": torch.sin,
    "cos": torch.cos,
    "detach": lambda x: x.detach().clone(),
}
BINARY = {"add": torch.add, "sub": torch.sub, "mul_elem": torch.mul,
          "max_elem": torch.maximum, "min_elem": torch.minimum}

# Special inputs per unary op: every op sees +-0, +-inf and NaN, except that log's non-positive
# inputs go to a case of their own ("log/nonpositive"): TorchLean rejects them where PyTorch
# returns -inf or NaN.
LOG_SPECIALS = [INF, NAN, 1.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]
LOG_NONPOSITIVE = [0.0, -0.0, -1.0, -INF]


def gen_unary(g):
    for op, fn in UNARY.items():
        for i, shape in enumerate(g.elem_shapes()):
            x = domain_values(g, op, shape)
            y = fn(x)
            if op in TORCH_ULP_BOUND:
                g.stats.check_elementary(op, x.reshape(-1).tolist(), y.reshape(-1).tolist())
            check_exact_unary(op, x.reshape(-1).tolist(), y.reshape(-1).tolist())
            g.add(f"{op}/random/{i}", op, {}, [x], y)
        specials = LOG_SPECIALS if op == "log" else SPECIALS
        x = f64(specials, [len(specials)])
        y = fn(x)
        if op in TORCH_ULP_BOUND:
            g.stats.check_elementary(op, x.tolist(), y.tolist())
        check_exact_unary(op, x.tolist(), y.tolist())
        g.add(f"{op}/special", op, {}, [x], y)
    x = f64(LOG_NONPOSITIVE, [len(LOG_NONPOSITIVE)])
    g.add("log/nonpositive", "log", {}, [x], torch.log(x))


def gen_binary(g):
    for op, fn in BINARY.items():
        for i, shape in enumerate(g.elem_shapes()):
            a, b = g.mixed(shape), g.mixed(shape)
            if i == 2:  # equal operands: exact cancellation (x - x = +0) and ties in max/min
                b = a.clone()
            y = fn(a, b)
            check_exact_binary(op, a.reshape(-1).tolist(), b.reshape(-1).tolist(),
                               y.reshape(-1).tolist())
            g.add(f"{op}/random/{i}", op, {}, [a, b], y)
        # every pair of special values: inf-inf, 0*inf, NaN, overflow, underflow, signed zeros
        a = f64([s for s in SPECIALS for _ in SPECIALS], [len(SPECIALS) ** 2])
        b = f64([s for _ in SPECIALS for s in SPECIALS], [len(SPECIALS) ** 2])
        y = fn(a, b)
        check_exact_binary(op, a.tolist(), b.tolist(), y.tolist())
        g.add(f"{op}/special", op, {}, [a, b], y)


def gen_matmul(g):
    for i in range(6):
        m, n, p = g.shape(3, 1, 6)
        if i == 4:
            n = 0  # empty inner dimension: all zeros
        if i == 5:
            m = 0
        a, b = g.normal([m, n]), g.normal([n, p])
        g.add(f"matmul/2d/{i}", "matmul", {}, [a, b], torch.matmul(a, b))
    for i in range(4):
        bt, m, n, p = g.shape(4, 1, 5)
        if i == 3:
            bt = 0
        a, b = g.normal([bt, m, n], 2.0), g.normal([bt, n, p])
        g.add(f"matmul/3d/{i}", "matmul", {}, [a, b], torch.matmul(a, b))
    # a longer reduction, where the summation order matters most
    a, b = g.normal([3, 96]), g.normal([96, 4])
    g.add("matmul/long", "matmul", {}, [a, b], torch.matmul(a, b))


def gen_linear(g):
    cases = [[], [3], [2, 3], [0], [4, 0]]
    for i, lead in enumerate(cases):
        in_f, out_f = g.rnd.randint(1, 7), g.rnd.randint(1, 5)
        if i == 4:
            lead = [2]
            in_f = 0  # empty dot product: output = bias
        x = g.normal(lead + [in_f], 2.0)
        w, b = g.normal([out_f, in_f]), g.normal([out_f])
        g.add(f"linear/rank{len(lead) + 1}/{i}", "linear", {}, [x], F.linear(x, w, b),
              {"weight": w, "bias": b})
    x = g.normal([2, 64])
    w, b = g.normal([3, 64]), g.normal([3])
    g.add("linear/long", "linear", {}, [x], F.linear(x, w, b), {"weight": w, "bias": b})


def gen_conv2d(g):
    configs = [  # inC, outC, kH, kW, stride, padding, H, W
        (1, 1, 3, 3, 1, 0, 5, 5), (2, 3, 3, 3, 1, 1, 4, 6), (3, 2, 2, 3, 2, 0, 6, 7),
        (2, 2, 3, 2, 2, 1, 5, 5), (1, 4, 1, 1, 1, 0, 3, 3), (3, 2, 5, 5, 3, 2, 7, 8),
    ]
    for i, (ic, oc, kh, kw, s, p, h, w) in enumerate(configs):
        x = g.normal([ic, h, w])
        wt, b = g.normal([oc, ic, kh, kw]), g.normal([oc])
        y = F.conv2d(x.unsqueeze(0), wt, b, stride=s, padding=p).squeeze(0)
        attrs = {"inC": ic, "outC": oc, "kH": kh, "kW": kw, "stride": s, "padding": p}
        g.add(f"conv2d/{i}", "conv2d", attrs, [x], y, {"weight": wt, "bias": b})


def gen_pools(g):
    configs = [  # C, H, W, kH, kW, stride
        (1, 4, 4, 2, 2, 2), (2, 5, 6, 3, 2, 1), (3, 7, 5, 2, 3, 2), (2, 3, 3, 3, 3, 1),
        (1, 6, 6, 1, 1, 1)]
    for i, (c, h, w, kh, kw, s) in enumerate(configs):
        x = g.normal([c, h, w])
        attrs = {"kH": kh, "kW": kw, "stride": s}
        g.add(f"max_pool2d/{i}", "max_pool2d", attrs, [x], F.max_pool2d(x, (kh, kw), stride=s))
        g.add(f"avg_pool2d/{i}", "avg_pool2d", attrs, [x], F.avg_pool2d(x, (kh, kw), stride=s))
    # padded: PyTorch requires padding <= kernel/2; avg counts the padded zeros
    # (count_include_pad=True), max ignores padded cells (-inf padding), as TorchLean does.
    pad_configs = [  # C, H, W, kH, kW, stride, padding
        (1, 4, 4, 2, 2, 2, 1), (2, 5, 6, 3, 3, 1, 1), (3, 5, 5, 3, 2, 2, 1), (2, 6, 7, 5, 4, 3, 2),
        (1, 3, 3, 3, 3, 2, 0)]
    for i, (c, h, w, kh, kw, s, p) in enumerate(pad_configs):
        x = g.normal([c, h, w])
        if i == 0:
            x = -x.abs() - 1.0  # all negative: a padded zero must never win the max
        attrs = {"kH": kh, "kW": kw, "stride": s, "padding": p}
        g.add(f"max_pool2d_pad/{i}", "max_pool2d_pad", attrs, [x],
              F.max_pool2d(x, (kh, kw), stride=s, padding=p))
        g.add(f"avg_pool2d_pad/{i}", "avg_pool2d_pad", attrs, [x],
              F.avg_pool2d(x, (kh, kw), stride=s, padding=p, count_include_pad=True))


def gen_batch_norm(g):
    for i, (n, c, h, w) in enumerate([(1, 1, 2, 2), (2, 3, 3, 2), (1, 4, 1, 5), (3, 2, 2, 3)]):
        x = g.normal([n, c, h, w], 2.0, 0.5)
        gamma, beta, mean = g.normal([c]), g.normal([c]), g.normal([c])
        var = g.uniform([c], 0.05, 3.0)
        if i == 2:
            var[0] = 0.0  # eps alone keeps the denominator positive
        eps = [1e-5, 1e-3, 1e-5, 0.1][i]
        y = F.batch_norm(x, mean, var, gamma, beta, training=False, eps=eps)
        payload = {"gamma": gamma, "beta": beta, "mean": mean, "var": var,
                   "eps": torch.tensor(eps, dtype=torch.float64)}
        g.add(f"batch_norm2d_nchw_eval/{i}", "batch_norm2d_nchw_eval", {"channels": c}, [x], y,
              payload)


def gen_axis_ops(g):
    shapes = [[7], [3, 4], [2, 3, 4], [2, 1, 3, 2], [3, 5]]
    for i, s in enumerate(shapes):
        for axis in sorted({0, len(s) - 1, g.rnd.randrange(len(s))}):
            x = g.normal(s, 4.0)
            if i == 4:
                x = g.normal(s, 12.0)  # large spread: exp(x - max) spans many binades
            g.add(f"softmax/{i}/axis{axis}", "softmax", {"axis": axis}, [x], torch.softmax(x, axis))
            x = g.normal(s, 2.0, g.rnd.uniform(-3, 3))
            y = F.layer_norm(x, s[axis:], eps=LAYERNORM_EPS)
            g.add(f"layernorm/{i}/axis{axis}", "layernorm", {"axis": axis}, [x], y)
            x = g.normal(s, 3.0)
            g.add(f"reduce_sum/{i}/axis{axis}", "reduce_sum", {"axis": axis}, [x],
                  torch.sum(x, axis))
            g.add(f"reduce_mean/{i}/axis{axis}", "reduce_mean", {"axis": axis}, [x],
                  torch.mean(x, axis))
    # zero-size dims: summing an empty axis gives 0; other axes may be empty for every op
    x = g.normal([2, 0, 3])
    g.add("reduce_sum/empty_axis", "reduce_sum", {"axis": 1}, [x], torch.sum(x, 1))
    g.add("reduce_sum/empty_other", "reduce_sum", {"axis": 2}, [x], torch.sum(x, 2))
    g.add("reduce_mean/empty_other", "reduce_mean", {"axis": 0}, [x], torch.mean(x, 0))
    g.add("reduce_mean/empty_axis", "reduce_mean", {"axis": 1}, [x], torch.mean(x, 1))  # 0/0
    g.add("softmax/empty_other", "softmax", {"axis": 2}, [x], torch.softmax(x, 2))
    # sum over everything
    for i, s in enumerate([[], [5], [3, 4], [2, 3, 4], [0, 3], [50, 4]]):
        x = g.normal(s, 3.0)
        g.add(f"sum/{i}", "sum", {}, [x], torch.sum(x))
    for i, s in enumerate([[], [6], [2, 5], [3, 2, 4]]):
        y, t = g.normal(s, 2.0), g.normal(s, 2.0)
        g.add(f"mse_loss/{i}", "mse_loss", {}, [y, t], F.mse_loss(y, t))
    e = g.normal([0, 2])
    g.add("mse_loss/empty", "mse_loss", {}, [e, e], F.mse_loss(e, e))  # torch: NaN


def factorizations(g, numel, rank):
    """A random shape of the given rank with the given element count."""
    dims = [1] * rank
    n = numel
    p = 2
    while n > 1:
        while n % p == 0:
            dims[g.rnd.randrange(rank)] *= p
            n //= p
        p += 1
    return dims


def gen_layout(g):
    for i, s in enumerate([[3], [2, 3], [2, 3, 4], [2, 1, 3, 2], [0, 2, 3]]):
        x = g.mixed(s)
        perm = list(range(len(s)))
        g.rnd.shuffle(perm)
        g.add(f"permute/{i}", "permute", {"perm": perm}, [x], x.permute(perm))
        g.add(f"flatten/{i}", "flatten", {"value_shape": s}, [x], x.reshape(-1))
        numel = int(np.prod(s))
        out = factorizations(g, numel, g.rnd.randint(1, 4)) if numel else [3, 0]
        g.add(f"reshape/{i}", "reshape", {"in_shape": s, "out_shape": out}, [x], x.reshape(out))
        if len(s) >= 2:
            g.add(f"swap_first_two/{i}", "swap_first_two", {}, [x], x.transpose(0, 1))
        if len(s) == 3:
            g.add(f"transpose3d_last_two/{i}", "transpose3d_last_two", {}, [x], x.transpose(1, 2))
    x = g.mixed([])
    g.add("reshape/scalar", "reshape", {"in_shape": [], "out_shape": [1, 1]}, [x], x.reshape(1, 1))
    x = g.mixed([4, 1, 2])
    g.add("transpose3d_last_two/extra", "transpose3d_last_two", {}, [x], x.transpose(1, 2))
    for i, (rank, k) in enumerate([(1, 2), (2, 3), (3, 2), (3, 4), (2, 2)]):  # TorchLean: k >= 2
        axis = g.rnd.randrange(rank)
        base = g.shape(rank)
        parts = []
        for j in range(k):
            s = list(base)
            s[axis] = 0 if (i == 3 and j == 1) else g.rnd.randint(1, 3)
            parts.append(g.mixed(s))
        g.add(f"concat/{i}", "concat", {"axis": axis}, parts, torch.cat(parts, axis))


# ----------------------------------------------------------------------------------------------
# Extension ops (docs/ir.md). Attribute keys are the IR field names.


def check_bits(op, refs, ys):
    """PyTorch must equal the IEEE reference bit for bit (the op's spec is one rounding or none)."""
    for r, y in zip(refs, ys):
        if not same_double(r, y):
            raise SystemExit(f"torch {op}: {y!r}, IEEE reference {r!r}")


def gen_ext_elementwise(g):
    for i, shape in enumerate(g.elem_shapes()):
        x = g.mixed(shape)
        g.add(f"neg/{i}", "neg", {}, [x], torch.neg(x))
        a, b = g.mixed(shape), g.mixed(shape)
        y = torch.div(a, b)
        check_bits("div", [p / q if q != 0 else (math.copysign(INF, p) * math.copysign(1, q)
                                                   if p != 0 and not math.isnan(p) else NAN)
                           for p, q in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist())],
                   y.reshape(-1).tolist())
        g.add(f"div/{i}", "div", {}, [a, b], y)
        alpha = [0.01, 0.2, -0.5, 1.5, 0.0, 0.3][i]
        g.add(f"leaky_relu/{i}", "leaky_relu", {"alpha": alpha}, [x], F.leaky_relu(x, alpha))
        # Bounds away from 0: PyTorch's clamp keeps -0 where IEEE 754-2019 maximum gives +0.
        lo, hi = -0.75 * (i + 1), 1.25 * (i + 1)
        attrs = {"lo": lo, "hi": hi, "has_lo": i != 1, "has_hi": i != 2}
        y = torch.clamp(x, min=lo if attrs["has_lo"] else None, max=hi if attrs["has_hi"] else None)
        g.add(f"clamp/{i}", "clamp", attrs, [x], y)
        cmp = ["lt", "le", "gt", "ge", "eq", "ne"][i]
        b = a.clone() if i == 4 else b  # eq: equal operands
        fn = {"lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge, "eq": torch.eq,
              "ne": torch.ne}[cmp]
        g.add(f"compare/{i}", "compare", {"cmp": cmp}, [a, b], fn(a, b).to(torch.float64))
        c = g.mixed(shape)
        g.add(f"where/{i}", "where", {}, [c, a, b], torch.where(c != 0, a, b))
        for p in [2.0, 3.0, 0.5, -1.0, -2.0]:
            y = torch.pow(x, p)
            xs = x.reshape(-1).tolist()
            if p == 2.0:
                ref = [v * v for v in xs]
            elif p == 3.0:
                ref = [(v * v) * v for v in xs]
            elif p == 0.5:
                ref = [math.sqrt(v) if (math.isnan(v) or v >= 0) else NAN for v in xs]
            else:
                ref = [(1.0 / (v if p == -1 else v * v)) if (v if p == -1 else v * v) != 0
                       else (math.copysign(INF, v) if p == -1 else INF) for v in xs]
            check_bits(f"pow {p}", ref, y.reshape(-1).tolist())
            g.add(f"pow_const/{p}/{i}", "pow_const", {"exponent": p}, [x], y)
        xe = g.normal(shape, 2.0)
        y = torch.erf(xe)
        for v, t in zip(xe.reshape(-1).tolist(), y.reshape(-1).tolist()):
            with mpmath.workprec(256):
                cr = mp_to_double(mpmath.erf(mpmath.mpf(v)))
            if ulp_distance(t, cr) > 1:
                raise SystemExit(f"torch erf({v!r}) = {t!r} is more than 1 ulp from {cr!r}")
        g.add(f"erf/{i}", "erf", {}, [xe], y)
    x = f64(SPECIALS, [len(SPECIALS)])
    g.add("erf/special", "erf", {}, [x], torch.erf(x))
    g.add("neg/special", "neg", {}, [x], torch.neg(x))


def take(x, axis, idx):
    """x indexed along `axis` by the list idx (non-negative)."""
    return torch.index_select(x, axis, torch.tensor(idx, dtype=torch.long))


def gen_ext_layout(g):
    for i, (src, dst) in enumerate([([3, 1], [2, 3, 4]), ([], [3]), ([1, 4], [0, 4]),
                                    ([2, 1, 3], [2, 5, 3])]):
        x = g.mixed(src)
        g.add(f"broadcast/{i}", "broadcast", {"to_shape": dst}, [x], torch.broadcast_to(x, dst))
    for i, s in enumerate([[7], [5, 6], [3, 4, 5]]):
        x = g.mixed(s)
        starts, ends, steps = [], [], []
        for d in s:
            step = g.rnd.choice([1, 2, 3, -1, -2])
            if step > 0:
                a = g.rnd.randint(0, d)
                b = g.rnd.randint(a, d)
            else:
                a = g.rnd.randint(0, d - 1)
                b = g.rnd.randint(-1, a)
            starts.append(a), ends.append(b), steps.append(step)
        attrs = {"starts": starts, "ends": ends, "steps": steps}
        xg = x.clone().requires_grad_(True)
        y = xg
        for ax, (a, b, st) in enumerate(zip(starts, ends, steps)):
            y = take(y, ax, list(range(a, b, st)))
        g.add(f"slice/{i}", "slice", attrs, [x], y.detach())
        gy = g.mixed(list(y.shape))
        (dx,) = torch.autograd.grad(y, xg, gy)
        g.add(f"slice_grad/{i}", "slice_grad", attrs, [gy], dx)
        pb = [g.rnd.randint(0, 2) for _ in s]
        pe = [g.rnd.randint(0, 2) for _ in s]
        value = [0.0, -1.5, 2.25][i]
        torch_pads = [p for ax in reversed(range(len(s))) for p in (pb[ax], pe[ax])]
        g.add(f"pad/{i}", "pad", {"pads_begin": pb, "pads_end": pe, "value": value}, [x],
              F.pad(x, torch_pads, value=value))
    for i, (ds, axis, ishape) in enumerate([([5, 3], 0, [4]), ([2, 6, 3], 1, [2, 3]), ([4], 0, []),
                                            ([3, 4], 1, [7])]):
        data = g.mixed(ds)
        d = ds[axis]
        n = int(np.prod(ishape)) if ishape else 1
        idx = [g.rnd.randint(-d, d - 1) for _ in range(n)]
        if i == 3:
            idx[0] = idx[1] = idx[2]  # repeated indices accumulate in gather_grad
        norm = [k + d if k < 0 else k for k in idx]
        dg = data.clone().requires_grad_(True)
        out = take(dg, axis, norm)
        out_shape = ds[:axis] + ishape + ds[axis + 1:]
        out = out.reshape(out_shape)
        indices = f64([float(k) for k in idx], ishape)
        g.add(f"gather/{i}", "gather", {"axis": axis}, [data, indices], out.detach())
        gy = g.normal(out_shape)
        (dd,) = torch.autograd.grad(out, dg, gy)
        g.add(f"gather_grad/{i}", "gather_grad", {"axis": axis}, [indices, gy], dd)


def gen_ext_matmul(g):
    for i, (sa, sb) in enumerate([([2, 3, 4, 5], [2, 3, 5, 2]), ([2, 3, 4, 5], [5, 3]),
                                  ([3, 2, 6], [6, 4]), ([1, 2, 1, 3, 2], [1, 2, 1, 2, 3])]):
        a, b = g.normal(sa), g.normal(sb)
        g.add(f"matmul/ext/{i}", "matmul", {}, [a, b], torch.matmul(a, b))


def conv_attrs(sh, sw, pt, pl, pb, pr, dh, dw, groups):
    return {"stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl, "pad_bottom": pb,
            "pad_right": pr, "dilation_h": dh, "dilation_w": dw, "groups": groups}


def gen_ext_conv(g):
    configs = [  # N, C, H, W, O, kH, kW, (stride_h, stride_w), (pt, pl, pb, pr), (dh, dw), groups, bias
        (1, 3, 7, 6, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
        (2, 4, 8, 9, 6, 3, 2, (2, 3), (2, 1, 1, 0), (2, 1), 2, True),
        (2, 6, 5, 5, 6, 3, 3, (1, 2), (0, 1, 2, 1), (1, 2), 3, False),
        (3, 2, 6, 4, 2, 1, 1, (2, 2), (0, 0, 0, 0), (1, 1), 2, True),
        (1, 2, 4, 4, 3, 2, 2, (3, 1), (1, 0, 0, 2), (1, 1), 1, False),
    ]
    for i, (n, c, h, w, o, kh, kw, st, pads, dil, groups, has_bias) in enumerate(configs):
        x = g.normal([n, c, h, w]).requires_grad_(True)
        wt = g.normal([o, c // groups, kh, kw]).requires_grad_(True)
        b = g.normal([o]) if has_bias else None
        pt, pl, pb, pr = pads
        y = F.conv2d(F.pad(x, (pl, pr, pt, pb)), wt, b, stride=st, dilation=dil, groups=groups)
        attrs = conv_attrs(st[0], st[1], pt, pl, pb, pr, dil[0], dil[1], groups)
        inputs = [x.detach(), wt.detach()] + ([b] if has_bias else [])
        g.add(f"conv2d_nchw/{i}", "conv2d_nchw", attrs, inputs, y.detach())
        gy = g.normal(list(y.shape))
        dx, dw = torch.autograd.grad(y, [x, wt], gy)
        g.add(f"conv2d_nchw_grad_input/{i}", "conv2d_nchw_grad_input", attrs, [gy, wt.detach()], dx)
        g.add(f"conv2d_nchw_grad_weight/{i}", "conv2d_nchw_grad_weight", attrs, [x.detach(), gy], dw)


def gen_ext_pools(g):
    configs = [  # N, C, H, W, kH, kW, stride (h, w), pad (h, w), ceil_mode, count_include_pad
        (1, 2, 5, 6, 2, 2, (2, 2), (0, 0), False, True),
        (2, 1, 7, 5, 3, 2, (2, 1), (1, 1), True, True),
        (1, 3, 6, 7, 3, 3, (2, 3), (1, 1), True, False),
        (2, 2, 4, 4, 2, 3, (1, 2), (1, 0), False, False),
        (1, 1, 5, 5, 4, 4, (3, 3), (2, 2), True, True),
    ]
    for i, (n, c, h, w, kh, kw, st, pad, ceil, incl) in enumerate(configs):
        attrs = {"kH": kh, "kW": kw, "stride_h": st[0], "stride_w": st[1], "pad_top": pad[0],
                 "pad_left": pad[1], "pad_bottom": pad[0], "pad_right": pad[1], "ceil_mode": ceil,
                 "count_include_pad": incl}
        # Distinct values: no ties, so PyTorch's argmax is the spec's first maximiser.
        x = f64(g.rng.permutation(n * c * h * w) * 0.25 - 3.0, [n, c, h, w]).requires_grad_(True)
        y = F.max_pool2d(x, (kh, kw), stride=st, padding=pad, ceil_mode=ceil)
        g.add(f"max_pool2d_nchw/{i}", "max_pool2d_nchw", attrs, [x.detach()], y.detach())
        gy = g.normal(list(y.shape))
        (dx,) = torch.autograd.grad(y, x, gy)
        g.add(f"max_pool2d_nchw_grad/{i}", "max_pool2d_nchw_grad", attrs, [x.detach(), gy], dx)
        xa = g.normal([n, c, h, w]).requires_grad_(True)
        y = F.avg_pool2d(xa, (kh, kw), stride=st, padding=pad, ceil_mode=ceil,
                         count_include_pad=incl)
        g.add(f"avg_pool2d_nchw/{i}", "avg_pool2d_nchw", attrs, [xa.detach()], y.detach())
        gy = g.normal(list(y.shape))
        (dx,) = torch.autograd.grad(y, xa, gy)
        g.add(f"avg_pool2d_nchw_grad/{i}", "avg_pool2d_nchw_grad", attrs, [gy], dx)


def gen_ext_composite(g):
    """gelu, silu, softplus, log_softmax, cross_entropy: several roundings, compared within the
    bounds of tests/conformance/error_bounds.cpp."""
    for i, shape in enumerate(g.elem_shapes()):
        x = g.normal(shape, 4.0)
        g.add(f"gelu/{i}", "gelu", {}, [x], F.gelu(x))
        g.add(f"silu/{i}", "silu", {}, [x], F.silu(x))
        # PyTorch returns x itself above its threshold 20, where the spec keeps log(1 + e^-x)
        # (docs/ops.md): inputs stay at or below 20.
        xs = torch.clamp(g.normal(shape, 8.0), max=20.0)
        g.add(f"softplus/{i}", "softplus", {}, [xs], F.softplus(xs))
    x = f64(SPECIALS[:5], [5])  # +-0, +-inf, NaN
    for op, fn in [("gelu", F.gelu), ("silu", F.silu)]:
        g.add(f"{op}/special", op, {}, [x], fn(x))
    g.add("softplus/special", "softplus", {}, [f64([0.0, -0.0, -INF, NAN], [4])],
          F.softplus(f64([0.0, -0.0, -INF, NAN], [4])))
    for i, s in enumerate([[7], [3, 4], [2, 3, 4], [3, 5]]):
        axis = g.rnd.randrange(len(s))
        x = g.normal(s, 12.0 if i == 3 else 3.0)
        g.add(f"log_softmax/{i}", "log_softmax", {"axis": axis}, [x], F.log_softmax(x, axis))
    for i, (n, c) in enumerate([(1, 3), (4, 5), (8, 10), (3, 2)]):
        logits = g.normal([n, c], 3.0)
        t = [g.rnd.randrange(c) for _ in range(n)]
        y = F.cross_entropy(logits, torch.tensor(t, dtype=torch.long))
        g.add(f"cross_entropy/{i}", "cross_entropy", {}, [logits, f64([float(k) for k in t], [n])], y)


# ----------------------------------------------------------------------------------------------
# TorchLean's MLP fixture


def mlp_fixture():
    with open(os.path.join(REPO, MLP_FIXTURE)) as f:
        params = json.load(f)["params"]
    names = ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    x = [0.5, 0.8]
    # Every binary64 parameter is a binary32 value (the fixture's dtype), so F32 and F64 see the
    # same parameters; only the input 0.8 rounds differently.
    flat = [v for name in names for v in np.asarray(params[name], dtype=np.float64).reshape(-1)]
    assert all(float(np.float32(v)) == v for v in flat), "fixture parameters are not binary32"

    def run(dtype):
        w1, b1, w2, b2 = (torch.tensor(params[n], dtype=dtype) for n in names)
        xt = torch.tensor(x, dtype=dtype)
        return F.linear(torch.relu(F.linear(xt, w1, b1)), w2, b2).tolist()

    # exact value of the network on the binary64 parameters and binary64 input
    fr = {n: np.asarray(params[n], dtype=np.float64).tolist() for n in names}
    xf = [Fraction(v) for v in x]
    h = [max(Fraction(0), sum(Fraction(w) * xi for w, xi in zip(row, xf)) + Fraction(b))
         for row, b in zip(fr["layers.0.weight"], fr["layers.0.bias"])]
    y = [sum(Fraction(w) * hj for w, hj in zip(row, h)) + Fraction(b)
         for row, b in zip(fr["layers.2.weight"], fr["layers.2.bias"])]
    return {
        "state_dict": MLP_FIXTURE,
        "x": x,
        "torch_f32": [enc(v) for v in run(torch.float32)],
        "torch_f64": [enc(v) for v in run(torch.float64)],
        "exact": [f"{v.numerator}/{v.denominator}" for v in y],
    }


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT_PATH)
    args = ap.parse_args()

    torch.set_num_threads(1)  # reduction order must not depend on the machine
    torch.manual_seed(SEED)
    g = Gen(SEED)
    gen_unary(g)
    gen_binary(g)
    gen_matmul(g)
    gen_linear(g)
    gen_conv2d(g)
    gen_pools(g)
    gen_batch_norm(g)
    gen_axis_ops(g)
    gen_layout(g)
    gen_ext_elementwise(g)
    gen_ext_layout(g)
    gen_ext_matmul(g)
    gen_ext_conv(g)
    gen_ext_pools(g)
    gen_ext_composite(g)

    doc = {
        "format": "torchlean-cpp.torch_reference.v1",
        "generator": "scripts/torch_reference.py",
        "torch_version": torch.__version__,
        "seed": SEED,
        "layernorm_eps": LAYERNORM_EPS,
        "torch_max_ulp_vs_correctly_rounded": g.stats.max_ulp,
        "cases": g.cases,
        "fixtures": {"mlp": mlp_fixture()},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        # one case per line keeps diffs of a regenerated file readable
        f.write("{\n")
        keys = [k for k in doc if k != "cases"]
        for k in keys:
            f.write(f"{json.dumps(k)}: {json.dumps(doc[k], separators=(',', ':'))},\n")
        f.write('"cases": [\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in doc["cases"]))
        f.write("\n]\n}\n")
    ops = sorted({c["op"] for c in g.cases})
    print(f"wrote {len(g.cases)} cases for {len(ops)} ops to {os.path.relpath(args.out)} "
          f"({os.path.getsize(args.out)} bytes)")
    print("torch max ulp distance from correctly rounded:", g.stats.max_ulp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
