"""One fine-tuning strategy at work, and all the chosen ones trained side by side on the same minibatches.

A :class:`Learner` is a target network (pretrained features and a new classifier, or all fresh for
"from scratch"), its frozen/trainable mask (see :mod:`explorer.lab.finetune.freezing`), an optimizer over the
trainable units only, and its curves. Every learner of a run starts its classifier from the same
seeded weights and sees the same minibatches, so their curves differ only by the strategy.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from explorer.lab.core.history import DecimatedHistory
from explorer.lab.core.protocol import FrameClock, check_finite, run_job
from explorer.lab.core.training import resolve_device
from explorer.lab.finetune import freezing
from explorer.lab.finetune.cka import centred_gram, cka_from_grams
from explorer.lab.finetune.config import TARGETS, FinetuneConfig, FinetuneFrame, Pretrained, StrategyState, unit_names
from explorer.lab.finetune.finetune_pretrain import net_config, pretrain_job
from models import BlockNet, build_net, glyphs

T = TypeVar("T")

EVAL_TRAIN = 300  # labelled images the training accuracy is measured on (all of a small set)
CKA_SAMPLES = 300  # validation images of the CKA comparison: its Gram matrices are n x n
HISTORY = 2048  # evaluations kept per curve over the whole run
TIMED_STEPS = 64  # recent steps the live ms per step is taken over
STEP_TIME_QUANTILE = 25  # percent: load from other processes only ever adds time, so the low end is the cost


@dataclass(frozen=True)
class TargetTask:
    x: torch.Tensor  # (n_train, 1, 16, 16) labelled images
    y: torch.Tensor  # (n_train,) labels 0..K-1
    x_val: torch.Tensor
    y_val: torch.Tensor
    n_classes: int

    @property
    def y_fit(self) -> torch.Tensor:
        return self.y[:EVAL_TRAIN]

    @property
    def x_cka(self) -> torch.Tensor:
        return self.x_val[:CKA_SAMPLES]


def conv_layout(device: torch.device) -> torch.memory_format:
    """The memory layout the fine-tuning network and its images take on ``device``.

    Channels-last on a CPU: oneDNN's 3x3 convolutions over 8-32 channels then skip a reorder per call,
    which made a training step about 1.15x faster (one core; an evaluation gained little).
    A GPU keeps the default layout, where it was not measured.
    """
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def target_task(cfg: FinetuneConfig, device: torch.device) -> TargetTask:
    """The small labelled set and the held-out set of the target task (shuffled, seeded, disjoint draws)."""
    target = TARGETS[cfg.target]
    train_seed, val_seed = (int(s) for s in np.random.SeedSequence([cfg.seed, 0x7A26]).generate_state(2))
    sets = []
    for n, seed in ((cfg.n_per_class, train_seed), (cfg.n_val_per_class, val_seed)):
        X, y = glyphs(n, seed, noise=cfg.pretrain.noise, style=target.style, classes=target.classes)
        y = np.searchsorted(target.classes, y)  # glyph indices -> 0..K-1
        images = torch.as_tensor(X, device=device).contiguous(memory_format=conv_layout(device))
        sets += [images, torch.as_tensor(y, device=device)]
    return TargetTask(*sets, n_classes=len(target.classes))


def batch_seed(cfg: FinetuneConfig) -> int:
    return int(np.random.SeedSequence([cfg.seed, 0xBA7C]).generate_state(1)[0])


def target_net(cfg: FinetuneConfig, pretrained: Pretrained | None, n_classes: int, device: torch.device) -> BlockNet:
    """A network for the target task from ``cfg.seed``, with every pretrained weight but the classifier's."""
    net = build_net(net_config(cfg.pretrain, n_classes), cfg.seed, device).to(memory_format=conv_layout(device))
    if pretrained is not None:
        classifier = freezing.units(net)[-1][0]
        prefix = next(name for name, module in net.named_modules() if module is classifier) + "."
        state = {k: v for k, v in pretrained.state.items() if not k.startswith(prefix)}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith(prefix) for k in missing):
            raise ValueError("the pretrained weights do not fit this network")
    return net


def run_units(units: list[list[nn.Module]], h: torch.Tensor) -> torch.Tensor:
    """``h`` through the given units in order: a slice of the network's forward pass."""
    for unit in units:
        for module in unit:
            h = module(h)
    return h


def representations(net: BlockNet, x: torch.Tensor, first: int = 0) -> list[torch.Tensor]:
    """Output of each unit below the classifier from unit ``first`` on (the top one's after the head's norm
    and pooling); ``x`` is the input of unit ``first``.

    Leaves the network in eval mode: a forward pass in training mode would move batch-norm statistics.
    """
    net.eval()
    out, h = [], x
    with torch.no_grad():
        for unit in freezing.units(net)[first:-1]:
            h = run_units([unit], h)
            out.append(h)
    return out


def evaluate(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor, chunk: int = 1000
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``forward`` (a network, or its top units on cached features)."""
    loss, correct = torch.zeros((), device=x.device), torch.zeros((), device=x.device)
    with torch.inference_mode():  # no autograd bookkeeping at all: ~15% faster than no_grad here
        for i in range(0, len(x), chunk):
            logits = forward(x[i : i + chunk])
            loss += F.cross_entropy(logits, y[i : i + chunk], reduction="sum")
            correct += (logits.argmax(dim=1) == y[i : i + chunk]).sum()
    both = torch.stack([loss, correct]).cpu().numpy() / len(x)  # one host copy
    return float(both[0]), float(both[1])


class Learner:
    """One strategy: its network, which units train and how fast, its optimizer and its curves.

    The frozen units at the bottom compute a fixed function (eval mode, no gradient, not in the optimizer),
    so their output on the task's images is computed once per frozen depth and kept: a step and an
    evaluation run only the units above it. A linear probe then costs a linear layer, as it does in
    practice; the results are those of the whole network, which a test checks.
    """

    def __init__(
        self, strategy: str, cfg: FinetuneConfig, pretrained: Pretrained, task: TargetTask, device: torch.device,
        k: int | None = None, timed_steps: int | None = TIMED_STEPS,
    ) -> None:  # fmt: skip
        self.strategy = strategy
        self.cfg = cfg if k is None else replace(cfg, top_k=k)
        self.device = device
        self.task = task
        self.net = target_net(cfg, None if strategy == "scratch" else pretrained, task.n_classes, device)
        self.units = freezing.units(self.net)
        n_units = len(self.units)
        self.n_feature = n_units - 1
        decay = cfg.lr_decay if strategy == "discriminative" else 1.0
        self.scales = freezing.lr_scales(n_units, cfg.head_lr_scale, decay)
        if strategy in ("linear_probe", "progressive"):
            self.mask = freezing.top_k_mask(n_units, 0)
        elif strategy == "top_k":
            self.mask = freezing.top_k_mask(n_units, self.cfg.top_k)
        else:
            self.mask = np.ones(n_units, dtype=bool)
        freezing.set_trainable(self.net, self.mask)
        groups = freezing.param_groups(self.net, self.mask, cfg.lr, self.scales)
        self.optimizer = freezing.make_optimizer(cfg.optimizer, groups, cfg.lr)
        self.unit_params = freezing.parameter_counts(self.net)
        self.weights = [freezing.unit_weights(u) for u in self.units]  # the live tensors, updated in place
        self.initial = [[w.detach().clone() for w in unit] for unit in self.weights]
        self.initial_filters = self._filters()
        self.history = DecimatedHistory(HISTORY, 4)  # train acc, val acc, train loss, val loss
        self.pending: list[torch.Tensor] = []  # this frame's minibatch losses, on the device
        self.times: deque[float] = deque(maxlen=timed_steps)  # None: every step
        self.cka = np.full(self.n_feature, np.nan)
        self._below: tuple[int, torch.Tensor, torch.Tensor] | None = None  # (depth, train, validation)

    @property
    def label(self) -> str:
        return self.cfg.label(self.strategy)

    def begin_epoch(self, epoch: int) -> None:
        """Progressive unfreezing opens the next unit down when ``epoch`` reaches its turn."""
        if self.strategy != "progressive":
            return
        opened = int(self.mask[:-1].sum())
        for depth in range(opened, freezing.progressive_k(epoch, self.cfg.unfreeze_every, self.n_feature)):
            unit = self.n_feature - 1 - depth
            freezing.unfreeze(self.net, self.optimizer, unit, self.cfg.lr * self.scales[unit])
            self.mask[unit] = True

    @property
    def frozen_depth(self) -> int:
        """How many units at the bottom are frozen (the classifier always trains)."""
        return int(np.argmax(self.mask))

    def below(self) -> tuple[int, torch.Tensor, torch.Tensor]:
        """(depth, training images, validation images) as the input of the lowest trainable unit."""
        depth = self.frozen_depth
        if self._below is None or self._below[0] != depth:
            frozen = self.units[:depth]
            for unit in frozen:
                for module in unit:
                    module.eval()
            with torch.no_grad():
                self._below = (depth, run_units(frozen, self.task.x), run_units(frozen, self.task.x_val))
        return self._below

    def _top(self, h: torch.Tensor) -> torch.Tensor:
        return run_units(self.units[self.frozen_depth :], h)

    def step(self, idx: torch.Tensor, step: int) -> None:
        """Update ``step`` (of cfg.total_steps, which sets the learning rate) on the training images
        ``idx``, timed."""
        started = time.perf_counter()
        freezing.set_lr_factor(self.optimizer, freezing.cosine_factor(step, self.cfg.total_steps))
        _, x, _ = self.below()
        freezing.set_train_mode(self.net, self.mask)
        loss = F.cross_entropy(self._top(x[idx]), self.task.y[idx])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.times.append(time.perf_counter() - started)
        self.pending.append(loss.detach())

    def check(self, last_step: int) -> float:
        """Raise Diverged at the first non-finite loss since the last frame; return the latest loss."""
        if not self.pending:
            return float("nan")
        losses = torch.stack(self.pending).cpu().numpy()
        self.pending.clear()
        for i, value in enumerate(losses):
            check_finite(last_step - len(losses) + 1 + i, **{f"{self.label} training loss": float(value)})
        return float(losses[-1])

    def evaluate(self, epoch: float) -> None:
        """Append (train accuracy, validation accuracy, train loss, validation loss) in eval mode."""
        _, x, x_val = self.below()
        self.net.eval()
        train_loss, train_acc = evaluate(self._top, x[:EVAL_TRAIN], self.task.y_fit)
        val_loss, val_acc = evaluate(self._top, x_val, self.task.y_val)
        self.history.extend(np.array([epoch]), np.array([[train_acc, val_acc, train_loss, val_loss]]))

    def measure_cka(self, reference: list[torch.Tensor]) -> None:
        """Linear CKA of each feature layer with the pretrained network's, on the CKA images.

        A frozen unit computes the pretrained function itself on the same images, so its CKA is exactly 1;
        only the units from the lowest trainable one up are measured.
        """
        if self.strategy == "scratch":
            return  # not a fine-tuned copy of the pretrained network
        depth, _, x_val = self.below()
        above = representations(self.net, x_val[:CKA_SAMPLES], first=depth)
        measured = [cka_from_grams(centred_gram(h), ref) for h, ref in zip(above, reference[depth:], strict=True)]
        self.cka = np.array([1.0] * depth + measured)

    def ms_per_step(self, skip: int = 0) -> float:
        """Lower quartile of the timed steps (after the first ``skip``), in milliseconds."""
        times = list(self.times)[skip:]
        return 1e3 * float(np.percentile(times, STEP_TIME_QUANTILE)) if times else float("nan")

    def n_trainable(self) -> int:
        """Parameters in the trainable units (set_trainable freezes whole units)."""
        return int(self.unit_params[self.mask].sum())

    def _filters(self) -> np.ndarray:
        return self.net.stem.weight.detach()[:, 0].cpu().numpy().copy()  # (C, 1, 3, 3) -> (C, 3, 3)

    def state(self) -> StrategyState:
        values = self.history.values()  # (T, 4)
        return StrategyState(
            strategy=self.strategy,
            label=self.label,
            trainable=self.mask.copy(),
            lr_scale=np.where(self.mask, self.scales, 0.0),
            n_trainable=self.n_trainable(),
            epochs=self.history.steps(),
            train_accuracy=values[:, 0],
            val_accuracy=values[:, 1],
            train_loss=values[:, 2],
            val_loss=values[:, 3],
            weight_change=freezing.weight_change(self.weights, self.initial),
            cka=self.cka.copy(),
            ms_per_step=self.ms_per_step(),
            filters=self._filters(),
            initial_filters=self.initial_filters,
        )


def reference_grams(cfg: FinetuneConfig, pretrained: Pretrained, task: TargetTask, device: torch.device) -> list:
    """Centred Gram matrices of the pretrained network's layers on the CKA images, computed once."""
    net = target_net(cfg, pretrained, task.n_classes, device)
    return [centred_gram(h) for h in representations(net, task.x_cka)]


def unit_shapes(net: BlockNet, x: torch.Tensor) -> tuple[str, ...]:
    """Each unit's output shape for one image: "C×H×W", then the classifier's number of classes."""
    shapes = [h.shape[1:] for h in representations(net, x[:1])]
    return (*("×".join(str(d) for d in s) for s in shapes), str(net.head[-1].out_features))


def resolve_pretrained(cfg: FinetuneConfig, pretrained: Pretrained | None) -> Pretrained:
    if pretrained is None:
        return run_job(pretrain_job(cfg.pretrain, cfg.device))
    if pretrained.config != cfg.pretrain:
        raise ValueError("these pretrained weights were trained for another source network")
    return pretrained


def run_strategies(cfg: FinetuneConfig, pretrained: Pretrained | None = None) -> Iterator[FinetuneFrame]:
    """Train every strategy of ``cfg`` in lock-step; frame at step 0, every ``steps_per_frame`` steps, and last."""
    device = resolve_device(cfg.device)
    pretrained = resolve_pretrained(cfg, pretrained)
    task = target_task(cfg, device)
    learners = [Learner(s, cfg, pretrained, task, device) for s in cfg.strategies]
    reference = reference_grams(cfg, pretrained, task, device) if set(cfg.strategies) - {"scratch"} else []
    probe = learners[0].net
    static = {
        "total_epochs": cfg.epochs,
        "steps_per_epoch": cfg.steps_per_epoch,
        "unit_names": unit_names(cfg.pretrain.n_blocks),
        "unit_params": freezing.parameter_counts(probe),
        "unit_shapes": unit_shapes(probe, task.x),
        "n_train": len(task.x),
        "n_val": len(task.x_val),
        "target": cfg.target,
    }
    order = torch.Generator().manual_seed(batch_seed(cfg))
    spe, total = cfg.steps_per_epoch, cfg.total_steps

    with ThreadPoolExecutor(learner_threads(len(learners), device)) as pool:

        def each(work: Callable[[Learner], T]) -> list[T]:
            """``work`` on every learner, side by side on the pool's threads; their errors are raised here."""
            return list(pool.map(work, learners))

        def frame(step: int, loss: float, cka_epoch: float) -> FinetuneFrame:
            states = tuple(each(Learner.state))
            return FinetuneFrame(step=step, epoch=step / spe, loss=loss, strategies=states, cka_epoch=cka_epoch,
                                 **static)  # fmt: skip

        for learner in learners:
            learner.begin_epoch(0)
        each(lambda learner: learner.evaluate(0.0))
        if reference:
            each(lambda learner: learner.measure_cka(reference))
        cka_epoch = 0.0 if reference else float("nan")
        clock = FrameClock(cfg.steps_per_frame, last=total)
        first_loss = float(np.mean([learner.history.values()[-1, 2] for learner in learners]))
        clock.advance(0, (yield frame(0, first_loss, cka_epoch)))
        perm = torch.zeros(0, dtype=torch.int64)
        evaluations = 0
        for step in range(total):
            if step % spe == 0:
                perm = torch.randperm(len(task.x), generator=order).to(device)
            idx = perm[(step % spe) * cfg.batch_size : (step % spe + 1) * cfg.batch_size]
            each(lambda learner: learner.step(idx, step))  # noqa: B023 (runs before the loop moves on)
            done = step + 1
            if done % spe == 0 and done < total:
                for learner in learners:
                    learner.begin_epoch(done // spe)
            # evaluation on a cadence of its own, in epochs: in the window a frame may be a single step,
            # and six evaluations on the held-out set cost more than a step
            if done % (cfg.eval_every * spe) == 0 or done == total:
                evaluations += 1
                each(lambda learner: learner.evaluate(done / spe))  # noqa: B023
                if reference and (evaluations % cfg.cka_every == 0 or done == total):
                    each(lambda learner: learner.measure_cka(reference))
                    cka_epoch = done / spe
            if clock.due(done):
                loss = float(np.mean([learner.check(done) for learner in learners]))
                clock.advance(done, (yield frame(done, loss, cka_epoch)))


def learner_threads(n_learners: int, device: torch.device) -> int:
    """How many learners train at once on a CPU: as many as the cores that torch's own intra-op threads
    leave, so the two kinds of parallelism never oversubscribe the machine. On one core (or a GPU, whose
    kernels queue anyway) it is one: the learners then take turns.

    A small network's step is mostly many short kernels, which a second core speeds up little within one
    learner but fully across learners (each torch kernel releases Python's interpreter lock).
    """
    if device.type != "cpu":
        return 1
    return max(1, min(n_learners, (os.cpu_count() or 1) // max(1, torch.get_num_threads())))


def fit_strategy(cfg: FinetuneConfig, strategy: str, pretrained: Pretrained | None = None) -> StrategyState:
    """The last frame of a run with ``strategy`` alone: same data, weights and minibatches as in a full run."""
    last = None
    for last in run_strategies(replace(cfg, strategies=(strategy,)), pretrained):  # noqa: B007
        pass
    assert last is not None
    return last.strategies[0]
