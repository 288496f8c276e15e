"""The "Your model" tab's landscape view: the loss on a plane through the current weights, with the training
path drawn over it (PCA plane), and the loss on the straight line from the initialization to the weights.

The plane is the one the ``directions`` parameter names: the path's two principal directions (the path
lies in it; Li et al. 2018, Sec. 7) or two filter-normalized random directions (Li et al. 2018). Colour
is log₁₀ loss (the loss itself where the file's loss() goes to 0 or below); the grid fills in coarse to
fine while the job runs. The line is Goodfellow, Vinyals & Saxe (2015).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.core import contours
from explorer.ui.tabs.your_model.formatting import LOSS_FLOOR, TRAIN, loss_unit, nearest_index, number
from explorer.ui.theme import Theme, style_axis
from explorer.ui.topic import Table
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.job_row import figure_with_job
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import HeatmapPanel, Styled

if TYPE_CHECKING:
    from explorer.lab.your_model.analysis import Line, Surface

HINT = "Press “Landscape of the current weights” for the loss around them and the line from θ₀."
PATH_COLORMAP = "magma"  # the path's points, dark (step 0) to light (now): apart from viridis' greens
N_LEVELS = 10
_TITLE = "Loss landscape around the weights"


def _grid_cell(axis: np.ndarray, value: float) -> int | None:
    """Index of the grid line nearest ``value``, None beyond half a cell outside the grid."""
    half = 0.5 * float(axis[1] - axis[0]) if len(axis) > 1 else 0.5
    if not axis[0] - half <= value <= axis[-1] + half:
        return None
    return int(np.abs(axis - value).argmin())


class LandscapePage(QtWidgets.QWidget):
    """The plane's heatmap with contours, path and the weights at (0, 0); the line beside it; a button under."""

    def __init__(self, styled: Styled) -> None:
        super().__init__()
        self.styled = styled
        self.plane = LegendedPlot(styled, _TITLE, "α along d₁", "β along d₂", columns=2, downsample=False)
        self.heat = HeatmapPanel(styled, self.plane.plot, "viridis")
        self.path_line = pg.PlotDataItem()
        self.path_line.setZValue(15)
        self.path_points = pg.ScatterPlotItem(size=7)
        self.path_points.setZValue(16)
        self.centre = pg.ScatterPlotItem(symbol="+", size=16, pen=pg.mkPen("#000000"), brush=pg.mkBrush("#ffffff"))
        self.centre.setZValue(20)
        self.plane.add(self.path_line)
        self.plane.add(self.path_points, "path: step 0 (dark) → now (light)")
        self.plane.add(self.centre, "the weights θ")
        self.plane.legend.addItem(self.heat.contours, "contours")
        self.plane.fit_legend()
        self.hint = styled.styled_text(pg.TextItem(anchor=(0.5, 0.5)))
        self.hint.setZValue(30)
        self.plane.plot.addItem(self.hint)
        self.line = LegendedPlot(styled, "From the initialization to the weights", "t  (θ = (1 − t) θ₀ + t θ)",
                                 "loss", columns=1, log_y=True, downsample=False)  # fmt: skip
        self.line_curve = self.line.add(styled.keyed(pg.PlotDataItem(), TRAIN, 2.0), "loss along the line")
        self.view = pg.GraphicsLayoutWidget()
        self.flow = FlowGrid(self.view, self.view.ci, (Cell(self.plane, 3), Cell(self.line, 2)), (2, 1))
        self.view.ci.layout.setColumnSpacing(0, 48)  # the colour bar's label and the line's axis label apart
        self.button, self.info = figure_with_job(
            self, self.view, "Landscape of the current weights",
            "The loss on the chosen plane through the weights of the step on screen, and along the line from their "
            "initialization (progress and Cancel below)", HINT)  # fmt: skip
        self.button.setEnabled(False)
        self.surface: Surface | None = None
        self.line_result: Line | None = None
        self._plane_key: tuple[object, ...] = ()
        self._log = True
        self.clear()

    def restyle(self, theme: Theme) -> None:
        self.path_line.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale))
        self.centre.setSize(16 * theme.font_scale)
        self.centre.setPen(pg.mkPen("#000000", width=theme.pen_scale))
        self.path_points.setSize(7 * theme.font_scale)
        for panel in (self.plane, self.line):
            panel.legend.update()
            panel.fit_legend()

    def clear(self, hint: str = "No landscape yet") -> None:
        """No landscape of these weights (a new run, a new plane being taken)."""
        self.surface = self.line_result = None
        self._plane_key = ()
        self.heat.image.clear()
        self.heat.contours.setData([], [])
        for item in (self.path_line, self.path_points, self.centre, self.line_curve):
            item.setData([], [])
        self.hint.setText(hint)
        self.hint.setPos(0.0, 0.0)
        self.plane.plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
        self.plane.plot.setTitle(_TITLE)

    # --- drawing ---------------------------------------------------------------------------------
    def show_surface(self, surface: Surface, loss_name: str) -> None:
        """A partial or complete surface: the grid fills in, coarse to fine."""
        self.surface = surface
        finite = surface.losses[np.isfinite(surface.losses)]
        log = bool(finite.size == 0 or finite.min() > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.log10(np.maximum(surface.losses, LOSS_FLOOR)) if log else surface.losses.copy()
        shown[~np.isfinite(surface.losses)] = np.nan
        key = (surface.step, surface.directions, len(surface.alphas), float(surface.alphas[0]), log)
        if key != self._plane_key:
            self._plane_key, self._log = key, log
            self._new_plane(surface, shown, loss_name, log)
        values = shown[np.isfinite(shown)]
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        high = max(high, low + 1e-3)
        self.heat.image.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False, levels=(low, high))
        self.heat.colorbar.setLevels((low, high))
        if np.isfinite(shown).all():
            levels = np.linspace(low, high, N_LEVELS + 2)[1:-1]
            self.heat.set_contours(contours.segments(shown, surface.alphas, surface.betas, levels))

    def _new_plane(self, surface: Surface, shown: np.ndarray, loss_name: str, log: bool) -> None:
        """Extent, axis labels, path and title of a new plane."""
        label = f"log₁₀ {loss_unit(loss_name)}" if log else loss_unit(loss_name)
        self.heat.set_field(surface.alphas, surface.betas, shown, label, surface.losses)
        self.hint.setText("")
        plot = self.plane.plot
        if surface.directions == "pca":
            ev = 100 * surface.explained
            plot.setLabel("bottom", f"α along d₁ ({ev[0]:.1f}% of the path's variance)")
            plot.setLabel("left", f"β along d₂ ({ev[1]:.1f}%)")
            frac = surface.path_steps / max(float(surface.path_steps[-1]), 1.0)
            colours = pg.colormap.get(PATH_COLORMAP).map(0.15 + 0.8 * frac, mode="qcolor")
            self.path_line.setData(surface.path[:, 0], surface.path[:, 1])
            self.path_points.setData(surface.path[:, 0], surface.path[:, 1], brush=colours,
                                     pen=pg.mkPen("#ffffff", width=0.6))  # fmt: skip
            where = "PCA plane of the path"
            self.plane.rename(self.path_points, "path: step 0 (dark) → now (light)")
        else:
            plot.setLabel("bottom", "α along d₁ (filter-normalized)")
            plot.setLabel("left", "β along d₂ (filter-normalized)")
            self.path_line.setData([], [])
            self.path_points.setData([], [])
            where = "random plane"
            self.plane.rename(self.path_points, "path: on the PCA plane only")
        for side in ("bottom", "left"):  # the new label text in the theme's font
            style_axis(plot.getAxis(side), self.styled.theme)
        self.centre.setData([0.0], [0.0])
        plot.setTitle(f"Loss around the weights of step {surface.step}, {where}")
        self.styled.restyle(self.styled.theme)

    def show_line(self, line: Line, loss_name: str) -> None:
        self.line_result = line
        finite = line.losses[np.isfinite(line.losses)]
        log = bool(finite.size == 0 or finite.min() > 0)
        plot = self.line.plot
        if plot.getAxis("left").logMode != log:
            plot.setLogMode(y=log)
        plot.setLabel("left", loss_unit(loss_name))
        plot.setTitle(f"From the initialization to the weights of step {line.step}")
        self.line_curve.setData(line.t, np.maximum(line.losses, LOSS_FLOOR) if log else line.losses)
        plot.enableAutoRange()
        self.styled.restyle(self.styled.theme)

    # --- hover -----------------------------------------------------------------------------------
    def describe_plane(self, x: float, y: float) -> str | None:
        surface = self.surface
        if surface is None:
            return None
        i, j = _grid_cell(surface.betas, y), _grid_cell(surface.alphas, x)
        if i is None or j is None:
            return None
        loss = surface.losses[i, j]
        value = number(float(loss)) if np.isfinite(loss) else "not yet evaluated"
        return (f"α = {surface.alphas[j]:.3g}, β = {surface.betas[i]:.3g}: loss L(θ + α d₁ + β d₂) = {value} "
                f"(weights of step {surface.step}, first examples of data())")  # fmt: skip

    def describe_line(self, x: float, y: float) -> str | None:
        line = self.line_result
        if line is None:
            return None
        i = nearest_index(line.t, x)
        if i is None:
            return None
        return f"t = {line.t[i]:.3g} (θ₀ at 0, step {line.step} at 1): loss {number(float(line.losses[i]))}"

    # --- export ----------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        surface = self.surface
        if surface is not None:
            alpha, beta = np.meshgrid(surface.alphas, surface.betas, indexing="xy")  # (R, R) each, row = beta
            tables["landscape"] = {"alpha": alpha.ravel(), "beta": beta.ravel(), "loss": surface.losses.ravel()}
            if surface.path.size:
                tables["path"] = {"step": surface.path_steps, "alpha": surface.path[:, 0], "beta": surface.path[:, 1]}
        if self.line_result is not None:
            tables["interpolation"] = {"t": self.line_result.t, "loss": self.line_result.losses}
        return tables

    def plots(self) -> dict[str, pg.GraphicsItem]:
        return {"landscape": self.plane, "interpolation": self.line}
