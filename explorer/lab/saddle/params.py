"""The saddle topic's parameters: one spec each, filling :class:`SaddleConfig` by name (the optimizers
switched on gathered into ``optimizers``); the colour scale and the grid are the surface map's job
arguments, which the view reads itself. Qt- and torch-free.

The start point and the learning rates are the form's own numbers, set from the surface when it
changes; the lab's defaults for them (None, and no rates) mean "work it out from the surface", so they
cannot equal the form's and go to the config whole, from :func:`experiment_config`.
"""

from __future__ import annotations

from typing import Any

from explorer.lab.core.params import Param, config_from
from explorer.lab.saddle import optim, surfaces
from explorer.lab.saddle.saddle import SaddleConfig

#: optimizers racing when the tab opens (natural gradient only where a surface has a model)
DEFAULT_ON = ("gd", "sgd", "momentum", "adam", "newton", "saddle_free_newton", "natural_gradient")
_FIRST = surfaces.get("saddle")


def _optimizer_params() -> tuple[Param, ...]:
    """A switch per optimizer, and under it its learning rate (the surface's suggested one at first)."""
    params: list[Param] = []
    for name in optim.NAMES:
        params.append(Param(name, optim.LABELS[name], "bool", name in DEFAULT_ON, optim.UPDATE_RULES[name],
                            group="Optimizers", field="optimizers[]"))  # fmt: skip
        params.append(
            Param(
                f"{name}_lr",
                "learning rate η",
                "float",
                optim.suggested_lr(_FIRST, name),
                f"Step size of {optim.LABELS[name]}: {optim.UPDATE_RULES[name]}",
                bounds=(1e-6, 10.0),
                parent=name,
                log=True,
                field="",  # resolved by the surface: see the module's docstring
            )
        )
    return tuple(params)


VIEWS = ("surfaces", "network")
VIEW_LABELS = ("2-D surfaces", "A real network")
_NETWORK = "A real network"

PARAMS: tuple[Param, ...] = (
    Param("view", "view", "choice", "surfaces",
          "2-D surfaces: optimizers racing across a surface with its critical points; a real network: a small "
          "MLP's plateau and its exact Hessian spectrum", choices=VIEWS, choice_labels=VIEW_LABELS, field=""),
    Param("surface", "Surface", "choice", "saddle", "The loss f(x, y) the optimizers descend",
          choices=surfaces.NAMES, choice_labels=tuple(surfaces.get(n).title for n in surfaces.NAMES),
          in_caption=True),
    # resolved by the surface: see the module's docstring
    Param("start_x", "start x", "float", _FIRST.default_start[0], "Common start point, x (or click the surface)",
          bounds=(-10.0, 10.0), in_caption=True, field=""),
    Param("start_y", "start y", "float", _FIRST.default_start[1], "Common start point, y (or click the surface)",
          bounds=(-10.0, 10.0), in_caption=True, field=""),
    Param("steps", "steps", "int", 300, "How many steps each optimizer takes", bounds=(1, 5000),
          in_caption=True),
    Param("steps_per_frame", "steps per frame", "int", 2, "Steps between redraws: higher is faster",
          bounds=(1, 100)),
    Param("seed", "seed", "int", 0, "Seed of the SGD gradient noise: same seed, same run",
          bounds=(0, 2**31 - 1)),
    Param("noise_sigma", "SGD noise σ", "float", 0.1, "Standard deviation of the noise SGD adds to ∇f",
          bounds=(0.0, 100.0)),
    Param("damping", "damping δ", "float", 1e-3,
          "Added to |H| and F before solving, so flat or singular curvature stays solvable",
          bounds=(1e-8, 100.0), log=True),
    Param("log_color", "log colour scale", "bool", False, "Colour by log₁₀(f − min f + δ): shows valleys",
          field=""),
    Param("resolution", "grid resolution", "int", 400, "Grid points per axis of the heatmap",
          bounds=(50, 800), field=""),
    *_optimizer_params(),
    Param("plateau_hidden", "hidden units", "int", 8, "Units in each of the student's two tanh layers (and the "
          "teacher's); the Hessian is computed whole, so at most 32", bounds=(1, 32), group=_NETWORK,
          field="plateau.hidden"),
    Param("plateau_init", "initial weight scale", "float", 0.01,
          "Standard deviation of the student's first weights: the nearer zero, the longer the plateau",
          bounds=(1e-5, 1.0), log=True, group=_NETWORK, field="plateau.init_scale", in_caption=True),
    Param("plateau_lr", "learning rate η", "float", 0.2, "Step size of full-batch gradient descent",
          bounds=(1e-4, 5.0), log=True, group=_NETWORK, field="plateau.lr"),
    Param("plateau_steps", "steps", "int", 600, "Gradient-descent steps", bounds=(10, 50_000), group=_NETWORK,
          field="plateau.steps"),
    Param("plateau_points", "training points", "int", 256, "Inputs the teacher labels (4-D, normal)",
          bounds=(8, 4096), group=_NETWORK, field="plateau.n_points"),
    Param("plateau_curvature_every", "spectrum every", "int", 10,
          "Steps between two exact Hessian spectra (each costs one Hessian of all the weights)",
          bounds=(1, 1000), group=_NETWORK, field="plateau.curvature_every"),
    Param("plateau_steps_per_frame", "steps per frame", "int", 5, "Steps between redraws: higher is faster",
          bounds=(1, 200), group=_NETWORK, field="plateau.steps_per_frame"),
    Param("plateau_seed", "seed", "int", 0, "Seed of the inputs, the teacher and the student's start",
          bounds=(0, 2**31 - 1), group=_NETWORK, field="plateau.seed"),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config each scope of :data:`PARAMS` fills, at the lab's own defaults (torch loads here)."""
    from explorer.lab.saddle.plateau import PlateauConfig

    return {"": SaddleConfig(), "plateau": PlateauConfig()}


def plateau_config(values: dict[str, Any]) -> Any:
    """The real network's run these values ask for."""
    from explorer.lab.saddle.plateau import PlateauConfig

    return config_from(PlateauConfig, PARAMS, values, scope="plateau")


def experiment_config(values: dict[str, Any]) -> SaddleConfig:
    """The race these values ask for, from the start point and with the learning rates the form shows."""
    return config_from(
        SaddleConfig,
        PARAMS,
        values,
        start=(values["start_x"], values["start_y"]),
        learning_rates={name: values[f"{name}_lr"] for name in optim.NAMES},
    )
