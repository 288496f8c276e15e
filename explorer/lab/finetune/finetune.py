"""Fine-tuning: which layers of a pretrained network to retrain on a new task, and what each choice costs.

Yosinski et al. (2014, "How transferable are features in deep neural networks?") found that the first
layers of a convolutional network learn generic features (edges, strokes) and the last layers features
specific to the task it was trained on. So a network pretrained on one task starts a related task with
its generic layers already useful; what to retrain is a choice between accuracy, overfitting and cost:
a linear probe trains only a new classifier, top-k trains the top k layers too, full fine-tuning
trains everything. Howard & Ruder (2018, ULMFiT, Sec. 3.2-3.3) add progressive unfreezing (one more
layer every few epochs, top down) and discriminative learning rates (each layer down gets the rate of
the one above divided by a constant, 2.6 in the paper). Kornblith et al. (2019, "Similarity of Neural
Network Representations Revisited") compare the layers of two networks with linear CKA.

Here a small residual CNN is pretrained on ten stroke-drawn digits (cached on disk, keyed by its
config) and fine-tuned on a target task with a domain shift: new classes (six shapes) and/or another
rendering (thicker pen, inverted contrast), from a small labelled set. This module is the plain-Python
API and imports no torch until a function runs:

    from explorer.lab.finetune import finetune
    from explorer.lab.core.protocol import run_job
    cfg = finetune.FinetuneConfig()
    pretrained = run_job(finetune.pretrain(cfg.pretrain))     # trains once, then loads from the cache
    curves = finetune.fit(cfg, "top_k", pretrained)            # one strategy: a StrategyState with curves
    sweep = run_job(finetune.k_sweep(cfg, pretrained))         # accuracy, parameters, ms per step vs k
    for frame in finetune.run(cfg, pretrained): ...            # all chosen strategies, live

Defaults, measured (seeds 0-5, one CPU thread): held-out accuracy 0.50 from scratch, 0.73 for the
linear probe, 0.92 for the top 2 layers and 0.92 for full fine-tuning, at 4.3 and 8.1 ms per step;
pretraining takes 16-25 s on one core (``benchmarks/finetune.py``; more in ``resources/notes/finetune.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from explorer.lab.core.protocol import Job
from explorer.lab.finetune.config import (
    OPTIMIZERS,
    STRATEGIES,
    STRATEGY_LABELS,
    TARGETS,
    FinetuneConfig,
    FinetuneFrame,
    KSweep,
    PretrainConfig,
    Pretrained,
    StrategyState,
    Target,
    unit_names,
)

__all__ = [
    "OPTIMIZERS",
    "STRATEGIES",
    "STRATEGY_LABELS",
    "TARGETS",
    "FinetuneConfig",
    "FinetuneFrame",
    "KSweep",
    "PretrainConfig",
    "Pretrained",
    "StrategyState",
    "Target",
    "cache_dir",
    "fit",
    "k_sweep",
    "pretrain",
    "run",
    "unit_names",
]


def cache_dir() -> Path:
    """Where pretrained weights are kept: $LOSS_EXPLORER_CACHE, else the platform's user cache folder."""
    from explorer.lab.finetune.finetune_pretrain import cache_dir as _cache_dir

    return _cache_dir()


def pretrain(cfg: PretrainConfig, device: str = "cpu") -> Job[Pretrained]:
    """Load the source network from the cache, or train it (yielding Progress) and cache it."""
    from explorer.lab.finetune.finetune_pretrain import pretrain_job

    return pretrain_job(cfg, device)


def fit(cfg: FinetuneConfig, strategy: str, pretrained: Pretrained | None = None) -> StrategyState:
    """Train one strategy for ``cfg.epochs`` and return its final state with its whole curves.

    Same data, initialisation and minibatches as that strategy gets in :func:`run`.
    """
    from explorer.lab.finetune.finetune_train import fit_strategy

    return fit_strategy(cfg, strategy, pretrained)


def k_sweep(cfg: FinetuneConfig, pretrained: Pretrained | None = None) -> Job[KSweep]:
    """Top-k fine-tuning for every k, and training from scratch as the reference; Progress after each."""
    from explorer.lab.finetune.finetune_sweep import sweep_job

    return sweep_job(cfg, pretrained)


def run(cfg: FinetuneConfig, pretrained: Pretrained | None = None) -> Iterator[FinetuneFrame]:
    """All of ``cfg.strategies`` on the same minibatches: a frame at step 0, then every few steps."""
    from explorer.lab.finetune.finetune_train import run_strategies

    return run_strategies(cfg, pretrained)
