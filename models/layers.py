"""The knobs that decide whether a deep stack trains: activation, normalization and initialization.

A gradient crossing one layer is multiplied by the layer's Jacobian; whether a product of many such
factors vanishes, explodes or stays near one depends on the activation's slope, on the scale of the
initial weights (Glorot & Bengio 2010; He et al. 2015) and on normalization (Ioffe & Szegedy 2015).
Every parameter is drawn from an explicit ``torch.Generator`` so a seed fixes a network exactly.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
from torch import nn

Activation = Literal["sigmoid", "tanh", "relu", "gelu"]
Norm = Literal["none", "batchnorm", "layernorm"]
Init = Literal["default", "xavier", "he", "orthogonal"]

ACTIVATIONS: tuple[str, ...] = get_args(Activation)
NORMS: tuple[str, ...] = get_args(Norm)
INITS: tuple[str, ...] = get_args(Init)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Fail early with the allowed values, not deep inside a forward pass."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def make_activation(name: Activation) -> nn.Module:
    """The elementwise nonlinearity; sigmoid's slope is at most 1/4, the root of vanishing gradients."""
    check_choice("activation", name, ACTIVATIONS)
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}[name]()


def make_norm(name: Norm, channels: int, spatial: bool) -> nn.Module:
    """BatchNorm normalises over the batch; layer norm over the features of one example.

    For feature maps (``spatial``) layer norm is a one-group GroupNorm: it normalises each image over
    (C, H, W), which is what LayerNorm means for a convolutional layer.
    """
    check_choice("norm", name, NORMS)
    if name == "none":
        return nn.Identity()
    if name == "batchnorm":
        return nn.BatchNorm2d(channels) if spatial else nn.BatchNorm1d(channels)
    return nn.GroupNorm(1, channels) if spatial else nn.LayerNorm(channels)


def _gain(activation: Activation) -> float:
    # torch has no gain for GELU; it behaves like ReLU for positive inputs.
    return nn.init.calculate_gain("relu" if activation == "gelu" else activation)


def init_weight(
    weight: torch.Tensor, bias: torch.Tensor | None, init: Init, activation: Activation, generator: torch.Generator
) -> None:
    """Draw one layer's weights with the chosen rule.

    default: PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)), weights and biases alike;
    xavier: Glorot & Bengio (2010) uniform, variance 2/(fan_in + fan_out);
    he: He et al. (2015) normal, variance 2/fan_in, which keeps ReLU activations at unit scale;
    orthogonal: Saxe et al. (2014), all singular values equal to the activation's gain.
    """
    check_choice("init", init, INITS)
    fan_in = weight[0].numel()
    with torch.no_grad():
        if init == "default":
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        elif init == "xavier":
            nn.init.xavier_uniform_(weight, generator=generator)
        elif init == "he":
            nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
        else:
            nn.init.orthogonal_(weight, gain=_gain(activation), generator=generator)
        if bias is not None:
            if init == "default":
                bound = 1.0 / math.sqrt(fan_in)
                nn.init.uniform_(bias, -bound, bound, generator=generator)
            else:
                bias.zero_()


def init_parameters(module: nn.Module, init: Init, activation: Activation, seed: int) -> None:
    """(Re)initialise every layer of ``module`` in module order from one seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d):
            init_weight(layer.weight, layer.bias, init, activation, generator)
        elif isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d | nn.LayerNorm | nn.GroupNorm):
            layer.reset_parameters()  # ones and zeros (and fresh running statistics): no randomness
