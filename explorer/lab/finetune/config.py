"""Fine-tuning's configs, results and constants: plain data that every fine-tuning module shares."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

if TYPE_CHECKING:  # the one Optimizer name; importing it at run time would load torch with the config
    from explorer.lab.core.training import Optimizer

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
    "unit_names",
]

Strategy = Literal["scratch", "linear_probe", "top_k", "finetune", "progressive", "discriminative"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
STRATEGY_LABELS = {
    "scratch": "from scratch",
    "linear_probe": "linear probe",
    "top_k": "top-k layers",
    "finetune": "full fine-tuning",
    "progressive": "progressive unfreezing",
    "discriminative": "discriminative rates",
}
OPTIMIZERS: tuple[str, ...] = ("adam", "sgd")  # the choices in the panel's order: Adam, the default, first
CACHE_FORMAT = 1  # bump when the saved layout or the source task changes: old files are then retrained


@dataclass(frozen=True)
class Target:
    """A target task: which glyph classes (indices into models.GLYPH_NAMES), drawn in which pen style."""

    label: str
    classes: tuple[int, ...]
    style: str


SHAPES = tuple(range(10, 16))  # plus, times, triangle, square, diamond, hourglass
DIGITS = tuple(range(10))
TARGETS: dict[str, Target] = {
    "shapes_thick": Target("six new shapes, thick pen", SHAPES, "thick"),
    "shapes": Target("six new shapes, same pen", SHAPES, "plain"),
    "digits_thick": Target("same digits, thick pen", DIGITS, "thick"),
    "digits_inverted": Target("same digits, inverted contrast", DIGITS, "inverted"),
}
SOURCE_LABEL = "ten digits, thin pen"


def unit_names(n_blocks: int) -> tuple[str, ...]:
    """The fine-tuning units, input first: the input convolution, each block, the new classifier."""
    return ("input conv", *(f"block {i + 1}" for i in range(n_blocks)), "classifier")


@dataclass(frozen=True)
class PretrainConfig:
    """The source network (a residual CNN with batch norm) and how it learns the source task."""

    n_blocks: int = 6
    width: int = 8  # channels of the first stage; later stages have 2x and 4x
    n_per_class: int = 300  # source training images per digit
    steps: int = 800
    batch_size: int = 64
    lr: float = 3e-3  # Adam, warmed up over 5% of the steps, then cosine-decayed to 0
    noise: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.n_blocks <= 16 or not 1 <= self.width <= 64:
            raise ValueError(f"need 1-16 blocks of width 1-64, got {self.n_blocks} x {self.width}")
        if min(self.n_per_class, self.steps, self.batch_size) < 1 or not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError("n_per_class, steps, batch_size and lr must be positive")

    def cache_key(self) -> str:
        """A short hash of everything that decides the pretrained weights (and of the file layout)."""
        text = json.dumps({"format": CACHE_FORMAT, "source": SOURCE_LABEL, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class FinetuneConfig:
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    target: str = "shapes_thick"
    n_per_class: int = 5  # labelled target images per class
    n_val_per_class: int = 50  # held-out target images per class
    strategies: tuple[str, ...] = STRATEGIES
    top_k: int = 2  # layers below the classifier that "top_k" trains (0 = linear probe)
    unfreeze_every: int = 5  # epochs between two unfreezings of "progressive"
    lr_decay: float = 2.6  # "discriminative": each layer down learns this much slower
    optimizer: Optimizer = "adam"
    lr: float = 1e-2  # of the layers below the classifier; cosine-decayed to 0 over the run
    head_lr_scale: float = 10.0  # the new classifier learns this much faster (it starts from random)
    batch_size: int = 16
    epochs: int = 50
    steps_per_frame: int = 2
    eval_every: int = 2  # epochs between two evaluations of every strategy (and the last step has one)
    cka_every: int = 5  # evaluations between two CKA measurements; the last evaluation has one
    seed: int = 0  # target data, classifier (and scratch) initialisation, minibatch order
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        if not self.strategies:
            raise ValueError("Choose at least one strategy to train")
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown or len(set(self.strategies)) != len(self.strategies):
            raise ValueError(f"strategies must be distinct names from {', '.join(STRATEGIES)}, got {self.strategies}")
        if not 0 <= self.top_k <= self.n_feature_layers:
            raise ValueError(
                f"k must be between 0 and blocks + 1 = {self.n_feature_layers} (the input conv and "
                f"{self.pretrain.n_blocks} blocks), got k={self.top_k}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        sizes = (self.n_per_class, self.n_val_per_class, self.unfreeze_every, self.batch_size, self.epochs,
                 self.steps_per_frame, self.eval_every, self.cka_every)  # fmt: skip
        if min(sizes) < 1:
            raise ValueError("sizes, epochs and intervals must be positive")
        rates = (self.lr, self.lr_decay, self.head_lr_scale)
        if not (all(math.isfinite(r) for r in rates) and self.lr > 0 and self.lr_decay >= 1 and self.head_lr_scale > 0):
            raise ValueError("lr and head_lr_scale must be positive and lr_decay at least 1")

    @property
    def n_feature_layers(self) -> int:
        """Layers below the classifier: the input convolution and the blocks."""
        return self.pretrain.n_blocks + 1

    @property
    def n_train(self) -> int:
        return self.n_per_class * len(TARGETS[self.target].classes)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def label(self, strategy: str) -> str:
        """The strategy's name with its setting, as a legend shows it."""
        if strategy == "top_k":
            return f"top {self.top_k} layer{'s' if self.top_k != 1 else ''}"
        if strategy == "progressive":
            return f"progressive /{self.unfreeze_every} ep."
        if strategy == "discriminative":
            return f"discriminative ÷{self.lr_decay:g}"
        return STRATEGY_LABELS[strategy]


@dataclass(frozen=True)
class Pretrained:
    """The source network after pretraining, as loaded from the cache or just trained."""

    config: PretrainConfig
    state: dict[str, Any]  # the source network's state dict, CPU tensors
    source_val_accuracy: float  # on 50 held-out digits per class
    history: np.ndarray  # (T, 3) step, minibatch loss, minibatch accuracy during pretraining
    seconds: float  # how long the pretraining took (when it ran, possibly on an earlier day)
    from_cache: bool
    note: str = ""  # why the cache was not used or not written, for the status line

    def describe(self) -> str:
        done = "loaded from the cache" if self.from_cache else f"trained in {self.seconds:.0f} s"
        cfg = self.config
        return (f"Source: {cfg.n_blocks} blocks, width {cfg.width}, {cfg.steps} steps on {SOURCE_LABEL}: "
                f"{self.source_val_accuracy:.1%} held-out accuracy ({done})")  # fmt: skip


@dataclass(frozen=True)
class StrategyState:
    """One strategy's network at a frame: what trains, its curves, how far each layer moved."""

    strategy: str
    label: str
    trainable: np.ndarray  # (n_units,) bool: input conv, blocks, classifier
    lr_scale: np.ndarray  # (n_units,) learning rate relative to the base rate, 0 where frozen
    n_trainable: int  # parameters that receive gradients now
    epochs: np.ndarray  # (T,) float64, epoch of each evaluation (decimated over long runs)
    train_accuracy: np.ndarray  # (T,) on the labelled set (at most 300 images of it), eval mode
    val_accuracy: np.ndarray  # (T,) on the held-out set
    train_loss: np.ndarray  # (T,)
    val_loss: np.ndarray  # (T,)
    weight_change: np.ndarray  # (n_units,) ||W - W_0|| / ||W_0|| over the unit's weight tensors
    cka: np.ndarray  # (n_units - 1,) linear CKA of each feature layer with the pretrained one; NaN if not measured
    ms_per_step: float  # lower quartile of the wall time of its recent training steps
    filters: np.ndarray  # (C, 3, 3) first-layer filters now
    initial_filters: np.ndarray  # (C, 3, 3) first-layer filters at step 0

    @property
    def gap(self) -> float:
        """Training minus validation accuracy now: the overfitting gap."""
        return float(self.train_accuracy[-1] - self.val_accuracy[-1])


@dataclass(frozen=True)
class FinetuneFrame:
    step: int
    epoch: float
    loss: float  # mean of the strategies' latest minibatch losses
    total_epochs: int
    steps_per_epoch: int
    unit_names: tuple[str, ...]
    unit_params: np.ndarray  # (n_units,) int64 parameters in each unit
    unit_shapes: tuple[str, ...]  # output of each unit, "C×H×W" (classifier: its number of classes)
    strategies: tuple[StrategyState, ...]
    cka_epoch: float  # epoch of the CKA values; NaN before the first measurement
    n_train: int
    n_val: int
    target: str

    def state(self, strategy: str) -> StrategyState | None:
        return next((s for s in self.strategies if s.strategy == strategy), None)


@dataclass(frozen=True)
class KSweep:
    """Fine-tuning the top k layers for k = 0 (linear probe) .. all, each for the same epochs."""

    ks: np.ndarray  # (K,) int64, the k done so far
    val_accuracy: np.ndarray  # (K,)
    train_accuracy: np.ndarray  # (K,)
    n_trainable: np.ndarray  # (K,) int64
    ms_per_step: np.ndarray  # (K,) lower quartile of the step times after a short warm-up
    n_feature_layers: int
    scratch_val_accuracy: float = math.nan  # the reference: the same network trained from scratch
    scratch_train_accuracy: float = math.nan
    scratch_n_trainable: int = 0
    scratch_ms_per_step: float = math.nan
    config: FinetuneConfig | None = None
