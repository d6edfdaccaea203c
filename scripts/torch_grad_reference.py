#!/usr/bin/python3
"""Reference gradients from PyTorch autograd (float64) for tests/autodiff/test_torch_grad.cpp.

Each case is a small model with fixed seeded inputs and parameters; the JSON records every tensor
(shape + row-major values), the loss and d loss / d tensor for each differentiable one. The C++
test rebuilds the same model as IR, differentiates it with autodiff::grad and compares in F64.

Regenerate:  /usr/bin/python3 scripts/torch_grad_reference.py > tests/autodiff/data/torch_grads.json
"""
import json
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(20260529)


def rand(*shape, scale=1.0):
    return ((torch.rand(*shape, generator=GEN) * 2 - 1) * scale).requires_grad_(True)


def dump(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def case(name, tensors, loss_fn, constants=()):
    """tensors: dict name -> tensor; those not in `constants` get gradients."""
    loss = loss_fn(**tensors)
    wrt = [k for k in tensors if k not in constants]
    grads = torch.autograd.grad(loss, [tensors[k] for k in wrt])
    return {
        "name": name,
        "tensors": {k: dump(v) for k, v in tensors.items()},
        "loss": float(loss),
        "grads": {k: dump(g) for k, g in zip(wrt, grads)},
    }


def mlp(x, w1, b1, w2, b2, t):
    h = torch.tanh(F.linear(x, w1, b1))
    return F.mse_loss(F.linear(h, w2, b2), t)


def cnn(x, w, b, gamma, beta, mean, var, wfc, bfc, target):
    h = F.conv2d(x, w, b, stride=1, padding=1)
    h = F.batch_norm(h, mean, var, gamma, beta, training=False, eps=1e-5)
    h = F.max_pool2d(F.relu(h), 2, 2)
    h = F.avg_pool2d(h, 3, 1, padding=1, count_include_pad=True)
    logits = F.linear(h.reshape(h.shape[0], -1), wfc, bfc)
    return F.cross_entropy(logits, target.long())


def softmaxes(x, c1, c2):
    return (F.softmax(x, dim=1) * c1).sum() + (F.log_softmax(x, dim=1) * c2).sum()


def layernorm(x, c):
    return (F.layer_norm(x, (3, 4), eps=1e-6) * c).sum()


def activations(x, c):
    return ((F.gelu(x) + torch.erf(x) + F.silu(x) + F.softplus(x, threshold=1e9) +
             F.leaky_relu(x, 0.1) + torch.sigmoid(x) * torch.exp(x)) * c).sum()


def attention(x, wq, wk, wv, c):
    q, k, v = x @ wq, x @ wk, x @ wv
    scores = (q @ k.transpose(1, 2)) / math.sqrt(wq.shape[1])
    return ((F.softmax(scores, dim=2) @ v) * c).sum()


def main():
    cases = [
        case("mlp", dict(x=rand(4, 5), w1=rand(6, 5), b1=rand(6), w2=rand(3, 6), b2=rand(3),
                         t=rand(4, 3)), mlp, constants=("t",)),
        case("cnn", dict(x=rand(2, 2, 6, 6), w=rand(3, 2, 3, 3), b=rand(3), gamma=rand(3),
                         beta=rand(3), mean=rand(3, scale=0.1).detach(),
                         var=(torch.rand(3, generator=GEN) + 0.5).requires_grad_(False),
                         wfc=rand(4, 27), bfc=rand(4),
                         target=torch.tensor([1.0, 3.0])),
             cnn, constants=("mean", "var", "target")),
        case("softmax", dict(x=rand(3, 5, scale=3), c1=rand(3, 5), c2=rand(3, 5)), softmaxes,
             constants=("c1", "c2")),
        case("layernorm", dict(x=rand(2, 3, 4, scale=2), c=rand(2, 3, 4)), layernorm,
             constants=("c",)),
        case("activations", dict(x=rand(12, scale=3), c=rand(12)), activations, constants=("c",)),
        case("attention", dict(x=rand(2, 4, 6), wq=rand(6, 3), wk=rand(6, 3), wv=rand(6, 5),
                               c=rand(2, 4, 5)), attention, constants=("c",)),
    ]
    print(json.dumps({"generator": "scripts/torch_grad_reference.py", "torch": torch.__version__,
                      "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
