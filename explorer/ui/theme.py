"""Colours, fonts and pens: one colour per method across every tab, and a presentation mode.

Presentation mode is for a projector: fonts x1.5, pens x2, and the Okabe-Ito palette (Okabe & Ito
2008), which stays distinguishable under the common colour-vision deficiencies; past its seven
colours, series repeat a colour with a dashed line rather than inventing an eighth hue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

#: Tableau 10, the everyday palette: ten hues, one per optimizer
TABLEAU10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
#: Okabe-Ito, ordered so the first colours are the most distinct; the last one adapts to the background
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
OKABE_ITO_LAST = {False: "#000000", True: "#F0E442"}

#: Every series key any tab draws, in a fixed order: the same method gets the same colour everywhere.
SERIES_KEYS: tuple[str, ...] = (
    "gd", "sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad", "newton",
    "saddle_free_newton", "natural_gradient",
    "plain", "residual", "naive", "flash", "tiled_torch", "sdpa", "kfac", "exact_ng",
    "one_hot", "smoothed", "scratch", "linear_probe", "finetune", "progressive",
    "top_k", "discriminative",
)  # fmt: skip

BASE_POINT_SIZE = 10.0


@dataclass(frozen=True)
class Theme:
    dark: bool = False
    presentation: bool = False

    @property
    def font_scale(self) -> float:
        return 1.5 if self.presentation else 1.0

    @property
    def pen_scale(self) -> float:
        return 2.0 if self.presentation else 1.0

    @property
    def background(self) -> QtGui.QColor:
        return QtGui.QColor("#000000" if self.dark and self.presentation else "#1e1e1e" if self.dark else "#ffffff")

    @property
    def foreground(self) -> QtGui.QColor:
        return QtGui.QColor("#ffffff" if self.dark else "#000000" if self.presentation else "#303030")

    @property
    def palette(self) -> tuple[str, ...]:
        return (*OKABE_ITO, OKABE_ITO_LAST[self.dark]) if self.presentation else TABLEAU10

    def point_size(self, base: float = BASE_POINT_SIZE) -> float:
        return base * self.font_scale

    def color(self, key: str) -> QtGui.QColor:
        return QtGui.QColor(self.palette[_series_index(key) % len(self.palette)])

    def pen(self, key: str, width: float = 1.5, style: QtCore.Qt.PenStyle | None = None) -> QtGui.QPen:
        """Pen for series ``key`` (solid unless ``style`` says otherwise: see ``Styled`` for dashes)."""
        pen = pg.mkPen(self.color(key), width=width * self.pen_scale)
        if style is not None:
            pen.setStyle(style)
        pen.setCosmetic(True)
        return pen

    def brush(self, key: str, alpha: int = 255) -> QtGui.QBrush:
        c = self.color(key)
        c.setAlpha(alpha)
        return QtGui.QBrush(c)

    def muted(self, alpha: int = 110) -> QtGui.QColor:
        """A colour for secondary lines (contours, grids) that does not compete with data."""
        c = QtGui.QColor(self.foreground)
        c.setAlpha(alpha)
        return c


def _series_index(key: str) -> int:
    try:
        return SERIES_KEYS.index(key)
    except ValueError:
        return sum(map(ord, key)) % 10  # an unknown key still gets a stable colour


def apply_to_application(app: QtWidgets.QApplication, theme: Theme) -> None:
    """Fusion style with a light or dark palette and the theme's font size."""
    app.setStyle("Fusion")
    app.setProperty("presentation", theme.presentation)  # read by what only a projector needs (hover bubbles)
    palette = QtGui.QPalette()
    if theme.dark:
        role = QtGui.QPalette.ColorRole
        for r, colour in (
            (role.Window, "#2b2b2b"), (role.WindowText, "#e8e8e8"), (role.Base, "#1e1e1e"),
            (role.AlternateBase, "#2b2b2b"), (role.Text, "#e8e8e8"), (role.Button, "#353535"),
            (role.ButtonText, "#e8e8e8"), (role.Highlight, "#2a82da"), (role.HighlightedText, "#000000"),
            (role.ToolTipBase, "#353535"), (role.ToolTipText, "#e8e8e8"), (role.PlaceholderText, "#9a9a9a"),
        ):  # fmt: skip
            palette.setColor(r, QtGui.QColor(colour))
        palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.Text, QtGui.QColor("#7a7a7a"))
        palette.setColor(QtGui.QPalette.ColorGroup.Disabled, role.WindowText, QtGui.QColor("#7a7a7a"))
    else:
        palette = app.style().standardPalette()
    app.setPalette(palette)
    font = app.font()
    font.setPointSizeF(theme.point_size(BASE_POINT_SIZE))
    app.setFont(font)
    # Qt posts the change to every widget: deliver it now, so that what restyles next (row heights,
    # label sizes measured from a widget's font) measures the new font, not the one it replaces
    for change in (QtCore.QEvent.Type.ApplicationPaletteChange, QtCore.QEvent.Type.ApplicationFontChange):
        app.sendPostedEvents(None, change.value)


def inherit_fonts(root: QtWidgets.QWidget) -> None:
    """Every widget under ``root`` that has no font of its own takes its parent's again.

    Qt leaves a hidden widget (a folded side panel, a text field that shows a label until clicked) with
    the font it had when the application's font last reached it: after presentation mode, a form kept
    presentation-size rows and widths. Parents first, so each child inherits the corrected font.
    """
    for child in root.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly):
        if not child.isWindow():
            if not child.testAttribute(QtCore.Qt.WidgetAttribute.WA_SetFont) and child.font() != root.font():
                child.setFont(QtGui.QFont())
            inherit_fonts(child)


def style_axis(axis: pg.AxisItem, theme: Theme) -> None:
    """Tick font, pens and label size of one axis for ``theme``, keeping its label text."""
    tick_font = QtGui.QFont()
    tick_font.setPointSizeF(theme.point_size(BASE_POINT_SIZE - 1))
    label_css = {"color": theme.foreground.name(), "font-size": f"{theme.point_size(BASE_POINT_SIZE):.0f}pt"}
    axis.setPen(pg.mkPen(theme.foreground, width=theme.pen_scale))
    axis.setTextPen(pg.mkPen(theme.foreground))
    axis.setStyle(tickFont=tick_font, tickTextOffset=int(4 * theme.font_scale))
    if axis.labelText or axis.labelUnits:
        axis.setLabel(axis.labelText, axis.labelUnits, **label_css)
    # an axis repaints whenever the view does; a pixmap cache turns that into a blit (text is costly)
    axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


#: the tick-text room pyqtgraph gives a new axis before its first paint (``AxisItem.__init__``)
_NEW_AXIS_TEXT_ROOM = (30, 18)


def forget_text_room(axis: pg.AxisItem) -> None:
    """Let ``axis`` measure its tick text afresh, as a new axis does, after a font change.

    pyqtgraph shrinks an axis only when its text is 10 px narrower than the widest text it has seen, so
    an axis that grew for presentation fonts stayed wider after them, and the plots beside it shifted.
    """
    axis.textWidth, axis.textHeight = _NEW_AXIS_TEXT_ROOM
    # and is as thick as a new axis at once: left at its old thickness until its next paint, it set its
    # plot's range (an aspect-locked plot's follows the plot's width) and so which ticks it measured, and
    # the room kept afterwards depended on the thickness the axis had before, not on the fonts alone
    axis._adjustSize()
    axis.picture = None
    axis.update()


def style_plot(plot: pg.PlotItem, theme: Theme) -> None:
    """Restyle a plot's axes, title and legend for ``theme``, keeping their texts."""
    for side in ("left", "bottom", "right", "top"):
        style_axis(plot.getAxis(side), theme)
    if plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=theme.foreground.name(), size=f"{theme.point_size(11):.0f}pt")
    if plot.legend is not None:
        style_legend(plot.legend, theme)


def style_legend(legend: pg.LegendItem, theme: Theme) -> None:
    """Legend text in the theme's colour and size, on a translucent background."""
    size = f"{theme.point_size(BASE_POINT_SIZE - 1):.0f}pt"
    legend.setLabelTextColor(theme.foreground)
    legend.setLabelTextSize(size)
    for _, label in legend.items:  # setLabelText* styles only entries added later
        label.setText(label.text, color=theme.foreground, size=size)
    bg = QtGui.QColor(theme.background)
    bg.setAlpha(200)
    legend.setBrush(pg.mkBrush(bg))
    legend.setPen(pg.mkPen(theme.muted(120)))


def style_parameter_tree(tree: QtWidgets.QTreeWidget, show_top: bool = False) -> None:
    """Group titles' fonts and every row's height for the application's font now (call after it changed).

    pyqtgraph sizes a parameter tree's rows once, from the font when the tree was built, and on a font
    change sizes its group titles from that first font again: a tree built in presentation mode kept its
    large rows and headers in normal mode, one built in normal mode its small ones in presentation mode.
    Its font-change handler also shows the root group's title, hidden unless ``show_top``: hidden again.
    """
    for item in tree.listAllItems():
        if hasattr(item, "updateDepth"):  # a group: bold, one point larger at the top (pyqtgraph's look)
            item._initialFontPointSize = QtGui.QFont().pointSize()
            for column in (0, 1):
                item.setFont(column, QtGui.QFont())
            item.updateDepth(item.depth)  # also sizes the title's row
        elif hasattr(item, "titleChanged"):
            item.titleChanged()  # the row of the parameter's name
        editor, default = getattr(item, "widget", None), getattr(item, "defaultBtn", None)
        if editor is not None and default is not None and not getattr(item, "asSubItem", False):
            # the row of its editor and reset button, sized as pyqtgraph does (a little compacted)
            sw, sb = editor.sizeHint(), default.sizeHint()
            item.setSizeHint(1, QtCore.QSize(sw.width() + sb.width(), int(0.9 * max(sw.height(), sb.height()))))
    for index in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(index)
        if not show_top:  # as pyqtgraph hides it (ParameterTree.addParameters)
            top.setText(0, "")
            top.setSizeHint(0, QtCore.QSize(1, 1))
            top.setSizeHint(1, QtCore.QSize(1, 1))
