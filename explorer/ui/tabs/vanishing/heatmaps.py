"""Layer × step heatmaps of the plain and the residual net on one colour scale, and the layer axis.

One ``ColorBarItem`` drives both images, so a colour means the same gradient norm in either net: the
plain net's dark lower rows are directly comparable with the residual net's even colour. The levels
only grow, in whole decades (an axis that moves every frame re-renders its tick text), and are
reset when a run starts or the shown gradient changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore

from explorer.ui.widgets.plots import Styled, new_plot

NETS = ("plain", "residual")
# log10 of the lab's floor for a norm that is exactly zero (LOG_FLOOR = 1e-46): anything below this
# mark underflowed to zero in float32 and does not stretch the colour scale
ZERO_MARK = -45.5


def layer_ticks(names: Sequence[str], most: int = 9) -> list[tuple[float, str]]:
    """Ticks for rows named ``names``: both ends always, blocks at a round stride in between."""
    n = len(names)
    stride = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if n / s <= most)
    keep = {0, n - 1} | {i for i in range(n) if i % stride == 0 and 0 < i < n - 1 and n - 1 - i >= stride / 2}
    return [(float(i), names[i]) for i in sorted(keep)]


def short_layer_name(name: str) -> str:
    """'block 12' -> '12' for tick labels; 'input' and 'output' stay words."""
    return name.removeprefix("block ")


def format_norm(log_value: float) -> str:
    if log_value < ZERO_MARK:
        return "0 (underflowed in float32)"
    return f"{10.0**log_value:.3g}"


class LayerHeatmaps(pg.GraphicsLayout):
    """Two heatmap plots side by side and the colour bar they share, as one layout cell."""

    def __init__(self, styled: Styled, titles: dict[str, str]) -> None:
        super().__init__()
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        for col, net in enumerate(NETS):
            plot = new_plot(styled, titles[net], "training step", "layer", legend=None, downsample=False)
            plot.vb.setMouseEnabled(x=False, y=False)
            plot.showGrid(x=False, y=False)  # grid lines over an image are noise, and a grid stops an axis
            # from drawing the end labels ("output") past its ends
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            self.addItem(plot, row=0, col=col)
            self.plots[net], self.images[net] = plot, image
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=16)
        self.colorbar.setImageItem(list(self.images.values()))
        self.colorbar.axis.enableAutoSIPrefix(False)  # the label carries the unit
        self.colorbar.axis.setWidth(None)  # fit the tick text: its fixed 45 px overlap in presentation fonts
        self.addItem(self.colorbar, row=0, col=2)
        styled.styled_axis(self.colorbar.axis)
        self._styled = styled
        self.levels: tuple[float, float] | None = None
        self.values: dict[str, np.ndarray] = {net: np.zeros((0, 0), np.float32) for net in NETS}
        self.steps = np.zeros(0)
        self.row_names: dict[str, tuple[str, ...]] = {net: () for net in NETS}
        self._shape: tuple[int, int, str] | None = None  # (rows, window, y label) the axes are set for

    def reset_levels(self) -> None:
        self.levels = None

    def set_label(self, text: str) -> None:
        if self.colorbar.axis.labelText != text:  # relaying out an axis label is costly: only on a change
            self.colorbar.axis.setLabel(text)
            self._styled.styled_axis(self.colorbar.axis)

    def show(
        self,
        values: dict[str, np.ndarray],
        steps: np.ndarray,
        row_names: dict[str, tuple[str, ...]],
        y_label: str,
        window: int,
    ) -> None:
        """Draw log10 norms ``values[net]`` (rows, k) taken at ``steps`` (k,), rows named ``row_names``."""
        self.values, self.steps, self.row_names = values, steps, row_names
        self._grow_levels(values.values())
        assert self.levels is not None
        first = float(steps[0]) if len(steps) else 0.0
        for net in NETS:
            data = values[net]
            self.images[net].setImage(data, autoLevels=False, levels=self.levels)
            # one column per step, one row per layer, centred on the integers
            self.images[net].setRect(QtCore.QRectF(first - 0.5, -0.5, max(data.shape[1], 1), data.shape[0]))
        rows = next(iter(values.values())).shape[0]
        if self._shape != (rows, window, y_label):
            self._shape = (rows, window, y_label)
            for net, plot in self.plots.items():
                names = row_names[net]
                plot.getAxis("left").setTicks([[(i, short_layer_name(t)) for i, t in layer_ticks(names)], []])
                plot.setLabel("left", y_label)
                plot.setYRange(-0.5, rows - 0.5, padding=0)
            self._styled.restyle(self._styled.theme)
        for plot in self.plots.values():  # fills from the left, then scrolls: a fixed-width window of steps
            plot.setXRange(first - 0.5, first - 0.5 + window, padding=0)

    def _grow_levels(self, matrices: Sequence[np.ndarray] | object) -> None:
        measured = [m[m > ZERO_MARK] for m in matrices if m.size]  # type: ignore[union-attr]
        measured = [m for m in measured if m.size]
        if not measured:
            if self.levels is None:
                self._set_levels((-1.0, 0.0))
            return
        low = math.floor(min(float(m.min()) for m in measured))
        high = math.ceil(max(float(m.max()) for m in measured))
        high = max(high, low + 1)
        if self.levels is not None:
            if self.levels[0] <= low and high <= self.levels[1]:
                return
            low, high = min(low, self.levels[0]), max(high, self.levels[1])
        self._set_levels((float(low), float(high)))

    def _set_levels(self, levels: tuple[float, float]) -> None:
        self.levels = levels
        self.colorbar.setLevels(levels)

    def describe(self, net: str, x: float, y: float) -> tuple[str, int, float] | None:
        """(row name, step, log10 norm) of the cell under (x, y), or None outside the image."""
        data = self.values[net]
        if data.size == 0 or len(self.steps) == 0:
            return None
        row, col = round(y), round(x - self.steps[0])
        if not (0 <= row < data.shape[0] and 0 <= col < data.shape[1]):
            return None
        return self.row_names[net][row], int(self.steps[col]), float(data[row, col])
