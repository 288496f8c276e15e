"""Real training trajectories: the plane a path moves in, its coordinates there, and straight-line losses.

- ``pca_directions``: in a space of thousands of dimensions two random directions are almost orthogonal
  to any path, so a path drawn on a random plane barely moves. The top two principal components of
  the matrix [theta_0 - theta_n; ...; theta_{n-1} - theta_n] span the plane in which it moves most
  (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets", Sec. 7;
  their code centres the rows, as any PCA does, and so does this).
- ``project``: each checkpoint's coordinates in a plane, relative to the last checkpoint, the centre
  of the landscape; least squares, so non-orthogonal (random) directions work too.
- ``interpolate``: the loss along (1 - t) theta_a + t theta_b, t in [0, 1] (Goodfellow, Vinyals & Saxe
  2015, "Qualitatively characterizing neural network optimization problems"): from initialization to
  the trained weights it is often monotone, with no barrier to cross.

A checkpoint is a flat parameter vector (numpy or torch, in ``named_parameters`` order: see
``flat_parameters``) or a state dict. Directions come back as float64 torch tensors of the same kind:
flat (P,), or a dict of tensors shaped like the entries. ``as_directions`` turns either into what
``landscape.landscape(..., directions=...)`` takes.

Caution: of a state dict only the floating-point entries count, and batch-norm running statistics
(``running_mean``, ``running_var``) are left out: they are not parameters, and they drift with the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from explorer.lab.curvature.hvp import Batch, LossFn, check_batch

Checkpoint = np.ndarray | torch.Tensor | Mapping[str, torch.Tensor]
Direction = torch.Tensor | dict[str, torch.Tensor]
Layout = list[tuple[str, torch.Size]] | None  # None: flat vectors
STATISTICS = ("running_mean", "running_var")

__all__ = [
    "Interpolation",
    "PCADirections",
    "as_directions",
    "flat_parameters",
    "interpolate",
    "pca_directions",
    "project",
]


class PCADirections(NamedTuple):
    d1: Direction  # unit vector, the first principal direction of the path
    d2: Direction  # unit vector orthogonal to d1
    explained_variance: np.ndarray  # (2,) share of the path's variance along d1 and along d2


class Interpolation(NamedTuple):
    t: np.ndarray  # (n,) from 0 (theta_a) to 1 (theta_b)
    losses: np.ndarray  # (n,) float64


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """A checkpoint: every parameter in ``named_parameters`` order, as one float64 CPU vector (P,)."""
    return torch.cat([p.detach().to("cpu", torch.float64).reshape(-1) for p in model.parameters()])


def _layout(state: Mapping[str, torch.Tensor]) -> list[tuple[str, torch.Size]]:
    return [
        (k, v.shape)
        for k, v in state.items()
        if isinstance(v, torch.Tensor) and v.is_floating_point() and k.rsplit(".", 1)[-1] not in STATISTICS
    ]


def _flat(checkpoint: object, layout: Layout, what: str) -> torch.Tensor:
    """One checkpoint as a float64 CPU vector (P,), laid out by ``layout``."""
    if isinstance(checkpoint, Mapping):
        if layout is None:
            raise ValueError(f"{what}: a state dict cannot be mixed with flat vectors")
        missing = [k for k, _ in layout if k not in checkpoint]
        if missing:
            raise ValueError(f"{what} lacks entries {missing[:3]}")
        parts = [torch.as_tensor(checkpoint[k]).detach().to("cpu", torch.float64).reshape(-1) for k, _ in layout]
        vector = torch.cat(parts)
    elif isinstance(checkpoint, torch.Tensor | np.ndarray):
        if layout is not None:
            raise ValueError(f"{what}: a flat vector cannot be mixed with state dicts")
        vector = torch.as_tensor(checkpoint).detach().to("cpu", torch.float64)
        if vector.ndim != 1:
            raise ValueError(f"{what} must be a flat (P,) vector, got shape {tuple(vector.shape)}")
    else:
        raise ValueError(f"{what} must be a flat vector or a state dict, got {type(checkpoint).__name__}")
    if not torch.isfinite(vector).all():
        raise ValueError(f"{what} must be finite")
    return vector


def _stack(checkpoints: object, layout: Layout | str = "auto") -> tuple[torch.Tensor, Layout]:
    """(n, P) float64 matrix of the checkpoints, and their layout."""
    if not isinstance(checkpoints, Sequence) or isinstance(checkpoints, str | bytes) or not checkpoints:
        raise ValueError("checkpoints must be a non-empty sequence of flat vectors or state dicts")
    if layout == "auto":
        layout = _layout(checkpoints[0]) if isinstance(checkpoints[0], Mapping) else None
    rows = [_flat(c, layout, f"checkpoints[{i}]") for i, c in enumerate(checkpoints)]  # type: ignore[arg-type]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("checkpoints must all have the same number of parameters")
    return torch.stack(rows), layout  # type: ignore[return-value]


def _shaped(vector: torch.Tensor, layout: Layout) -> Direction:
    if layout is None:
        return vector
    pieces = torch.split(vector, [s.numel() for _, s in layout])
    return {k: piece.view(s) for (k, s), piece in zip(layout, pieces, strict=True)}


def pca_directions(checkpoints: Sequence[Checkpoint]) -> PCADirections:
    """The two principal directions of a training path (Li et al. 2018, Sec. 7), and their explained variance.

    Signs are fixed so that the first checkpoint has negative coordinates: the path runs towards +d.
    """
    matrix, layout = _stack(checkpoints)
    if len(matrix) < 3:
        raise ValueError(f"checkpoints must hold at least 3 points of the path, got {len(matrix)}")
    if matrix.shape[1] < 2:
        raise ValueError("checkpoints must have at least 2 parameters for a plane")
    steps = matrix[:-1] - matrix[-1]  # (n - 1, P): where each checkpoint lies from the end
    centred = steps - steps.mean(dim=0)
    _, singular, vt = torch.linalg.svd(centred, full_matrices=False)  # vt: (min(n - 1, P), P)
    total = float((singular**2).sum())
    if total == 0.0:
        raise ValueError("checkpoints must not all lie on one point")
    directions = []
    for d in vt[:2]:
        lead = float(steps[0] @ d)
        if lead == 0.0:
            lead = -float(d[d.abs().argmax()])
        directions.append(-d if lead > 0 else d)
    explained = (singular[:2] ** 2 / total).numpy()
    return PCADirections(_shaped(directions[0], layout), _shaped(directions[1], layout), explained)


def project(checkpoints: Sequence[Checkpoint], d1: Direction, d2: Direction) -> np.ndarray:
    """(n, 2) coordinates (alpha, beta) of each checkpoint minus the last one in the plane of d1, d2.

    The least-squares fit of theta_i - theta_n by alpha d1 + beta d2 (Li et al. 2018 project on random
    directions this way); for orthonormal PCA directions it is the plain dot product.
    """
    if isinstance(d1, Mapping) != isinstance(d2, Mapping):
        raise ValueError("d1 and d2 must be of one kind: both flat or both dicts")
    if isinstance(d1, Mapping):
        layout: Layout = [(k, torch.as_tensor(v).shape) for k, v in d1.items()]
        matrix, _ = _stack(checkpoints, layout)
    else:
        layout = None
        matrix, _ = _stack(checkpoints)  # flat directions fit flat vectors or state dicts alike
    plane = torch.stack([_flat(d1, layout, "d1"), _flat(d2, layout, "d2")])  # (2, P)
    if plane.shape[1] != matrix.shape[1]:
        raise ValueError(f"d1 and d2 have {plane.shape[1]} parameters, the checkpoints {matrix.shape[1]}")
    gram = plane @ plane.T  # (2, 2)
    if float(torch.linalg.det(gram)) <= 1e-12 * float(gram.diagonal().prod()):
        raise ValueError("d1 and d2 must be linearly independent")
    steps = matrix - matrix[-1]  # (n, P)
    return torch.linalg.solve(gram, plane @ steps.T).T.numpy()  # (n, 2)


def as_directions(model: nn.Module, direction: Direction) -> dict[str, torch.Tensor]:
    """A flat or state-dict direction as {parameter name: tensor} on the model's devices and dtypes."""
    params = list(model.named_parameters())
    if isinstance(direction, Mapping):
        missing = [n for n, _ in params if n not in direction]
        if missing:
            raise ValueError(f"direction lacks parameters {missing[:3]}")
        return {n: torch.as_tensor(direction[n]).to(p).view(p.shape) for n, p in params}
    flat = torch.as_tensor(direction)
    sizes = [p.numel() for _, p in params]
    if flat.ndim != 1 or len(flat) != sum(sizes):
        raise ValueError(f"direction must be a flat vector of {sum(sizes)} parameters, got shape {tuple(flat.shape)}")
    return {n: piece.to(p).view(p.shape) for (n, p), piece in zip(params, torch.split(flat, sizes), strict=True)}


def _weights(model: nn.Module, theta: Checkpoint, what: str) -> dict[str, torch.Tensor]:
    """``theta`` as {name: tensor} for ``functional_call``: flat parameters, or state-dict entries."""
    if isinstance(theta, Mapping):
        known = dict(model.named_parameters()) | dict(model.named_buffers())
        unknown = [k for k in theta if k not in known]
        if unknown:
            raise ValueError(f"{what} has entries the model lacks: {unknown[:3]}")
        out = {}
        for k, v in theta.items():
            v = torch.as_tensor(v).to(known[k].device)
            if v.is_floating_point() and not torch.isfinite(v).all():
                raise ValueError(f"{what} must be finite ({k})")
            out[k] = v.to(known[k].dtype) if v.is_floating_point() else v
        return out
    vector = _flat(theta, None, what)
    size = sum(p.numel() for p in model.parameters())
    if len(vector) != size:
        raise ValueError(f"{what} must have the model's {size} parameters, got {len(vector)}")
    return as_directions(model, vector)


def interpolate(
    model: nn.Module,
    theta_a: Checkpoint,
    theta_b: Checkpoint,
    loss_fn: LossFn,
    batch: Batch,
    n: int = 51,
) -> Interpolation:
    """The loss at (1 - t) theta_a + t theta_b for ``n`` evenly spaced t in [0, 1] (Goodfellow et al. 2015).

    The model is evaluated in its current mode and left untouched (its buffers are cloned, so even a
    batch-norm layer in train mode keeps its running statistics). t = 0 and t = 1 are theta_a and
    theta_b exactly.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    inputs, targets = check_batch(batch)
    a, b = _weights(model, theta_a, "theta_a"), _weights(model, theta_b, "theta_b")
    if a.keys() != b.keys():
        raise ValueError("theta_a and theta_b must hold the same entries")
    buffers = dict(model.named_buffers())
    t = np.linspace(0.0, 1.0, int(n))
    losses = np.empty(len(t))
    with torch.no_grad():
        for i, ti in enumerate(t):
            if ti in (0.0, 1.0):  # the end points bit for bit
                mixed = a if ti == 0.0 else b
            else:
                mixed = {k: torch.lerp(a[k], b[k], float(ti)) if a[k].is_floating_point() else b[k] for k in a}
            # Clones: a train-mode batch norm updates the running statistics it is given.
            state = {k: v.detach().clone() for k, v in (buffers | mixed).items()}
            losses[i] = float(loss_fn(torch.func.functional_call(model, state, (inputs,)), targets))
    return Interpolation(t, losses)
