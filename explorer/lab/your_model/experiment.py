"""Training the user's network live: loss and accuracy, per-layer gradient norms, curvature, the path.

Everything runs in the experiment's worker thread, the user's own code included (the file is loaded
when the run starts), so a model that hangs is abandoned by Reset or quit like any experiment.
Per-layer means per parameter tensor, named as the model names them (``features.0.weight``); the
first/last ratio is the input-side weight tensor's gradient norm over the output-side one's, as on the
VGG vs ResNet tab. The top Hessian eigenvalue is taken on the step's minibatch every ``curvature_every``
steps, and weight snapshots along the way feed the PCA landscape and the interpolation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from explorer.lab import curvature
from explorer.lab.core.history import DecimatedHistory
from explorer.lab.core.protocol import FrameClock, check_finite
from explorer.lab.core.training import OPTIMIZERS, make_optimizer, resolve_device
from explorer.lab.gradprobe import LOG_FLOOR, exact_norms
from explorer.lab.your_model.loader import UserTask, load, resolve

HISTORY = 2048  # rows kept of every curve over a long run
PATH_BUDGET = 2**25  # floats kept in weight snapshots (128 MiB): a big model keeps fewer
VALIDATE_EVERY = 10  # steps between two measurements on validation(), when the file has one


@dataclass(frozen=True)
class YourModelConfig:
    model_path: str = ""  # the user's file; "" opens the first shipped example
    weights: str = ""  # a torch.save'd state dict to start from; "" for model()'s own initialization
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 64
    steps: int = 500
    steps_per_frame: int = 5
    curvature_every: int = 50  # steps between two top-eigenvalue measurements; 0: never
    lanczos_steps: int = 8  # Hessian-vector products per measurement at most
    path_points: int = 64  # weight snapshots kept along training, evenly thinned
    path_every: int = 5  # steps between snapshots at first; doubles whenever path_points are kept
    memory_limit_gb: float = 0.0  # training memory the model may need; 0: a quarter of the available memory
    seed: int = 0  # the model's initialization (torch is seeded before model()) and the minibatches
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if min(self.batch_size, self.steps, self.steps_per_frame, self.lanczos_steps, self.path_every) < 1:
            raise ValueError("batch_size, steps, steps_per_frame, lanczos_steps and path_every must be at least 1")
        if self.curvature_every < 0 or self.path_points < 3:
            raise ValueError("curvature_every must be 0 or more and path_points at least 3")
        if not (math.isfinite(self.memory_limit_gb) and self.memory_limit_gb >= 0):
            raise ValueError("memory_limit_gb must be 0 (automatic) or a positive number of GiB")


@dataclass(frozen=True)
class ModelSnapshot:
    """What the analysis jobs need, fixed at one frame: the task, the weights then, the path so far."""

    task: UserTask
    step: int
    state: dict[str, torch.Tensor]  # the model's state dict at ``step`` (copies)
    initial: dict[str, torch.Tensor]  # at step 0
    path_steps: np.ndarray  # (m,) steps of the snapshots
    path: tuple[torch.Tensor, ...]  # m flat parameter vectors (CPU float32), the last at ``step``

    def model(self) -> torch.nn.Module:
        """A copy of the user's model with the weights of ``step`` (training goes on with its own)."""
        import copy

        twin = copy.deepcopy(self.task.model)
        twin.load_state_dict(self.state)
        return twin


@dataclass(frozen=True)
class YourModelFrame:
    step: int
    loss: float  # the latest minibatch loss
    total_steps: int
    model_file: str
    loss_name: str
    classification: bool
    parameter_names: tuple[str, ...]  # the heatmap's rows, input side first
    n_params: int
    steps: np.ndarray  # (T,) steps of the curves below
    losses: np.ndarray  # (T,) minibatch loss
    accuracies: np.ndarray  # (T,) minibatch accuracy; NaN without classes
    val_steps: np.ndarray  # (V,) steps with a validation measurement
    val_losses: np.ndarray  # (V,)
    val_accuracies: np.ndarray  # (V,) NaN without classes
    grad_steps: np.ndarray  # (G,)
    grad_norms: np.ndarray  # (G, L) ||∇W|| of each parameter tensor
    first_last_ratio: np.ndarray  # (G,) the first weight tensor's norm over the last one's
    ratio_pair: tuple[str, str]  # the two tensors of the ratio: weights (ndim > 1), not biases, where there are
    curvature_steps: np.ndarray  # (C,)
    top_eigenvalues: np.ndarray  # (C,) top eigenvalue of the minibatch loss Hessian
    snapshot: ModelSnapshot


class _PathRecorder:
    """Flat weight vectors at steps 0, k, 2k, ... with k doubling whenever ``capacity`` are kept."""

    def __init__(self, capacity: int, interval: int, n_params: int) -> None:
        self.capacity = max(3, min(capacity, PATH_BUDGET // max(n_params, 1)))
        self.interval = interval
        self.steps: list[int] = []
        self.kept: list[torch.Tensor] = []

    def offer(self, step: int, model: torch.nn.Module) -> None:
        if step % self.interval:
            return
        if len(self.steps) == self.capacity:
            self.steps, self.kept = self.steps[::2], self.kept[::2]
            self.interval *= 2
            if step % self.interval:
                return
        self.steps.append(step)
        self.kept.append(_flat(model))


def _flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1).float().cpu() for p in model.parameters() if p.requires_grad])


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _evaluate(task: UserTask, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    """(loss, accuracy or NaN) in eval mode on a held-out set."""
    model = task.model
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(inputs)
            loss = float(task.loss_fn(outputs, targets))
            accuracy = float((outputs.argmax(dim=1) == targets).float().mean()) if task.classification else math.nan
    finally:
        model.train(was_training)
    return loss, accuracy


def run(cfg: YourModelConfig) -> Iterator[YourModelFrame]:
    """Train the user's model on minibatches of its data; a frame at step 0, as the driver asks, and last."""
    device = resolve_device(cfg.device)
    limit = cfg.memory_limit_gb * 2**30 if cfg.memory_limit_gb else None
    task = load(resolve(cfg.model_path), cfg.weights or None, device, limit, cfg.seed)
    model, inputs, targets = task.model, task.inputs, task.targets
    trainable = [p for p in model.parameters() if p.requires_grad]
    weights = [i for i, p in enumerate(trainable) if p.ndim > 1] or list(range(len(trainable)))
    first, last = weights[0], weights[-1]  # a bias's gradient says little about the flow through a layer
    optimizer = make_optimizer(cfg.optimizer, trainable, cfg.lr)
    order = torch.Generator().manual_seed(cfg.seed + 1)
    n = len(inputs)
    curves = DecimatedHistory(HISTORY, 2)  # loss, accuracy
    validations = DecimatedHistory(HISTORY, 2)
    norms = DecimatedHistory(HISTORY, len(trainable))
    sharpness = DecimatedHistory(HISTORY, 1)
    recorder = _PathRecorder(cfg.path_points, cfg.path_every, task.n_params)
    initial = _state(model)
    pending: list[torch.Tensor] = []  # this frame's rows: loss, accuracy, norms (on the device)
    pending_steps: list[int] = []

    def frame(step: int, loss: float) -> YourModelFrame:
        values, grads = curves.values(), norms.values()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = grads[:, first] / grads[:, last] if grads.size else np.zeros(0)
        val = validations.values()
        snap = ModelSnapshot(task, step, _state(model), initial, np.array(recorder.steps, dtype=float),
                             tuple(recorder.kept))  # fmt: skip
        return YourModelFrame(
            step=step, loss=loss, total_steps=cfg.steps, model_file=task.path.name, loss_name=task.loss_name,
            classification=task.classification, parameter_names=task.parameter_names, n_params=task.n_params,
            steps=curves.steps(), losses=values[:, 0], accuracies=values[:, 1], val_steps=validations.steps(),
            val_losses=val[:, 0], val_accuracies=val[:, 1], grad_steps=norms.steps(), grad_norms=grads,
            first_last_ratio=ratio, ratio_pair=(task.parameter_names[first], task.parameter_names[last]),
            curvature_steps=sharpness.steps(), top_eigenvalues=sharpness.values()[:, 0],
            snapshot=snap,
        )  # fmt: skip

    latest = [math.nan]  # the last minibatch loss moved to the host

    def flush() -> float:
        """Move this frame's rows to the host in one copy; raise Diverged at the first non-finite loss."""
        if not pending:
            return latest[0]
        rows = torch.stack(pending).double().cpu().numpy()
        for step, row in zip(pending_steps, rows, strict=True):
            check_finite(step, loss=float(row[0]))
        curves.extend(np.array(pending_steps), rows[:, :2])
        norms.extend(np.array(pending_steps), np.maximum(rows[:, 2:], LOG_FLOOR))
        pending.clear()
        pending_steps.clear()
        latest[0] = float(rows[-1, 0])
        return latest[0]

    def validate(step: int) -> None:
        if task.validation is not None:
            validations.extend(np.array([step]), np.array([_evaluate(task, *task.validation)]))

    recorder.offer(0, model)
    validate(0)
    first_loss, _ = _evaluate(task, inputs[: min(n, 4096)], targets[: min(n, 4096)])
    clock = FrameClock(cfg.steps_per_frame, last=cfg.steps)
    clock.advance(0, (yield frame(0, first_loss)))
    for step in range(1, cfg.steps + 1):
        idx = torch.randint(n, (min(cfg.batch_size, n),), generator=order).to(inputs.device)
        xb, yb = inputs[idx], targets[idx]
        optimizer.zero_grad(set_to_none=True)
        outputs = model(xb)
        loss = task.loss_fn(outputs, yb)
        loss.backward()
        grads = exact_norms([p.grad if p.grad is not None else torch.zeros(()) for p in trainable])
        accuracy = (outputs.argmax(dim=1) == yb).float().mean() if task.classification else torch.tensor(math.nan)
        pending.append(torch.stack([loss.detach().double(), accuracy.double().to(loss.device),
                                    *(g.double().to(loss.device) for g in grads)]))  # fmt: skip
        pending_steps.append(step)
        optimizer.step()
        recorder.offer(step, model)
        if cfg.curvature_every and step % cfg.curvature_every == 0:
            flush()  # a diverged run stops before its Hessian is asked for
            top = curvature.top_eigenvalues(model, task.loss_fn, (xb, yb), k=1, seed=cfg.seed + step,
                                            max_steps=cfg.lanczos_steps)  # fmt: skip
            sharpness.extend(np.array([step]), np.array([[float(top[0])]]))
        if step % VALIDATE_EVERY == 0 or step == cfg.steps:  # by steps, not frames: the same in any split
            validate(step)
        if clock.due(step):
            clock.advance(step, (yield frame(step, flush())))
