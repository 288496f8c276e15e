"""The label-smoothing topic's parameters: one spec each, filling :class:`SmoothingConfig` by name (the
targets, the twins' training, their data, the reliability bins); the class shown and the projected set are
display settings the view reads itself. Qt- and torch-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.lab.core.params import Param, config_from

if TYPE_CHECKING:
    from explorer.lab.label_smoothing.smoothing import SmoothingConfig

PARAMS: tuple[Param, ...] = (
    Param("eps", "smoothing ε", "float", 0.1,
          "Target = (1 − ε)·one-hot + ε/K. The second network trains on it, the first always on ε = 0",
          bounds=(0.0, 0.9), group="Targets", in_caption=True),
    Param("num_classes", "classes K", "int", 10, "Number of classes of the data and of each target vector",
          bounds=(3, 20), group="Targets", in_caption=True),
    Param("target_class", "class shown", "int", 2,
          "The true class whose one-hot and smoothed target vectors the bar chart shows (0 to K − 1)",
          bounds=(0, 19), group="Targets", field=""),
    Param("steps", "steps", "int", 400, "Full-batch SGD steps each network takes", bounds=(1, 5000),
          group="Training", in_caption=True),
    Param("steps_per_frame", "steps per frame", "int", 10, "Steps between redraws: higher is faster",
          bounds=(1, 100), group="Training"),
    Param("lr", "learning rate η", "float", 0.05, "Step size of SGD with momentum (both networks)",
          bounds=(1e-4, 1.0), log=True, group="Training", in_caption=True),
    Param("momentum", "momentum", "float", 0.9, "Heavy-ball momentum of SGD (both networks)",
          bounds=(0.0, 0.99), group="Training"),
    Param("hidden", "hidden width", "int", 128,
          "Units in each of the two hidden layers; the second is the penultimate layer", bounds=(8, 512),
          group="Training"),
    Param("n_train", "training points", "int", 1000,
          "Training set size: a small set is memorised, which makes the one-hot network overconfident",
          bounds=(20, 5000), group="Data"),
    Param("n_val", "validation points", "int", 2000,
          "Held-out points for accuracy, NLL, the reliability diagram and the confidence histogram",
          bounds=(20, 10000), group="Data"),
    Param("separation", "class separation", "float", 4.0,
          "Typical distance between class means in noise standard deviations: small means overlapping "
          "classes", bounds=(0.5, 10.0), group="Data"),
    Param("seed", "seed", "int", 0, "Seed of the data and of the initial weights both networks share",
          bounds=(0, 2**31 - 1), group="Data"),
    Param("bins", "calibration bins", "int", 15, "Equal-width confidence bins of the reliability diagram",
          bounds=(5, 30), group="Display"),
    Param("projection", "projected points", "choice", "train",
          "Which points the penultimate-layer plots show (classes 0, 1 and 2)", choices=("train", "val"),
          choice_labels=("training set", "validation set"), group="Display", field=""),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config :data:`PARAMS` fills, at the lab's own defaults."""
    from explorer.lab.label_smoothing.smoothing import SmoothingConfig

    return {"": SmoothingConfig()}


def experiment_config(values: dict[str, Any], device: str) -> SmoothingConfig:
    from explorer.lab.label_smoothing.smoothing import SmoothingConfig

    return config_from(SmoothingConfig, PARAMS, values, device=device)


def check_values(values: dict[str, Any], given: set[str]) -> None:
    """Constraints between parameters, on the whole set: the class shown is one of the K classes."""
    if values["target_class"] >= values["num_classes"]:
        raise ValueError(
            f"target_class must be between 0 and num_classes − 1 = {values['num_classes'] - 1}, "
            f"got target_class={values['target_class']}"
        )
