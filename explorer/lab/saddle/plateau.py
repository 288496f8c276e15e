"""A real network's saddle: a small MLP started near zero sits on a plateau, and its Hessian says why.

A student network learns a teacher network's function (regression, mean squared error) by full-batch
gradient descent. Started with tiny weights it begins near the critical point at the origin, where
every layer's output is almost zero and the gradient almost vanishes. The loss stalls on a plateau;
the smallest eigenvalue of the exact Hessian is negative throughout it, so the plateau is a saddle of
the real network, not a minimum, and training leaves it along a negative-curvature direction
(Dauphin et al. 2014, "Identifying and attacking the saddle point problem"; Saxe et al. 2014 for why
small initializations plateau). The network has ~120 weights, so the Hessian is computed exactly
(by double backward, in float64) and all its eigenvalues are known at every curvature step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from explorer.lab.core.history import DecimatedHistory
from explorer.lab.core.protocol import FrameClock, check_finite

N_INPUTS = 4
HISTORY = 4096  # rows kept of the per-step curves over a long run
#: an eigenvalue counts as negative below -NEGATIVE_TOL x the largest |eigenvalue|: a curvature of 0.1% of the
#: steepest one is still a way down, while rounding and the flat directions of a symmetric net are not
NEGATIVE_TOL = 1e-3


@dataclass(frozen=True)
class PlateauConfig:
    hidden: int = 8  # units in each of the two tanh layers
    init_scale: float = 0.01  # standard deviation of the student's first weights: near zero is near the saddle
    lr: float = 0.2  # plain gradient descent on the whole set: no noise to shake it off the plateau
    steps: int = 600
    n_points: int = 256
    curvature_every: int = 10  # steps between two exact Hessian spectra
    steps_per_frame: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.hidden <= 32:
            raise ValueError(f"hidden must be between 1 and 32 (the Hessian is computed whole), got {self.hidden}")
        if not (math.isfinite(self.init_scale) and self.init_scale > 0 and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError("init_scale and lr must be positive numbers")
        if min(self.steps, self.n_points, self.curvature_every, self.steps_per_frame) < 1:
            raise ValueError("steps, n_points, curvature_every and steps_per_frame must be at least 1")


@dataclass(frozen=True)
class PlateauFrame:
    step: int
    loss: float
    steps: np.ndarray  # (T,) the steps of the curves below
    losses: np.ndarray  # (T,) mean squared error on the whole set
    grad_norms: np.ndarray  # (T,) ||∇L||
    curvature_steps: np.ndarray  # (C,) steps with an exact spectrum
    lambda_min: np.ndarray  # (C,) smallest Hessian eigenvalue
    lambda_max: np.ndarray  # (C,) largest Hessian eigenvalue
    negative_fraction: np.ndarray  # (C,) share of the eigenvalues that are negative
    spectrum: np.ndarray  # (P,) every eigenvalue at the latest curvature step, ascending
    n_params: int
    total_steps: int


def mlp(hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(N_INPUTS, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1)
    ).double()


def task(cfg: PlateauConfig) -> tuple[torch.Tensor, torch.Tensor, nn.Sequential]:
    """Inputs, the teacher's outputs on them, and the student at its near-zero start (all from the seed)."""
    generator = torch.Generator().manual_seed(cfg.seed)
    x = torch.randn(cfg.n_points, N_INPUTS, generator=generator, dtype=torch.float64)
    teacher, student = mlp(cfg.hidden), mlp(cfg.hidden)
    with torch.no_grad():
        for layer in (m for m in teacher if isinstance(m, nn.Linear)):
            layer.weight.normal_(0.0, 1.5 / math.sqrt(layer.in_features), generator=generator)
            layer.bias.normal_(0.0, 0.5, generator=generator)
        y = teacher(x)
        for p in student.parameters():
            p.normal_(0.0, cfg.init_scale, generator=generator)
    return x, y, student


class _Curvature:
    """The exact Hessian of the loss in the student's flat weights, and its eigenvalues."""

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
        self.names = [name for name, _ in model.named_parameters()]
        self.shapes = [p.shape for p in model.parameters()]
        self.sizes = [p.numel() for p in model.parameters()]
        self.model, self.x, self.y = model, x, y

    def _loss(self, flat: torch.Tensor) -> torch.Tensor:
        chunks = torch.split(flat, self.sizes)
        params = {n: c.view(s) for n, c, s in zip(self.names, chunks, self.shapes, strict=True)}
        return torch.mean((functional_call(self.model, params, (self.x,)) - self.y) ** 2)

    def eigenvalues(self) -> np.ndarray:
        flat = torch.cat([p.detach().reshape(-1) for p in self.model.parameters()])
        matrix = torch.autograd.functional.hessian(self._loss, flat)  # P double-backward passes
        return torch.linalg.eigvalsh(0.5 * (matrix + matrix.T)).numpy()


def negative_fraction(eigenvalues: np.ndarray) -> float:
    """Share of the eigenvalues below zero by more than NEGATIVE_TOL of the largest in size."""
    scale = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    return float(np.mean(eigenvalues < -NEGATIVE_TOL * scale)) if scale > 0 else 0.0


def run(cfg: PlateauConfig) -> Iterator[PlateauFrame]:
    """Full-batch gradient descent from the near-zero start; a frame at step 0, as the driver asks, and last."""
    x, y, student = task(cfg)
    curvature = _Curvature(student, x, y)
    n_params = sum(curvature.sizes)
    curves = DecimatedHistory(HISTORY, 2)  # loss, gradient norm
    spectra = DecimatedHistory(HISTORY, 3)  # lambda min, lambda max, negative fraction
    spectrum = np.zeros(0)

    def loss_and_gradient() -> tuple[float, float]:
        student.zero_grad(set_to_none=True)
        loss = torch.mean((student(x) - y) ** 2)
        loss.backward()
        norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in student.parameters()))
        return float(loss.detach()), float(norm)

    def record(step: int, loss: float, norm: float) -> None:
        nonlocal spectrum
        check_finite(step, loss=loss, gradient_norm=norm)
        curves.extend(np.array([step]), np.array([[loss, norm]]))
        if step % cfg.curvature_every == 0 or step == cfg.steps:
            spectrum = curvature.eigenvalues()
            spectra.extend(np.array([step]), np.array([[spectrum[0], spectrum[-1], negative_fraction(spectrum)]]))

    def frame(step: int, loss: float) -> PlateauFrame:
        values, measured = curves.values(), spectra.values()
        return PlateauFrame(
            step=step, loss=loss, steps=curves.steps(), losses=values[:, 0], grad_norms=values[:, 1],
            curvature_steps=spectra.steps(), lambda_min=measured[:, 0], lambda_max=measured[:, 1],
            negative_fraction=measured[:, 2], spectrum=spectrum.copy(), n_params=n_params, total_steps=cfg.steps,
        )  # fmt: skip

    loss, norm = loss_and_gradient()
    record(0, loss, norm)
    clock = FrameClock(cfg.steps_per_frame, last=cfg.steps)
    clock.advance(0, (yield frame(0, loss)))
    for step in range(1, cfg.steps + 1):
        with torch.no_grad():  # the gradient of the loss just recorded: plain gradient descent
            for p in student.parameters():
                p -= cfg.lr * p.grad
        loss, norm = loss_and_gradient()
        record(step, loss, norm)
        if clock.due(step):
            clock.advance(step, (yield frame(step, loss)))
