"""A training race on two spirals: SGD, Adam, K-FAC and the exact natural gradient.

Idea: a natural-gradient step is worth many plain gradient steps, but the exact one costs a P x P
Fisher and its solve every step, while K-FAC's Kronecker factors cost little more than the gradient.
Plotting each method's loss against steps *and* against wall-clock seconds shows both halves of that
trade (Amari 1998; Martens & Grosse 2015). All methods start from the same initialization and see the
same mini-batches; the exact natural gradient only runs while P <= ``max_exact_params``.

Caution:
- Wall-clock seconds count optimizer steps only, not the full-data loss evaluated for each frame; on
  CUDA every step is synchronized so the clock measures the work, not the launch.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.lab.core.protocol import FrameClock, check_finite
from explorer.lab.natural_gradient.fisher import negative_log_likelihood, parameter_count
from explorer.lab.natural_gradient.kfac import KFAC, ExactNaturalGradient
from models.data import two_spirals
from models.layers import Activation
from models.mlp import MLP, MLPConfig

#: display order; one colour per method in the tab
METHODS: tuple[str, ...] = ("sgd", "adam", "kfac", "exact_ng")
LABELS: dict[str, str] = {"sgd": "SGD", "adam": "Adam", "kfac": "K-FAC", "exact_ng": "Exact natural gradient"}


@dataclass(frozen=True)
class RaceConfig:
    """The race: data, network, one learning rate per method, and how often to report."""

    n_points: int = 512
    noise: float = 0.05
    width: int = 32
    n_hidden: int = 1  # hidden width x width layers; the net is 2 -> width -> ... -> width -> 2
    activation: Activation = "tanh"
    batch_size: int = 128
    sgd_lr: float = 0.3
    sgd_momentum: float = 0.9
    adam_lr: float = 0.02
    ng_lr: float = 0.3  # K-FAC and the exact natural gradient share step size, damping and KL clip
    damping: float = 1e-2
    kl_clip: float = 1e-2
    ema_decay: float = 0.95
    factor_every: int = 1
    inverse_every: int = 10
    max_exact_params: int = 2000
    steps_per_frame: int = 5
    max_steps: int = 2000
    max_history: int = 400
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.n_points < 4 or self.batch_size < 1 or self.width < 1 or self.n_hidden < 1:
            raise ValueError("n_points >= 4 and batch_size, width, n_hidden >= 1 are required")
        if self.steps_per_frame < 1 or self.max_steps < 0 or self.max_history < 2:
            raise ValueError("steps_per_frame >= 1, max_steps >= 0 and max_history >= 2 are required")
        if min(self.sgd_lr, self.adam_lr, self.ng_lr, self.damping, self.kl_clip) <= 0:
            raise ValueError("learning rates, damping and kl_clip must be positive")


@dataclass(frozen=True)
class RaceFrame:
    """Loss histories of all methods; rows follow ``methods``, NaN rows where a method is unavailable."""

    step: int
    loss: float  # the lowest current full-data loss among the methods that run
    methods: tuple[str, ...]
    available: tuple[bool, ...]
    reasons: tuple[str, ...]  # "" where available, else why the method does not run
    n_params: int
    steps: np.ndarray  # (H,) float64, the step of each history point (decimated, latest point last)
    losses: np.ndarray  # (M, H) float64 full-data negative log-likelihood, nats
    seconds: np.ndarray  # (M, H) float64 cumulative wall-clock seconds spent in optimizer steps


class LossHistory:
    """At most ``max_points`` points: when full, keep every other one and record half as often."""

    def __init__(self, max_points: int) -> None:
        self.max_points = max_points
        self.stride = 1
        self.count = 0
        self.kept: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.latest: tuple[int, np.ndarray, np.ndarray] | None = None

    def record(self, step: int, losses: np.ndarray, seconds: np.ndarray) -> None:
        """Offer one point; it is kept if it falls on the current stride, and is always the latest."""
        point = (step, losses, seconds)
        self.latest = point
        if self.count % self.stride == 0:
            self.kept.append(point)
            if len(self.kept) >= self.max_points:
                self.kept = self.kept[::2]
                self.stride *= 2
        self.count += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """steps (H,), losses (M, H), seconds (M, H), ending with the latest point."""
        points = list(self.kept)
        if self.latest is not None and (not points or points[-1] is not self.latest):
            points.append(self.latest)
        steps = np.array([p[0] for p in points], dtype=np.float64)
        losses = np.stack([p[1] for p in points], axis=1)
        seconds = np.stack([p[2] for p in points], axis=1)
        return steps, losses, seconds


def spiral_mlp(cfg: RaceConfig) -> nn.Module:
    """The race's network, seeded so every method starts from the same weights."""
    config = MLPConfig(n_layers=cfg.n_hidden, width=cfg.width, activation=cfg.activation, in_features=2, n_classes=2)
    return MLP(config, seed=cfg.seed)


def exact_ng_reason(n_params: int, max_exact_params: int) -> str:
    """Why the exact natural gradient sits out, or "" when it runs."""
    if n_params <= max_exact_params:
        return ""
    return (
        f"P = {n_params} parameters > {max_exact_params}: the exact Fisher would have {n_params**2:,} entries "
        "and a P³ solve every step"
    )


def first_order_step(
    optimizer: torch.optim.Optimizer, model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor
) -> None:
    """One SGD or Adam step on the mean cross-entropy of a batch."""
    optimizer.zero_grad(set_to_none=True)
    negative_log_likelihood(model(inputs), labels, "categorical").backward()
    optimizer.step()


def run(cfg: RaceConfig) -> Iterator[RaceFrame]:
    """Yield the race at step 0 and then every ``steps_per_frame`` steps, up to ``max_steps``."""
    device = torch.device(cfg.device)
    X, y = two_spirals(cfg.n_points, cfg.noise, cfg.seed)
    inputs = torch.from_numpy(X).to(device)
    labels = torch.from_numpy(y).to(device)
    initial = spiral_mlp(cfg).to(device)
    n_params = parameter_count(initial)
    reasons = ("", "", "", exact_ng_reason(n_params, cfg.max_exact_params))
    available = tuple(reason == "" for reason in reasons)
    models = {name: copy.deepcopy(initial) for name, ok in zip(METHODS, available, strict=True) if ok}
    sgd = torch.optim.SGD(models["sgd"].parameters(), lr=cfg.sgd_lr, momentum=cfg.sgd_momentum)
    adam = torch.optim.Adam(models["adam"].parameters(), lr=cfg.adam_lr)
    kfac = KFAC(
        models["kfac"], cfg.ng_lr, cfg.damping, cfg.ema_decay, cfg.factor_every, cfg.inverse_every, cfg.kl_clip,
        generator=torch.Generator(device=device).manual_seed(cfg.seed + 1),
    )  # fmt: skip
    steppers = {
        "sgd": lambda xb, yb: first_order_step(sgd, models["sgd"], xb, yb),
        "adam": lambda xb, yb: first_order_step(adam, models["adam"], xb, yb),
        "kfac": kfac.step,
    }
    if "exact_ng" in models:
        steppers["exact_ng"] = ExactNaturalGradient(models["exact_ng"], cfg.ng_lr, cfg.damping, cfg.kl_clip).step
    batches = torch.Generator().manual_seed(cfg.seed + 2)
    batch_size = min(cfg.batch_size, cfg.n_points)
    seconds = dict.fromkeys(steppers, 0.0)
    history = LossHistory(cfg.max_history)
    frames = FrameClock(cfg.steps_per_frame, last=cfg.max_steps)
    step = 0
    while True:
        with torch.no_grad():
            current = {
                name: float(negative_log_likelihood(model(inputs), labels, "categorical"))
                for name, model in models.items()
            }
        check_finite(step, **{f"{name}_loss": value for name, value in current.items()})
        history.record(
            step,
            np.array([current.get(name, math.nan) for name in METHODS]),
            np.array([seconds.get(name, math.nan) for name in METHODS]),
        )
        steps_kept, losses, clock = history.arrays()
        request = yield RaceFrame(
            step, min(current.values()), METHODS, available, reasons, n_params, steps_kept, losses, clock
        )
        if step >= cfg.max_steps:
            return
        for _ in range(frames.advance(step, request)):
            index = torch.randperm(cfg.n_points, generator=batches)[:batch_size].to(device)
            xb, yb = inputs[index], labels[index]
            for name, stepper in steppers.items():
                start = time.perf_counter()
                stepper(xb, yb)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                seconds[name] += time.perf_counter() - start
            step += 1
