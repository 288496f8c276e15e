"""Torch modules and generated data sets shared by the lab; no Qt, no explorer imports.

``build_net`` turns a frozen config into a seeded network on a device, the one entry point the lab
uses so that a plain and a residual net built from the same seed start from comparable weights.
"""

from __future__ import annotations

import torch

from models.blocks import Block, BlockNet
from models.cnn import CNN, MAX_CNN_BLOCKS, CNNConfig
from models.data import checkerboard, two_spirals
from models.glyphs import DIGITS, GLYPH_NAMES, STYLES, glyphs
from models.layers import ACTIVATIONS, INITS, NORMS, Activation, Init, Norm
from models.mlp import MAX_MLP_LAYERS, MLP, MLPConfig

__all__ = [
    "ACTIVATIONS",
    "CNN",
    "DIGITS",
    "GLYPH_NAMES",
    "INITS",
    "MAX_CNN_BLOCKS",
    "MAX_MLP_LAYERS",
    "MLP",
    "NORMS",
    "STYLES",
    "Activation",
    "Block",
    "BlockNet",
    "CNNConfig",
    "Init",
    "MLPConfig",
    "Norm",
    "build_net",
    "checkerboard",
    "glyphs",
    "two_spirals",
]


def build_net(
    config: MLPConfig | CNNConfig,
    seed: int = 0,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> BlockNet:
    """An MLP or CNN with weights drawn from ``seed`` (on the CPU, so every device gets the same ones)."""
    net: BlockNet = MLP(config, seed) if isinstance(config, MLPConfig) else CNN(config, seed)
    return net.to(device=device, dtype=dtype)
