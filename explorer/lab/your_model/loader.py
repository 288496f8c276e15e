"""Loading a network and data the user wrote: a Python file with ``model()`` and ``data()``.

The contract (README, "Your model")::

    def model() -> torch.nn.Module: ...                        # required
    def data() -> tuple[torch.Tensor, torch.Tensor]: ...       # required: training inputs and targets
    def loss(outputs, targets) -> torch.Tensor: ...            # optional: cross-entropy for integer
                                                               # targets, mean squared error otherwise
    def validation() -> tuple[torch.Tensor, torch.Tensor]: ... # optional

Loading runs the file as Python runs any module (it is the user's own code). Everything that can go
wrong becomes one :class:`UserModelError` line naming the file, the function and the problem, checked
before any training starts: a missing file or function, a syntax error, an exception inside the
user's code, outputs that the loss cannot compare with the targets, NaN or infinite data, a model too
large for the memory guard, weights that do not fit.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
from torch import nn
from torch.nn import functional as F

from explorer.lab.core.protocol import InputError

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"
#: bytes per parameter while training with Adam in float32: the weight, its gradient, two moments
TRAINING_BYTES_PER_PARAMETER = 4 * 4
PROBE_ROWS = 16  # inputs the checks run the model and the loss on before training


class UserModelError(InputError):
    """One line for the banner (and the command line's stderr): the file, the function, the problem."""


@dataclass
class UserTask:
    """The user's network (freshly built by ``model()``), data and loss, checked and on the device."""

    path: Path
    model: nn.Module
    inputs: torch.Tensor
    targets: torch.Tensor
    validation: tuple[torch.Tensor, torch.Tensor] | None
    loss_fn: LossFn
    loss_name: str  # what the loss is, for the axis labels
    classification: bool  # integer targets: accuracy means something
    parameter_names: tuple[str, ...]  # of the trainable parameters, in model.named_parameters() order
    n_params: int


def examples() -> list[Path]:
    """The shipped examples, in name order (the first is what the tab opens with)."""
    return sorted(EXAMPLES_DIR.glob("*.py"))


def resolve(path: str) -> Path:
    """The file to load: ``path``, or the first shipped example when it is empty."""
    if path.strip():
        return _expanded(path.strip())
    found = examples()
    if not found:
        raise UserModelError(f"no model chosen, and no example in {EXAMPLES_DIR}")
    return found[0]


def _expanded(path: str | Path) -> Path:
    """``~`` and ``~user`` expanded where they can be; a name that cannot be is taken as written."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "~nobody-here": no such home directory
        return Path(path)


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}{'…' if len(text) > 200 else ''}"


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (Linux's MemAvailable), None where unknown."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(AttributeError, ValueError, OSError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


@contextlib.contextmanager
def _beside(path: Path) -> Iterator[None]:
    """The file's own folder first on sys.path while it loads, so it can import its neighbours."""
    folder = str(path.parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


def _import(path: Path) -> ModuleType:
    name = f"user_model_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserModelError(f"{path.name}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        with _beside(path):
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise UserModelError(f"{path.name}: line {exc.lineno}: syntax error: {exc.msg}") from None
    except (Exception, SystemExit) as exc:  # a script that parses its arguments on import exits
        raise UserModelError(f"{path.name}: importing it raised {_line(exc)}") from None
    return module


def _call(path: Path, name: str, function: Callable[[], object]) -> object:
    try:
        with _beside(path):
            return function()
    except (Exception, SystemExit) as exc:
        raise UserModelError(f"{path.name}: {name}() raised {_line(exc)}") from None


def _pair(path: Path, name: str, value: object) -> tuple[torch.Tensor, torch.Tensor]:
    """``value`` as an (inputs, targets) pair of tensors with one row per example, all finite."""
    where = f"{path.name}: {name}()"
    if not (isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(v, torch.Tensor) for v in value)):
        raise UserModelError(f"{where} must return (inputs, targets), two tensors; got {type(value).__name__}")
    inputs, targets = value
    if inputs.ndim == 0 or targets.ndim == 0:
        raise UserModelError(f"{where}: inputs and targets need a first dimension of examples")
    if len(inputs) != len(targets) or len(inputs) == 0:
        raise UserModelError(f"{where} gave {len(inputs)} inputs but {len(targets)} targets")
    for what, tensor in (("inputs", inputs), ("targets", targets)):
        if tensor.is_floating_point() or tensor.is_complex():
            bad = int((~torch.isfinite(tensor)).sum())
            if bad:
                raise UserModelError(f"{where}: {bad} of the {tensor.numel()} {what} values are NaN or infinite")
    return inputs.detach().cpu(), targets.detach().cpu()


def default_loss(targets: torch.Tensor) -> tuple[LossFn, str, bool]:
    """Cross-entropy for integer class targets, mean squared error otherwise: (loss, its name, classes?)."""
    if not targets.is_floating_point():
        return (lambda out, y: F.cross_entropy(out, y)), "cross-entropy", True
    return (lambda out, y: F.mse_loss(out, y)), "mean squared error", False


def _memory_guard(path: Path, model: nn.Module, limit_bytes: float | None) -> None:
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    need = n * TRAINING_BYTES_PER_PARAMETER
    if limit_bytes:
        limit, why = float(limit_bytes), "the limit set"
    else:
        free = available_memory()
        if free is None:
            return
        limit, why = free / 4, "a quarter of the available memory"
    if need > limit:
        raise UserModelError(
            f"{path.name}: model() has {n:,} parameters: training needs about {_size(need)} (weights, gradients "
            f"and optimizer state), more than {_size(limit)} ({why})"
        )


def _probe(path: Path, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn: LossFn,
           default: bool) -> None:  # fmt: skip
    """Run the model and the loss on a few examples: shapes that do not fit fail here, with a clear line."""
    rows = min(PROBE_ROWS, len(inputs))
    x, y = inputs[:rows], targets[:rows]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            try:
                outputs = model(x)
            except Exception as exc:
                raise UserModelError(
                    f"{path.name}: model() failed on the first {rows} inputs of data() (shape {tuple(x.shape)}): "
                    f"{_line(exc)}"
                ) from None
            if not isinstance(outputs, torch.Tensor):
                raise UserModelError(f"{path.name}: the model returned {type(outputs).__name__}, not a tensor")
            if default and y.is_floating_point() and outputs.shape != y.shape:
                raise UserModelError(
                    f"{path.name}: outputs of shape {tuple(outputs.shape)} and targets of shape {tuple(y.shape)} "
                    "do not match (mean squared error compares them element by element)"
                )
            try:
                value = loss_fn(outputs, y)
            except Exception as exc:
                raise UserModelError(
                    f"{path.name}: the loss failed on outputs {tuple(outputs.shape)} and targets {tuple(y.shape)}: "
                    f"{_line(exc)}"
                ) from None
    finally:
        model.train(was_training)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise UserModelError(f"{path.name}: the loss must return one number (a 0-d tensor), got {shape}")
    if not math.isfinite(float(value)):
        raise UserModelError(
            f"{path.name}: the loss of the untrained model is {float(value)} on the first {rows} examples"
        )


def load(path: str | Path, weights: str | Path | None = None, device: torch.device | str = "cpu",
         memory_limit_bytes: float | None = None, seed: int = 0) -> UserTask:  # fmt: skip
    """Import the user's file, build the model (torch seeded with ``seed`` first, so the same seed gives the
    same initialization), fetch and check the data and the loss, load ``weights`` if given."""
    path = _expanded(path)
    if not _is_file(path):
        raise UserModelError(f"{path}: no such file")
    module = _import(path)
    functions = {}
    for name, required in (("model", True), ("data", True), ("loss", False), ("validation", False)):
        function = getattr(module, name, None)
        if function is None and required:
            raise UserModelError(f"{path.name}: defines no {name}() function")
        if function is not None and not callable(function):
            raise UserModelError(f"{path.name}: {name} is not a function")
        functions[name] = function
    torch.manual_seed(seed)
    model = _call(path, "model", functions["model"])
    if not isinstance(model, nn.Module):
        raise UserModelError(f"{path.name}: model() must return a torch.nn.Module, got {type(model).__name__}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise UserModelError(f"{path.name}: model() has no trainable parameters")
    _memory_guard(path, model, memory_limit_bytes)
    inputs, targets = _pair(path, "data", _call(path, "data", functions["data"]))
    validation = None
    if functions["validation"] is not None:
        validation = _pair(path, "validation", _call(path, "validation", functions["validation"]))
    if weights:
        _load_weights(_expanded(weights), model)
    model = model.to(torch.device("cpu"))
    if functions["loss"] is not None:
        loss_fn, loss_name, classification = (
            functions["loss"],
            f"loss() of {path.name}",
            not targets.is_floating_point(),
        )
    else:
        loss_fn, loss_name, classification = default_loss(targets)
    _probe(path, model, inputs, targets, loss_fn, functions["loss"] is None)
    device = torch.device(device)
    model = model.to(device)
    to = (lambda pair: (pair[0].to(device), pair[1].to(device))) if device.type != "cpu" else (lambda pair: pair)
    inputs, targets = to((inputs, targets))
    return UserTask(path, model, inputs, targets, to(validation) if validation else None, loss_fn, loss_name,
                    classification, tuple(n for n, _ in named), sum(p.numel() for _, p in named))  # fmt: skip


def _is_file(path: Path) -> bool:
    """A regular file at ``path``; False for a name the system refuses (too long, say), not an OSError."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _load_weights(path: Path, model: nn.Module) -> None:
    if not _is_file(path):
        raise UserModelError(f"{path}: no such weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserModelError(f"{path.name}: not a torch.save'd state dict ({_line(exc)})") from None
    if not isinstance(state, dict):
        raise UserModelError(f"{path.name}: holds a {type(state).__name__}, not a state dict")
    try:
        model.load_state_dict(state)
    except Exception as exc:
        raise UserModelError(f"{path.name}: does not fit model(): {_line(exc)}") from None
