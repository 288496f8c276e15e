"""The natural-gradient tab's parameters: which view, the training race, the Gaussian fit, the cost sweep."""

from __future__ import annotations

from explorer.ui.params import Param

VIEWS = ("invariance", "race", "cost")
VIEW_TITLES = ("1 · Invariance: fitting a Gaussian", "2 · Steps: a training race", "3 · Cost: exact Fisher vs K-FAC")
ACTIVATIONS = ("tanh", "relu", "gelu", "sigmoid")


def _race_params() -> list[Param]:
    group = "Training race (two spirals)"
    return [
        Param("race_steps", "steps", "int", 2000, "How many steps each optimizer takes", bounds=(10, 20000),
              group=group),
        Param("width", "hidden width", "int", 32, "Units per hidden layer: P grows like width²", bounds=(2, 128),
              group=group, in_caption=True),
        Param("n_hidden", "hidden layers", "int", 1, "Width × width layers between input and output layers",
              bounds=(1, 3), group=group),
        Param("activation", "activation", "choice", "tanh", "Non-linearity of the hidden layers",
              choices=ACTIVATIONS, group=group),
        Param("n_points", "points", "int", 512, "Points on the two spirals (half per class)", bounds=(16, 4096),
              group=group),
        Param("batch_size", "batch size", "int", 128, "Examples per step; every method sees the same batches",
              bounds=(1, 1024), group=group),
        Param("sgd_lr", "SGD η", "float", 0.3, "Step size of SGD (momentum 0.9): θ ← θ − η v", bounds=(1e-4, 10.0),
              log=True, group=group),
        Param("adam_lr", "Adam η", "float", 0.02, "Step size of Adam", bounds=(1e-5, 1.0), log=True, group=group),
        Param("ng_lr", "natural-gradient η", "float", 0.3,
              "Step size of K-FAC and the exact natural gradient: θ ← θ − η (F + λI)⁻¹∇L", bounds=(1e-4, 10.0),
              log=True, group=group),
        Param("damping", "damping λ", "float", 1e-2,
              "Added to the Fisher (and split between K-FAC's factors) so that it can be inverted",
              bounds=(1e-6, 10.0), log=True, group=group),
        Param("max_exact_params", "exact NG up to P", "int", 2000,
              "Largest parameter count P for which the exact natural gradient runs: it builds a P × P Fisher "
              "and solves it at every step", bounds=(0, 5000), group=group),
        Param("log_time", "log seconds axis", "bool", True,
              "Log scale for wall-clock seconds: methods whose steps cost 30× more stay on the same chart",
              group=group),
    ]  # fmt: skip


def _fit_params() -> list[Param]:
    group = "Gaussian fit"
    return [
        Param("fit_lr", "step size η", "float", 0.02, "Step size of both methods in both charts",
              bounds=(1e-4, 1.0), log=True, group=group),
        Param("fit_steps", "steps", "int", 400, "Steps of the Gaussian fit", bounds=(1, 5000), group=group),
        Param("mu0", "start μ", "float", -1.0, "Common start: mean", bounds=(-5.0, 5.0), group=group),
        Param("sigma0", "start σ", "float", 2.0, "Common start: standard deviation", bounds=(0.05, 5.0),
              group=group),
        Param("true_mu", "data μ", "float", 1.0, "Mean of the Gaussian the data are drawn from",
              bounds=(-5.0, 5.0), group=group),
        Param("true_sigma", "data σ", "float", 0.5, "Standard deviation of the Gaussian the data are drawn from",
              bounds=(0.05, 5.0), group=group),
        Param("n_samples", "samples", "int", 200, "How many data points are drawn", bounds=(2, 100_000),
              group=group),
    ]  # fmt: skip


def _cost_params() -> list[Param]:
    group = "Cost sweep (press Measure)"
    return [
        Param("cost_budget_s", "time budget (s)", "float", 6.0,
              "Wall-clock seconds the whole sweep may take; it stops early once they are spent",
              bounds=(0.5, 60.0), group=group),
        Param("cost_exact_max_width", "exact: largest width", "int", 64,
              "Widest network of the exact-Fisher sweep (P ≈ width² per hidden layer)", bounds=(8, 64), group=group),
        Param("cost_n_hidden", "hidden layers", "int", 1, "Width × width layers of the swept MLPs",
              bounds=(0, 2), group=group),
    ]  # fmt: skip


def natural_gradient_parameters() -> list[Param]:
    return [
        Param("view", "view", "choice", "invariance", "Which of the three pictures is shown",
              choices=VIEWS, choice_labels=VIEW_TITLES, in_caption=True),
        Param("seed", "seed", "int", 0,
              "Seed of the spirals, the initialization, the mini-batches, the Gaussian's sample and the "
              "sweep's data: same seed, same run", bounds=(0, 2**31 - 1), in_caption=True),
        Param("steps_per_frame", "steps per frame", "int", 5,
              "Steps of the race and of the fit between redraws: higher is faster", bounds=(1, 100)),
        *_race_params(),
        *_fit_params(),
        *_cost_params(),
    ]  # fmt: skip
