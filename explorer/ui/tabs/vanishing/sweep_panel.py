"""The depth sweep at initialization: first/last hidden-block gradient ratio against depth, log-log.

Fresh MLPs on two spirals, one full-batch gradient each, in float64 so that a deep sigmoid stack's
1e-100 ratios are numbers rather than zeros. The sweep is a job: partial results draw as they come,
and Cancel keeps what was measured.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore

from explorer.ui.tabs.vanishing.readout import LABELS
from explorer.ui.topic import Table
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled

if TYPE_CHECKING:
    from explorer.lab.vanishing.gradflow import DepthSweep

NETS = ("plain", "residual")
_SOLID = QtCore.Qt.PenStyle.SolidLine
_TITLE = "Depth sweep at initialization"


class SweepPanel(LegendedPlot):
    """Ratio-vs-depth curves of both nets, a line at ratio 1 and a mark at the live MLP's depth."""

    def __init__(self, styled: Styled) -> None:
        super().__init__(styled, _TITLE, "MLP depth (hidden layers)", "‖∂L/∂W<sub>1</sub>‖ / ‖∂L/∂W<sub>L</sub>‖",
                         log_x=True, log_y=True, downsample=False)  # fmt: skip
        self._styled = styled
        self.curves = {
            net: self.add(styled.keyed(pg.PlotDataItem(symbol="o", symbolSize=7), net, 2.0, _SOLID), LABELS[net])
            for net in NETS
        }
        # the ratio-1 line runs along the residual curve: it is named in the legend, not labelled in place
        self.even = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.even_sample = pg.PlotDataItem()
        self.legend.addItem(self.even_sample, "ratio 1")
        self.fit_legend()
        self.live = pg.InfiniteLine(angle=90, movable=False, label="live net",
                                    labelOpts={"position": 0.06, "anchors": [(0, 1), (0, 1)]})  # fmt: skip
        styled.styled_text(self.live.label)
        for line in (self.even, self.live):
            self.plot.addItem(line)
        self.plot.vb.setMouseEnabled(x=False, y=False)
        self.plot.setXRange(math.log10(2), math.log10(200), padding=0.04)
        self.result: DepthSweep | None = None
        self.started = False
        self.restyle()

    def restyle(self) -> None:
        theme = self._styled.theme
        pen = pg.mkPen(theme.muted(180), width=theme.pen_scale, style=QtCore.Qt.PenStyle.DashLine)
        for item in (self.even, self.even_sample, self.live):
            item.setPen(pen)

    def set_live_depth(self, depth: int | None) -> None:
        """Mark the depth of the MLP being trained (none while the CNN trains)."""
        self.live.setVisible(depth is not None)
        if depth is not None:
            self.live.setPos(math.log10(depth))
            (low, high), _ = self.plot.vb.viewRange()
            right_end = (math.log10(depth) - low) / (high - low) > 0.7
            self.live.label.anchors = [(1, 1), (1, 1)] if right_end else [(0, 1), (0, 1)]  # text beside the line
            self.live.label.updatePosition()

    def begin(self, values: dict[str, Any]) -> None:
        self.started = True
        self.result = None
        for curve in self.curves.values():
            curve.setData([], [])
        self._title(_TITLE)
        self.plot.setXRange(math.log10(2), math.log10(values["sweep_max_depth"]), padding=0.04)
        self.set_live_depth(values["depth"] if values["model"] == "mlp" else None)

    def _title(self, text: str) -> None:
        theme = self._styled.theme
        self.plot.setTitle(text, color=theme.foreground.name(), size=f"{theme.point_size(11):.0f}pt")

    def show(self, sweep: DepthSweep) -> None:
        """Draw a partial or complete sweep; only positive ratios have a place on a log axis."""
        self.result = sweep
        for net, ratios in (("plain", sweep.ratio_plain), ("residual", sweep.ratio_residual)):
            keep = np.isfinite(ratios) & (ratios > 0)
            self.curves[net].setData(sweep.depths[keep].astype(float), ratios[keep])
        both = np.concatenate([sweep.ratio_plain, sweep.ratio_residual, [1.0]])
        both = both[np.isfinite(both) & (both > 0)]
        low, high = math.floor(math.log10(both.min())), math.ceil(math.log10(both.max()))
        self.plot.setYRange(low, max(high, low + 1), padding=0.04)

    def show_result(self, sweep: DepthSweep) -> None:
        self.show(sweep)
        self._title(_TITLE)

    def mark_cancelled(self) -> None:
        if self.started and self.result is not None:
            self._title(f"Sweep cancelled after depth {int(self.result.depths[-1])}")
        elif self.started:
            self._title("Sweep cancelled")

    def describe(self, x: float, y: float) -> str | None:
        """The sweep point nearest the cursor's depth (x is log10 depth on this log axis)."""
        sweep = self.result
        if sweep is None or len(sweep.depths) == 0:
            return None
        i = int(np.argmin(np.abs(np.log10(sweep.depths) - x)))
        if abs(math.log10(sweep.depths[i]) - x) > 0.15:
            return None
        return (
            f"depth {sweep.depths[i]}, at initialization:  ‖∂L/∂W₁‖ / ‖∂L/∂W_L‖ = "
            f"{sweep.ratio_plain[i]:.3g} plain, {sweep.ratio_residual[i]:.3g} residual;  first hidden block "
            f"‖∂L/∂W₁‖ = {sweep.first_plain[i]:.3g} plain, {sweep.first_residual[i]:.3g} residual"
        )

    def table(self) -> Table:
        assert self.result is not None
        sweep = self.result
        return {
            "depth": sweep.depths,
            "plain_ratio": sweep.ratio_plain,
            "residual_ratio": sweep.ratio_residual,
            "plain_first_block_grad_norm": sweep.first_plain,
            "residual_first_block_grad_norm": sweep.first_residual,
        }
