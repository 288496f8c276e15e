"""A small convolutional network, plain (VGG-style) or residual (ResNet-style), for 16x16 glyphs.

Blocks are split into up to three stages of width, 2*width and 4*width channels at 16x16, 8x8 and 4x4
(He et al. 2016, Sec. 4.2, the CIFAR ResNets at a smaller scale). A block is two 3x3 convolutions in
pre-activation order; the first block of a later stage halves the resolution and doubles the channels,
and its residual version adds a 1x1 stride-2 projection of the input (He et al. 2016, option B).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from models.blocks import Block, BlockNet
from models.layers import ACTIVATIONS, INITS, NORMS, Activation, Init, Norm, check_choice, make_activation, make_norm

MAX_CNN_BLOCKS = 60
N_STAGES = 3


@dataclass(frozen=True)
class CNNConfig:
    n_layers: int = 6  # residual-style blocks of two convolutions each
    width: int = 16  # channels of the first stage
    activation: Activation = "relu"
    norm: Norm = "none"
    init: Init = "default"
    residual: bool = False
    in_channels: int = 1
    n_classes: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.n_layers <= MAX_CNN_BLOCKS:
            raise ValueError(f"n_layers must be in [1, {MAX_CNN_BLOCKS}], got {self.n_layers}")
        if self.width < 1 or self.in_channels < 1 or self.n_classes < 2:
            raise ValueError("width and in_channels must be positive and n_classes at least 2")
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("norm", self.norm, NORMS)
        check_choice("init", self.init, INITS)


def stage_sizes(n_blocks: int) -> list[int]:
    """Split blocks over the stages as evenly as possible, earlier stages first (7 -> [3, 2, 2])."""
    n_stages = min(N_STAGES, n_blocks)
    return [n_blocks // n_stages + (1 if s < n_blocks % n_stages else 0) for s in range(n_stages)]


def conv_branch(cfg: CNNConfig, c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """F(x) = conv(act(norm(conv(act(norm(x)))))), the pre-activation basic block."""
    return nn.Sequential(
        make_norm(cfg.norm, c_in, spatial=True),
        make_activation(cfg.activation),
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
        make_norm(cfg.norm, c_out, spatial=True),
        make_activation(cfg.activation),
        nn.Conv2d(c_out, c_out, 3, padding=1),
    )


class CNN(BlockNet):
    """stem conv3x3 -> blocks in stages -> head norm, act, global average pool, Linear."""

    def __init__(self, config: CNNConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        blocks: list[Block] = []
        with torch.device("meta"):
            self.stem = nn.Conv2d(config.in_channels, config.width, 3, padding=1)
            c_in = config.width
            for stage, size in enumerate(stage_sizes(config.n_layers)):
                c_out = config.width * 2**stage
                for i in range(size):
                    stride = 2 if stage > 0 and i == 0 else 1
                    projection = None
                    if stride != 1 or c_in != c_out:
                        projection = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
                    branch = conv_branch(config, c_in, c_out, stride)
                    blocks.append(Block(branch, config.residual, projection))
                    c_in = c_out
            self.blocks = nn.ModuleList(blocks)
            self.head = nn.Sequential(
                make_norm(config.norm, c_in, spatial=True),
                make_activation(config.activation),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),  # (B, C, 1, 1) -> (B, C)
                nn.Linear(c_in, config.n_classes),
            )
        self._materialize(config.init, config.activation, seed)
