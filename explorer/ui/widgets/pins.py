"""Pinned runs: faded copies of a run's curves, kept while the settings change, to compare against.

A lecturer pins what a tab shows, changes a setting (which restarts the live run), and the old curves
stay behind the new ones: same colour per series, about 40 % opacity, and a dash pattern of their own
per pin, so they read as secondary and never as a live series. Each legend that lists the copied
series gains one entry per pin, named by the settings that differ from the live run's, and each pin
exports as tables of its curves (``pin1-loss``) and of its settings (``pins``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.theme import Theme

Table = dict[str, Sequence[Any]]

MAX_PINS = 3
#: opacity of a pinned curve: visible behind the live one, never mistaken for it
PIN_ALPHA = 102
_Pen = QtCore.Qt.PenStyle
#: one line pattern per pin slot; live series are solid, dashed or dotted, so none of these
PIN_PATTERNS: tuple[tuple[_Pen, tuple[float, ...]], ...] = (
    (_Pen.DashDotLine, ()),
    (_Pen.DashDotDotLine, ()),
    (_Pen.CustomDashLine, (10.0, 4.0)),  # long dashes
)
#: differing settings named in a legend entry before "+N more": the entry must fit under a plot
_NAMED = 3


class PinnedCurve(pg.PlotDataItem):
    """A faded copy of a live curve, or a pin's legend sample: a type of its own, so that a legend rebuilt
    for the live series (:func:`sync_legend`) keeps the pins' entries."""


@dataclass(frozen=True)
class PinSource:
    """A live curve a pin copies: where it is drawn, its series key (the colour), and its names."""

    plot: pg.PlotItem
    item: pg.PlotDataItem
    key: str  # series key of the live curve: the pinned copy takes its colour
    name: str  # the series ("plain 56"): the CSV's column names
    table: str  # the plot ("loss"): the CSV table is "pin1-loss"
    legend: pg.LegendItem | None = None  # the legend listing this series, if any
    width: float = 1.5


@dataclass
class Pin:
    number: int
    slot: int  # index into PIN_PATTERNS
    settings: dict[str, Any]
    curves: list[tuple[PinSource, PinnedCurve]] = field(default_factory=list)
    samples: list[tuple[pg.LegendItem, PinnedCurve]] = field(default_factory=list)


def sync_legend(legend: pg.LegendItem, entries: Iterable[tuple[pg.GraphicsObject, str]]) -> bool:
    """Make the legend list ``entries`` in order, followed by the pins' entries it already has; returns
    True if it had to be rebuilt (a rebuild is costly: compare first)."""
    entries = list(entries)
    pinned = [(s.item, label.text) for s, label in legend.items if isinstance(s.item, PinnedCurve)]
    live = [label.text for s, label in legend.items if not isinstance(s.item, PinnedCurve)]
    if live == [name for _, name in entries]:
        return False
    legend.clear()
    for item, name in (*entries, *pinned):
        legend.addItem(item, name)
    return True


def differences(pinned: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``key=value`` of each pinned setting the current settings do not share, in the form's order."""
    return [f"{key}={_short(value)}" for key, value in pinned.items() if current.get(key, value) != value]


def pin_label(number: int, pinned: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """The legend text of pin ``number``: what differs from the live run, or that nothing does."""
    changed = differences(pinned, current)
    if not changed:
        return f"pin {number}: same settings"
    more = f" +{len(changed) - _NAMED} more" if len(changed) > _NAMED else ""
    return f"pin {number}: " + ", ".join(changed[:_NAMED]) + more


class PinBoard:
    """The pins of one tab: at most :data:`MAX_PINS`, a fourth replaces the oldest (and takes its pattern)."""

    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self.pins: list[Pin] = []
        self._count = 0  # pins ever made: numbers are not reused, so "pin 4" is newer than "pin 2"
        self.current: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.pins)

    def pin(self, sources: Sequence[PinSource], settings: Mapping[str, Any]) -> tuple[Pin, Pin | None]:
        """Copy the data of ``sources`` as they are now; returns the new pin and the one it replaced."""
        replaced = self.pins.pop(0) if len(self.pins) >= MAX_PINS else None
        if replaced is not None:
            self._remove(replaced)
        used = {p.slot for p in self.pins}
        self._count += 1
        pin = Pin(self._count, min(s for s in range(MAX_PINS) if s not in used), dict(settings))
        for source in sources:
            curve = PinnedCurve(np.array(source.item.xData, dtype=float), np.array(source.item.yData, dtype=float))
            curve.setZValue(source.item.zValue() - 0.5)  # behind its live curve, above what that is above
            source.plot.addItem(curve, ignoreBounds=True)  # a pin never changes the live run's axes
            pin.curves.append((source, curve))
        for legend in dict.fromkeys(s.legend for s in sources if s.legend is not None):
            sample = PinnedCurve()
            legend.addItem(sample, pin_label(pin.number, pin.settings, self.current or settings))
            # a click on the entry hides (shows) the sample, as for a live series: the pin's curves follow
            sample.visibleChanged.connect(lambda pin=pin, sample=sample: self._show(pin, sample.isVisible()))
            pin.samples.append((legend, sample))
        self.pins.append(pin)
        self._pen(pin)
        self._fit_legends(pin)
        return pin, replaced

    @staticmethod
    def _show(pin: Pin, visible: bool) -> None:
        for _, curve in pin.curves:
            curve.setVisible(visible)

    def relabel(self, current: Mapping[str, Any]) -> None:
        """Name each pin by the settings that differ from ``current`` (the live run's)."""
        self.current = dict(current)
        for pin in self.pins:
            text = pin_label(pin.number, pin.settings, self.current)
            changed = False
            for legend, sample in pin.samples:
                for entry, label in legend.items:
                    if entry.item is sample and label.text != text:
                        label.setText(text)
                        changed = True
            if changed:
                self._fit_legends(pin)

    def labels(self) -> list[str]:
        return [pin_label(pin.number, pin.settings, self.current) for pin in self.pins]

    def clear(self) -> int:
        """Remove every pin; returns how many there were."""
        count = len(self.pins)
        for pin in self.pins:
            self._remove(pin)
        self.pins = []
        return count

    def _remove(self, pin: Pin) -> None:
        for source, curve in pin.curves:
            source.plot.removeItem(curve)
        for legend, sample in pin.samples:
            legend.removeItem(sample)
        self._fit_legends(pin)

    def restyle(self, theme: Theme) -> None:
        self.theme = theme
        for pin in self.pins:
            self._pen(pin)
            for legend, _ in pin.samples:
                legend.update()
            self._fit_legends(pin)

    def _pen(self, pin: Pin) -> None:
        style, pattern = PIN_PATTERNS[pin.slot]
        for source, curve in pin.curves:
            colour = self.theme.color(source.key)
            colour.setAlpha(PIN_ALPHA)
            curve.setPen(_pattern_pen(colour, source.width * self.theme.pen_scale, style, pattern))
        for _, sample in pin.samples:  # one entry stands for every series of the pin: the neutral colour
            sample.setPen(_pattern_pen(self.theme.muted(200), 1.5 * self.theme.pen_scale, style, pattern))

    @staticmethod
    def _fit_legends(pin: Pin) -> None:
        for legend, _ in pin.samples:
            fit = getattr(legend.parentItem(), "fit_legend", None)  # a LegendedPlot's or a plot row's strip
            if fit is not None:
                fit()

    def tables(self) -> dict[str, Table]:
        """Per pin and plot ``pin<n>-<plot>`` (x and y of each series), and ``pins``: each pin's settings."""
        tables: dict[str, Table] = {}
        rows: list[tuple[int, str, str, Any]] = []
        for pin in self.pins:
            for source, curve in pin.curves:
                table = tables.setdefault(f"pin{pin.number}-{source.table}", {})
                table[f"{source.name}: {_axis_label(source.plot, 'bottom')}"] = curve.xData
                table[f"{source.name}: {_axis_label(source.plot, 'left')}"] = curve.yData
            label = pin_label(pin.number, pin.settings, self.current)
            rows += [(pin.number, label, key, value) for key, value in pin.settings.items()]
        if rows:
            names = ("pin", "label", "setting", "value")
            tables["pins"] = {name: [row[i] for row in rows] for i, name in enumerate(names)}
        return tables


def _pattern_pen(colour: QtGui.QColor, width: float, style: _Pen, pattern: tuple[float, ...]) -> QtGui.QPen:
    pen = pg.mkPen(colour, width=width)
    pen.setCosmetic(True)
    if pattern:
        pen.setDashPattern(list(pattern))  # sets CustomDashLine itself
    else:
        pen.setStyle(style)
    return pen


def _axis_label(plot: pg.PlotItem, side: str) -> str:
    """An axis's label as plain text (it may carry HTML: sub- and superscripts)."""
    return re.sub(r"<[^>]*>", "", plot.getAxis(side).labelText or side)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class PinButtons(QtWidgets.QWidget):
    """The buttons Pin this run and Clear pins, the last message beside them; chrome, so never exported."""

    def __init__(self, pin: Callable[[], str], clear: Callable[[], str]) -> None:
        super().__init__()
        self.setProperty("chrome", True)
        self.pin_button = QtWidgets.QPushButton("Pin this run")
        self.pin_button.setToolTip(f"Keep the curves shown now as a faded overlay (up to {MAX_PINS}; a fourth "
                                   "replaces the oldest) to compare with the run after a setting changes")  # fmt: skip
        self.clear_button = QtWidgets.QPushButton("Clear pins")
        self.clear_button.setToolTip("Remove every pinned run")
        self.clear_button.setEnabled(False)
        self.status = QtWidgets.QLabel()  # what the last pin or clear did (also from the Run menu)
        self.pin_button.clicked.connect(pin)
        self.clear_button.clicked.connect(clear)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.pin_button)
        layout.addWidget(self.clear_button)

    def show_state(self, count: int, message: str) -> None:
        self.clear_button.setEnabled(count > 0)
        self.status.setText(message)
