"""How the entropy tab writes its numbers: bits in words, true minus signs, subscripts, decade ticks."""

from __future__ import annotations

import math

from explorer.ui.widgets.logaxis import decade_ticks as shared_decade_ticks

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def sub(i: int) -> str:
    """3 → "₃": outcome indices as subscripts (p₃)."""
    return str(i).translate(_SUB)


def num(x: float, digits: int = 3) -> str:
    """3 → "3", 1.75 → "1.75", 2.92874 → "2.929", ∞ → "∞" (with a true minus sign)."""
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


def bits(x: float, digits: int = 3) -> str:
    """A number of bits, in words: "1 bit", "1.75 bits"."""
    text = num(x, digits)
    return f"{text} bit" if text == "1" else f"{text} bits"


def decade_ticks(n: int) -> list[list[tuple[float, str]]]:
    """Ticks at 1, 10, 100, … up to ``n`` (in log₁₀ units), in the shared log axis's one label style."""
    return shared_decade_ticks(range(math.floor(math.log10(max(n, 1))) + 1))
