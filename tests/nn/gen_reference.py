#!/usr/bin/python3
"""Writes tests/nn/data/torch_reference.json: torch.optim (float64) trajectories and loss values
that tests/nn/test_optim.cpp and test_loss.cpp compare against. Run from the repository root:
  /usr/bin/python3 tests/nn/gen_reference.py
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
P0 = [[0.5, -1.25], [2.0, 0.75]]
GRADS = [[[0.1, -0.2], [0.3, 0.05]], [[-0.4, 0.25], [0.0, 1.5]], [[0.7, -0.9], [-0.3, 0.2]],
         [[0.05, 0.6], [1.1, -0.8]]]


def trajectory(make):
    p = torch.nn.Parameter(torch.tensor(P0))
    opt = make([p])
    out = []
    for g in GRADS:
        p.grad = torch.tensor(g)
        opt.step()
        out.append(p.detach().flatten().tolist())
    return out


def clipped(max_norm):
    p = torch.nn.Parameter(torch.tensor(P0))
    opt = torch.optim.SGD([p], lr=0.1)
    out = []
    for g in GRADS:
        p.grad = torch.tensor(g)
        torch.nn.utils.clip_grad_norm_([p], max_norm)
        opt.step()
        out.append(p.detach().flatten().tolist())
    return out


ref = {
    "p0": P0,
    "grads": GRADS,
    "sgd": trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "sgd_momentum_wd": trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": trajectory(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    "adam": trajectory(lambda ps: torch.optim.Adam(ps, lr=0.01)),
    "adam_wd": trajectory(lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), weight_decay=0.1)),
    "adamw": trajectory(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)),
    "sgd_clip": clipped(0.5),
}

logits = torch.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0], [-0.5, -0.5, 2.0], [10.0, -10.0, 0.0]])
targets = torch.tensor([2, 1, 0, 0])
pred = torch.tensor([[0.5, -3.0], [20.0, -0.25], [1e-3, 4.0]])
truth = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.25]])
ref["loss"] = {
    "logits": logits.tolist(), "targets": targets.tolist(), "pred": pred.tolist(), "truth": truth.tolist(),
    "cross_entropy": torch.nn.functional.cross_entropy(logits, targets).item(),
    "mse": torch.nn.functional.mse_loss(pred, truth).item(),
    "bce_with_logits": torch.nn.functional.binary_cross_entropy_with_logits(pred, truth).item(),
}
os.makedirs("tests/nn/data", exist_ok=True)
with open("tests/nn/data/torch_reference.json", "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")
