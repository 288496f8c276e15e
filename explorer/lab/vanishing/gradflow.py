"""Gradient flow through depth: per-layer gradient norms of a plain and a residual network.

Backpropagation multiplies the gradient by one layer Jacobian per layer. With sigmoid units (slope at
most 1/4) and the usual initial scales the product shrinks geometrically, so the first layers of a deep
plain net barely learn (Glorot & Bengio 2010). A residual block h + F(h) adds the identity to every
Jacobian, and the gradient reaches the input undiminished (He et al. 2016). Normalization and
He initialization change the per-layer factor instead of the path.

``GradFlowProbe`` records each step's norms on the device and hands them to the host once per frame;
``grad_norms_at_init`` and ``depth_sweep`` measure the effect at initialization; ``run`` trains a plain
and a residual net side by side for the "VGG vs ResNet" tab.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from explorer.lab.core import guards
from explorer.lab.core.protocol import FrameClock, Job, Progress
from explorer.lab.core.training import (
    DATASETS,
    OPTIMIZERS,
    Dataset,
    Optimizer,
    load_task,
    net_config,
    resolve_device,
    sample_batch,
)
from explorer.lab.gradprobe import GradFlowProbe, NetFlow, Trainee, hidden_ratio
from models import ACTIVATIONS, INITS, NORMS, Activation, Init, Norm, build_net

__all__ = [
    "MODELS",
    "DepthSweep",
    "DepthSweepConfig",
    "GradFlowConfig",
    "GradFlowFrame",
    "GradFlowProbe",
    "NetFlow",
    "depth_sweep",
    "grad_norms_at_init",
    "hidden_ratio",
    "run",
]


Model = Literal["mlp", "cnn"]
#: an MLP trains on the 2-D point sets, a CNN on glyph images
MODELS: tuple[Model, ...] = ("mlp", "cnn")


def _scaled_norm(t: torch.Tensor) -> torch.Tensor:
    # sqrt(sum g^2) underflows when |g| < 1e-154 even in float64; factoring out max |g| does not.
    m = t.abs().max()
    return m * torch.linalg.vector_norm(t / m) if m > 0 else m


def _check_probe(depth: int, activation: str, norm: str, init: str, width: int, n_points: int, seed: int) -> None:
    """Arguments of :func:`grad_norms_at_init`, checked before torch builds anything."""
    guards.whole("depth", depth, 1, 1000)
    guards.whole("width", width, 1, 4096)
    guards.whole("n_points", n_points, 2, 10**7)
    guards.whole("seed", seed, 0, 2**63 - 1)
    guards.known("activation", activation, ACTIVATIONS)
    guards.known("norm", norm, NORMS)
    guards.known("init", init, INITS)
    # float64 activations kept for the backward pass, a few per layer, and the weights
    guards.check_allocation(8.0 * (4 * n_points * width + width * width) * (depth + 2), "the network's activations")


def grad_norms_at_init(
    depth: int = 50,
    residual: bool = False,
    activation: Activation = "sigmoid",
    norm: Norm = "none",
    seed: int = 0,
    init: Init = "default",
    width: int = 32,
    n_points: int = 256,
    device: str = "cpu",
) -> np.ndarray:
    """Weight-gradient norm of every layer of a fresh MLP on the spirals task, input layer first.

    Returns (depth + 2,): input projection, ``depth`` hidden blocks, output head. Computed in float64
    so that a plain sigmoid stack's 1e-100 gradients are numbers, not underflowed zeros.
    """
    _check_probe(depth, activation, norm, init, width, n_points, seed)
    dev = resolve_device(device)
    X, y, n_classes = load_task("spirals", n_points, seed, dev, dtype=torch.float64)
    cfg = net_config("spirals", depth, width, activation, norm, init, residual, n_classes)
    net = build_net(cfg, seed, dev, torch.float64)
    loss = F.cross_entropy(net(X), y)
    groups = net.layer_weights()
    grads = torch.autograd.grad(loss, [w for g in groups for w in g])
    norms, i = [], 0
    for group in groups:
        norms.append(torch.linalg.vector_norm(torch.stack([_scaled_norm(g) for g in grads[i : i + len(group)]])))
        i += len(group)
    return torch.stack(norms).cpu().numpy()


@dataclass(frozen=True)
class DepthSweepConfig:
    depths: tuple[int, ...] = (2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200)
    activation: Activation = "sigmoid"
    norm: Norm = "none"
    init: Init = "default"
    width: int = 32
    n_points: int = 256
    seed: int = 0
    device: str = "cpu"


@dataclass(frozen=True)
class DepthSweep:
    """First/last hidden-block gradient ratios against depth, at initialization."""

    depths: np.ndarray  # (D,) int64
    ratio_plain: np.ndarray  # (D,) first / last hidden block weight-grad norm
    ratio_residual: np.ndarray  # (D,)
    first_plain: np.ndarray  # (D,) first hidden block's weight-grad norm
    first_residual: np.ndarray  # (D,)


def depth_sweep(cfg: DepthSweepConfig) -> Job[DepthSweep]:
    """One gradient computation per depth and architecture.

    Yields Progress after each depth, its ``partial`` the DepthSweep of the depths done so far.
    """
    ratios: dict[bool, list[float]] = {False: [], True: []}
    firsts: dict[bool, list[float]] = {False: [], True: []}

    def result(n: int) -> DepthSweep:
        return DepthSweep(
            np.asarray(cfg.depths[:n], dtype=np.int64),
            np.asarray(ratios[False]),
            np.asarray(ratios[True]),
            np.asarray(firsts[False]),
            np.asarray(firsts[True]),
        )

    for i, depth in enumerate(cfg.depths):
        for residual in (False, True):
            norms = grad_norms_at_init(
                depth, residual, cfg.activation, cfg.norm, cfg.seed, cfg.init, cfg.width, cfg.n_points, cfg.device
            )
            ratios[residual].append(float(hidden_ratio(norms)))
            firsts[residual].append(float(norms[1]))
        yield Progress((i + 1) / len(cfg.depths), f"depth {depth}", partial=result(i + 1))
    return result(len(cfg.depths))


@dataclass(frozen=True)
class GradFlowConfig:
    """Settings shared by the plain and the residual net of the "VGG vs ResNet" tab.

    Each model keeps its own size (``depth`` and ``width`` the MLP's, ``blocks`` and ``channels`` the
    CNN's), so that switching between them and back finds the sizes as they were.
    """

    model: Model = "mlp"
    depth: int = 20  # MLP: hidden layers
    width: int = 32  # MLP: units per hidden layer
    blocks: int = 6  # CNN: blocks of two 3x3 convolutions
    channels: int = 8  # CNN: channels of the first stage
    activation: Activation = "sigmoid"
    norm: Norm = "none"
    init: Init = "default"
    optimizer: Optimizer = "adam"
    lr: float = 3e-3
    batch_size: int = 128
    dataset: Dataset = "spirals"
    n_points: int = 1000
    steps_per_frame: int = 5
    window: int = 200  # heatmap columns (steps) kept
    history: int = 2048  # loss-curve points kept over the whole run
    # a loss above this many times max(first loss, ln K) stops the run as diverged: sigmoid and tanh
    # nets keep a finite loss at any learning rate, bouncing at hundreds of nats instead
    explode_factor: float = 10.0
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS or self.optimizer not in OPTIMIZERS or self.model not in MODELS:
            raise ValueError(f"dataset must be in {DATASETS}, optimizer in {OPTIMIZERS} and model in {MODELS}")
        if (self.model == "cnn") != (self.dataset == "glyphs"):
            raise ValueError(
                f"model={self.model} cannot train on dataset={self.dataset}: the CNN trains on glyphs, "
                "the MLP on spirals or checkerboard"
            )
        width = self.size[1]
        if min(width, self.batch_size, self.n_points, self.steps_per_frame, self.window) < 1 or self.lr <= 0:
            raise ValueError("sizes, steps_per_frame and lr must be positive")
        if not self.explode_factor > 1:
            raise ValueError(f"explode_factor must be above 1, got {self.explode_factor}")

    @property
    def size(self) -> tuple[int, int]:
        """(hidden blocks, width) of the chosen model: the MLP's depth and width, or the CNN's blocks and channels."""
        return (self.blocks, self.channels) if self.model == "cnn" else (self.depth, self.width)


@dataclass(frozen=True)
class GradFlowFrame:
    step: int
    loss: float  # the plain net's minibatch loss (each net's own is in its NetFlow)
    plain: NetFlow
    residual: NetFlow
    device: str = "cpu"


def run(cfg: GradFlowConfig) -> Iterator[GradFlowFrame]:
    """Train a plain and a residual net on the same minibatches; a frame at step 0 and every few steps.

    A frame at step t shows the loss and gradients at the weights before update t, so step 0 is the
    initialization. Raises protocol.Diverged at the first non-finite or exploding loss (``explode_factor``).
    """
    device = resolve_device(cfg.device)
    X, y, n_classes = load_task(cfg.dataset, cfg.n_points, cfg.seed, device)
    nets = [
        Trainee(
            name,
            build_net(
                net_config(cfg.dataset, *cfg.size, cfg.activation, cfg.norm, cfg.init, residual, n_classes),
                cfg.seed,
                device,
            ),
            cfg.optimizer,
            cfg.lr,
            cfg.steps_per_frame,
            cfg.window,
            cfg.history,
            cfg.explode_factor,
        )
        for name, residual in (("plain", False), ("residual", True))
    ]
    batches = torch.Generator(device=device).manual_seed(cfg.seed)
    clock = FrameClock(cfg.steps_per_frame)
    step = 0
    while True:
        idx = sample_batch(len(X), cfg.batch_size, batches)
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        for net in nets:
            net.backward(xb, yb)
        if clock.due(step):
            for net in nets:
                net.drain(step)
            plain, residual = nets[0].flow(), nets[1].flow()
            clock.advance(step, (yield GradFlowFrame(step, plain.loss, plain, residual, str(device))))
        for net in nets:
            net.update()
        step += 1
