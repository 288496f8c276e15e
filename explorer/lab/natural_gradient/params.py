"""The natural-gradient topic's parameters: one spec each, filling by name the training race's config (under
"race."), the Gaussian fit's ("fit.") and the cost sweep's ("cost."); the view, the log-seconds axis and the
sweep's widest exact network are settings the view reads itself. Qt- and torch-free.

One seed and one pace serve every picture: their specs fill the race's config, and the fit and the cost
sweep take the same values under the same names (:data:`SHARED`).
"""

from __future__ import annotations

from typing import Any

from explorer.lab.core.params import Param, config_from

VIEWS = ("invariance", "race", "cost")
VIEW_TITLES = ("1 · Invariance: fitting a Gaussian", "2 · Steps: a training race", "3 · Cost: exact Fisher vs K-FAC")
ACTIVATIONS = ("tanh", "relu", "gelu", "sigmoid")
#: settings the race's specs fill that the fit (both) and the cost sweep (the seed) take as they are
SHARED = ("seed", "steps_per_frame")
_RACE, _FIT, _COST = "Training race (two spirals)", "Gaussian fit", "Cost sweep (press Measure)"

PARAMS: tuple[Param, ...] = (
    Param("view", "view", "choice", "invariance", "Which of the three pictures is shown",
          choices=VIEWS, choice_labels=VIEW_TITLES, in_caption=True, field=""),
    Param("seed", "seed", "int", 0,
          "Seed of the spirals, the initialization, the mini-batches, the Gaussian's sample and the "
          "sweep's data: same seed, same run", bounds=(0, 2**31 - 1), in_caption=True, field="race.seed"),
    Param("steps_per_frame", "steps per frame", "int", 5,
          "Steps of the race and of the fit between redraws: higher is faster", bounds=(1, 100),
          field="race.steps_per_frame"),
    # the training race
    Param("race_steps", "steps", "int", 2000, "How many steps each optimizer takes", bounds=(10, 20000),
          group=_RACE, field="race.max_steps"),
    Param("width", "hidden width", "int", 32, "Units per hidden layer: P grows like width²", bounds=(2, 128),
          group=_RACE, in_caption=True, field="race.width"),
    Param("n_hidden", "hidden layers", "int", 1, "Width × width layers between input and output layers",
          bounds=(1, 3), group=_RACE, field="race.n_hidden"),
    Param("activation", "activation", "choice", "tanh", "Non-linearity of the hidden layers",
          choices=ACTIVATIONS, group=_RACE, field="race.activation"),
    Param("n_points", "points", "int", 512, "Points on the two spirals (half per class)", bounds=(16, 4096),
          group=_RACE, field="race.n_points"),
    Param("batch_size", "batch size", "int", 128, "Examples per step; every method sees the same batches",
          bounds=(1, 1024), group=_RACE, field="race.batch_size"),
    Param("sgd_lr", "SGD η", "float", 0.3, "Step size of SGD (momentum 0.9): θ ← θ − η v", bounds=(1e-4, 10.0),
          log=True, group=_RACE, field="race.sgd_lr"),
    Param("adam_lr", "Adam η", "float", 0.02, "Step size of Adam", bounds=(1e-5, 1.0), log=True, group=_RACE,
          field="race.adam_lr"),
    Param("ng_lr", "natural-gradient η", "float", 0.3,
          "Step size of K-FAC and the exact natural gradient: θ ← θ − η (F + λI)⁻¹∇L", bounds=(1e-4, 10.0),
          log=True, group=_RACE, field="race.ng_lr"),
    Param("damping", "damping λ", "float", 1e-2,
          "Added to the Fisher (and split between K-FAC's factors) so that it can be inverted",
          bounds=(1e-6, 10.0), log=True, group=_RACE, field="race.damping"),
    Param("max_exact_params", "exact NG up to P", "int", 2000,
          "Largest parameter count P for which the exact natural gradient runs: it builds a P × P Fisher "
          "and solves it at every step", bounds=(0, 5000), group=_RACE, field="race.max_exact_params"),
    Param("log_time", "log seconds axis", "bool", True,
          "Log scale for wall-clock seconds: methods whose steps cost 30× more stay on the same chart",
          group=_RACE, field=""),
    # the Gaussian fit
    Param("fit_lr", "step size η", "float", 0.02, "Step size of both methods in both charts",
          bounds=(1e-4, 1.0), log=True, group=_FIT, field="fit.lr"),
    Param("fit_steps", "steps", "int", 400, "Steps of the Gaussian fit", bounds=(1, 5000), group=_FIT,
          field="fit.n_steps"),
    Param("mu0", "start μ", "float", -1.0, "Common start: mean", bounds=(-5.0, 5.0), group=_FIT, field="fit.mu0"),
    Param("sigma0", "start σ", "float", 2.0, "Common start: standard deviation", bounds=(0.05, 5.0),
          group=_FIT, field="fit.sigma0"),
    Param("true_mu", "data μ", "float", 1.0, "Mean of the Gaussian the data are drawn from",
          bounds=(-5.0, 5.0), group=_FIT, field="fit.true_mu"),
    Param("true_sigma", "data σ", "float", 0.5, "Standard deviation of the Gaussian the data are drawn from",
          bounds=(0.05, 5.0), group=_FIT, field="fit.true_sigma"),
    Param("n_samples", "samples", "int", 200, "How many data points are drawn", bounds=(2, 100_000),
          group=_FIT, field="fit.n_samples"),
    # the cost sweep
    Param("cost_budget_s", "time budget (s)", "float", 6.0,
          "Wall-clock seconds the whole sweep may take; it stops early once they are spent",
          bounds=(0.5, 60.0), group=_COST, field="cost.max_sweep_seconds"),
    # not a field: the sweep measures the lab's own exact widths up to this one (see cost_config)
    Param("cost_exact_max_width", "exact: largest width", "int", 64,
          "Widest network of the exact-Fisher sweep (P ≈ width² per hidden layer)", bounds=(8, 64), group=_COST,
          field=""),
    Param("cost_n_hidden", "hidden layers", "int", 1, "Width × width layers of the swept MLPs",
          bounds=(0, 2), group=_COST, field="cost.n_hidden"),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config each scope of :data:`PARAMS` fills, at the lab's own defaults (torch loads here)."""
    from explorer.lab.natural_gradient.fisher_cost import CostConfig
    from explorer.lab.natural_gradient.fisher_race import RaceConfig
    from explorer.lab.natural_gradient.gaussian_fit import GaussianFitConfig

    return {"race": RaceConfig(), "fit": GaussianFitConfig(), "cost": CostConfig()}


def experiment_config(values: dict[str, Any], device: str) -> Any:
    """The race and the fit that one Play drives; a ValueError says, in one line, what does not fit."""
    from explorer.lab.natural_gradient.fisher_race import RaceConfig
    from explorer.lab.natural_gradient.gaussian_fit import GaussianFitConfig
    from explorer.lab.natural_gradient.natural_gradient_views import NaturalGradientConfig

    race = config_from(RaceConfig, PARAMS, values, scope="race", device=device)
    fit = config_from(GaussianFitConfig, PARAMS, values, scope="fit", **{key: values[key] for key in SHARED})
    return NaturalGradientConfig(race, fit)


def cost_config(values: dict[str, Any]) -> Any:
    """The cost sweep: the lab's exact-Fisher widths up to the widest asked for, with the shared seed."""
    from explorer.lab.natural_gradient.fisher_cost import CostConfig

    widths = tuple(w for w in CostConfig().exact_widths if w <= values["cost_exact_max_width"])
    return config_from(CostConfig, PARAMS, values, scope="cost", exact_widths=widths, seed=values["seed"])
