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


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power(value: float) -> str:
    """1 ≤ |exponent| ≤ 3 as plain numbers (0.01, 100), beyond as 10ᵏ or m·10ᵏ."""
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10**exponent)
    if -3 <= exponent <= 3:
        return f"{value:g}"
    power = f"10{str(exponent).translate(_SUPERSCRIPT)}"
    return power if mantissa == 1 else f"{mantissa}·{power}"


def log_ticks(*series: np.ndarray) -> list[list[tuple[float, str]]]:
    """Ticks for a log₁₀ axis over the positive values of ``series``: labelled decades (and 2, 5 between
    them when the data span less than two decades), the other multiples unlabelled. pyqtgraph labels
    every minor tick of a short log axis, and those labels run into each other."""
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series]) if series else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return [[], []]
    low, high = math.floor(math.log10(values.min())), math.ceil(math.log10(values.max()) + 1e-9)
    high = max(high, low + 1)
    labelled = (1, 2, 5) if math.log10(values.max() / values.min()) < 2 else (1,)
    major, minor = [], []
    for exponent in range(low, high + 1):
        for mantissa in range(1, 10):
            value = mantissa * 10.0**exponent
            if mantissa in labelled:
                major.append((math.log10(value), _power(value)))
            else:
                minor.append((math.log10(value), ""))
    return [major, minor]


def label(text: str = "", *, wrap: bool = True) -> QtWidgets.QLabel:
    widget = QtWidgets.QLabel(text)
    widget.setWordWrap(wrap)
    widget.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return widget


def button(text: str, tip: str) -> QtWidgets.QPushButton:
    """A push button that never takes the keyboard focus: Space stays Play, S stays Step."""
    widget = QtWidgets.QPushButton(text)
    widget.setToolTip(tip)
    widget.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
    return widget
