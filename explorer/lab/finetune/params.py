"""The fine-tuning topic's parameters: one spec each, filling :class:`FinetuneConfig` by name (the source
network's under "pretrain.", the chosen strategies gathered into ``strategies``); the view and the inside
view's filters are display settings the view reads itself. Qt- and torch-free.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from explorer.lab.core.params import Param, config_from
from explorer.lab.finetune.config import (
    OPTIMIZERS,
    STRATEGIES,
    STRATEGY_LABELS,
    TARGETS,
    FinetuneConfig,
    PretrainConfig,
)

SOURCE_KEYS = ("blocks", "width", "pretrain_steps", "pretrain_seed")  # a change means another source network
DISPLAY_KEYS = ("filters_of",)  # a change redraws, nothing retrains
VIEW_CHOICES = ("training", "inside", "sweep")
VIEW_LABELS = ("Training", "Inside the network", "k-sweep")
_TIPS = {
    "scratch": "The same network from a random start, every layer training: what pretraining is worth",
    "linear_probe": "Only a new linear classifier on the frozen pretrained features",
    "top_k": "The classifier and the top k layers below it train; the rest stays frozen",
    "finetune": "Every layer trains, starting from the pretrained weights",
    "progressive": "Starts as a linear probe, then unfreezes one more layer, top down, every E epochs (ULMFiT)",
    "discriminative": "Every layer trains, each layer down at the rate of the one above divided by a constant (ULMFiT)",
}
_SOURCE, _TARGET, _STRATEGIES, _TRAINING = "Source network", "Target task", "Strategies", "Training"

PARAMS: tuple[Param, ...] = (
    Param("blocks", "blocks", "int", 6,
          "Residual blocks of the CNN (3x3 convolutions with batch norm); with the input conv, the layers "
          "below the classifier", bounds=(4, 8), group=_SOURCE, in_caption=True, field="pretrain.n_blocks"),
    Param("width", "width", "int", 8, "Channels of the first stage; the later stages have 2x and 4x",
          bounds=(4, 32), group=_SOURCE, field="pretrain.width"),
    Param("pretrain_steps", "pretraining steps", "int", 800,
          "Adam steps on the ten thin-pen digits (batch 64); trained once, then loaded from the cache",
          bounds=(100, 5000), group=_SOURCE, field="pretrain.steps"),
    Param("pretrain_seed", "pretraining seed", "int", 0, "Seed of the source images and the source network",
          bounds=(0, 2**31 - 1), group=_SOURCE, field="pretrain.seed"),
    Param("target", "target task", "choice", "shapes_thick", "What the pretrained network is fine-tuned for",
          choices=tuple(TARGETS), choice_labels=tuple(t.label for t in TARGETS.values()), group=_TARGET,
          in_caption=True),
    Param("n_per_class", "labelled per class", "int", 5,
          "Labelled target images per class: a small set is where pretraining matters", bounds=(5, 500),
          group=_TARGET, in_caption=True),
    Param("n_val_per_class", "held-out per class", "int", 50,
          "Held-out target images per class, for validation accuracy and CKA (at most 300 of them)",
          bounds=(10, 200), group=_TARGET),
    *(Param(key, STRATEGY_LABELS[key], "bool", True, _TIPS[key], group=_STRATEGIES, field="strategies[]")
      for key in STRATEGIES),
    Param("k", "k", "int", 2, "Layers below the classifier that top-k trains (0: linear probe)",
          bounds=(0, 9), parent="top_k", in_caption=True, field="top_k"),
    Param("unfreeze_every", "every E epochs", "int", 5, "Epochs between two unfreezings",
          bounds=(1, 100), parent="progressive"),
    Param("lr_decay", "rate ÷ per layer", "float", 2.6,
          "Each layer learns this many times slower than the one above (2.6 in ULMFiT)", bounds=(1.0, 10.0),
          parent="discriminative"),
    Param("optimizer", "optimizer", "choice", "adam", "Adam, or SGD with momentum 0.9", choices=OPTIMIZERS,
          group=_TRAINING),
    Param("lr", "learning rate η", "float", 1e-2,
          "Base rate of the layers below the classifier, cosine-decayed to 0 over the run", bounds=(1e-5, 1.0),
          log=True, group=_TRAINING, in_caption=True),
    Param("head_lr_scale", "classifier rate ×", "float", 10.0,
          "The new classifier starts from random weights and learns this many times faster than η",
          bounds=(0.1, 100.0), log=True, group=_TRAINING),
    Param("batch_size", "batch size", "int", 16, "Labelled images per step", bounds=(4, 256), group=_TRAINING),
    Param("epochs", "epochs", "int", 50, "Passes over the labelled set", bounds=(1, 500), group=_TRAINING,
          in_caption=True),
    Param("steps_per_frame", "steps per frame", "int", 2, "Training steps between redraws: higher is faster",
          bounds=(1, 100), group=_TRAINING),
    Param("eval_every", "evaluate every (epochs)", "int", 2,
          "Epochs between two evaluations of every strategy on the labelled and held-out images (each costs a "
          "forward pass over them per strategy); the last epoch is always evaluated", bounds=(1, 100),
          group=_TRAINING),
    Param("cka_every", "CKA every (evaluations)", "int", 5,
          "Evaluations between two CKA measurements (each costs a few passes); the last evaluation has one",
          bounds=(1, 100), group=_TRAINING),
    Param("seed", "seed", "int", 0,
          "Seed of the target images, the new classifier (and the scratch network) and the minibatch order",
          bounds=(0, 2**31 - 1), group=_TRAINING),
    Param("view", "view", "choice", "training", "Which of the three pictures is shown", choices=VIEW_CHOICES,
          choice_labels=VIEW_LABELS, field=""),
    Param("filters_of", "filters of", "choice", "finetune", "Whose first-layer filters the inside view shows",
          choices=STRATEGIES, choice_labels=tuple(STRATEGY_LABELS[s] for s in STRATEGIES), field=""),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config :data:`PARAMS` fills, at the lab's own defaults (the source network's is nested in it)."""
    return {"": FinetuneConfig()}


def finetune_config(values: dict[str, Any], device: str) -> FinetuneConfig:
    """The lab config of these values; its ValueError says, in one line for the banner, what does not fit."""
    return config_from(FinetuneConfig, PARAMS, values, device=device)


def pretrain_config(values: dict[str, Any]) -> PretrainConfig:
    """The source network these values ask for: what decides whether the cached one still serves."""
    return config_from(PretrainConfig, PARAMS, values, scope="pretrain")


def check_values(values: dict[str, Any], given: set[str]) -> None:
    """Constraints between parameters, on the whole set (k against the blocks, at least one strategy): the
    config's own checks, so that the command line refuses what the lab would."""
    finetune_config(values, "cpu")


def sweep_relevant(cfg: FinetuneConfig) -> FinetuneConfig:
    """What a k-sweep's result depends on: the same for two configs means the sweep still holds."""
    return replace(cfg, strategies=STRATEGIES, top_k=0, unfreeze_every=1, lr_decay=1.0, steps_per_frame=1,
                   eval_every=1, cka_every=1, device="")  # fmt: skip
