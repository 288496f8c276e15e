"""A small CNN with batch norm telling horizontal, vertical and diagonal stripes apart (8x8 images).

Its parameters have the names torch gives them (``features.0.weight``, ...): the tab's per-layer views
are labelled with them.
"""

import torch
from torch import nn


def _stripes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    label = torch.arange(n) % 3
    rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    phase = torch.rand(n, 1, 1, generator=generator) * 6.28
    period = 1.5 + torch.rand(n, 1, 1, generator=generator) * 2.0
    along = torch.stack([rows, cols, (rows + cols) / 1.41])[label]  # (n, 8, 8): the stripes' direction
    images = torch.sin(along / period * 3.14 + phase)
    images = images + 0.3 * torch.randn(n, 8, 8, generator=generator)
    return images.unsqueeze(1), label


class StripesNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.BatchNorm2d(16), nn.ReLU(),
        )  # fmt: skip
        self.classifier = nn.Linear(16 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


def model() -> nn.Module:
    return StripesNet()


def data() -> tuple[torch.Tensor, torch.Tensor]:
    return _stripes(384, seed=0)


def validation() -> tuple[torch.Tensor, torch.Tensor]:
    return _stripes(192, seed=1)
