#!/usr/bin/python3
"""PyTorch reference training for `torchlean train` (same data, architecture and hyperparameters).

Reads the IDX files of an MNIST-style dataset (gzipped or not), builds the same model
(mlp:W0-...-Wn: Flatten, Linear + ReLU between widths; lenet), trains with the same optimizer,
batch (last partial batch dropped), epochs and learning rate, and prints/writes the test accuracy
and the wall time. PyTorch's own initialisation and shuffling are used (seeded by --seed), so the
two runs agree in distribution, not bit for bit.

  /usr/bin/python3 scripts/train_reference.py --data /usr/share/datasets/fashion-mnist \
      --model mlp:784-256-10 --epochs 5 --batch 64 --optimizer sgd --lr 0.05 --momentum 0.9
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    for p in (path + ".gz", path):
        if os.path.exists(p):
            raw = open(p, "rb").read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            break
    else:
        raise SystemExit(f"train_reference: {path}[.gz] not found")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit(f"train_reference: {path}: expected ubyte IDX data")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data, split):
    x = read_idx(os.path.join(data, f"{split}-images-idx3-ubyte")).astype(np.float32) / np.float32(255)
    y = read_idx(os.path.join(data, f"{split}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def build(spec):
    if spec == "lenet":
        return nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    widths = [int(w) for w in spec.removeprefix("mlp:").split("-")]
    layers = [nn.Flatten()]
    for i in range(len(widths) - 1):
        if i > 0:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(widths[i], widths[i + 1]))
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--model", default="mlp:784-256-10")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--nesterov", action="store_true")
    ap.add_argument("--weight-decay", type=float, default=None)
    ap.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="write metrics JSON here")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")
    model = build(a.model)
    wd = a.weight_decay if a.weight_decay is not None else (0.01 if a.optimizer == "adamw" else 0.0)
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                              nesterov=a.nesterov, weight_decay=wd)
    elif a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=wd)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=wd)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    steps_per_epoch = len(xtr) // a.batch
    total = steps_per_epoch * a.epochs

    def factor(step):  # torchlean's cosine-with-warmup (nn/optim.cpp), as a multiple of lr
        if a.schedule == "constant":
            return 1.0
        if step < a.warmup:
            return (step + 1) / a.warmup
        progress = min(1.0, (step - a.warmup) / max(total - a.warmup, 1))
        return (1 + math.cos(math.pi * progress)) / 2

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    train_seconds = 0.0
    for epoch in range(a.epochs):
        perm = torch.randperm(len(xtr), generator=gen)
        t0 = time.perf_counter()
        model.train()
        running = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
            running += loss.item()
        train_seconds += time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}/{a.epochs}: train loss {running / steps_per_epoch:.4f}, "
              f"test acc {acc:.4f}", flush=True)
    metrics = {"framework": f"pytorch {torch.__version__}", "model": a.model, "optimizer": a.optimizer,
               "lr": a.lr, "schedule": a.schedule, "momentum": a.momentum, "batch": a.batch, "epochs": a.epochs,
               "threads": a.threads, "test_accuracy": acc, "train_seconds": train_seconds}
    print(json.dumps(metrics))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(metrics, f, indent=2)


if __name__ == "__main__":
    main()
