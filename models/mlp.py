"""A deep multilayer perceptron, plain or residual, for the 2-D toy tasks.

Depth is the number of hidden blocks, each one weight layer F(h) = W act(norm(h)) + b. Stacked
plainly, h_l = F_l(h_{l-1}) is the textbook MLP whose input-layer gradient decays geometrically with
sigmoid units (Glorot & Bengio 2010); with ``residual`` it is h_l = h_{l-1} + F_l(h_{l-1}) (He et al.
2016), the same parameters with an identity path added.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from models.blocks import Block, BlockNet
from models.layers import ACTIVATIONS, INITS, NORMS, Activation, Init, Norm, check_choice, make_activation, make_norm

MAX_MLP_LAYERS = 200


@dataclass(frozen=True)
class MLPConfig:
    n_layers: int = 20  # hidden blocks between the input projection and the output head
    width: int = 64
    activation: Activation = "relu"
    norm: Norm = "none"
    init: Init = "default"
    residual: bool = False
    in_features: int = 2
    n_classes: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.n_layers <= MAX_MLP_LAYERS:
            raise ValueError(f"n_layers must be in [1, {MAX_MLP_LAYERS}], got {self.n_layers}")
        if self.width < 1 or self.in_features < 1 or self.n_classes < 2:
            raise ValueError("width and in_features must be positive and n_classes at least 2")
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("norm", self.norm, NORMS)
        check_choice("init", self.init, INITS)


def mlp_branch(cfg: MLPConfig) -> nn.Sequential:
    """F(h) = W act(norm(h)) + b, pre-activation order."""
    return nn.Sequential(
        make_norm(cfg.norm, cfg.width, spatial=False),
        make_activation(cfg.activation),
        nn.Linear(cfg.width, cfg.width),
    )


class MLP(BlockNet):
    """stem Linear(in, width) -> n_layers blocks -> head norm, act, Linear(width, n_classes)."""

    def __init__(self, config: MLPConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        with torch.device("meta"):
            self.stem = nn.Linear(config.in_features, config.width)
            self.blocks = nn.ModuleList(Block(mlp_branch(config), config.residual) for _ in range(config.n_layers))
            self.head = nn.Sequential(
                make_norm(config.norm, config.width, spatial=False),
                make_activation(config.activation),
                nn.Linear(config.width, config.n_classes),
            )
        self._materialize(config.init, config.activation, seed)
