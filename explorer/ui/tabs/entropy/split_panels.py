"""The decision-tree split: a labelled point set cut by a draggable threshold line (the best one
dashed), and the information gain of every threshold with the best one starred."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from explorer.lab.entropy import decision_split
from explorer.lab.entropy.params import FEATURE_NAMES
from explorer.ui.tabs.entropy.formatting import bits, num
from explorer.ui.tabs.entropy.information_panels import FUNCTION
from explorer.ui.theme import Theme
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled

# fixed window of the point set: the threshold line has a home, and the bands above and below the
# blobs (x₂ from about −3.7 to 4.7 at the default spread) hold the children's labels
SPLIT_VIEW = ((-5.5, 5.5), (-6.5, 7.0))
_HIGHLIGHT = "#d55e00"  # the line under the mouse and the best gain


class SplitPanels:
    """``split_panel`` (points and lines) and ``gain_panel`` (gain against t); both lines move together."""

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.points: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.best: decision_split.BestSplit | None = None
        self.split: decision_split.Split | None = None
        self.feature = 0
        self.syncing = False
        self._legend_classes = 0
        self.split_panel = LegendedPlot(styled, "Split x₁ ≤ t", "x₁", "x₂", columns=5, downsample=False)
        self.class_items = [pg.ScatterPlotItem(size=8, symbol="ost"[c]) for c in range(3)]
        for item in self.class_items:
            self.split_panel.add(item)
        self.threshold_line = pg.InfiniteLine(pos=0.0, angle=90, movable=True, bounds=(-6.0, 6.0))
        self.threshold_line.setZValue(20)
        self.best_line = pg.InfiniteLine(pos=0.0, angle=90, movable=False)
        self.threshold_proxy = pg.PlotDataItem()  # legend samples for the lines
        self.best_proxy = pg.PlotDataItem()
        self.split_panel.add(self.threshold_line)
        self.split_panel.add(self.best_line)
        self.child_texts = [pg.TextItem(anchor=(0, 0)), pg.TextItem(anchor=(1, 1))]
        for text in self.child_texts:
            text.setZValue(15)  # over the points, under the lines
            self.split_panel.plot.addItem(text)
        (x0, x1), (y0, y1) = SPLIT_VIEW
        self.split_panel.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.split_panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.gain_panel = LegendedPlot(styled, "Information gain", "threshold t on x₁", "gain (bits)",
                                       downsample=False)  # fmt: skip
        self.gain_curve = styled.keyed(pg.PlotDataItem(), FUNCTION)
        self.gain_best = pg.ScatterPlotItem(size=18, symbol="star")
        self.gain_best.setZValue(10)
        self.gain_line = pg.InfiniteLine(pos=0.0, angle=90, movable=True, bounds=(-6.0, 6.0))
        self.gain_panel.add(self.gain_curve, "gain of each t")
        self.gain_panel.add(self.gain_line)
        self.gain_panel.legend.addItem(self.threshold_proxy, "t (drag)")
        self.gain_panel.add(self.gain_best, "best")
        self.gain_panel.plot.setXRange(x0, x1, padding=0)
        self.gain_panel.plot.vb.setMouseEnabled(x=False, y=False)

    def panels(self) -> tuple[LegendedPlot, ...]:
        return self.split_panel, self.gain_panel

    def lines(self) -> tuple[pg.InfiniteLine, pg.InfiniteLine]:
        """The two draggable threshold lines (scatter and gain plot)."""
        return self.threshold_line, self.gain_line

    def restyle(self, theme: Theme) -> None:
        """Classes take the palette's first colours; the lines are drawn in the foreground colour."""
        for c, item in enumerate(self.class_items):
            item.setBrush(pg.mkBrush(theme.palette[c]))
            item.setPen(pg.mkPen(theme.background, width=0.8 * theme.pen_scale))
            item.setSize(6 + 2 * theme.font_scale)  # grows less than the fonts: the blobs must stay apart
        line_pen = pg.mkPen(theme.foreground, width=2.5 * theme.pen_scale)
        best_pen = pg.mkPen(theme.muted(220), width=1.5 * theme.pen_scale, style=QtCore.Qt.PenStyle.DashLine)
        for line in self.lines():
            line.setPen(line_pen)
            line.setHoverPen(pg.mkPen(_HIGHLIGHT, width=3.5 * theme.pen_scale))
        self.threshold_proxy.setPen(line_pen)
        self.best_line.setPen(best_pen)
        self.best_proxy.setPen(best_pen)
        self.gain_best.setBrush(pg.mkBrush(_HIGHLIGHT))
        self.gain_best.setPen(pg.mkPen(theme.foreground, width=theme.pen_scale))
        self.gain_best.setSize(18 * theme.font_scale)
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(8.5))
        fill = QtGui.QColor(theme.background)
        fill.setAlpha(210)
        for text in self.child_texts:
            text.setColor(theme.foreground)
            text.setFont(font)
            text.fill = pg.mkBrush(fill)

    # --- drawing -------------------------------------------------------------------------------
    def set_points(self, points: np.ndarray, labels: np.ndarray, classes: int) -> None:
        """A new point set: draw it and find the best split over both features."""
        self.points, self.labels = points, labels
        self.best = decision_split.best_split(points, labels)
        for c, item in enumerate(self.class_items):
            chosen = points[labels == c]
            item.setData(chosen[:, 0], chosen[:, 1])
        self._sync_legend(classes)

    def _sync_legend(self, classes: int) -> None:
        """The legend lists the classes that are drawn, then the two lines."""
        if classes == self._legend_classes:
            return
        self._legend_classes = classes
        legend = self.split_panel.legend
        legend.clear()
        for c in range(classes):
            legend.addItem(self.class_items[c], f"class {c}")
        legend.addItem(self.threshold_proxy, "t (drag)")
        legend.addItem(self.best_proxy, "best t")
        self.styled.restyle(self.styled.theme)
        self.restyle(self.styled.theme)
        self.split_panel.fit_legend()

    def set_threshold(self, feature: int, threshold: float) -> decision_split.Split | None:
        """Split on ``feature`` at ``threshold``: move both lines there and redraw the gain plot."""
        if self.points is None or self.labels is None or self.best is None:
            return None
        self.feature = feature
        name = FEATURE_NAMES[feature]
        scan = self.best.scans[feature]
        self.split = split = decision_split.split_entropies(self.points, self.labels, feature, threshold)
        self.syncing = True  # the owner acts on drags of a line, not on these moves
        try:
            for line in self.lines():
                if line.value() != threshold:
                    line.setValue(threshold)
        finally:
            self.syncing = False
        angle = 90 if feature == 0 else 0
        self.threshold_line.setAngle(angle)
        self.best_line.setAngle(angle)
        if math.isfinite(scan.best_threshold):
            self.best_line.setValue(scan.best_threshold)
            self.gain_best.setData([scan.best_threshold], [scan.best_gain])
        self.gain_curve.setData(scan.thresholds, scan.gains)
        self.gain_panel.plot.setYRange(0, 1.15 * max(scan.best_gain, 0.1), padding=0)
        self.gain_panel.plot.setLabel("bottom", f"threshold t on {name}")
        self.gain_panel.plot.setTitle(f"IG = {bits(split.gain)}")
        self.split_panel.plot.setTitle(f"Split {name} ≤ {num(threshold, 2)}")
        self._place_child_texts(feature, split)
        return split

    def _place_child_texts(self, j: int, split: decision_split.Split) -> None:
        """Each child's size and entropy in the corner of its side of the line."""
        (x0, x1), (y0, y1) = SPLIT_VIEW
        low, high = self.child_texts
        # two short lines: a narrow label stays in its corner, clear of the blobs, at presentation sizes too
        low.setText(f"≤ t: n = {split.left_count}\nH = {num(split.left_entropy, 2)}")
        high.setText(f"> t: n = {split.right_count}\nH = {num(split.right_entropy, 2)}")
        if j == 0:  # a vertical line: left child top left, right child bottom right
            low.setAnchor((0, 0))
            low.setPos(x0, y1)
            high.setAnchor((1, 1))
            high.setPos(x1, y0)
        else:  # a horizontal line: the child below it bottom left, the one above top left
            low.setAnchor((0, 1))
            low.setPos(x0, y0)
            high.setAnchor((0, 0))
            high.setPos(x0, y1)

    # --- hover ---------------------------------------------------------------------------------
    def describe_point(self, x: float, y: float) -> str | None:
        if self.split is None:
            return None
        j = self.feature
        left = (x, y)[j] <= self.split.threshold
        return (f"(x₁, x₂) = ({x:.2f}, {y:.2f}): {FEATURE_NAMES[j]} {'≤' if left else '>'} t = "
                f"{num(self.split.threshold, 2)}, the {'first' if left else 'second'} child. "
                "Drag the line to move t.")  # fmt: skip

    def describe_gain(self, x: float, y: float) -> str | None:
        if self.points is None or self.labels is None:
            return None
        split = decision_split.split_entropies(self.points, self.labels, self.feature, x)
        n = split.left_count + split.right_count
        return (f"t = {x:.2f}: IG = {num(split.parent_entropy)} − ({split.left_count}/{n}·"
                f"{num(split.left_entropy)} + {split.right_count}/{n}·{num(split.right_entropy)}) "
                f"= {bits(split.gain)}")  # fmt: skip
