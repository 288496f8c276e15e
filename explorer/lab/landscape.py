"""Loss landscapes on a plane through the trained weights (Li et al. 2018, "Visualizing the Loss
Landscape of Neural Nets").

The loss is evaluated at theta + alpha d1 + beta d2 on a grid of (alpha, beta). The directions are
Gaussian, then *filter-normalised*: each filter (a row of a weight matrix, an output channel of a
convolution) is rescaled to the norm of the same filter in theta, so that the plot does not depend on
the arbitrary scale of weights that normalization makes irrelevant (Li et al. 2018, Sec. 4). Biases
and norm parameters get zero direction. Directions are drawn per parameter *name*, so a plain and a
residual net of the same config share them exactly and their landscapes can be compared.

The grid is evaluated coarse to fine, a batch of grid points per step: ``batched_losses`` runs a
whole batch of weight vectors through one forward pass with batched matrix products (``baddbmm``,
grouped convolutions), over data chunks small enough that a layer's activations for the whole batch
stay in cache. A per-point loop is already compute-bound on a CPU, so this is what keeps batching
from being slower there; on a GPU it turns thousands of tiny launches into a few large ones.

Caution: batch norm is evaluated in eval mode (running statistics), like any deployed model.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from explorer.lab.core.protocol import Job, Progress
from models import Block, BlockNet

Directions = dict[str, torch.Tensor]


@dataclass(frozen=True)
class LandscapeConfig:
    resolution: int = 51  # grid points per axis; odd, so that (0, 0) is on the grid
    span: float = 1.0  # alpha and beta run over [-span, span]
    seed: int = 0
    points_per_batch: int = 0  # 0: 16 on CPU, 256 on CUDA

    def __post_init__(self) -> None:
        if not (3 <= self.resolution <= 101 and self.resolution % 2 == 1):
            raise ValueError(f"resolution must be odd and in [3, 101], got {self.resolution}")
        if self.span <= 0 or self.points_per_batch < 0:
            raise ValueError("span must be positive and points_per_batch non-negative")


@dataclass(frozen=True)
class Landscape:
    alphas: np.ndarray  # (R,) coordinate along d1; alphas[R // 2] == 0
    betas: np.ndarray  # (R,) coordinate along d2
    losses: np.ndarray  # (R, R) float64, row = beta, column = alpha
    center_loss: float  # the trained model's loss, == losses[R // 2, R // 2]


@dataclass(frozen=True)
class PartialLandscape:
    """A job's ``Progress.partial``: the grid so far, and a hole-free preview to draw meanwhile."""

    alphas: np.ndarray  # (R,)
    betas: np.ndarray  # (R,)
    losses: np.ndarray  # (R, R), NaN where not evaluated yet
    preview: np.ndarray  # (R, R), each point filled from the nearest point of the finest finished level
    stride: int  # grid spacing of the level being evaluated


def _name_seed(seed: int, name: str, which: int) -> int:
    return (seed * 1_000_003 + zlib.crc32(name.encode()) * 7 + which) % 2**63


def filter_normalized_directions(net: torch.nn.Module, seed: int) -> tuple[Directions, Directions]:
    """Two random directions, each filter scaled to the norm of the matching filter of ``net``."""
    pair: tuple[Directions, Directions] = ({}, {})
    for name, p in net.named_parameters():
        for which, directions in enumerate(pair):
            if p.ndim <= 1:
                directions[name] = torch.zeros_like(p)
                continue
            generator = torch.Generator().manual_seed(_name_seed(seed, name, which))
            d = torch.randn(p.shape, generator=generator, dtype=torch.float64)  # CPU: same on every device
            theta = p.detach().double().flatten(1)  # (filters, fan_in)
            d = d.flatten(1)
            d *= theta.norm(dim=1, keepdim=True) / (d.norm(dim=1, keepdim=True) + 1e-12)
            directions[name] = d.view(p.shape).to(device=p.device, dtype=p.dtype)
    return pair


def model_loss(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Mean cross-entropy of ``net`` on (X, y) in eval mode: the value the grid has at (0, 0)."""
    was_training = net.training
    net.eval()
    with torch.no_grad():
        loss = F.cross_entropy(net(X), y).item()
    net.train(was_training)
    return loss


def loss_at(
    net: torch.nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    d1: Directions,
    d2: Directions,
    alpha: float,
    beta: float,
) -> float:
    """One grid point the straightforward way (a reference for tests and benchmarks)."""
    params = {n: p.detach() + alpha * d1[n] + beta * d2[n] for n, p in net.named_parameters()}
    was_training = net.training
    net.eval()
    with torch.no_grad():
        loss = F.cross_entropy(torch.func.functional_call(net, params, (X,)), y).item()
    net.train(was_training)
    return loss


_ACTIVATIONS = {nn.Sigmoid: torch.sigmoid, nn.Tanh: torch.tanh, nn.ReLU: torch.relu, nn.GELU: F.gelu}
_INPLACE = {nn.Sigmoid: torch.sigmoid_, nn.Tanh: torch.tanh_, nn.ReLU: torch.relu_}


def _per_channel(t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """(P, C) or (C,) parameters shaped to broadcast over h (P, n, C, *spatial)."""
    return t.reshape(-1 if t.ndim == 2 else 1, 1, t.shape[-1], *([1] * (h.ndim - 3)))


def _forward(module: nn.Module, h: torch.Tensor, params: Directions, prefix: str, owned: bool) -> torch.Tensor:
    """``module`` applied to h (P, n, *features) with weights params[name] (P, *shape), one set per point.

    ``owned`` says whether h is a temporary of this pass that an activation may overwrite in place
    (not so for a block's input, which its shortcut still needs).
    """
    kind = type(module)
    if isinstance(module, BlockNet):
        h = _forward(module.stem, h, params, "stem.", False)
        for i, block in enumerate(module.blocks):
            h = _forward(block, h, params, f"blocks.{i}.", True)
        return _forward(module.head, h, params, "head.", True)
    if isinstance(module, Block):
        f = _forward(module.branch, h, params, prefix + "branch.", False)
        if module.shortcut is None:
            return f
        return f.add_(_forward(module.shortcut, h, params, prefix + "shortcut.", False))
    if isinstance(module, nn.Sequential):
        for i, child in enumerate(module):
            fresh = not isinstance(child, nn.Identity | nn.Flatten) and type(child) not in _ACTIVATIONS
            h = _forward(child, h, params, f"{prefix}{i}.", owned)
            owned = owned or fresh
        return h
    if isinstance(module, nn.Linear):
        w, b = params[prefix + "weight"], params.get(prefix + "bias")  # (P, out, in), (P, out)
        wt = w.transpose(1, 2)  # (P, in, out)
        return torch.bmm(h, wt) if b is None else torch.baddbmm(b.unsqueeze(1), h, wt)
    if isinstance(module, nn.Conv2d):
        p, n = h.shape[:2]
        w, b = params[prefix + "weight"], params.get(prefix + "bias")  # (P, out, in, k, k), (P, out)
        x = h.transpose(0, 1).reshape(n, -1, *h.shape[3:])  # (n, P * in, H, W): one group per point
        out = F.conv2d(x, w.flatten(0, 1), None if b is None else b.flatten(), module.stride, module.padding,
                       groups=p)  # fmt: skip
        return out.view(n, p, -1, *out.shape[2:]).transpose(0, 1)  # (P, n, out, H', W')
    if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        # Eval-mode batch norm is a per-channel affine map.
        scale = params[prefix + "weight"] / torch.sqrt(module.running_var + module.eps)  # (P, C)
        shift = params[prefix + "bias"] - module.running_mean * scale
        return torch.addcmul(_per_channel(shift, h), h, _per_channel(scale, h))
    if isinstance(module, nn.LayerNorm | nn.GroupNorm):
        # LayerNorm over the features, or one-group GroupNorm over (C, H, W): the same normalisation.
        h = F.layer_norm(h, h.shape[2:], eps=module.eps)
        return torch.addcmul(_per_channel(params[prefix + "bias"], h), h, _per_channel(params[prefix + "weight"], h))
    if kind in _ACTIVATIONS:
        return _INPLACE[kind](h) if owned and kind in _INPLACE else _ACTIVATIONS[kind](h)
    if isinstance(module, nn.Identity):
        return h
    if isinstance(module, nn.AdaptiveAvgPool2d) and module.output_size in (1, (1, 1)):
        return h.mean(dim=(-2, -1), keepdim=True)
    if isinstance(module, nn.Flatten):
        return h.flatten(2)  # (P, n, C, 1, 1) -> (P, n, C)
    raise TypeError(f"no batched evaluation for {kind.__name__}")


def batched_losses(
    net: nn.Module, X: torch.Tensor, y: torch.Tensor, d1: Directions, d2: Directions, ab: torch.Tensor, chunk: int
) -> torch.Tensor:
    """Mean cross-entropy at theta + a d1 + b d2 for every row (a, b) of ``ab`` (P, 2): (P,) losses."""
    params = {}
    for name, p in net.named_parameters():
        shape = (-1, *([1] * p.ndim))
        params[name] = p.detach() + ab[:, 0].view(shape) * d1[name] + ab[:, 1].view(shape) * d2[name]  # (P, *p)
    total = torch.zeros(len(ab), device=X.device, dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, len(X), chunk):
            xc, yc = X[start : start + chunk], y[start : start + chunk]
            logits = _forward(net, xc.expand(len(ab), *xc.shape), params, "", False)  # (P, n, classes)
            logp = torch.log_softmax(logits, dim=-1)
            total -= logp.gather(2, yc.view(1, -1, 1).expand(len(ab), -1, 1)).sum(dim=(1, 2)).double()
    return total / len(X)


def features_per_example(net: nn.Module, x1: torch.Tensor) -> int:
    """The largest activation any layer produces for one example, in numbers."""
    largest = [x1.numel()]
    hooks = [m.register_forward_hook(lambda m, i, o: largest.append(o.numel())) for m in net.modules()]
    was_training = net.training
    net.eval()
    with torch.no_grad():
        net(x1)
    net.train(was_training)
    for hook in hooks:
        hook.remove()
    return max(largest)


def grid_order(resolution: int) -> Iterator[tuple[int, np.ndarray]]:
    """Grid indices (k, 2) level by level, coarse first: (stride, the points new at that stride).

    Every level is a lattice centred on (0, 0) with spacing ``stride``; each halves the spacing of
    the last, so after any level the evaluated points already cover the whole plane evenly.
    """
    c = resolution // 2
    stride = 1
    while stride * 4 <= c:
        stride *= 2
    done = np.zeros((resolution, resolution), dtype=bool)
    done[c, c] = True  # the centre is the trained model itself, evaluated first
    while stride >= 1:
        on = (np.arange(resolution) - c) % stride == 0
        new = np.outer(on, on) & ~done
        done |= new
        yield stride, np.argwhere(new)  # (k, 2) rows of (beta index, alpha index)
        stride //= 2


def _preview(losses: np.ndarray, stride: int) -> np.ndarray:
    """Fill every grid point from the nearest point of the lattice with spacing ``stride``."""
    r = len(losses)
    c = r // 2
    i = np.arange(r)
    near = c + np.round((i - c) / stride).astype(np.int64) * stride
    near = np.where(near > r - 1, near - stride, np.where(near < 0, near + stride, near))
    return losses[np.ix_(near, near)]


def landscape(
    net: torch.nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    cfg: LandscapeConfig,
    directions: tuple[Directions, Directions] | None = None,
) -> Job[Landscape]:
    """Loss on the (alpha, beta) plane around ``net``'s weights, coarse to fine.

    The plane is cut along ``directions`` ({parameter name: tensor} each, e.g. the PCA directions of a
    training path from ``trajectory.as_directions``), by default filter-normalised random ones from
    ``cfg.seed``. Yields Progress after every batch of grid points, its ``partial`` a PartialLandscape;
    stopping at any yield cancels (the net's train/eval mode is restored either way).
    """
    if directions is None:
        d1, d2 = filter_normalized_directions(net, cfg.seed)
    else:
        d1, d2 = ({n: d[n].to(p).view(p.shape) for n, p in net.named_parameters()} for d in directions)
    r, c = cfg.resolution, cfg.resolution // 2
    coords = np.linspace(-cfg.span, cfg.span, r)
    coords[c] = 0.0  # exactly: theta + 0 * d is theta bit for bit
    losses = np.full((r, r), np.nan)
    losses[c, c] = model_loss(net, X, y)
    on_cuda = X.device.type == "cuda"
    batch = cfg.points_per_batch or (256 if on_cuda else 16)
    # A data chunk that keeps one layer's activations for the whole batch in cache (CPU) or memory.
    budget = 2**26 if on_cuda else 2**17
    chunk = max(1, budget // (batch * features_per_example(net, X[:1])))
    total, finished, preview_stride = r * r - 1, 0, 0
    was_training = net.training
    net.eval()
    try:
        for stride, points in grid_order(r):
            for start in range(0, len(points), batch):
                idx = points[start : start + batch]  # (k, 2)
                ab = torch.as_tensor(coords[idx[:, ::-1]], device=X.device, dtype=X.dtype)  # (k, 2) (alpha, beta)
                losses[idx[:, 0], idx[:, 1]] = batched_losses(net, X, y, d1, d2, ab, chunk).cpu().numpy()
                finished += len(idx)
                if start + batch >= len(points):
                    preview_stride = stride
                preview = _preview(losses, preview_stride) if preview_stride else np.full((r, r), losses[c, c])
                partial = PartialLandscape(coords, coords, losses.copy(), preview, stride)
                yield Progress(finished / total, f"{finished}/{total} points", partial=partial)
    finally:
        net.train(was_training)
    return Landscape(coords, coords.copy(), losses, float(losses[c, c]))
