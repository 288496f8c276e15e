"""The residual tab's decision boundaries: P(class 1) of the plain and the residual net of one depth over
the input plane, the P = ½ line, and the training points on top (the deep plain net's boundary stays a
blur where its residual twin traces the spirals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg

from explorer.lab.core import contours
from explorer.ui.tabs.residual.cells import KINDS, bar_room, nearest, set_title, shared_bar, show_cells, span_title
from explorer.ui.theme import Theme, style_axis
from explorer.ui.topic import Table
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import HeatmapPanel, Styled

if TYPE_CHECKING:
    from explorer.lab.residual.residual import ResidualFrame

#: class 0, class 1: shape and tone differ; (symbol, fill, edge, size) - a triangle reads smaller than a disc
_CLASS_MARKS = (("o", "#ffffff", "#000000", 4.5), ("t", "#000000", "#ffffff", 6.0))
_HALF = np.array([0.5])


class BoundaryPanels:
    """Two heatmaps on one fixed scale [0, 1], one colour bar (beside the residual panel) for both."""

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.panels: dict[str, LegendedPlot] = {}
        self.maps: dict[str, HeatmapPanel] = {}
        self.points: dict[str, list[pg.ScatterPlotItem]] = {}
        for kind in KINDS:
            panel = LegendedPlot(styled, kind.capitalize(), "x₁", "x₂", columns=2, downsample=False)
            self.maps[kind] = HeatmapPanel(styled, panel.plot, "CET-D1")
            points = []
            for c, (symbol, fill, edge, size) in enumerate(_CLASS_MARKS):
                item = pg.ScatterPlotItem(symbol=symbol, size=size, brush=pg.mkBrush(fill), pen=pg.mkPen(edge))
                item.setZValue(10)
                panel.add(item, f"class {c}")
                points.append(item)
            panel.legend.addItem(self.maps[kind].contours, "P = ½")
            panel.fit_legend()
            self.panels[kind], self.points[kind] = panel, points
        shared_bar(self.maps["plain"], self.panels["plain"].plot)
        for panel in self.panels.values():
            span_title(panel.plot)
        self._grid_key: tuple[Any, ...] = ()
        self._fields: tuple[np.ndarray, ...] = ()  # the frame's boundary arrays on show now

    def restyle(self, theme: Theme) -> None:
        for points in self.points.values():
            for item, (_, _, edge, size) in zip(points, _CLASS_MARKS, strict=True):
                item.setSize(size * theme.font_scale)
                item.setPen(pg.mkPen(edge, width=0.7 * theme.pen_scale))
        self._pen_lines()
        bar_room(self.maps["residual"], theme, "0.0")
        for panel in self.panels.values():
            panel.legend.update()
            panel.fit_legend()

    def _pen_lines(self) -> None:
        """The P = ½ line in the foreground colour: it is the boundary, not a background contour."""
        pen = pg.mkPen(self.styled.theme.foreground, width=2 * self.styled.theme.pen_scale)
        pen.setCosmetic(True)
        for heatmap in self.maps.values():
            heatmap.contours.setPen(pen)

    def new_run(self) -> None:
        self._grid_key = ()
        self._fields = ()

    def show(self, frame: ResidualFrame, depth: int) -> None:
        index = frame.depths.index(depth)
        fields = {"plain": frame.plain_boundary[index], "residual": frame.residual_boundary[index]}
        grid_key = (depth, len(frame.grid_x), float(frame.grid_x[0]), float(frame.grid_x[-1]))
        fresh = grid_key != self._grid_key  # a new run or another depth: new extent and points
        self._grid_key = grid_key
        # boundaries are recomputed every few frames only, as new arrays: between them, redrawing the
        # images, contours and colour bar each frame made the whole figure repaint for nothing
        every = (frame.plain_boundary, frame.residual_boundary)  # (n_depths, G, G) each
        same = len(self._fields) == 2 and all(a is b for a, b in zip(self._fields, every, strict=True))
        if same and not fresh:
            return
        self._fields = every
        for kind, field in fields.items():
            heatmap = self.maps[kind]
            if fresh:
                heatmap.set_field(frame.grid_x, frame.grid_y, field, "P(class 1)", field)
                show_cells(self.panels[kind].plot, frame.grid_x, frame.grid_y)
                for item, label in zip(self.points[kind], (0, 1), strict=True):
                    chosen = frame.points[frame.labels == label]
                    item.setData(chosen[:, 0], chosen[:, 1])
            heatmap.image.setImage(np.ascontiguousarray(field, dtype=np.float32), autoLevels=False,
                                   levels=(0.0, 1.0))  # fmt: skip
            heatmap.colorbar.setLevels((0.0, 1.0))
            heatmap.set_contours(contours.segments(field, frame.grid_x, frame.grid_y, _HALF))
            set_title(self.panels[kind].plot, f"{kind.capitalize()} {depth}")
        # the step goes on the shared colour bar: in a title it would not fit four panels in a row
        axis = self.maps["residual"].colorbar.axis
        label = f"P(class 1) at step {frame.boundary_step}"
        if axis.labelText != label:
            axis.setLabel(label)
            style_axis(axis, self.styled.theme)
        self._pen_lines()

    @staticmethod
    def describe(frame: ResidualFrame, depth: int, x: float, y: float) -> str | None:
        j, i = nearest(frame.grid_x, x), nearest(frame.grid_y, y)
        if i is None or j is None:
            return None
        k = frame.depths.index(depth)
        plain, res = frame.plain_boundary[k, i, j], frame.residual_boundary[k, i, j]
        return (f"x₁ = {frame.grid_x[j]:.3g}, x₂ = {frame.grid_y[i]:.3g}: P(class 1) = softmax(f(x))₁ — "
                f"plain {depth}: {plain:.3f}, residual {depth}: {res:.3f} (step {frame.boundary_step})")  # fmt: skip

    @staticmethod
    def tables(frame: ResidualFrame, depth: int) -> dict[str, Table]:
        k = frame.depths.index(depth)
        gx, gy = np.meshgrid(frame.grid_x, frame.grid_y, indexing="xy")  # (G, G) each, row = x2
        boundary: Table = {"x1": gx.ravel(), "x2": gy.ravel(), f"p_plain_{depth}": frame.plain_boundary[k].ravel(),
                           f"p_residual_{depth}": frame.residual_boundary[k].ravel()}  # fmt: skip
        points: Table = {"x1": frame.points[:, 0], "x2": frame.points[:, 1], "label": frame.labels}
        return {"decision_boundary": boundary, "points": points}
