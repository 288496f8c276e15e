"""The penultimate layer of each twin, projected onto the plane through the templates (last-layer rows)
of classes 0, 1 and 2 (Müller, Kornblith & Hinton 2019): smoothing gives tighter, evenly spaced clusters."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.twins import TWINS, twin_state
from explorer.ui.theme import Theme
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled


class GeometryPanels:
    """One projection per twin (``panels[twin]``): class points and the three templates as stars."""

    def __init__(self, styled: Styled) -> None:
        self.panels: dict[str, LegendedPlot] = {}
        self.points: dict[str, list[pg.ScatterPlotItem]] = {}
        self.templates: dict[str, list[pg.ScatterPlotItem]] = {}
        self._box: dict[str, np.ndarray | None] = dict.fromkeys(TWINS)  # (x0, x1, y0, y1) shown
        self.template_sample = pg.ScatterPlotItem(size=16, symbol="star")  # the legend's sample
        for twin in TWINS:
            name = "One-hot" if twin == "one_hot" else "Smoothed"
            panel = LegendedPlot(styled, f"{name}: penultimate", "along t₁ − t₀", "across, in the plane",
                                 downsample=False)  # fmt: skip
            points = [pg.ScatterPlotItem(size=6, symbol="ost"[c]) for c in range(3)]
            for c, item in enumerate(points):
                panel.add(item, f"class {c}")
            templates = [pg.ScatterPlotItem(size=20, symbol="star") for _ in range(3)]
            for item in templates:
                item.setZValue(10)
                panel.add(item)
            panel.legend.addItem(self.template_sample, "template")
            panel.plot.setAspectLocked(True)
            self.panels[twin], self.points[twin], self.templates[twin] = panel, points, templates

    def restyle(self, theme: Theme) -> None:
        """Classes take the palette's first colours, as in every point set of the app."""
        for twin in TWINS:
            for c, (item, star) in enumerate(zip(self.points[twin], self.templates[twin], strict=True)):
                item.setBrush(pg.mkBrush(theme.palette[c]))
                item.setPen(pg.mkPen(theme.background, width=0.5 * theme.pen_scale))
                item.setSize(6 * theme.font_scale)
                star.setBrush(pg.mkBrush(theme.palette[c]))
                star.setPen(pg.mkPen(theme.foreground, width=1.2 * theme.pen_scale))
                star.setSize(20 * theme.font_scale)
        self.template_sample.setBrush(pg.mkBrush(theme.background))
        self.template_sample.setPen(pg.mkPen(theme.foreground, width=1.2 * theme.pen_scale))

    def reset(self) -> None:
        """A new run: the views may shrink again."""
        self._box = dict.fromkeys(TWINS)

    def draw(self, frame: smoothing.SmoothingFrame, train: bool) -> None:
        """The training (``train``) or validation points of classes 0-2, and the templates."""
        labels = frame.train_projection_labels if train else frame.val_projection_labels
        for twin in TWINS:
            state = twin_state(frame, twin)
            points = state.train_projection if train else state.val_projection
            for c, item in zip(frame.projected_classes, self.points[twin], strict=True):
                chosen = points[labels == c]
                item.setData(chosen[:, 0], chosen[:, 1])
            for star, (x, y) in zip(self.templates[twin], state.template_projection, strict=True):
                star.setData([x], [y])
            self._grow_box(twin, np.vstack([points, state.template_projection]))

    def _grow_box(self, twin: str, xy: np.ndarray) -> None:
        """Keep a projection's view still while its points stay inside, grow it when they leave: moving
        axes re-render their tick text, the dearest part of a live redraw (as GrowOnlyRange does in 1-D)."""
        low, high = xy.min(axis=0), xy.max(axis=0)
        box = self._box[twin]
        if box is not None and box[0] <= low[0] and high[0] <= box[1] and box[2] <= low[1] and high[1] <= box[3]:
            return
        pad = 0.15 * np.maximum(high - low, 1e-6)
        new = np.array([low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]])
        if box is not None:
            new = np.array([min(box[0], new[0]), max(box[1], new[1]), min(box[2], new[2]), max(box[3], new[3])])
        self._box[twin] = new
        self.panels[twin].plot.setRange(xRange=new[:2], yRange=new[2:], padding=0)
