"""The residual topic's parameters: one spec each, filling :class:`ResidualConfig` (and, under "landscape.",
the landscape's config) by name; the rest are display settings and job arguments the view reads itself.
Qt- and torch-free.
"""

from __future__ import annotations

from typing import Any

from explorer.lab.core.params import Param, config_from

#: depth sets on offer, shallow to deep (He et al. 2016 compare 20 to 56 and 110 layers)
DEPTH_SETS = ("4,8,16", "8,20,56", "8,56", "20,56", "8,32,110")
SHOWN = ("deepest", "middle", "shallowest")
RESOLUTIONS = ("11", "21", "31", "41", "51", "71", "101")
VIEWS = ("training", "curvature")
VIEW_LABELS = ("Training", "Curvature & path")

PARAMS: tuple[Param, ...] = (
    Param("depths", "depths (blocks)", "choice", "8,20,56",
          "Hidden blocks of the nets trained side by side: each depth as a plain net and as a residual net",
          choices=DEPTH_SETS, values=tuple(tuple(int(d) for d in s.split(",")) for s in DEPTH_SETS),
          group="Networks", in_caption=True),
    Param("width", "width", "int", 32, "Units in every hidden block", bounds=(4, 256), group="Networks"),
    Param("activation", "activation", "choice", "relu", "Nonlinearity inside each block F",
          choices=("relu", "tanh", "gelu", "sigmoid"), group="Networks"),
    Param("norm", "normalization", "choice", "batchnorm",
          "Normalization before each block's activation; batch norm keeps plain nets' signals alive, yet "
          "the deepest still trains worse", choices=("batchnorm", "layernorm", "none"), group="Networks",
          in_caption=True),
    Param("init", "initialization", "choice", "he", "How the weights are drawn (He init suits ReLU)",
          choices=("he", "xavier", "orthogonal", "default"), group="Networks"),
    Param("optimizer", "optimizer", "choice", "sgd", "SGD with momentum 0.9 (the ResNet recipe) or Adam",
          choices=("sgd", "adam"), group="Training"),
    Param("lr", "learning rate η", "float", 0.05, "Step size, the same for every net", bounds=(1e-5, 10.0),
          log=True, group="Training", in_caption=True),
    Param("batch_size", "batch size", "int", 128, "Examples per minibatch; every net sees the same batches",
          bounds=(8, 4096), group="Training"),
    Param("steps", "steps", "int", 300, "Training steps; the landscape is taken when they are done",
          bounds=(1, 100_000), group="Training", in_caption=True),
    Param("steps_per_frame", "steps per frame", "int", 5, "Steps between redraws: higher is faster",
          bounds=(1, 200), group="Training"),
    Param("dataset", "data", "choice", "spirals", "The 2-D task: two interleaved spirals or a 4x4 checkerboard",
          choices=("spirals", "checkerboard"), choice_labels=("two spirals", "checkerboard"), group="Data",
          in_caption=True),
    Param("n_points", "points", "int", 512, "Training points, half of each class", bounds=(16, 8192),
          group="Data"),
    Param("noise", "noise", "float", 0.05, "Standard deviation of the jitter added to every point",
          bounds=(0.0, 0.5), group="Data"),
    Param("seed", "seed", "int", 0, "Seed of the data, the initial weights and the minibatches: same seed, "
          "same run", bounds=(0, 2**31 - 1), group="Data"),
    Param("view", "view", "choice", "training",
          "Training: losses, block ratios, boundaries and landscapes; curvature & path: Hessian spectra and "
          "each net's own training path", choices=VIEWS, choice_labels=VIEW_LABELS, group="Display",
          field=""),
    Param("shown", "nets shown", "choice", "deepest",
          "Which depth the block ratios, decision boundaries and landscapes show",
          choices=SHOWN, choice_labels=("deepest", "middle", "shallowest"), group="Display", field=""),
    Param("grid", "boundary grid", "int", 80, "Grid points per axis of the decision-boundary images",
          bounds=(16, 200), group="Display"),
    Param("boundary_every", "boundary every", "int", 4,
          "Decision boundaries are recomputed every this many × (steps per frame) steps",
          bounds=(1, 100), group="Display"),
    Param("resolution", "landscape grid", "choice", "41",
          "Grid points per axis of the loss landscape (odd, so the trained weights are the centre)",
          choices=RESOLUTIONS, values=tuple(int(r) for r in RESOLUTIONS), group="Landscape",
          field="landscape.resolution"),
    Param("span", "landscape span", "float", 1.0,
          "α and β run over [−span, span], in units of the filter-normalized directions", bounds=(0.05, 5.0),
          group="Landscape", field="landscape.span"),
    Param("loss_cap", "colour cap (nats)", "float", 10.0,
          "Top of the landscapes' shared colour scale: higher losses get the top colour (Li et al. stop at "
          "10 nats); hover still reads the true loss", bounds=(0.01, 1e12), log=True, group="Landscape",
          field=""),
    Param("landscape_seed", "direction seed", "int", 0, "Seed of the two random directions d₁, d₂",
          bounds=(0, 2**31 - 1), group="Landscape", field="landscape.seed"),
    Param("auto_landscape", "when training ends", "bool", True,
          "Compute the landscape of the trained nets as soon as the last step is done", group="Landscape",
          field=""),
    Param("curvature_every", "curvature every", "int", 50,
          "Top Hessian eigenvalue of every net on the step's minibatch every this many steps (a few Lanczos "
          "steps each); 0: off", bounds=(0, 10_000), group="Curvature & path"),
    Param("lanczos_steps", "Lanczos steps", "int", 8,
          "Hessian-vector products at most per eigenvalue over training: more is more accurate and slower",
          bounds=(1, 100), group="Curvature & path"),
    Param("curvature_depths", "curvature of", "choice", "deepest",
          "Whose top Hessian eigenvalue is recorded over training: the deepest pair (cheap) or every net",
          choices=("deepest", "all"), choice_labels=("deepest nets", "every net"), group="Curvature & path"),
    Param("path_points", "path snapshots", "int", 64,
          "Weight snapshots kept of each net along training, evenly spaced (every other one is dropped "
          "when they fill up)", bounds=(3, 256), group="Curvature & path"),
    Param("path_every", "snapshot every", "int", 5,
          "Steps between weight snapshots at first; the interval doubles each time the snapshots fill up",
          bounds=(1, 10_000), group="Curvature & path"),
    Param("pca_resolution", "PCA plane grid", "choice", "21",
          "Grid points per axis of each net's landscape on the PCA plane of its own path",
          choices=RESOLUTIONS[:5], values=tuple(int(r) for r in RESOLUTIONS[:5]),
          group="Curvature & path", field=""),
    Param("curvature_seed", "Lanczos seed", "int", 0,
          "Seed of the random start vectors of the spectra and block eigenvalues", bounds=(0, 2**31 - 1),
          group="Curvature & path", field=""),
)  # fmt: skip


def shown_depth(depths: tuple[int, ...], which: str) -> int:
    """The depth the per-depth views show: the deepest, the shallowest, or the one between."""
    ordered = sorted(depths)
    return {"deepest": ordered[-1], "shallowest": ordered[0], "middle": ordered[len(ordered) // 2]}[which]


def configs() -> dict[str, Any]:
    """The config each scope of :data:`PARAMS` fills, at the lab's own defaults (torch loads here)."""
    from explorer.lab.residual.residual import ResidualConfig
    from explorer.lab.residual.residual_landscape import LANDSCAPE

    return {"": ResidualConfig(), "landscape": LANDSCAPE}


def experiment_config(values: dict[str, Any], device: str) -> Any:
    from explorer.lab.residual.residual import ResidualConfig

    return config_from(ResidualConfig, PARAMS, values, device=device)


def landscape_config(values: dict[str, Any]) -> Any:
    from explorer.lab.landscape import LandscapeConfig

    return config_from(LandscapeConfig, PARAMS, values, scope="landscape")
