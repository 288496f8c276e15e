"""The words beside the plots: the first/last gradient ratio with its formula, and hover texts."""

from __future__ import annotations

import math

from PyQt6 import QtGui

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
LABELS = {"plain": "plain (VGG)", "residual": "residual (ResNet)"}
TITLES = {"plain": "Plain net (VGG-style)", "residual": "Residual net (ResNet-style)"}

#: per shown gradient: (symbol of a row's norm, ratio formula, what the ratio leaves out)
RATIOS = {
    "weight": (
        "‖∂L/∂W‖",
        "‖∂L/∂W<sub>1</sub>‖ / ‖∂L/∂W<sub>L</sub>‖, the first hidden block's weight gradient over the last "
        "one's (input and output layers left out: data and loss set their scale)",
        "The input and output layers are left out: their gradient scale is set by the data and the loss, "
        "not by depth, and would make even a healthy residual net look as if its gradient vanished.",
    ),
    "activation": (
        "‖∂L/∂h‖",
        "‖∂L/∂h<sub>0</sub>‖ / ‖∂L/∂h<sub>L</sub>‖, the gradient reaching the first hidden state over the "
        "gradient at the last one (what backpropagation carries through the blocks)",
        "Backpropagation multiplies ∂L/∂h by one block Jacobian per block; a residual block adds the "
        "identity to it, h + F(h), so the product cannot shrink to nothing.",
    ),
}


def hidden_state_names(count: int) -> tuple[str, ...]:
    """h₀ (the input layer's output) to h_L (the last block's output)."""
    return tuple(f"h{i}".translate(SUBSCRIPTS) for i in range(count))


def verdict(ratio: float) -> str:
    """How a first/last ratio reads: even, vanishing toward the input, or growing toward it."""
    if not math.isfinite(ratio) or ratio <= 0:
        return "underflowed in float32: no gradient reaches the first block" if ratio == 0 else "undefined: 0 / 0"
    decades = math.log10(ratio)
    if abs(decades) <= 1:
        return "within a factor of 10 across the depth"
    size = f"{10 ** abs(decades):.3g}×" if abs(decades) < 3 else f"{abs(decades):.0f} orders of magnitude"
    if decades < 0:
        return f"{'vanishing: ' if decades < -2 else ''}{size} smaller at the first block"
    return f"{'exploding: ' if decades > 2 else ''}{size} larger at the first block"


def ratio_html(gradient: str, step: int, ratios: dict[str, float], colours: dict[str, QtGui.QColor]) -> str:
    """The readout under the plots: the two ratios and what they compare (the tooltip says why)."""
    formula = RATIOS[gradient][1]
    parts = []
    for net, ratio in ratios.items():
        name = f"<span style='color:{colours[net].name()}'><b>{LABELS[net]}</b></span>"
        parts.append(f"{name} <b>{ratio:.3g}</b> ({verdict(ratio)})")
    return f"<b>Ratio at step {step}</b> = {formula}:<br>" + " &nbsp;·&nbsp; ".join(parts)


def ratio_tip(gradient: str) -> str:
    """Why the ratio compares what it compares (the readout's tooltip)."""
    return RATIOS[gradient][2]


def norm_text(value: float) -> str:
    return "0 (underflowed in float32)" if value == 0 else f"{value:.3g}"
