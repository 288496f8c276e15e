"""The entropy topic's parameters: two distributions (presets and their shapes), a message, a point set.

Nothing trains here, so most values are arguments of the lab's functions that the view reads itself
(``field=""``): p and q are arrays the user also drags and types, built from a preset, its shape and K;
the message length goes to :func:`~explorer.lab.entropy.information.compress` with the seed; the feature and
threshold pick the split shown. The point set is a config, :class:`~explorer.lab.entropy.decision_split.Blobs`,
filled by name under "split.". Qt- and torch-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.lab.core.params import Param, config_from
from explorer.lab.entropy import information

if TYPE_CHECKING:
    from explorer.lab.entropy.decision_split import Blobs

PRESETS = (*information.PRESET_KINDS, "custom")
_PRESET_LABELS = (
    "uniform", "one-hot", "Zipf  pᵢ ∝ 1/(i+1)ˢ", "geometric  pᵢ ∝ (1−r)ⁱ", "fair coin", "biased coin",
    "custom (drag or type)",
)  # fmt: skip
COINS = ("fair_coin", "biased_coin")
SHAPES = {"biased_coin": "heads", "zipf": "zipf", "geometric": "geometric"}  # preset -> its shape param
FEATURES = ("x1", "x2")
FEATURE_NAMES = ("x₁", "x₂")
SPLIT_GROUP = "Decision-tree split"


def _distribution_params(which: str, group: str, preset: str, heads: float, zipf: float, geometric: float,
                         ) -> tuple[Param, ...]:  # fmt: skip
    return (
        Param(f"{which}_preset", f"{which} preset", "choice", preset,
              f"Set {which} to a named distribution; 'custom' keeps the bars you dragged or typed",
              choices=PRESETS, choice_labels=_PRESET_LABELS, group=group, in_caption=True, field=""),
        Param(f"{which}_heads", "P(heads)", "float", heads, f"Biased coin: {which} = [P(heads), 1 − P(heads)]",
              bounds=(0.0, 1.0), group=group, field=""),
        Param(f"{which}_zipf", "Zipf exponent s", "float", zipf,
              f"Zipf: {which}ᵢ ∝ 1/(i+1)ˢ; s = 0 is uniform, larger s puts more mass on the first outcomes",
              bounds=(0.0, 4.0), group=group, field=""),
        Param(f"{which}_geometric", "geometric r", "float", geometric,
              f"Geometric: {which}ᵢ ∝ (1 − r)ⁱ, truncated at K outcomes; larger r decays faster",
              bounds=(0.01, 0.99), group=group, field=""),
    )  # fmt: skip


PARAMS: tuple[Param, ...] = (
    Param("outcomes", "outcomes K", "int", 8,
          "Number of outcomes of p and q (2 to 32); the coins always have 2",
          bounds=(information.MIN_OUTCOMES, information.MAX_OUTCOMES), group="Distributions",
          in_caption=True, field=""),
    *_distribution_params("p", "Distribution p (the source)", "zipf", 0.8, 1.0, 0.5),
    *_distribution_params("q", "Distribution q (what the code assumes)", "uniform", 0.5, 2.0, 0.3),
    Param("message_length", "message length n", "int", 1000,
          "Symbols drawn from p, Huffman-encoded and counted against n·H(p)", bounds=(1, 50_000),
          group="Compression", in_caption=True, field=""),
    Param("seed", "seed", "int", 0,
          "Seed of the sampled message and of the point set: same seed, same data",
          bounds=(0, 2**31 - 1), group="Compression", field="split.seed"),
    Param("split_classes", "classes", "int", 3, "Number of classes in the point set (2 or 3)",
          bounds=(2, 3), group=SPLIT_GROUP, field="split.num_classes"),
    Param("split_points", "points per class", "int", 60, "Points drawn around each class centre",
          bounds=(5, 300), group=SPLIT_GROUP, field="split.n_per_class"),
    Param("split_spread", "spread σ", "float", 0.9,
          "Standard deviation of each class blob: larger σ makes classes overlap and lowers the best gain",
          bounds=(0.1, 3.0), group=SPLIT_GROUP, field="split.spread"),
    Param("split_feature", "feature", "choice", "x1", "The feature the question 'xⱼ ≤ t?' looks at",
          choices=FEATURES, choice_labels=FEATURE_NAMES, group=SPLIT_GROUP, in_caption=True, field=""),
    Param("threshold", "threshold t", "float", 0.0, "The split 'xⱼ ≤ t?' (or drag the line in the plot)",
          bounds=(-6.0, 6.0), group=SPLIT_GROUP, in_caption=True, field=""),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config each scope of :data:`PARAMS` fills, at the lab's own defaults."""
    from explorer.lab.entropy.decision_split import Blobs

    return {"split": Blobs()}


def point_set(values: dict[str, Any]) -> Blobs:
    """The point set of the decision-tree split these values ask for."""
    from explorer.lab.entropy.decision_split import Blobs

    return config_from(Blobs, PARAMS, values, scope="split")


def check_values(values: dict[str, Any], given: set[str]) -> None:
    """Constraints between parameters, on the whole set: a coin has two outcomes.

    A coin preset given alone sets K = 2 (as in the form); a coin with another K given too is refused.
    """
    for which in "pq":
        preset = f"{which}_preset"
        if {preset, "outcomes"} <= given and values[preset] in COINS and values["outcomes"] != 2:
            raise ValueError(f"{preset}={values[preset]} has 2 outcomes, but outcomes={values['outcomes']} was given")
