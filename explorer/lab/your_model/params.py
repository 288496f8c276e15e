"""The "Your model" topic's parameters: one spec each, filling :class:`YourModelConfig` by name; the view,
the landscape's plane and the job arguments are read by the view itself. Qt- and torch-free."""

from __future__ import annotations

from typing import Any

from explorer.lab.core.params import Param, config_from

VIEWS = ("training", "landscape", "curvature")
VIEW_LABELS = ("Training & gradients", "Landscape & path", "Curvature")
RESOLUTIONS = ("11", "21", "31", "41")
_TRAIN, _SHOW = "Training", "Landscape & curvature"

PARAMS: tuple[Param, ...] = (
    Param("model_path", "model file", "text", "",
          "A Python file with model() and data() (optional loss() and validation()); empty: the first shipped "
          "example. File > Open model... picks one", group="Model", in_caption=True),
    Param("weights", "weights file", "text", "",
          "Optional: a torch.save'd state dict to start from (loaded with weights_only=True)", group="Model"),
    Param("memory_limit_gb", "memory limit (GiB)", "float", 0.0,
          "Largest training memory the model may need (weights, gradients, optimizer state); 0: a quarter of "
          "the available memory", bounds=(0.0, 4096.0), group="Model"),
    Param("optimizer", "optimizer", "choice", "adam", "Adam, or SGD with momentum 0.9", choices=("adam", "sgd"),
          group=_TRAIN),
    Param("lr", "learning rate η", "float", 1e-3, "Step size", bounds=(1e-6, 10.0), log=True, group=_TRAIN,
          in_caption=True),
    Param("batch_size", "batch size", "int", 64, "Examples per minibatch (drawn with replacement)",
          bounds=(1, 65536), group=_TRAIN),
    Param("steps", "steps", "int", 500, "Training steps", bounds=(1, 1_000_000), group=_TRAIN, in_caption=True),
    Param("steps_per_frame", "steps per frame", "int", 5, "Steps between redraws: higher is faster",
          bounds=(1, 1000), group=_TRAIN),
    Param("seed", "seed", "int", 0, "Seeds torch before model() builds the network, and the minibatches: same "
          "seed, same run", bounds=(0, 2**31 - 1), group=_TRAIN),
    Param("curvature_every", "curvature every", "int", 50,
          "Top Hessian eigenvalue on the step's minibatch every this many steps (a few Lanczos steps); 0: off",
          bounds=(0, 100_000), group=_TRAIN),
    Param("lanczos_steps", "Lanczos steps", "int", 8, "Hessian-vector products at most per eigenvalue",
          bounds=(1, 100), group=_TRAIN),
    Param("path_points", "path snapshots", "int", 64, "Weight snapshots kept along training, evenly thinned",
          bounds=(3, 512), group=_TRAIN),
    Param("path_every", "snapshot every", "int", 5,
          "Steps between snapshots at first; the interval doubles each time the snapshots fill up",
          bounds=(1, 100_000), group=_TRAIN),
    Param("view", "view", "choice", "training",
          "Training: loss, accuracy and per-layer gradient norms; landscape: the loss around the weights with "
          "the path; curvature: the Hessian's spectrum", choices=VIEWS, choice_labels=VIEW_LABELS, field=""),
    Param("directions", "landscape plane", "choice", "pca",
          "PCA: the plane of the training path's two main directions, with the path on it; random: two "
          "filter-normalized random directions (Li et al. 2018)", choices=("pca", "random"),
          choice_labels=("PCA of the path", "random, filter-normalized"), group=_SHOW, field=""),
    Param("resolution", "landscape grid", "choice", "21", "Grid points per axis of the landscape",
          choices=RESOLUTIONS, group=_SHOW, field=""),
    Param("span", "random span", "float", 1.0, "α and β run over [−span, span] on the random plane",
          bounds=(0.01, 10.0), group=_SHOW, field=""),
    Param("landscape_seed", "direction seed", "int", 0, "Seed of the random directions and the Lanczos starts",
          bounds=(0, 2**31 - 1), group=_SHOW, field=""),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config :data:`PARAMS` fills, at the lab's own defaults (torch loads here)."""
    from explorer.lab.your_model.experiment import YourModelConfig

    return {"": YourModelConfig()}


def experiment_config(values: dict[str, Any], device: str) -> Any:
    from explorer.lab.your_model.experiment import YourModelConfig

    return config_from(YourModelConfig, PARAMS, values, device=device)


def check_files(values: dict[str, Any], given: set[str]) -> None:
    """A headless command line's check before anything runs or is written: a model file, weights file or memory
    limit given there is loaded and checked now (torch loads here), so a bad one is one line, not a failed run.
    A window does not call it: there the user's code runs in the experiment's worker (a hang is abandoned).

    Raises the loader's ``UserModelError`` (a ValueError) with the line to show."""
    if not {"model_path", "weights", "memory_limit_gb"} & given:
        return  # the shipped example, as the form has it
    from explorer.lab.your_model.loader import load, resolve

    limit = values["memory_limit_gb"] * 2**30 if values["memory_limit_gb"] else None
    load(resolve(values["model_path"]), values["weights"] or None, "cpu", limit, values["seed"])
