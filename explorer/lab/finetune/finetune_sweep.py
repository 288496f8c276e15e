"""The k-sweep: fine-tune the top k layers for every k, and train from scratch as the reference.

Each run uses the data, classifier initialisation and minibatches of the live run, for ``cfg.epochs``,
and is evaluated once, at the end. Time per step is the lower quartile of the run's step times after a
short warm-up (the first steps allocate the optimizer state and the autograd buffers): wall time on the
CPU, after a synchronisation on CUDA. Other processes on a shared machine only ever add time to a step,
so the low end of the distribution is the step's own cost and the median would partly time neighbours.
What a frozen layer saves is its backward pass and its optimizer update; its forward pass remains.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from explorer.lab.core.protocol import Job, Progress
from explorer.lab.core.training import resolve_device
from explorer.lab.finetune.config import FinetuneConfig, KSweep, Pretrained
from explorer.lab.finetune.finetune_train import Learner, TargetTask, batch_seed, resolve_pretrained, target_task

WARM_UP = 3  # steps left out of the time per step
PROGRESS_EVERY = 25  # steps between two progress reports (and two chances to cancel)


def _train_to_end(
    learner: Learner, cfg: FinetuneConfig, task: TargetTask, device: torch.device, report: tuple[int, int, str]
) -> Job[tuple[float, float]]:
    """Train ``learner`` for all of ``cfg``'s steps; return (train accuracy, validation accuracy)."""
    done_runs, n_runs, message = report
    order = torch.Generator().manual_seed(batch_seed(cfg))
    spe, total = cfg.steps_per_epoch, cfg.total_steps
    perm = torch.zeros(0, dtype=torch.int64)
    learner.begin_epoch(0)
    for step in range(total):
        if step % spe == 0:
            perm = torch.randperm(len(task.x), generator=order).to(device)
        idx = perm[(step % spe) * cfg.batch_size : (step % spe + 1) * cfg.batch_size]
        learner.step(idx, step)
        if (step + 1) % spe == 0:
            learner.begin_epoch((step + 1) // spe)
        if (step + 1) % PROGRESS_EVERY == 0:
            learner.check(step + 1)
            yield Progress((done_runs + (step + 1) / total) / n_runs, message)
    learner.check(total)
    learner.evaluate(cfg.epochs)
    last = learner.history.values()[-1]
    return float(last[0]), float(last[1])


def sweep_job(cfg: FinetuneConfig, pretrained: Pretrained | None = None) -> Job[KSweep]:
    """k = 0 (linear probe) .. all layers, then from scratch; Progress with the partial KSweep after each."""
    device = resolve_device(cfg.device)
    pretrained = resolve_pretrained(cfg, pretrained)
    task = target_task(cfg, device)
    n_feature = cfg.n_feature_layers
    ks = list(range(n_feature + 1))
    columns: dict[str, list[float]] = {"val": [], "train": [], "params": [], "ms": []}
    timing = cfg.total_steps > WARM_UP  # a run too short to time leaves NaN

    def result(scratch: tuple[float, float, int, float] | None = None) -> KSweep:
        n = len(columns["val"])
        sweep = KSweep(
            ks=np.asarray(ks[:n], dtype=np.int64),
            val_accuracy=np.asarray(columns["val"]),
            train_accuracy=np.asarray(columns["train"]),
            n_trainable=np.asarray(columns["params"], dtype=np.int64),
            ms_per_step=np.asarray(columns["ms"]),
            n_feature_layers=n_feature,
            config=cfg,
        )
        if scratch is None:
            return sweep
        return replace(sweep, scratch_train_accuracy=scratch[0], scratch_val_accuracy=scratch[1],
                       scratch_n_trainable=scratch[2], scratch_ms_per_step=scratch[3])  # fmt: skip

    n_runs = len(ks) + 1
    for i, k in enumerate(ks):
        learner = Learner("top_k", cfg, pretrained, task, device, k=k, timed_steps=None)
        what = "linear probe" if k == 0 else f"top {k} of {n_feature} layers"
        train_acc, val_acc = yield from _train_to_end(learner, cfg, task, device, (i, n_runs, f"k-sweep: {what}"))
        columns["val"].append(val_acc)
        columns["train"].append(train_acc)
        columns["params"].append(learner.n_trainable())
        columns["ms"].append(learner.ms_per_step(WARM_UP) if timing else math.nan)
        yield Progress((i + 1) / n_runs, f"k-sweep: {what} done, validation accuracy {val_acc:.0%}", partial=result())
    learner = Learner("scratch", cfg, pretrained, task, device, timed_steps=None)
    report = (len(ks), n_runs, "k-sweep: from scratch")
    train_acc, val_acc = yield from _train_to_end(learner, cfg, task, device, report)
    scratch = (train_acc, val_acc, learner.n_trainable(), learner.ms_per_step(WARM_UP) if timing else math.nan)
    final = result(scratch)
    yield Progress(1.0, "k-sweep done", partial=final)
    return final
