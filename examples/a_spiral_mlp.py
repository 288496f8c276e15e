"""A small MLP on two interleaved spirals: the first example the "Your model" tab opens.

Copy this file to start your own: ``model()`` and ``data()`` are all the tab needs; ``loss()`` and
``validation()`` are optional (cross-entropy is used for integer targets, mean squared error otherwise).
"""

import math

import torch
from torch import nn


def _spirals(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=generator) * 3 * math.pi + 0.5
    label = torch.arange(n) % 2
    angle = t + math.pi * label
    points = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1) / (3 * math.pi)
    return points + 0.03 * torch.randn(n, 2, generator=generator), label


def model() -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 2),
    )  # fmt: skip


def data() -> tuple[torch.Tensor, torch.Tensor]:
    return _spirals(512, seed=0)


def validation() -> tuple[torch.Tensor, torch.Tensor]:
    return _spirals(256, seed=1)
