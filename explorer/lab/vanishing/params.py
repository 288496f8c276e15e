"""The vanishing-gradient topic's parameters: one spec each, filling :class:`GradFlowConfig` by name; the
gradient shown is a display setting, and the sweep's deepest net a job argument the view reads itself.

Choices are spelled out here rather than imported from ``models``: that package imports torch, and
the window must paint before torch loads. A test checks they match the lab's. Qt- and torch-free.
"""

from __future__ import annotations

from typing import Any

from explorer.lab.core.params import Param, config_from

MODELS = ("mlp", "cnn")
DATASETS = ("spirals", "checkerboard", "glyphs")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
NORMS = ("none", "batchnorm", "layernorm")
INITS = ("default", "xavier", "he", "orthogonal")
OPTIMIZERS = ("sgd", "adam")
GRADIENTS = ("weight", "activation")

#: keys of the MLP's and the CNN's own size parameters: only the chosen model's are enabled
MODEL_KEYS = {"mlp": ("depth", "width"), "cnn": ("blocks", "channels")}
#: the run's settings the depth sweep at initialization takes too (it always sweeps an MLP on spirals)
SWEEP_SHARED = ("activation", "norm", "init", "width", "seed")
#: settings the depth sweep depends on: a change measures it again
SWEEP_KEYS = (*SWEEP_SHARED, "sweep_max_depth")
NORM_LABELS = {"none": "no norm", "batchnorm": "BatchNorm", "layernorm": "LayerNorm"}
INIT_LABELS = {"default": "default init", "xavier": "Xavier init", "he": "He init", "orthogonal": "orthogonal init"}
_NETWORK, _TRAINING, _VIEW, _SWEEP = "Network (both nets)", "Training", "View", "Depth sweep at initialization"

PARAMS: tuple[Param, ...] = (
    Param("model", "model", "choice", "mlp",
          "MLP: fully connected blocks on 2-D points. CNN: blocks of two 3×3 convolutions on 16×16 glyph "
          "images. The plain and the residual net differ only in the skip connection h + F(h)",
          choices=MODELS, choice_labels=("MLP (2-D points)", "CNN (16×16 glyphs)"), group=_NETWORK,
          in_caption=True),
    Param("depth", "MLP depth", "int", 20, "Hidden layers between the input projection and the output head",
          bounds=(2, 200), group=_NETWORK),
    Param("width", "MLP width", "int", 32, "Units in every hidden layer of the MLP (and of the depth sweep)",
          bounds=(2, 256), group=_NETWORK),
    Param("blocks", "CNN blocks", "int", 6,
          "Blocks of two 3×3 convolutions, in up to three stages of halving resolution", bounds=(2, 60),
          group=_NETWORK),
    Param("channels", "CNN channels", "int", 8, "Channels of the first stage; the later stages have 2× and 4×",
          bounds=(2, 32), group=_NETWORK),
    Param("activation", "activation", "choice", "sigmoid",
          "Non-linearity of every block. Sigmoid's slope is at most 1/4: the textbook cause of vanishing "
          "gradients", choices=ACTIVATIONS, choice_labels=("sigmoid", "tanh", "ReLU", "GELU"), group=_NETWORK,
          in_caption=True),
    Param("norm", "normalization", "choice", "none",
          "Applied before the activation in every block (pre-activation order)", choices=NORMS,
          choice_labels=("none", "BatchNorm", "LayerNorm"), group=_NETWORK, in_caption=True),
    Param("init", "initialization", "choice", "default",
          "default: U(±1/√fan_in); Xavier: variance 2/(fan_in + fan_out); He: variance 2/fan_in; "
          "orthogonal: all singular values equal to the activation's gain", choices=INITS,
          choice_labels=("PyTorch default", "Xavier", "He", "orthogonal"), group=_NETWORK, in_caption=True),
    Param("dataset", "data set", "choice", "spirals",
          "Generated in-process from the seed. Glyphs (16×16 images of ten digits) train the CNN, the 2-D "
          "point sets the MLP", choices=DATASETS, choice_labels=("two spirals", "checkerboard", "glyphs"),
          group=_TRAINING, in_caption=True),
    Param("n_points", "training points", "int", 1000,
          "Size of the training set (glyphs: a tenth of it per digit)", bounds=(100, 5000), group=_TRAINING),
    Param("optimizer", "optimizer", "choice", "adam",
          "Both nets use it. Adam divides by √v + 1e-8, so gradients far below 1e-8 still barely move a "
          "weight", choices=OPTIMIZERS, choice_labels=("SGD + momentum 0.9", "Adam"), group=_TRAINING,
          in_caption=True),
    Param("lr", "learning rate η", "float", 3e-3,
          "Step size of both nets. Far too large and the loss explodes: the run stops and names the step",
          bounds=(1e-5, 10.0), log=True, group=_TRAINING, in_caption=True),
    Param("batch_size", "batch size", "int", 128, "Examples per minibatch (the whole set when larger)",
          bounds=(8, 1024), group=_TRAINING),
    Param("steps_per_frame", "steps per frame", "int", 5, "Optimisation steps between redraws: higher is faster",
          bounds=(1, 50), group=_TRAINING),
    Param("seed", "seed", "int", 0,
          "Seed of the data, the minibatches and the initial weights: same seed, same run (Reset repeats it)",
          bounds=(0, 2**31 - 1), group=_TRAINING),
    Param("gradient", "gradient shown", "choice", "weight",
          "Weights: ‖∂L/∂W‖ of each layer's weights. Activations: ‖∂L/∂h‖ of each hidden state, the signal "
          "backpropagation carries from block to block", choices=GRADIENTS,
          choice_labels=("weights ‖∂L/∂W‖", "activations ‖∂L/∂h‖"), group=_VIEW, field=""),
    Param("window", "heatmap steps", "int", 200, "Most recent training steps the heatmaps show",
          bounds=(20, 2000), group=_VIEW),
    Param("sweep_max_depth", "deepest net", "int", 200,
          "The sweep builds fresh MLPs from depth 2 up to this depth and measures their gradients at "
          "initialization", bounds=(3, 200), group=_SWEEP, field=""),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config each scope of :data:`PARAMS` fills, at the lab's own defaults (torch loads here)."""
    from explorer.lab.vanishing.gradflow import GradFlowConfig

    return {"": GradFlowConfig()}


def experiment_config(values: dict[str, Any], device: str) -> Any:
    """The training run of both nets; its ValueError says, in one line, what does not fit."""
    from explorer.lab.vanishing.gradflow import GradFlowConfig

    return config_from(GradFlowConfig, PARAMS, values, device=device)


def sweep_config(values: dict[str, Any], device: str) -> Any:
    """The depth sweep at initialization: fresh MLPs on spirals with the run's shared settings, by name."""
    from explorer.lab.vanishing.gradflow import DepthSweepConfig

    shared = {key: values[key] for key in SWEEP_SHARED}
    return DepthSweepConfig(depths=sweep_depths(values["sweep_max_depth"]), device=device, **shared)


def sweep_depths(max_depth: int, count: int = 14) -> tuple[int, ...]:
    """About ``count`` depths from 2 to ``max_depth``, evenly spaced on a log axis."""
    steps = [2 * (max_depth / 2) ** (i / (count - 1)) for i in range(count)]
    return tuple(sorted({max(2, min(max_depth, round(d))) for d in steps}))


def coupled(key: str, value: Any, values: dict[str, Any]) -> list[tuple[str, Any]]:
    """Settings that must change with ``key``: the CNN trains on glyphs, the MLP on the 2-D point sets."""
    if key == "model":
        if value == "cnn" and values["dataset"] != "glyphs":
            return [("dataset", "glyphs")]
        if value == "mlp" and values["dataset"] == "glyphs":
            return [("dataset", "spirals")]
    if key == "dataset":
        model = "cnn" if value == "glyphs" else "mlp"
        if values["model"] != model:
            return [("model", model)]
    return []


def check_values(values: dict[str, Any], given: set[str]) -> None:
    """Constraints between parameters, on the whole set: the CNN trains on glyphs, the MLP on point sets.

    One of the two given alone brings the other along (as in the form, see :func:`coupled`); both given and
    at odds is refused, as the config would refuse them.
    """
    if {"model", "dataset"} <= given and (values["model"] == "cnn") != (values["dataset"] == "glyphs"):
        raise ValueError(
            f"model={values['model']} cannot train on dataset={values['dataset']}: the CNN trains on glyphs, "
            "the MLP on spirals or checkerboard"
        )
