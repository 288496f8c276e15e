"""The two twin networks, one on one-hot targets and one on smoothed targets: their series keys (one
colour each in every plot), their names, and how the tab writes their numbers."""

from __future__ import annotations

import math

from explorer.lab.label_smoothing import smoothing

TWINS = ("one_hot", "smoothed")


def twin_name(twin: str) -> str:
    return "one-hot" if twin == "one_hot" else "smoothed"


def twin_label(twin: str, eps: float) -> str:
    """The legend text of a twin's series, with ε for the smoothed one."""
    return "one-hot" if twin == "one_hot" else f"smoothed ε = {eps:g}"


def twin_state(frame: smoothing.SmoothingFrame, twin: str) -> smoothing.ModelState:
    return frame.one_hot if twin == "one_hot" else frame.smoothed


def fmt(x: float, digits: int = 3) -> str:
    """A table number: fixed digits, ∞ as the sign, a true minus."""
    return "∞" if math.isinf(x) else f"{x:.{digits}f}".replace("-", "−")
