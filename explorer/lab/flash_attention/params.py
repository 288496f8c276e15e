"""The FlashAttention topic's parameters: one spec each, filling by name the sweep's :class:`SweepConfig`
(the methods switched on gathered into ``methods``) and, under "step.", the step-through's config.
Qt- and torch-free.

Not fields: the view and the IO model's on-chip memory are display settings; the sweep's device, dtype,
batch · heads and largest N may be "auto", which only the device the sweep runs on turns into a number
(:func:`sweep_config` does, and hands the config the result), and the torch-tiled cap is one entry of a
per-method mapping. The step-through takes the sweep's seed and causal mask as they are (:data:`SHARED`).
"""

from __future__ import annotations

from typing import Any

from explorer.lab.core.params import Param, config_from
from explorer.lab.flash_attention.attention import METHODS, SweepConfig
from explorer.lab.flash_attention.attention_steps import StepThroughConfig

VIEWS = ("sweep", "step")
VIEW_TITLES = ("1 · Measured: memory, IO and time as N grows", "2 · The online softmax, tile by tile")
N_CHOICES = ("auto", *(str(2**k) for k in range(8, 18)))  # 256 … 128k
BH_CHOICES = ("auto", *(str(2**k) for k in range(7)))  # 1 … 64
#: settings only a new measurement shows, and those that restart the step-through
SWEEP_KEYS = {"device", "dtype", "d", "batch_heads", "max_n", "mode", "tiled_max_n", *METHODS}
STEP_KEYS = {"example_n", "example_d", "block_m", "block_n"}
#: settings the specs fill in the sweep's config that the step-through takes too
SHARED = ("seed", "causal")
# auto: small enough that the CPU sweep takes seconds, large enough that naive runs out on an 80 GB GPU
AUTO = {"cpu": {"dtype": "float32", "batch_heads": 1, "max_n": 4096},
        "cuda": {"dtype": "float16", "batch_heads": 8, "max_n": 65536}}  # fmt: skip
_SWEEP, _STEP = "Sweep (Measure again to apply)", "Step-through"

PARAMS: tuple[Param, ...] = (
    Param("view", "view", "choice", "sweep", "Which of the two pictures is shown", choices=VIEWS,
          choice_labels=VIEW_TITLES, in_caption=True, field=""),
    Param("seed", "seed", "int", 0, "Seed of the sweep's random q, k, v and of the example: same seed, "
          "same numbers", bounds=(0, 2**31 - 1), in_caption=True),
    Param("causal", "causal mask", "bool", False,
          "Each query sees only keys up to itself: half the FLOPs, and tiles right of the diagonal are "
          "skipped", in_caption=True),
    # the sweep
    Param("device", "device", "choice", "auto", "Where the sweep runs; auto follows the Device menu",
          choices=("auto", "cpu", "cuda"), choice_labels=("auto (Device menu)", "CPU", "CUDA"), group=_SWEEP,
          field=""),
    Param("dtype", "dtype", "choice", "auto",
          "Element type of q, k, v; auto: float16 on CUDA, float32 on the CPU. bfloat16 needs CUDA: Triton's "
          "interpreter computes it wrongly", choices=("auto", "float32", "float16", "bfloat16"), group=_SWEEP,
          in_caption=True, field=""),
    Param("d", "head dim d", "int", 64, "Features per head: the Triton kernel takes 16 to 128",
          bounds=(16, 128), group=_SWEEP, in_caption=True),
    Param("batch_heads", "batch · heads", "choice", "auto",
          "Independent attention problems per call (B·H); auto: 1 on the CPU, 8 on CUDA", choices=BH_CHOICES,
          group=_SWEEP, field=""),
    Param("max_n", "largest N", "choice", "auto",
          "N runs over powers of two from 128 to this; auto: 4k on the CPU, 64k on CUDA (where naive runs out "
          "of memory)", choices=N_CHOICES, group=_SWEEP, field=""),
    Param("mode", "pass", "choice", "fwd", "Measure the forward pass, or forward and backward",
          choices=("fwd", "fwd_bwd"), choice_labels=("forward", "forward + backward"), group=_SWEEP),
    Param("tiled_max_n", "torch tiled up to N", "choice", "8192",
          "The torch tiled version is a Python loop over tiles: past this N it would take minutes",
          choices=N_CHOICES[1:], group=_SWEEP, field=""),
    Param("naive", "naive", "bool", True, "softmax(QKᵀ/√d)V as written: stores the N × N matrices",
          group=_SWEEP, field="methods[]"),
    Param("tiled_torch", "torch tiled", "bool", True, "The online softmax over tiles in plain torch",
          group=_SWEEP, field="methods[]"),
    Param("flash", "Triton FlashAttention", "bool", True,
          "The Triton kernel (compiled on CUDA; under Triton's interpreter, N ≤ 256, on the CPU)", group=_SWEEP,
          field="methods[]"),
    Param("sdpa", "PyTorch SDPA", "bool", True, "torch.nn.functional.scaled_dot_product_attention",
          group=_SWEEP, field="methods[]"),
    # the IO model and the step-through
    Param("sram_kib", "on-chip memory M (KiB)", "int", 192,
          "SRAM per streaming multiprocessor in the IO model, in KiB of fp16 elements (A100: 192, H100: 228); "
          "thin lines show M / 4 and 4 M", bounds=(4, 4096), group="IO model", log=True, field=""),
    Param("example_n", "N", "int", 16, "Sequence length of the small example", bounds=(8, 64), group=_STEP,
          field="step.n"),
    Param("example_d", "d", "int", 4, "Head dim of the small example", bounds=(1, 64), group=_STEP,
          field="step.d"),
    Param("block_m", "query rows per tile B_r", "int", 4, "Rows of Q in one tile", bounds=(2, 16), group=_STEP,
          field="step.block_m"),
    Param("block_n", "keys per tile B_c", "int", 4, "Rows of K and V in one tile", bounds=(2, 16), group=_STEP,
          field="step.block_n"),
)  # fmt: skip


def configs() -> dict[str, Any]:
    """The config each scope of :data:`PARAMS` fills, at the lab's own defaults."""
    return {"": SweepConfig(), "step": StepThroughConfig()}


def step_config(values: dict[str, Any]) -> StepThroughConfig:
    """The small example the step-through plays, with the sweep's seed and mask."""
    return config_from(StepThroughConfig, PARAMS, values, scope="step", **{key: values[key] for key in SHARED})


def sweep_config(values: dict[str, Any], device: str) -> SweepConfig:
    """The sweep the parameters ask for, with every "auto" resolved for the device it runs on (``device``,
    the window's, unless the form names another); a ValueError says what does not fit."""
    device = device if values["device"] == "auto" else values["device"]
    auto = AUTO[device]
    max_n = auto["max_n"] if values["max_n"] == "auto" else int(values["max_n"])
    return config_from(
        SweepConfig,
        PARAMS,
        values,
        device=device,
        dtype=auto["dtype"] if values["dtype"] == "auto" else values["dtype"],
        heads=auto["batch_heads"] if values["batch_heads"] == "auto" else int(values["batch_heads"]),
        n_values=tuple(2**k for k in range(7, max_n.bit_length())),
        max_n_by_method={"tiled_torch": int(values["tiled_max_n"])},
    )
