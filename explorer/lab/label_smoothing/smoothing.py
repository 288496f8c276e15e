"""Label smoothing: train on (1 - ε)·one-hot + ε/K instead of the one-hot target.

With a one-hot target the cross-entropy keeps falling as the true class's logit runs away from the
others, so the optimum is an infinite logit gap and the network learns to be overconfident. Smoothed
targets put ε/K on every class, which makes the optimum finite: the best logits have the true class
log((1 - ε + ε/K) / (ε/K)) above all the others. Mueller, Kornblith and Hinton show that this also
pulls the penultimate-layer activations of each class into a tight cluster, equidistant from the other
classes' templates (the rows of the last layer), and that the smoothed network is better calibrated.

References: C. Szegedy et al., "Rethinking the Inception Architecture for Computer Vision" (CVPR 2016),
section 7; R. Müller, S. Kornblith, G. Hinton, "When Does Label Smoothing Help?" (NeurIPS 2019),
sections 2-3. Calibration measures live in :mod:`explorer.lab.label_smoothing.calibration`, the template-plane
projection in :mod:`explorer.lab.label_smoothing.penultimate`; :func:`run` trains a one-hot and a smoothed twin live.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.lab.core import guards
from explorer.lab.core.history import DecimatedHistory
from explorer.lab.core.numerics import xlogy
from explorer.lab.core.protocol import Diverged, FrameClock, check_finite
from explorer.lab.label_smoothing.calibration import (
    Reliability,
    confidence_histogram,
    expected_calibration_error,
    reliability_diagram,
)

__all__ = [
    "ModelState",
    "Reliability",
    "SmoothingConfig",
    "SmoothingFrame",
    "confidence_histogram",
    "expected_calibration_error",
    "loss_vs_true_prob",
    "make_clusters",
    "optimal_logit_gap",
    "optimal_true_prob",
    "reliability_diagram",
    "run",
    "smooth_targets",
]


#: more classes than any label-smoothing setup uses (ImageNet-21k has 21841, a large vocabulary 256k)
MAX_CLASSES = 1_000_000


def _check_eps_k(num_classes: int, eps: float) -> None:
    guards.whole("num_classes", num_classes, 2, MAX_CLASSES)
    if guards.in_range("smoothing eps", eps, 0.0, 1.0) == 1.0:
        raise ValueError(f"smoothing eps must be in [0, 1), got {eps!r}")


def smooth_targets(labels: ArrayLike, num_classes: int, eps: float) -> NDArray[np.float64]:
    """(1 - eps)·one_hot(labels) + eps/K: shape labels.shape + (K,), each row summing to 1.

    Example: eps = 0.08, K = 4, label 2 gives [0.02, 0.02, 0.94, 0.02].
    """
    _check_eps_k(num_classes, eps)
    y = np.asarray(labels)
    guards.check_allocation(8.0 * y.size * num_classes, f"{y.size} smoothed targets of {num_classes} classes")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if np.any((y < 0) | (y >= num_classes)):
        raise ValueError(f"labels must be in [0, {num_classes})")
    one_hot = (y[..., None] == np.arange(num_classes)).astype(np.float64)
    return (1.0 - eps) * one_hot + eps / num_classes


def optimal_true_prob(num_classes: int, eps: float) -> float:
    """The predicted true-class probability that minimises the smoothed loss: 1 - eps + eps/K."""
    _check_eps_k(num_classes, eps)
    return 1.0 - eps + eps / num_classes


def loss_vs_true_prob(q: ArrayLike, num_classes: int, eps: float) -> NDArray[np.float64]:
    """Cross-entropy against the smoothed target when the model gives the true class probability q.

    The remaining 1 - q is spread evenly over the K - 1 wrong classes, so
    loss(q) = -(1 - eps + eps/K) log q - (K - 1)(eps/K) log((1 - q)/(K - 1)).
    With eps = 0 it is -log q, falling all the way to q = 1; with eps > 0 it is smallest at
    q = 1 - eps + eps/K and rises to infinity at q = 1. Values are in nats.
    """
    _check_eps_k(num_classes, eps)
    qa = np.asarray(q, dtype=np.float64)
    if not np.all(np.isfinite(qa)) or np.any((qa < 0) | (qa > 1)):
        raise ValueError("q must be probabilities in [0, 1]")
    t_true = 1.0 - eps + eps / num_classes
    t_wrong_total = (num_classes - 1) * eps / num_classes
    # xlogy gives 0·log 0 = 0 (eps = 0 at q = 1) and +inf loss where a target > 0 meets q = 0.
    with np.errstate(divide="ignore"):
        return -xlogy(t_true, qa) - xlogy(t_wrong_total, (1.0 - qa) / (num_classes - 1))


def optimal_logit_gap(num_classes: int, eps: float) -> float:
    """Logit of the true class minus each wrong logit at the loss minimum: log(t_true / (eps/K)).

    Infinite at eps = 0 (one-hot targets are only reached in the limit), finite for any eps > 0.
    """
    _check_eps_k(num_classes, eps)
    if eps == 0:
        return math.inf
    return math.log((1.0 - eps + eps / num_classes) / (eps / num_classes))


# ---------------------------------------------------------------- live experiment: one-hot vs smoothed twins


def make_clusters(
    num_classes: int = 10,
    n_train: int = 1000,
    n_val: int = 2000,
    dim: int = 20,
    separation: float = 4.0,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Overlapping Gaussian classes: (x_train (N, dim), y_train (N,), x_val (M, dim), y_val (M,)).

    Each class is a unit-variance Gaussian around a random mean; two means are about ``separation``
    noise standard deviations apart, so some points are genuinely ambiguous and a network that
    memorises the training set has something to be overconfident about. Classes are balanced.
    """
    guards.whole("num_classes", num_classes, 2, MAX_CLASSES)
    guards.whole("n_train", n_train, num_classes, 10**9)
    guards.whole("n_val", n_val, num_classes, 10**9)
    guards.whole("dim", dim, 1, 10**6)
    guards.positive("separation", separation)
    guards.check_allocation(8.0 * (n_train + n_val) * dim, f"{n_train + n_val} points of dimension {dim}")
    rng = np.random.default_rng(seed)
    # E|mu_a - mu_b|^2 = 2·dim·scale^2 = separation^2.
    means = rng.standard_normal((num_classes, dim)) * (separation / math.sqrt(2 * dim))

    def draw(n: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        y = rng.permutation(np.arange(n, dtype=np.int64) % num_classes)
        return means[y] + rng.standard_normal((n, dim)), y

    x_train, y_train = draw(n_train)
    x_val, y_val = draw(n_val)
    return x_train, y_train, x_val, y_val


@dataclass(frozen=True)
class SmoothingConfig:
    """Two identical MLPs (input -> hidden -> hidden = penultimate -> K) trained full-batch with SGD.

    With the defaults both twins memorise the 1000 training points within a few hundred steps (about
    2 s on one CPU thread); the one-hot twin grows overconfident on held-out data, the smoothed one not.
    """

    eps: float = 0.1  # smoothing of the second twin; the first always trains on one-hot targets
    num_classes: int = 10
    n_train: int = 1000
    n_val: int = 2000  # held-out points for accuracy, NLL and the reliability diagram
    input_dim: int = 20
    separation: float = 4.0  # typical distance between class means, in noise standard deviations
    hidden: int = 128  # width of both hidden layers; the second is the penultimate layer
    lr: float = 0.05  # full-batch SGD with momentum
    momentum: float = 0.9
    steps: int = 400
    steps_per_frame: int = 10
    seed: int = 0  # data and initial weights
    device: str = "cpu"  # "cpu" or "cuda"
    projected_classes: tuple[int, int, int] = (0, 1, 2)  # whose templates span the projection plane
    bins: int = 15  # reliability-diagram bins
    history_points: int = 256  # curves are decimated beyond this (rounded down to even)
    points_per_class: int = 100  # projected points per class, from each of train and val

    def __post_init__(self) -> None:
        _check_eps_k(self.num_classes, self.eps)
        if not 3 <= self.num_classes <= 20:
            raise ValueError(f"num_classes must be in [3, 20], got {self.num_classes}")
        for name in ("n_train", "n_val", "input_dim", "hidden", "steps_per_frame", "bins", "points_per_class"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_train < self.num_classes or self.n_val < self.num_classes:
            raise ValueError("n_train and n_val must give every class at least one point")
        if self.steps < 0:
            raise ValueError(f"steps must be non-negative, got {self.steps}")
        if self.history_points < 2:
            raise ValueError(f"history_points must be at least 2, got {self.history_points}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if not (math.isfinite(self.separation) and self.separation > 0):
            raise ValueError(f"separation must be positive, got {self.separation}")
        classes = self.projected_classes
        if len(classes) != 3 or len(set(classes)) != 3 or not all(0 <= c < self.num_classes for c in classes):
            raise ValueError(f"projected_classes must be three different classes in [0, {self.num_classes})")
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")


@dataclass(frozen=True)
class ModelState:
    """One twin at one step. Held-out ("val") numbers come from the validation set."""

    eps: float
    train_loss: float  # the objective it minimises: cross-entropy against its own targets
    train_accuracy: float
    val_accuracy: float
    train_nll: float  # cross-entropy against the hard labels, comparable between twins
    val_nll: float
    ece: float
    mean_confidence: float  # on the validation set; > val_accuracy means overconfident
    mean_entropy: float  # predictive entropy on the validation set, nats
    mean_logit_gap: float  # training set: true logit minus the mean wrong logit
    reliability: Reliability
    confidence_counts: NDArray[np.int64]  # (C,) over SmoothingFrame.confidence_edges
    train_projection: NDArray[np.float64]  # (P, 2) penultimate activations in the template plane
    val_projection: NDArray[np.float64]  # (Q, 2)
    template_projection: NDArray[np.float64]  # (3, 2) the three templates in the same coordinates
    cluster_spread: float  # training projection: within-class / between-centroid distance
    spacing_cv: float  # training projection: unevenness of the centroid triangle
    train_accuracy_history: NDArray[np.float64]  # (H,) aligned with SmoothingFrame.history_steps
    val_accuracy_history: NDArray[np.float64]
    train_nll_history: NDArray[np.float64]
    val_nll_history: NDArray[np.float64]


@dataclass(frozen=True)
class SmoothingFrame:
    """Both twins at ``step``; ``loss`` is the smoothed twin's training objective."""

    step: int
    loss: float
    one_hot: ModelState
    smoothed: ModelState
    history_steps: NDArray[np.float64]  # (H,), decimated, always ending at ``step``
    projected_classes: tuple[int, int, int]
    train_projection_labels: NDArray[np.int64]  # (P,)
    val_projection_labels: NDArray[np.int64]  # (Q,)
    confidence_edges: NDArray[np.float64]  # (C + 1,)
    optimal_logit_gap: float  # for cfg.eps; inf when eps = 0


def _pick_points(labels: NDArray[np.int64], classes: tuple[int, int, int], per_class: int) -> NDArray[np.int64]:
    """Indices of the first ``per_class`` points of each projected class (fixed for the whole run)."""
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in classes])


def _log_softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def run(cfg: SmoothingConfig) -> Iterator[SmoothingFrame]:
    """Train a one-hot and a smoothed twin from the same initialisation; yield a frame every few steps.

    The twins' weights are stacked along a leading axis of 2 and trained as one batched network: the
    summed loss has independent gradients per twin, so this is exactly two separate runs, in one pass.
    Tensors stay on ``cfg.device`` between frames; a frame is the only host transfer.
    """
    import torch

    from explorer.lab.label_smoothing.penultimate import cluster_geometry, project_onto_template_plane

    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but is not available; choose device 'cpu'")
    device = torch.device(cfg.device)
    k = cfg.num_classes
    x_tr, y_tr, x_va, y_va = make_clusters(k, cfg.n_train, cfg.n_val, cfg.input_dim, cfg.separation, cfg.seed)
    targets_np = np.stack([smooth_targets(y_tr, k, 0.0), smooth_targets(y_tr, k, cfg.eps)])  # (2, N, K)
    xt = torch.as_tensor(x_tr, dtype=torch.float32, device=device)
    xv = torch.as_tensor(x_va, dtype=torch.float32, device=device)
    targets = torch.as_tensor(targets_np, dtype=torch.float32, device=device)

    gen = torch.Generator().manual_seed(cfg.seed)
    shapes = [(cfg.input_dim, cfg.hidden), (cfg.hidden, cfg.hidden), (cfg.hidden, k)]
    params: list[torch.Tensor] = []
    for fan_in, fan_out in shapes:  # nn.Linear's default init, drawn once and copied to both twins
        bound = 1.0 / math.sqrt(fan_in)
        for shape in ((fan_in, fan_out), (1, fan_out)):
            w = (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1) * bound
            params.append(w.to(device).unsqueeze(0).repeat(2, 1, 1).requires_grad_())
    w1, b1, w2, b2, w3, b3 = params
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)

    def forward(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (2, N, K) and penultimate activations (2, N, hidden) of both twins."""
        h = torch.relu(torch.baddbmm(b1, x.expand(2, *x.shape), w1))
        h = torch.relu(torch.baddbmm(b2, h, w2))
        return torch.baddbmm(b3, h, w3), h

    classes = cfg.projected_classes
    pick_tr = _pick_points(y_tr, classes, cfg.points_per_class)
    pick_va = _pick_points(y_va, classes, cfg.points_per_class)
    history = DecimatedHistory(cfg.history_points - cfg.history_points % 2, width=8)  # needs an even capacity
    edges = np.linspace(0.0, 1.0, 41)
    edges.flags.writeable = False  # shared by every frame
    gap_star = optimal_logit_gap(k, cfg.eps)
    eps_pair = (0.0, cfg.eps)

    def snapshot(step: int) -> SmoothingFrame:
        with torch.no_grad():
            train_logits, train_h = forward(xt)
            val_logits, val_h = forward(xv)
            templates = w3[:, :, list(classes)].transpose(1, 2)  # (2, 3, hidden)
        z_tr = train_logits.double().cpu().numpy()  # (2, N, K)
        z_va = val_logits.double().cpu().numpy()  # (2, M, K)
        if not (np.all(np.isfinite(z_tr)) and np.all(np.isfinite(z_va))):
            raise Diverged(step, "loss became non-finite (the logits overflowed)")
        ls_tr, ls_va = _log_softmax(z_tr), _log_softmax(z_va)
        h_tr = train_h[:, pick_tr].double().cpu().numpy()  # (2, P, hidden)
        h_va = val_h[:, pick_va].double().cpu().numpy()  # (2, Q, hidden)
        t_np = templates.double().cpu().numpy()
        rows_tr, rows_va = np.arange(y_tr.size), np.arange(y_va.size)
        scalars: list[dict[str, float]] = []
        for m in range(2):
            p_va = np.exp(ls_va[m])
            z_true = z_tr[m, rows_tr, y_tr]
            scalars.append(
                {
                    "train_loss": float(-(targets_np[m] * ls_tr[m]).sum(axis=1).mean()),
                    "train_accuracy": float((ls_tr[m].argmax(axis=1) == y_tr).mean()),
                    "val_accuracy": float((ls_va[m].argmax(axis=1) == y_va).mean()),
                    "train_nll": float(-ls_tr[m, rows_tr, y_tr].mean()),
                    "val_nll": float(-ls_va[m, rows_va, y_va].mean()),
                    "mean_confidence": float(p_va.max(axis=1).mean()),
                    "mean_entropy": float(-(p_va * ls_va[m]).sum(axis=1).mean()),
                    "mean_logit_gap": float((z_true - (z_tr[m].sum(axis=1) - z_true) / (k - 1)).mean()),
                }
            )
        check_finite(step, one_hot_loss=scalars[0]["train_loss"], smoothed_loss=scalars[1]["train_loss"])
        names = ("train_accuracy", "val_accuracy", "train_nll", "val_nll")
        row = np.array([s[n] for s in scalars for n in names])  # (8,): 4 curves per twin
        history.extend(np.array([step]), row[None])
        steps, table = history.steps(), history.values()  # (H,), (H, 8)
        if steps[-1] != step:  # the curves always reach the current step, kept or not
            steps, table = np.append(steps, float(step)), np.vstack([table, row])
        states = []
        for m in range(2):
            p_va = np.exp(ls_va[m])
            train_proj = project_onto_template_plane(h_tr[m], t_np[m])
            geometry = cluster_geometry(train_proj, y_tr[pick_tr])
            states.append(
                ModelState(
                    eps=eps_pair[m],
                    **scalars[m],
                    ece=(rel := reliability_diagram(p_va, y_va, cfg.bins)).ece,
                    reliability=rel,
                    confidence_counts=confidence_histogram(p_va, edges.size - 1)[1],
                    train_projection=train_proj,
                    val_projection=project_onto_template_plane(h_va[m], t_np[m]),
                    template_projection=project_onto_template_plane(t_np[m], t_np[m]),
                    cluster_spread=geometry.spread,
                    spacing_cv=geometry.spacing_cv,
                    train_accuracy_history=table[:, 4 * m],
                    val_accuracy_history=table[:, 1 + 4 * m],
                    train_nll_history=table[:, 2 + 4 * m],
                    val_nll_history=table[:, 3 + 4 * m],
                )
            )
        return SmoothingFrame(
            step=step,
            loss=scalars[1]["train_loss"],
            one_hot=states[0],
            smoothed=states[1],
            history_steps=steps,
            projected_classes=classes,
            train_projection_labels=y_tr[pick_tr],
            val_projection_labels=y_va[pick_va],
            confidence_edges=edges,
            optimal_logit_gap=gap_star,
        )

    step = 0
    clock = FrameClock(cfg.steps_per_frame, last=cfg.steps)
    request = yield snapshot(step)
    while step < cfg.steps:
        n = clock.advance(step, request)
        losses = torch.empty((n, 2), device=device)  # filled on the device: no sync inside the loop
        for i in range(n):
            logits, _ = forward(xt)
            per_twin = -(targets * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean(dim=-1)  # (2,)
            opt.zero_grad(set_to_none=True)
            per_twin.sum().backward()
            opt.step()
            losses[i] = per_twin.detach()
        for i, (a, b) in enumerate(losses.cpu().tolist()):
            # Row i is the loss of the weights after step + i updates.
            check_finite(step + i, one_hot_loss=a, smoothed_loss=b)
        step += n
        request = yield snapshot(step)
