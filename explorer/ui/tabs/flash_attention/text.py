"""Names and number formats the FlashAttention views share: method labels, bytes, N ticks."""

from __future__ import annotations

import math

import numpy as np
from PyQt6 import QtCore, QtWidgets

#: lab method -> legend label; the theme's series keys are the lab's names
METHOD_LABELS = {
    "naive": "naive",
    "tiled_torch": "torch tiled",
    "flash": "Triton flash",
    "sdpa": "PyTorch SDPA",
}
WARN = "#d55e00"
MIB = 2.0**20


def mib(n_bytes: float) -> str:
    """Bytes as MiB with three significant digits (KiB below one MiB, GiB above 1024)."""
    if not math.isfinite(n_bytes):
        return "—"
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:.3g} GiB"
    if n_bytes >= MIB:
        return f"{n_bytes / MIB:.3g} MiB"
    return f"{n_bytes / 1024:.3g} KiB"


def short_n(n: float) -> str:
    """Sequence lengths the way people say them: 512, 1k, 4k, 64k (k = 1024)."""
    n = int(n)
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else str(n)


def n_ticks(n_values: np.ndarray | list[int]) -> list[list[tuple[float, str]]]:
    """Ticks at each power of two of a log₁₀ N axis (every other one when there are many), no minor labels."""
    values = sorted({int(n) for n in n_values})
    if len(values) > 8:
        values = values[:: math.ceil(len(values) / 8)]
    return [[(math.log10(n), short_n(n)) for n in values], []]


def button(text: str, tip: str) -> QtWidgets.QPushButton:
    """A push button that never takes the keyboard focus: Space stays Play, S stays Step."""
    widget = QtWidgets.QPushButton(text)
    widget.setToolTip(tip)
    widget.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    return widget
