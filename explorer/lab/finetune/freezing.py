"""Freezing part of a network for fine-tuning: no gradient, no optimizer slot, fixed batch-norm statistics.

A frozen parameter has ``requires_grad=False``, so autograd neither computes nor stores its gradient
(and stops the backward pass below the lowest trainable layer, which is what makes a partly frozen
network cheaper per step), and it is not in the optimizer, so weight decay or momentum cannot move it.
Batch norm also keeps *buffers*, the running mean and variance, which a module in training mode
overwrites on every forward pass whatever ``requires_grad`` says. Frozen units are therefore put in
eval mode: they normalise with the statistics of the source data and compute exactly the pretrained
function, on the target data too. Trainable units run in training mode (batch statistics).

Units, input first: the input convolution, each block, the classifier. The head's normalisation and
ReLU finish the top block's output before pooling, so they belong to the top block's unit; the
classifier is the final linear layer alone, and a linear probe is a linear map of frozen features.
Progressive unfreezing and discriminative learning rates follow Howard & Ruder (2018, Sec. 3.2-3.3).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from models import BlockNet


def units(net: BlockNet) -> list[list[nn.Module]]:
    """The modules of each unit: [stem], [block 1], ..., [block L, head norm], [classifier]."""
    classifier = net.head[-1]
    if not isinstance(classifier, nn.Linear):
        raise TypeError("fine-tuning units need a head that ends in a Linear classifier")
    feature = [[net.stem], *([block] for block in net.blocks)]
    feature[-1] = [*feature[-1], *net.head[:-1]]  # norm, activation, pool, flatten
    return [*feature, [classifier]]


def unit_parameters(unit: list[nn.Module]) -> list[nn.Parameter]:
    return [p for module in unit for p in module.parameters()]


def unit_weights(unit: list[nn.Module]) -> list[torch.Tensor]:
    """Kernels and weight matrices (ndim > 1), the W of ||W - W_0|| / ||W_0||."""
    return [p for p in unit_parameters(unit) if p.ndim > 1]


def parameter_counts(net: BlockNet) -> np.ndarray:
    """(n_units,) int64 parameters per unit."""
    return np.array([sum(p.numel() for p in unit_parameters(u)) for u in units(net)], dtype=np.int64)


def top_k_mask(n_units: int, k: int) -> np.ndarray:
    """The classifier and the top ``k`` layers below it trainable, the rest frozen."""
    if not 0 <= k <= n_units - 1:
        raise ValueError(f"k must be between 0 and {n_units - 1}, got {k}")
    mask = np.zeros(n_units, dtype=bool)
    mask[n_units - 1 - k :] = True
    return mask


def progressive_k(epoch: int, every: int, n_feature: int) -> int:
    """Layers below the classifier that progressive unfreezing has opened by ``epoch``: one more each
    ``every`` epochs, starting from the classifier alone."""
    return min(n_feature, epoch // every)


def lr_scales(n_units: int, head: float, decay: float = 1.0) -> np.ndarray:
    """Learning rate of each unit relative to the base rate: ``head`` for the new classifier, 1 for the
    top layer below it, and ``decay`` times less for each layer further down (discriminative rates)."""
    below = decay ** -np.arange(n_units - 2, -1, -1, dtype=np.float64)  # (n_units - 1,) input conv first
    return np.append(below, head)


def set_trainable(net: BlockNet, mask: np.ndarray) -> None:
    """requires_grad = mask[unit] for every parameter of each unit."""
    for unit, trainable in zip(units(net), mask, strict=True):
        for p in unit_parameters(unit):
            p.requires_grad_(bool(trainable))


def set_train_mode(net: BlockNet, mask: np.ndarray) -> None:
    """Training mode for trainable units, eval mode (pretrained batch-norm statistics) for frozen ones."""
    net.train()
    for unit, trainable in zip(units(net), mask, strict=True):
        if not trainable:
            for module in unit:
                module.eval()


def param_groups(net: BlockNet, mask: np.ndarray, lr: float, scales: np.ndarray) -> list[dict]:
    """One optimizer group per trainable unit, learning rate lr * scale; frozen units get none."""
    return [
        {"params": unit_parameters(unit), "lr": lr * float(scale), "base_lr": lr * float(scale), "unit": i}
        for i, (unit, trainable, scale) in enumerate(zip(units(net), mask, scales, strict=True))
        if trainable
    ]


def make_optimizer(name: str, groups: list[dict], lr: float) -> torch.optim.Optimizer:
    """Adam, or SGD with momentum 0.9, over the given groups only (later groups join with the same options)."""
    # fused: one kernel over all tensors instead of a Python loop per parameter (a sixth of a small CNN's step)
    fused = all(p.device.type in ("cpu", "cuda") for group in groups for p in group["params"])
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, fused=fused)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, fused=fused)
    raise ValueError(f"optimizer must be adam or sgd, got {name!r}")


def unfreeze(net: BlockNet, optimizer: torch.optim.Optimizer, unit: int, lr: float) -> None:
    """Open one unit for training: gradients on, and its parameters join the optimizer as a new group."""
    params = unit_parameters(units(net)[unit])
    for p in params:
        p.requires_grad_(True)
    optimizer.add_param_group({"params": params, "lr": lr, "base_lr": lr, "unit": unit})


def cosine_factor(step: int, total: int) -> float:
    """Learning-rate factor of a cosine decay from 1 at step 0 to 0 at ``total``: late steps are small,
    so a loss near zero (where Adam's normalisation turns a rare large gradient into a full-size step)
    cannot throw a fitted network off."""
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def set_lr_factor(optimizer: torch.optim.Optimizer, factor: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * factor


def weight_change(now: list[list[torch.Tensor]], initial: list[list[torch.Tensor]]) -> np.ndarray:
    """(n_units,) ||W - W_0|| / ||W_0|| of each unit, norms over all its weight tensors together.

    ``now`` and ``initial``: each unit's ``unit_weights``, live and as first copied. Two fused norm calls
    and one host copy for the whole network: the fine-tuning view asks for this every frame, and a sum
    and a host read per tensor cost a quarter of the learners' time there.
    """
    counts = [len(w) for w in now]
    if counts != [len(w) for w in initial]:
        raise ValueError("initial weights do not match the network's units")
    flat_now = [w.detach() for unit in now for w in unit]
    flat_before = [w for unit in initial for w in unit]
    with torch.no_grad():
        moved = torch._foreach_norm(torch._foreach_sub(flat_now, flat_before))
        size = torch._foreach_norm(flat_before)
        norms = torch.stack([*moved, *size]).double().cpu().numpy()  # one host copy
    squares = norms.reshape(2, -1) ** 2  # (moved, size) per weight tensor
    unit_of = np.repeat(np.arange(len(now)), counts)
    moved_sq, size_sq = np.zeros(len(now)), np.zeros(len(now))
    np.add.at(moved_sq, unit_of, squares[0])
    np.add.at(size_sq, unit_of, squares[1])
    return np.where(size_sq > 0, np.sqrt(moved_sq / np.where(size_sq > 0, size_sq, 1.0)), 0.0)
