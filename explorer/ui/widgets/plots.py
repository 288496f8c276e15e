"""Shared plot panels: a heatmap with colour bar and contours, and a multi-curve panel with legend.

Items are created once and updated with ``setData`` / ``setImage`` on every frame (pyqtgraph's own
advice), long curves use peak downsampling and clip-to-view, and every curve is registered with its
series key so a theme change can re-pen it in one place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.theme import BASE_POINT_SIZE, Theme, forget_text_room, style_axis, style_legend, style_plot
from explorer.ui.widgets.logaxis import LogAxis


class Styled:
    """Remembers (item, series key, width) so :meth:`restyle` can re-pen everything for a new theme."""

    def __init__(self) -> None:
        self.theme = Theme()
        self._keyed: list[tuple[pg.GraphicsObject, str, float, QtCore.Qt.PenStyle | None]] = []
        self._plots: list[pg.PlotItem] = []
        self._axes: list[pg.AxisItem] = []
        self._legends: list[pg.LegendItem] = []
        self._texts: list[tuple[pg.TextItem, float, bool]] = []
        self._muted: list[tuple[pg.PlotDataItem, int, float]] = []

    def styled_legend(self, legend: pg.LegendItem) -> pg.LegendItem:
        """Style a free-standing legend (one placed in a layout cell, outside any plot)."""
        self._legends.append(legend)
        style_legend(legend, self.theme)
        return legend

    def styled_axis(self, axis: pg.AxisItem) -> pg.AxisItem:
        """Style a free-standing axis (a colour bar's) like the plots' axes."""
        if not any(known is axis for known in self._axes):  # may be called per frame: remember it once
            self._axes.append(axis)
        style_axis(axis, self.theme)
        return axis

    def styled_text(self, item: pg.TextItem, size: float = BASE_POINT_SIZE, colour: bool = True) -> pg.TextItem:
        """A text in a plot (a hint, an InfiniteLine's label) at ``size`` pt x the theme's font scale, in the
        foreground colour unless ``colour`` is False (a keyed line's label), now and on restyle: a graphics
        item keeps the font it was made with, whatever the application's font does later."""
        self._texts.append((item, size, colour))
        self._text(item, size, colour)
        return item

    def _text(self, item: pg.TextItem, size: float, colour: bool) -> None:
        font = QtGui.QFont()
        font.setPointSizeF(self.theme.point_size(size))
        item.setFont(font)
        if colour:
            item.setColor(self.theme.foreground)

    def muted(self, item: pg.PlotDataItem, alpha: int = 110, width: float = 1.0) -> pg.PlotDataItem:
        """Pen ``item`` (contours, a grid: lines that must not compete with data) in the theme's muted
        foreground, ``width`` cosmetic pixels, now and on restyle."""
        self._muted.append((item, alpha, width))
        self._mute(item, alpha, width)
        return item

    def _mute(self, item: pg.PlotDataItem, alpha: int, width: float) -> None:
        pen = pg.mkPen(self.theme.muted(alpha), width=width)
        pen.setCosmetic(True)
        item.setPen(pen)

    def keyed(
        self, item: pg.GraphicsObject, key: str, width: float = 1.5, style: QtCore.Qt.PenStyle | None = None
    ) -> pg.GraphicsObject:
        """Pen ``item`` in series ``key``'s colour (and ``style``, else the theme's choice), now and on restyle."""
        self._keyed.append((item, key, width, style))
        self._pen(item, key, width, style)
        return item

    def styled_plot(self, plot: pg.PlotItem) -> pg.PlotItem:
        self._plots.append(plot)
        style_plot(plot, self.theme)
        return plot

    def _style(self, key: str, style: QtCore.Qt.PenStyle | None) -> QtCore.Qt.PenStyle | None:
        """``style``, else dashes when an earlier series of this tab already has ``key``'s colour: the
        palette (7 colours in presentation mode) is shorter than the list of keys, but a colour may
        repeat across tabs, never unmarked within one."""
        if style is not None:
            return style
        colour = self.theme.color(key).rgb()
        for other in dict.fromkeys(k for _, k, _, _ in self._keyed):
            if other == key:
                return None
            if self.theme.color(other).rgb() == colour:
                return QtCore.Qt.PenStyle.DashLine
        return None

    def _pen(self, item: pg.GraphicsObject, key: str, width: float, style: QtCore.Qt.PenStyle | None = None) -> None:
        style = self._style(key, style)
        if isinstance(item, pg.ScatterPlotItem):
            item.setBrush(self.theme.brush(key))
            item.setPen(pg.mkPen(self.theme.background, width=0.8 * self.theme.pen_scale))
        elif isinstance(item, pg.PlotDataItem):
            item.setPen(self.theme.pen(key, width, style))
            if item.opts.get("symbol") is not None:
                item.setSymbolBrush(self.theme.brush(key))
                item.setSymbolPen(pg.mkPen(self.theme.background))
                item.setSymbolSize(int(8 * self.theme.font_scale))
        elif isinstance(item, pg.BarGraphItem):
            item.setOpts(brush=self.theme.brush(key, 200), pen=pg.mkPen(self.theme.foreground, width=0.5))

    def swatch(self, key: str, width: float = 1.5) -> QtGui.QIcon:
        """A table's mark for series ``key``: a short line in its pen, dashed where the line is, so a
        colour the palette repeats (presentation mode has seven) still tells the rows apart."""
        height = round(12 * self.theme.font_scale)
        pixmap = QtGui.QPixmap(3 * height, height)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pen = self.theme.pen(key, max(width, 2.0), self._style(key, None))
        pen.setCosmetic(False)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.drawLine(QtCore.QPointF(1, height / 2), QtCore.QPointF(3 * height - 1, height / 2))
        painter.end()
        return QtGui.QIcon(pixmap)

    def restyle(self, theme: Theme) -> None:
        """Everything registered, for ``theme``; a new theme's fonts are measured afresh (not when a tab
        restyles for the same theme, after adding legend entries, say)."""
        changed, self.theme = theme != self.theme, theme
        for plot in self._plots:
            for side in ("left", "bottom", "right", "top"):
                if changed:
                    forget_text_room(plot.getAxis(side))
            style_plot(plot, theme)
        for axis in self._axes:
            if changed:
                forget_text_room(axis)
            style_axis(axis, theme)
        for item, size, colour in self._texts:
            self._text(item, size, colour)
        for item, alpha, width in self._muted:
            self._mute(item, alpha, width)
        for legend in self._legends:
            style_legend(legend, theme)
        for item, key, width, style in self._keyed:
            self._pen(item, key, width, style)


def forget_spot_sizes(scatter: pg.ScatterPlotItem) -> None:
    """Let ``scatter`` measure its symbols afresh, as a new one does, after a theme set their sizes.

    pyqtgraph keeps every symbol it has drawn in an atlas and pads the view's auto-range by the largest
    one ever seen, so a plot that once showed presentation-sized markers kept the wider range after them.
    """
    scatter.fragmentAtlas.clear()
    scatter.data["sourceRect"] = 0
    scatter._maxSpotWidth = scatter._maxSpotPxWidth = 0
    scatter.updateSpots()
    scatter.informViewBoundsChanged()  # the view's auto-range is taken again at its next paint


def new_plot(
    styled: Styled,
    title: str,
    x_label: str,
    y_label: str,
    *,
    log_x: bool = False,
    log_y: bool = False,
    legend: tuple[int, int] | None = (-8, 8),
    downsample: bool = True,
) -> pg.PlotItem:
    """A PlotItem with labelled axes (units in the label text), grid, optional log axes and legend.

    Both axes are :class:`LogAxis`: in log mode they label decades readably, also when the plot
    switches to log later (``plot.setLogMode``); in linear mode they are pyqtgraph's own.
    ``legend`` is the legend's offset from the plot's corner (negative: from the right / bottom),
    or None for no legend. Long live curves get peak downsampling and clip-to-view.
    """
    plot = pg.PlotItem(title=title, axisItems={side: LogAxis(side) for side in ("left", "bottom")})
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.setLogMode(x=log_x, y=log_y)
    plot.showGrid(x=True, y=True, alpha=0.15)
    for side in ("left", "bottom"):  # the labels carry the units: no "(x0.001)" beside them
        plot.getAxis(side).enableAutoSIPrefix(False)
    if downsample:
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
    if legend is not None:
        plot.addLegend(offset=legend)
    return styled.styled_plot(plot)


class GrowOnlyRange:
    """Keeps a plot's y range still while data stays inside it, and grows it (to whole decades on a
    log axis) when data leaves. Autorange would move the axis a little on every frame, and an axis
    that moves must re-render all its tick text: the most expensive part of a live redraw."""

    def __init__(self, plot: pg.PlotItem, log: bool = False) -> None:
        self.plot = plot
        self.log = log
        self.low = self.high = None
        plot.disableAutoRange(axis="y")

    def reset(self, log: bool | None = None) -> None:
        if log is not None:
            self.log = log
        self.low = self.high = None

    def include(self, *series: np.ndarray) -> None:
        values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series]) if series else np.empty(0)
        values = values[np.isfinite(values) & ((values > 0) if self.log else True)]
        if values.size == 0:
            return
        low, high = float(values.min()), float(values.max())
        if self.low is not None and self.low <= low and high <= self.high:
            return
        if self.log:  # whole decades, in data units
            low, high = 10 ** np.floor(np.log10(low)), 10 ** np.ceil(np.log10(high) + 1e-9)
        else:
            span = max(high - low, 1e-12)
            low, high = low - 0.25 * span, high + 0.25 * span
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
        view = (np.log10(self.low), np.log10(self.high)) if self.log else (self.low, self.high)
        self.plot.setYRange(*view, padding=0.05)


class HeatmapPanel:
    """An ImageItem with a ColorBarItem, one contour item (all levels as segment pairs) and hover text."""

    def __init__(self, styled: Styled, plot: pg.PlotItem, colormap: str = "viridis") -> None:
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        plot.addItem(self.image)
        self.contours = styled.muted(pg.PlotDataItem(connect="pairs", antialias=False), alpha=140)
        self.contours.setZValue(-5)
        plot.addItem(self.contours)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get(colormap), interactive=False, width=16)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.colorbar.axis.setWidth(None)  # sized to its tick text (pyqtgraph fixes 45 px: too narrow at 1.5x fonts)
        self.colorbar.axis.enableAutoSIPrefix(False)  # the label carries the unit
        styled.styled_axis(self.colorbar.axis)
        self._styled = styled
        self._xs = np.zeros(1)
        self._ys = np.zeros(1)
        self._values = np.zeros((1, 1))
        self.hover_label = pg.TextItem(anchor=(0, 1), color=styled.theme.foreground, fill=pg.mkBrush(0, 0, 0, 0))
        self.hover_label.setZValue(50)

    def set_field(self, xs: np.ndarray, ys: np.ndarray, shown: np.ndarray, label: str, values: np.ndarray) -> None:
        """Show ``shown`` (ny, nx) over the rectangle spanned by xs, ys; ``values`` is what hover reports."""
        self._xs, self._ys, self._values = xs, ys, values
        finite = shown[np.isfinite(shown)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.image.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False, levels=(low, high))
        dx, dy = _spacing(xs), _spacing(ys)  # one column (a head dim of 1) has no neighbour to measure
        self.image.setRect(QtCore.QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
        self.colorbar.setLevels((low, high))
        self.colorbar.axis.setLabel(label)
        self._styled.styled_axis(self.colorbar.axis)
        # frame whole cells: the image spans half a cell beyond the first and last centres
        x_range, y_range = (xs[0] - dx / 2, xs[-1] + dx / 2), (ys[0] - dy / 2, ys[-1] + dy / 2)
        self.plot.setRange(xRange=x_range, yRange=y_range, padding=0)

    def set_contours(self, points: np.ndarray) -> None:
        self.contours.setData(points[:, 0], points[:, 1], connect="pairs")
        # segment pairs must reach the screen intact: no downsampling, no clipping of the pair list
        self.contours.setDownsampling(ds=1, auto=False)
        self.contours.setClipToView(False)

    def value_at(self, x: float, y: float) -> float | None:
        """The value of the grid cell under (x, y) (the nearest centre), or None outside the image."""
        i, j = _nearest(self._ys, y), _nearest(self._xs, x)
        return None if i is None or j is None else float(self._values[i, j])


def _spacing(centres: np.ndarray) -> float:
    """Distance between neighbouring cell centres; a single cell is one unit wide."""
    return float(centres[1] - centres[0]) if len(centres) > 1 else 1.0


def _nearest(centres: np.ndarray, value: float) -> int | None:
    """Index of the cell centre nearest ``value`` on an evenly spaced axis, None beyond the outer cells."""
    step = _spacing(centres)
    index = round(float((value - centres[0]) / step))
    return index if 0 <= index < len(centres) else None


class HoverReadout:
    """Calls ``describe(x, y)`` on mouse moves over a plot and shows the text in a corner label.

    The label, not a tooltip, so that a projector audience sees the same numbers as the presenter; in
    presentation mode the text also follows the cursor in large type (:class:`HoverBubble`).
    """

    def __init__(self, plot: pg.PlotItem, describe: Callable[[float, float], str | None], label) -> None:
        self.plot = plot
        self.describe = describe
        self.label = label
        if isinstance(label, QtWidgets.QWidget):
            label.setProperty("chrome", True)  # not part of an exported figure
        self._proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_moved)

    def _on_moved(self, event: tuple) -> None:
        # the rate-limited signal can arrive after the window is gone: then there is nothing to describe
        with contextlib.suppress(RuntimeError):  # "wrapped C/C++ object ... has been deleted"
            pos = event[0]
            bubble = HoverBubble.of(self.plot)
            if not self.plot.sceneBoundingRect().contains(pos):
                if bubble is not None and bubble.owner is self:
                    bubble.hide()
                return
            point = self.plot.vb.mapSceneToView(pos)
            text = self.describe(point.x(), point.y())
            if text is not None:
                self.label.setText(text)
            if bubble is not None:
                bubble.show_at(self, text, pos)


class HoverBubble(QtWidgets.QLabel):
    """The hover text beside the cursor in large type, for the back of a lecture hall: one per plot view,
    shown only in presentation mode, never in an export (it is chrome)."""

    SCALE = 1.6  # x the window's font, which presentation mode has already made 1.5x larger

    def __init__(self, view: pg.GraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.owner: HoverReadout | None = None
        self.setProperty("chrome", True)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setMargin(6)
        self.hide()

    @staticmethod
    def of(plot: pg.GraphicsItem) -> HoverBubble | None:
        """The bubble of the view showing ``plot`` (made on first use), or None outside presentation mode."""
        app = QtWidgets.QApplication.instance()
        views = plot.scene().views() if plot.scene() is not None else []
        if not views or app is None or not app.property("presentation"):
            for view in views:
                bubble = getattr(view, "hover_bubble", None)
                if bubble is not None:
                    bubble.hide()
            return None
        view = views[0]
        if getattr(view, "hover_bubble", None) is None:
            view.hover_bubble = HoverBubble(view)
        return view.hover_bubble

    def show_at(self, owner: HoverReadout, text: str | None, scene_pos: QtCore.QPointF) -> None:
        """Show ``text`` beside the cursor, inside the view; None hides it."""
        self.owner = owner
        if not text:
            self.hide()
            return
        font = QtGui.QFont(self.view.font())
        font.setPointSizeF(font.pointSizeF() * self.SCALE)
        self.setFont(font)
        palette = self.view.palette()
        background, foreground = (
            palette.color(QtGui.QPalette.ColorRole.ToolTipBase),
            palette.color(QtGui.QPalette.ColorRole.ToolTipText),
        )
        self.setStyleSheet(
            f"background: rgba({background.red()}, {background.green()}, {background.blue()}, 230);"
            f" color: {foreground.name()}; border: 1px solid {foreground.name()};"
        )
        self.setText(text)
        self.adjustSize()
        cursor = self.view.mapFromScene(scene_pos)
        x, y = cursor.x() + 24, cursor.y() + 24  # below right of the pointer, flipped at the edges
        if x + self.width() > self.view.width():
            x = cursor.x() - 24 - self.width()
        if y + self.height() > self.view.height():
            y = cursor.y() - 24 - self.height()
        self.move(max(0, x), max(0, y))
        self.show()
        self.raise_()
