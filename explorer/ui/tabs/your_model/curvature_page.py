"""The "Your model" tab's curvature view: how sharply the loss bends, over training and at one step.

Live: the top eigenvalue of the minibatch loss Hessian every ``curvature_every`` steps (a few Lanczos
steps each). On request, at the step on screen: the five largest eigenvalues, the spectral density
(stochastic Lanczos quadrature) and the top eigenvalue of each block's own Hessian, a block being each
direct child module of the model that has parameters, named as the model names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.ui.tabs.your_model.formatting import TRAIN, axis_end, nearest_index, number, thinned_ticks
from explorer.ui.theme import Theme
from explorer.ui.topic import Table
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.job_row import figure_with_job
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import GrowOnlyRange, Styled

if TYPE_CHECKING:
    from explorer.lab.your_model.analysis import Spectrum
    from explorer.lab.your_model.experiment import YourModelFrame

HINT = "Press “Spectrum of the current weights” for the top eigenvalues, the density and each block's curvature."
FLOOR = 1e-12  # log-axis floor: an eigenvalue of zero (or below) still draws
UNIT = "(loss / θ²)"  # a Hessian eigenvalue's unit: the loss's per squared weight
EIGEN = f"eigenvalue λ {UNIT}"
_TITLES = {"top": "Top 5 Hessian eigenvalues", "density": "Hessian spectral density",
           "blocks": "Top eigenvalue of each block's Hessian"}  # fmt: skip


class CurvaturePage(QtWidgets.QWidget):
    """λ_max over training and the top five in one row, density and block bars under them; a button below."""

    def __init__(self, styled: Styled) -> None:
        super().__init__()
        self.styled = styled
        self.sharpness = LegendedPlot(styled, "Top Hessian eigenvalue over training", "step", f"λ_max {UNIT}",
                                      columns=1, log_y=True)  # fmt: skip
        self.sharpness_curve = self.sharpness.add(styled.keyed(pg.PlotDataItem(symbol="o", symbolSize=5), TRAIN, 2.0),
                                                  "λ_max on the step's minibatch")  # fmt: skip
        self.sharpness_range = GrowOnlyRange(self.sharpness.plot, log=True)
        self.top = LegendedPlot(styled, _TITLES["top"], "rank (largest first)", EIGEN, columns=1, downsample=False)
        self.top_bars = self.top.add(styled.keyed(pg.BarGraphItem(x=[], height=[], width=0.6), TRAIN),
                                     "eigenvalue (Lanczos)")  # fmt: skip
        self.density = LegendedPlot(styled, _TITLES["density"], EIGEN, "density (1 / λ)", columns=1, log_y=True,
                                    downsample=False)  # fmt: skip
        self.density_curve = self.density.add(styled.keyed(pg.PlotDataItem(), TRAIN, 2.0), "smoothed density")
        self.blocks = LegendedPlot(styled, _TITLES["blocks"], "block (the model's child modules)", f"λ_max {UNIT}",
                                   columns=1, downsample=False)  # fmt: skip
        self.block_bars = self.blocks.add(styled.keyed(pg.BarGraphItem(x=[], height=[], width=0.6), TRAIN),
                                          "top eigenvalue of the block alone")  # fmt: skip
        for panel in (self.top, self.blocks):
            panel.plot.showGrid(x=False, y=True, alpha=0.15)  # a grid would drop the end blocks' names
        self.view = pg.GraphicsLayoutWidget()
        cells = (Cell(self.sharpness, 2), Cell(self.top), Cell(self.density, 2), Cell(self.blocks))
        self.flow = FlowGrid(self.view, self.view.ci, cells, (2, 1))
        self.button, self.info = figure_with_job(
            self, self.view, "Spectrum of the current weights",
            "Top-5 eigenvalues, spectral density and per-block top eigenvalues of the loss Hessian at the step on "
            "screen (progress and Cancel below)", HINT)  # fmt: skip
        self.button.setEnabled(False)
        self.frame: YourModelFrame | None = None
        self.spectrum: Spectrum | None = None
        self._x_end = 0.0

    def restyle(self, theme: Theme) -> None:
        for panel in (self.sharpness, self.top, self.density, self.blocks):
            panel.legend.update()
            panel.fit_legend()

    def new_run(self) -> None:
        self.frame = None
        self._x_end = 0.0
        self.sharpness_range.reset()
        self.clear()

    def clear(self) -> None:
        """No spectrum of these weights yet."""
        self.spectrum = None
        self.density_curve.setData([], [])
        for bars in (self.top_bars, self.block_bars):
            bars.setOpts(x=[], height=[])
        for key, panel in (("top", self.top), ("density", self.density), ("blocks", self.blocks)):
            panel.plot.setTitle(_TITLES[key])
        self.info.setText(HINT)

    # --- drawing ---------------------------------------------------------------------------------
    def show_frame(self, frame: YourModelFrame, every: int) -> None:
        self.frame = frame
        tops = np.maximum(frame.top_eigenvalues, FLOOR)
        self.sharpness_curve.setData(frame.curvature_steps, tops)
        self.sharpness_range.include(tops)
        title = ("Top Hessian eigenvalue: off (curvature every = 0)" if every == 0
                 else f"Top Hessian eigenvalue, every {every} steps")  # fmt: skip
        if self.sharpness.plot.titleLabel.text != title:
            self.sharpness.plot.setTitle(title)
        end = axis_end(frame.step, frame.total_steps)
        if end != self._x_end:
            self._x_end = end
            self.sharpness.plot.setXRange(0, end, padding=0.06)  # room for the last step's label

    def show_spectrum(self, spectrum: Spectrum) -> None:
        self.spectrum = spectrum
        ranks = np.arange(1, len(spectrum.top) + 1, dtype=float)
        self.top_bars.setOpts(x=ranks, height=spectrum.top, width=0.6)
        self.top.plot.getAxis("bottom").setTicks([[(r, str(int(r))) for r in ranks], []])
        self.top.plot.setXRange(0.4, len(ranks) + 0.6, padding=0)
        self.top.plot.enableAutoRange(axis="y")
        if spectrum.density.size:
            floor = 1e-6 * float(spectrum.density.max())  # the tails fall to 0: keep six decades in view
            self.density_curve.setData(spectrum.grid, np.maximum(spectrum.density, floor))
        x = np.arange(len(spectrum.blocks), dtype=float)
        self.block_bars.setOpts(x=x, height=spectrum.block_tops, width=0.6)
        self.blocks.plot.getAxis("bottom").setTicks([thinned_ticks(spectrum.blocks, 12), []])
        pad = max(0.8, 0.06 * len(x))  # room beside the end bars for their names
        self.blocks.plot.setXRange(-pad, len(x) - 1 + pad, padding=0)
        self.blocks.plot.enableAutoRange(axis="y")
        self.top.plot.setTitle(f"{_TITLES['top']}, step {spectrum.step}")
        self.density.plot.setTitle(f"{_TITLES['density']}, step {spectrum.step}")
        self.blocks.plot.setTitle(f"{_TITLES['blocks']}, step {spectrum.step}")
        self.styled.restyle(self.styled.theme)

    # --- hover -----------------------------------------------------------------------------------
    def describe(self, what: str, x: float, y: float) -> str | None:
        if what == "sharpness":
            frame = self.frame
            i = None if frame is None else nearest_index(frame.curvature_steps, x)
            if i is None:
                return None
            return (f"step {int(frame.curvature_steps[i])}: top Hessian eigenvalue {number(frame.top_eigenvalues[i])} "
                    "on that step's minibatch")  # fmt: skip
        spectrum = self.spectrum
        if spectrum is None:
            return None
        if what == "top":
            k = round(x) - 1
            if not 0 <= k < len(spectrum.top):
                return None
            return f"eigenvalue {k + 1} of the loss Hessian at step {spectrum.step}: {number(spectrum.top[k])}"
        if what == "density":
            i = nearest_index(spectrum.grid, x)
            if i is None:
                return None
            return f"λ = {spectrum.grid[i]:.4g}: density {spectrum.density[i]:.3g} (step {spectrum.step})"
        b = round(x)
        if not 0 <= b < len(spectrum.blocks):
            return None
        return (f"block {spectrum.blocks[b]}: top eigenvalue of its own Hessian {number(spectrum.block_tops[b])} "
                f"(step {spectrum.step})")  # fmt: skip

    # --- export ----------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        if self.frame is not None:
            tables["curvature"] = {"step": self.frame.curvature_steps, "top_eigenvalue": self.frame.top_eigenvalues}
        spectrum = self.spectrum
        if spectrum is not None:
            tables["top_eigenvalues"] = {"rank": list(range(1, len(spectrum.top) + 1)), "eigenvalue": spectrum.top}
            tables["spectral_density"] = {"eigenvalue": spectrum.grid, "density": spectrum.density}
            tables["block_curvature"] = {"block": list(spectrum.blocks), "top_eigenvalue": spectrum.block_tops}
        return tables

    def plots(self) -> dict[str, pg.GraphicsItem]:
        return {"top_eigenvalue": self.sharpness, "top_5_eigenvalues": self.top, "spectral_density": self.density,
                "block_curvature": self.blocks}  # fmt: skip
