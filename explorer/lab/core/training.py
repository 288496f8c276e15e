"""What every training experiment shares: a device by name, a generated task, minibatches, an optimizer."""

from __future__ import annotations

from typing import Literal, get_args

import torch

from explorer.lab.core import guards
from models import Activation, CNNConfig, Init, MLPConfig, Norm, checkerboard, glyphs, two_spirals

Dataset = Literal["spirals", "checkerboard", "glyphs"]
DATASETS: tuple[str, ...] = get_args(Dataset)
Optimizer = Literal["sgd", "adam"]
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, otherwise the CPU; else 'cpu' or a CUDA device this machine has."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(guards.device("device", name))


def load_task(
    dataset: Dataset,
    n_points: int,
    seed: int,
    device: torch.device,
    noise: float | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Inputs, labels (on ``device``) and class count of a generated task; glyphs give n_points // 10 a class."""
    if dataset == "spirals":
        X, y = two_spirals(n_points, 0.05 if noise is None else noise, seed)
    elif dataset == "checkerboard":
        X, y = checkerboard(n_points, 0.02 if noise is None else noise, seed)
    elif dataset == "glyphs":
        X, y = glyphs(max(1, n_points // 10), seed, noise=0.1 if noise is None else noise)
    else:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    n_classes = 10 if dataset == "glyphs" else 2
    return torch.as_tensor(X, device=device, dtype=dtype), torch.as_tensor(y, device=device), n_classes


def net_config(
    dataset: Dataset,
    depth: int,
    width: int,
    activation: Activation,
    norm: Norm,
    init: Init,
    residual: bool,
    n_classes: int,
) -> MLPConfig | CNNConfig:
    """An MLP for the 2-D tasks, a CNN (depth = blocks) for glyph images."""
    if dataset == "glyphs":
        return CNNConfig(depth, width, activation, norm, init, residual, n_classes=n_classes)
    return MLPConfig(depth, width, activation, norm, init, residual, n_classes=n_classes)


def sample_batch(n: int, batch_size: int, generator: torch.Generator) -> torch.Tensor | None:
    """Random minibatch indices on the generator's device, or None for full-batch training."""
    if batch_size >= n:
        return None
    return torch.randint(n, (batch_size,), generator=generator, device=generator.device)


def make_optimizer(name: Optimizer, params: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """SGD with momentum 0.9 (the ResNet recipe) or Adam."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, foreach=True)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, foreach=True)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
