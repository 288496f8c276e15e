"""Residual networks: why deeper plain nets train *worse*, and what x + F(x) changes.

He et al. (2016, Fig. 1) found that a 56-layer plain network has higher *training* error than a
20-layer one: not overfitting but an optimisation failure ("degradation"). Their residual blocks
h + F(h) fix it, since a block only has to learn a correction to the identity. This experiment trains
plain and residual MLPs at several depths on the same minibatches, with batch norm and He init, the
usual cures for vanishing gradients, in place (in a deep plain stack with batch norm the gradient
*grows* toward the input instead; Yang et al. 2019). It records per block ||F(x)|| / ||x||: in a
trained residual net most blocks stay small corrections to the identity.

Defaults, measured (one CPU thread, 300 steps, about 9 s): mean training loss over the last 50 steps
is 0.034 / 0.070 / 0.665 for the plain nets of 8 / 20 / 56 blocks and 0.025 / 0.021 / 0.041 for the
residual ones: the plain net of 56 blocks is stuck near chance (ln 2 = 0.69) where its residual twin fits.

Every frame carries a :class:`Checkpoint`, the weights of all nets copied to the host (one
concatenation per net, a few milliseconds), so a loss landscape of "the nets so far" can start from
any frame in another thread while training goes on (``explorer.lab.residual.residual_landscape``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from scipy.signal import lfilter

from explorer.lab.core.history import RingBuffer
from explorer.lab.core.protocol import FrameClock
from explorer.lab.core.training import OPTIMIZERS, Optimizer, load_task, resolve_device, sample_batch
from explorer.lab.gradprobe import Trainee
from explorer.lab.residual.tracking import PathRecorder, SharpnessHistory, WeightPath
from models import Activation, BlockNet, Init, MLPConfig, Norm, build_net

__all__ = ["Checkpoint", "ResidualConfig", "ResidualFrame", "branch_ratios", "decision_boundary", "run", "smoothed"]


@dataclass(frozen=True)
class ResidualConfig:
    depths: tuple[int, ...] = (8, 20, 56)  # hidden blocks of each plain/residual pair
    width: int = 32
    activation: Activation = "relu"
    norm: Norm = "batchnorm"
    init: Init = "he"
    optimizer: Optimizer = "sgd"
    lr: float = 0.05
    batch_size: int = 128
    dataset: Literal["spirals", "checkerboard"] = "spirals"
    n_points: int = 512
    noise: float = 0.05
    steps_per_frame: int = 5
    boundary_every: int = 4  # decision boundaries every boundary_every * steps_per_frame steps
    grid: int = 80  # decision boundary resolution per axis
    window: int = 200  # frames of branch-ratio history kept
    history: int = 2048  # loss-curve points kept over the whole run
    smoothing: float = 0.9  # weight of the past in the loss curves' moving average, per kept point
    steps: int = 300  # the run ends after the frame at this step; 0: it runs until stopped
    curvature_every: int = 50  # top Hessian eigenvalue of every net every this many steps; 0: never
    lanczos_steps: int = 8  # Hessian-vector products (at most) per recorded eigenvalue, on one minibatch
    curvature_depths: Literal["deepest", "all"] = "deepest"  # whose eigenvalue is recorded (the rest: NaN)
    path_points: int = 64  # weight snapshots kept of each net along training, evenly thinned
    path_every: int = 5  # steps between snapshots at first; doubles whenever path_points are kept
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if not self.depths or self.dataset not in ("spirals", "checkerboard") or self.optimizer not in OPTIMIZERS:
            raise ValueError("need at least one depth, a 2-D dataset and a known optimizer")
        if min(self.width, self.batch_size, self.steps_per_frame, self.boundary_every, self.grid) < 1:
            raise ValueError("sizes and intervals must be positive")
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {self.smoothing}")
        if self.steps < 0:
            raise ValueError(f"steps must be 0 (no end) or positive, got {self.steps}")
        if self.curvature_depths not in ("deepest", "all"):
            raise ValueError(f"curvature_depths must be 'deepest' or 'all', got {self.curvature_depths!r}")
        if self.curvature_every < 0 or self.lanczos_steps < 1:
            raise ValueError("curvature_every must be 0 (off) or positive, and lanczos_steps at least 1")
        if self.path_every < 1:
            raise ValueError(f"path_every must be at least 1, got {self.path_every}")
        if self.path_points < 3:
            raise ValueError(f"path_points must be at least 3 (a plane needs three points), got {self.path_points}")


def _float_state(net: BlockNet) -> list[torch.Tensor]:
    """Parameters and float buffers (batch-norm running statistics) in state-dict order.

    The optimizer and batch norm update these tensors in place, so the list stays valid all run.
    ``num_batches_tracked`` is left out: eval-mode batch norm never reads it.
    """
    return [t for t in net.state_dict(keep_vars=True).values() if t.is_floating_point()]


def _flat_state(tensors: list[torch.Tensor]) -> np.ndarray:
    """One host copy of many tensors: a single concatenation on the device, then one transfer."""
    flat = torch.cat([t.detach().reshape(-1) for t in tensors]).cpu().numpy()
    flat.flags.writeable = False
    return flat


@dataclass(frozen=True)
class Checkpoint:
    """The weights of every plain and residual net at one step, as host arrays.

    Plain numbers, so a frame can hand them to another thread while the nets keep training.
    """

    step: int
    depths: tuple[int, ...]
    configs: tuple[tuple[MLPConfig, MLPConfig], ...]  # (plain, residual) per depth
    weights: tuple[tuple[np.ndarray, np.ndarray], ...]  # flat float state of each, read-only
    points: np.ndarray  # (n, 2) the training set the nets saw
    labels: np.ndarray  # (n,)

    def nets(self, depth: int, device: str | torch.device = "cpu") -> tuple[BlockNet, BlockNet]:
        """Fresh (plain, residual) nets of ``depth`` blocks holding the checkpoint's weights, in eval mode."""
        if depth not in self.depths:
            raise ValueError(f"no nets of depth {depth} in this run (depths {self.depths})")
        i = self.depths.index(depth)
        pair = []
        for config, flat in zip(self.configs[i], self.weights[i], strict=True):
            net = build_net(config, 0, device)
            values = torch.from_numpy(flat.copy()).to(device)  # copy: torch wants writable memory
            offset = 0
            with torch.no_grad():
                for tensor in _float_state(net):
                    tensor.copy_(values[offset : offset + tensor.numel()].view_as(tensor))
                    offset += tensor.numel()
            if offset != len(flat):
                raise ValueError(f"checkpoint of depth {depth} does not fit its config")
            pair.append(net.eval())
        return pair[0], pair[1]


@dataclass(frozen=True)
class ResidualFrame:
    step: int
    loss: float  # the deepest plain net's minibatch loss: the degradation headline
    depths: tuple[int, ...]
    steps: np.ndarray  # (T,) float64, whole run, decimated
    plain_losses: np.ndarray  # (n_depths, T) minibatch training loss
    residual_losses: np.ndarray  # (n_depths, T)
    plain_smoothed: np.ndarray  # (n_depths, T) moving average of plain_losses (see ``smoothed``)
    residual_smoothed: np.ndarray  # (n_depths, T)
    plain_accuracies: np.ndarray  # (n_depths, T)
    residual_accuracies: np.ndarray  # (n_depths, T)
    ratio_steps: np.ndarray  # (k,) float64, the steps at which branch ratios were measured
    branch_ratios: tuple[np.ndarray, ...]  # per depth (n_blocks, k): ||F(x)|| / ||x|| of each block
    boundary_step: int  # the step the boundaries below were computed at
    grid_x: np.ndarray  # (G,) float64
    grid_y: np.ndarray  # (G,) float64
    plain_boundary: np.ndarray  # (n_depths, G, G) float32 P(class 1); row = y, column = x
    residual_boundary: np.ndarray  # (n_depths, G, G)
    points: np.ndarray  # (n, 2) float32 training inputs, for the scatter over the boundary
    labels: np.ndarray  # (n,) int64
    checkpoint: Checkpoint  # every net's weights at this step
    curvature_steps: np.ndarray  # (k,) float64, the steps the top Hessian eigenvalues were taken at
    plain_top: np.ndarray  # (n_depths, k) top eigenvalue of each plain net's minibatch loss Hessian; NaN: not tracked
    residual_top: np.ndarray  # (n_depths, k)
    path: WeightPath  # every net's parameters along training, for the PCA views


@contextmanager
def branch_ratios(net: BlockNet) -> Iterator[list[torch.Tensor]]:
    """Measure ||F(x)|| / ||shortcut(x)|| of every residual block during the forward passes inside.

    Yields a list that holds, once the block exits, one (n_blocks,) device tensor for the last
    forward pass (norms over the whole batch). Forward hooks, so the training step itself is unchanged.
    """
    n = net.n_blocks
    f_norms: list[torch.Tensor | None] = [None] * n
    s_norms: list[torch.Tensor | None] = [None] * n

    def keeper(store: list[torch.Tensor | None], i: int) -> Callable[..., None]:
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            store[i] = torch.linalg.vector_norm(output.detach())

        return hook

    handles = []
    for i, block in enumerate(net.blocks):
        if block.shortcut is None:
            raise ValueError("branch ratios need a residual network")
        handles.append(block.branch.register_forward_hook(keeper(f_norms, i)))
        handles.append(block.shortcut.register_forward_hook(keeper(s_norms, i)))
    result: list[torch.Tensor] = []
    try:
        yield result
    finally:
        for handle in handles:
            handle.remove()
    if all(t is not None for t in f_norms + s_norms):
        result.append(torch.stack(f_norms) / torch.stack(s_norms))


def smoothed(values: np.ndarray, weight: float) -> np.ndarray:
    """Bias-corrected exponential moving average along the last axis (TensorBoard's smoothing).

    Point t is sum_k w^k v[t-k] / sum_k w^k over k = 0..t: a minibatch loss is noisy, its average is
    what a training curve means, and the correction keeps the first points from being pulled to zero.
    """
    values = np.asarray(values, dtype=np.float64)
    if weight == 0.0 or values.shape[-1] == 0:
        return values.copy()
    total = lfilter([1.0], [1.0, -weight], values, axis=-1)  # sum_k w^k v[t-k]
    norm = lfilter([1.0], [1.0, -weight], np.ones(values.shape[-1]))  # sum_k w^k
    return total / norm


def decision_boundary(net: BlockNet, grid: torch.Tensor, size: int) -> np.ndarray:
    """P(class 1) on a (size * size, 2) grid of inputs, as a (size, size) float32 image (row = y)."""
    was_training = net.training
    net.eval()  # batch norm uses its running statistics, as at deployment
    with torch.no_grad():
        probs = torch.softmax(net(grid), dim=1)[:, 1]
    net.train(was_training)
    return probs.view(size, size).float().cpu().numpy()  # (G * G,) -> (G, G)


def run(cfg: ResidualConfig) -> Iterator[ResidualFrame]:
    """Train plain and residual nets at every depth on shared minibatches; frame at step 0, then every few."""
    device = resolve_device(cfg.device)
    X, y, n_classes = load_task(cfg.dataset, cfg.n_points, cfg.seed, device, noise=cfg.noise)
    points, labels = X.cpu().numpy(), y.cpu().numpy()
    points.flags.writeable = labels.flags.writeable = False  # shared by every frame
    pairs: list[list[Trainee]] = []
    configs: list[tuple[MLPConfig, MLPConfig]] = []
    for depth in cfg.depths:
        plain_config = MLPConfig(depth, cfg.width, cfg.activation, cfg.norm, cfg.init, False, n_classes=n_classes)
        configs.append((plain_config, replace(plain_config, residual=True)))
        pairs.append([
            Trainee(f"{kind}-{depth}", build_net(config, cfg.seed, device), cfg.optimizer, cfg.lr,
                    cfg.steps_per_frame, 1, cfg.history, gradients=False)
            for kind, config in zip(("plain", "residual"), configs[-1], strict=True)
        ])  # fmt: skip
    states = [[_float_state(trainee.net) for trainee in pair] for pair in pairs]
    nets = [[trainee.net for trainee in pair] for pair in pairs]
    n_params = sum(p.numel() for pair in nets for net in pair for p in net.parameters())
    path = PathRecorder(tuple(cfg.depths), n_params, cfg.path_points, cfg.path_every)
    tracked = list(range(len(cfg.depths))) if cfg.curvature_depths == "all" else [int(np.argmax(cfg.depths))]
    sharpness = SharpnessHistory(
        len(cfg.depths), cfg.curvature_every, cfg.lanczos_steps, cfg.history, cfg.seed, tracked
    )
    ratios = [RingBuffer(cfg.window, (depth,)) for depth in cfg.depths]
    ratio_steps = RingBuffer(cfg.window)
    lo, hi = float(points.min()) - 0.2, float(points.max()) + 0.2
    axis = np.linspace(lo, hi, cfg.grid)
    gx, gy = np.meshgrid(axis, axis, indexing="xy")  # (G, G) each, row = y
    grid = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), device=device, dtype=X.dtype)  # (G*G, 2)
    boundaries: tuple[np.ndarray, ...] = (np.zeros((0,)), np.zeros((0,)))
    batches = torch.Generator(device=device).manual_seed(cfg.seed)
    step, boundary_step = 0, 0
    clock = FrameClock(cfg.steps_per_frame, last=cfg.steps)
    while True:
        idx = sample_batch(len(X), cfg.batch_size, batches)
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        last = step == cfg.steps > 0
        frame_due = clock.due(step)
        measured = []
        for plain, residual in pairs:
            plain.backward(xb, yb)
            if frame_due:
                with branch_ratios(residual.net) as result:
                    residual.backward(xb, yb)
                measured.append(result[0])
            else:
                residual.backward(xb, yb)
        # by steps, before this step's update: the weights a frame at this step would carry
        if sharpness.due(step):
            sharpness.record(step, nets, (xb, yb))
        if path.due(step):
            path.record(step, nets)
        if frame_due:
            for pair in pairs:
                for trainee in pair:
                    trainee.drain(step)
            host = torch.cat(measured).cpu().numpy()  # one copy for every depth's ratios
            for buffer, part in zip(ratios, np.split(host, np.cumsum(cfg.depths)[:-1]), strict=True):
                buffer.append(part)
            ratio_steps.append(float(step))
            # every so many *steps*, not frames: a frame of the window's budget may be a single step,
            # and six boundaries cost as much as a few training steps
            if step == 0 or step - boundary_step >= cfg.boundary_every * cfg.steps_per_frame or last:
                boundary_step = step
                boundaries = tuple(
                    np.stack([decision_boundary(pair[k].net, grid, cfg.grid) for pair in pairs]) for k in (0, 1)
                )
            weights = tuple((_flat_state(plain), _flat_state(residual)) for plain, residual in states)
            checkpoint = Checkpoint(step, tuple(cfg.depths), tuple(configs), weights, points, labels)
            request = yield _frame(cfg, step, boundary_step, pairs, ratios, ratio_steps, axis, boundaries, checkpoint,
                                   sharpness, path.path)  # fmt: skip
            if last:
                return
            clock.advance(step, request)
        for pair in pairs:
            for trainee in pair:
                trainee.update()
        step += 1


def _frame(
    cfg: ResidualConfig,
    step: int,
    boundary_step: int,
    pairs: list[list[Trainee]],
    ratios: list[RingBuffer],
    ratio_steps: RingBuffer,
    axis: np.ndarray,
    boundaries: tuple[np.ndarray, ...],
    checkpoint: Checkpoint,
    sharpness: SharpnessHistory,
    path: WeightPath,
) -> ResidualFrame:
    curvature_steps, plain_top, residual_top = sharpness.arrays()
    curves = [[trainee.history.values() for trainee in pair] for pair in pairs]  # each (T, 3)
    plain = np.stack([c[0] for c in curves])  # (n_depths, T, 3)
    residual = np.stack([c[1] for c in curves])
    return ResidualFrame(
        step=step,
        loss=float(plain[int(np.argmax(cfg.depths)), -1, 0]),
        depths=tuple(cfg.depths),
        steps=pairs[0][0].history.steps(),
        plain_losses=plain[..., 0],
        residual_losses=residual[..., 0],
        plain_smoothed=smoothed(plain[..., 0], cfg.smoothing),
        residual_smoothed=smoothed(residual[..., 0], cfg.smoothing),
        plain_accuracies=plain[..., 1],
        residual_accuracies=residual[..., 1],
        ratio_steps=ratio_steps.array(),
        branch_ratios=tuple(np.ascontiguousarray(r.array().T) for r in ratios),  # (k, n_blocks) -> (n_blocks, k)
        boundary_step=boundary_step,
        grid_x=axis,
        grid_y=axis.copy(),
        plain_boundary=boundaries[0],
        residual_boundary=boundaries[1],
        points=checkpoint.points,
        labels=checkpoint.labels,
        checkpoint=checkpoint,
        curvature_steps=curvature_steps,
        plain_top=plain_top,
        residual_top=residual_top,
        path=path,
    )
