#!/usr/bin/python3
"""python3-torch side of bench/bench_train.cpp: one training step (forward + backward + SGD) of
the MLP 784-256-256-10 at batch 128 or the LeNet-style CNN at batch 64, timed the same way
(best and median over --reps of the mean of --steps steps, after one warm-up), plus peak RSS
and the peak minus the RSS after importing torch.

  /usr/bin/python3 bench/train_torch.py mlp|lenet [--threads N] [--steps N] [--reps N]
"""
import argparse
import resource
import time

import torch
from torch import nn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["mlp", "lenet"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    base = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
    if a.model == "mlp":
        batch = 128
        net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        x = torch.rand(batch, 784)
    else:
        batch = 64
        net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    step()
    ms = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        ms.append((time.perf_counter() - t0) * 1000 / a.steps)
    ms.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {a.model} (batch {batch}) | python3-torch | {a.threads} | {ms[0]:.3f} | {ms[len(ms) // 2]:.3f} "
          f"| {rss:.1f} | {rss - base:.1f} |")


if __name__ == "__main__":
    main()
