"""Log-axis ticks that stay readable from a fraction of a decade to two hundred decades.

pyqtgraph labels every minor tick of a log axis (the labels run into each other), labels a decade
on two tick levels (it looks bold), mixes "0.0001" with "10⁻⁵" on one axis, and hides a label that
sits on the axis's end. :class:`LogAxis` replaces its log-mode ticks with :func:`log_ticks`: 1, 2 and 5
of each decade over short spans, decades over two or more, every n-th decade over dozens or hundreds,
each label once, in one style per axis, as many as fit the axis's length in pixels. In linear mode it
is pyqtgraph's own axis, so a plot may switch its log mode at any time. A label on the end of a
vertical axis is kept in both modes (pyqtgraph drops it whenever the plot has a grid: 1.0 on an
accuracy axis), one on the end of a horizontal axis in log mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from itertools import count, pairwise

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

#: the most labels one axis shows, however long it is
MOST_LABELS = 8
#: steps m × 10ᵏ of the plain-value ticks used when a view is too short to hold two of 1, 2, 5
_LINEAR_STEPS = (1.0, 2.0, 2.5, 5.0)
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_EPS = 1e-9

#: a wrapped axis label's lines, centred on the axis
_CENTRED = QtCore.Qt.AlignmentFlag.AlignHCenter
#: paints an axis waits at most for its new thickness before measuring its ticks anyway (a layout too
#: narrow for its minimum never gives it)
_SKIPPED_PAINTS = 3
Tick = tuple[float, str]  # (position on the axis = log₁₀ value, label)
Decade = tuple[float, int]  # (mantissa in [1, 10), exponent): the value mantissa × 10^exponent


def _plain(mantissa: float, exponent: int) -> bool:
    """Whether the value lies in 1e-4 .. 1e4, where "0.0001" still reads faster than "10⁻⁴"."""
    return -4 <= exponent <= 3 or (exponent == 4 and mantissa == 1)


def power_label(mantissa: float, exponent: int) -> str:
    """(1, -5) → "10⁻⁵", (2, 4) → "2×10⁴", (2.5, -6) → "2.5×10⁻⁶"."""
    power = f"10{str(exponent).translate(_SUPERSCRIPT)}"
    return power if mantissa == 1 else f"{mantissa:g}×{power}"


def tick_labels(values: list[Decade]) -> list[str]:
    """Labels in one style for the whole axis: plain numbers while every value is within 1e-4 .. 1e4,
    powers of ten otherwise ("0.001" beside "10⁻⁵" reads as two different scales)."""
    if all(_plain(m, e) for m, e in values):
        return [f"{m * 10.0**e:.6g}" for m, e in values]
    return [power_label(m, e) for m, e in values]


def _from_position(position: float) -> Decade:
    """The value at log₁₀ ``position``, as (mantissa, exponent): no float overflow past 1e308."""
    exponent = math.floor(position + _EPS)
    return _decompose(10.0 ** (position - exponent), exponent)


def _decompose(value: float, exponent: int = 0) -> Decade:
    """``value`` × 10^exponent as (mantissa in [1, 10) to six digits, exponent)."""
    shift = math.floor(math.log10(value) + _EPS)
    mantissa, exponent = float(f"{value / 10.0**shift:.6g}"), exponent + shift
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return mantissa, exponent


def _position(mantissa: float, exponent: int) -> float:
    return exponent + math.log10(mantissa)


def _inside(position: float, low: float, high: float) -> bool:
    return low - _EPS <= position <= high + _EPS


def _mantissa_ticks(low: float, high: float, mantissas: tuple[float, ...]) -> list[Decade]:
    return [(float(m), e) for e in range(math.floor(low), math.ceil(high) + 1) for m in mantissas
            if _inside(_position(m, e), low, high)]  # fmt: skip


def _linear_ticks(low: float, high: float) -> Iterator[list[Decade]]:
    """Plain steps (0.25, 0.3, 0.35 …), densest first, for a view that holds fewer than two of 1, 2, 5."""
    if not (low > -300 and high < 300):  # 10**±300 is still a float
        return
    low_value, high_value = 10.0**low, 10.0**high
    if high_value <= low_value:  # a view narrower than float resolution
        return
    top = math.floor(math.log10(high_value - low_value))
    for k in range(top - 1, top + 2):
        for m in _LINEAR_STEPS:
            step = m * 10.0**k
            first, last = math.ceil(low_value / step - _EPS), math.floor(high_value / step + _EPS)
            if last - first >= 5:  # uneven on a log axis: a few of them only
                continue
            values = [_decompose(i * step) for i in range(max(first, 1), last + 1)]
            if len(values) >= 2 and len(set(values)) == len(values):  # six digits still tell them apart
                yield values


def _strides() -> Iterator[int]:
    """Decades between labels, in the order they are tried: 1, 2, 5, 10, 20, 25, 50, 100, 200, 250 …"""
    for k in count():
        for m in (1, 2, 2.5, 5):
            stride = m * 10**k
            if stride == int(stride):
                yield int(stride)


def _decades(low: float, high: float, stride: int) -> list[int]:
    """The exponents in view that are multiples of ``stride``."""
    return list(range(math.ceil((low - _EPS) / stride) * stride, math.floor(high + _EPS) + 1, stride))


def _candidates(low: float, high: float) -> Iterator[tuple[list[Decade], list[float]]]:
    """(labelled values, unlabelled minor positions) from the densest labelling to the sparsest."""
    span = high - low
    n_decades = math.floor(high + _EPS) - math.ceil(low - _EPS) + 1
    if span < 2 or n_decades < 3:  # 1, 2, 5: under two decades, or where decades alone would leave two labels
        one_two_five = _mantissa_ticks(low, high, (1, 2, 5))
        if len(one_two_five) >= 2:
            yield one_two_five, [_position(m, e) for m, e in _mantissa_ticks(low, high, (3, 4, 6, 7, 8, 9))]
        else:
            for linear in _linear_ticks(low, high):
                yield linear, []
    tried: list[int] = []
    for stride in _strides():
        tried.append(stride)
        if span / stride > 100 * MOST_LABELS:  # far too many labels to fit: not worth listing
            continue
        labelled = _decades(low, high, stride)
        if stride == 1:  # the 2 … 9 of each decade, while there are few decades
            minor = [_position(m, e) for m, e in _mantissa_ticks(low, high, tuple(range(2, 10)))] if span <= 6 else []
        else:  # every sub-th decade between the labelled ones: at most ten steps per gap, 200 in all
            sub = next(s for s in tried if stride % s == 0 and stride // s <= 10)
            minor = [float(e) for e in _decades(low, high, sub) if e % stride] if span / sub <= 200 else []
        yield [(1.0, e) for e in labelled], minor
        if len(labelled) <= 1:
            return


def decade_ticks(exponents: Iterable[int]) -> list[list[Tick]]:
    """Fixed ticks (for ``AxisItem.setTicks``) at chosen decades of a log axis, in the axis's one style:
    for a view that does not move and whose decades mean something (float64 ε at 10⁻¹⁶)."""
    values = [(1.0, int(e)) for e in exponents]
    return [[(float(e), text) for (_, e), text in zip(values, tick_labels(values), strict=True)], []]


def log_ticks(low: float, high: float, *, most: int = MOST_LABELS,
              fits: Callable[[list[Tick]], bool] | None = None) -> list[list[Tick]]:  # fmt: skip
    """[labelled ticks, unlabelled ticks] for a log axis showing log₁₀ values ``low`` .. ``high``.

    The densest labelling with at most ``most`` labels for which ``fits(labels)`` holds (an axis asks
    whether the texts fit its length); where none does, the sparsest one that still labels something.
    No position is in both lists: a label is drawn once.
    """
    low, high = sorted((low, high))
    if not (math.isfinite(low) and math.isfinite(high)) or high - low <= 0:
        return [[], []]
    chosen: tuple[list[Tick], list[float]] | None = None
    for values, minor in _candidates(low, high):
        ticks = [(_position(m, e), text) for (m, e), text in zip(values, tick_labels(values), strict=True)]
        if ticks or chosen is None:
            chosen = ticks, minor
        if ticks and len(ticks) <= most and (fits is None or fits(ticks)):
            break
    assert chosen is not None
    ticks, minor = chosen
    return [ticks, [(position, "") for position in minor]]


class LogAxis(pg.AxisItem):
    """An AxisItem whose log mode is labelled by :func:`log_ticks`, following zoom and pan, with the
    labels on the axis's ends kept (pyqtgraph drops a label that overhangs its axis by a pixel): on a
    vertical axis always, on a horizontal one in log mode, where a linear axis's end label would run into
    the next plot or a colour bar. Explicit ticks (``setTicks``) and linear tick values are pyqtgraph's."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._labels: dict[float, str] = {}

    def _metrics(self) -> QtGui.QFontMetricsF:
        return QtGui.QFontMetricsF(self.style["tickFont"] or QtGui.QFont())

    def _fits(self, low: float, high: float, size: float) -> Callable[[list[Tick]], bool]:
        """Whether neighbouring labels keep clear of each other along ``size`` pixels of the axis: on a
        vertical axis 1.3 lines apart, on a horizontal one their half widths plus half a line (about a digit)."""
        metrics = self._metrics()
        per_unit = size / (high - low)
        line = metrics.height()
        vertical = self.orientation in ("left", "right")

        def need(text_a: str, text_b: str) -> float:
            if vertical:
                return 1.3 * line
            return (metrics.horizontalAdvance(text_a) + metrics.horizontalAdvance(text_b)) / 2 + 0.5 * line

        def fits(ticks: list[Tick]) -> bool:
            return all((b - a) * per_unit >= need(ta, tb) for (a, ta), (b, tb) in pairwise(ticks))

        return fits

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float | None, list[float]]]:
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        fits = self._fits(low, high, size) if size > 0 and high > low else None
        labelled, minor = log_ticks(low, high, fits=fits)
        self._labels = {round(position, 9): text for position, text in labelled + minor}
        return [(None, [p for p, _ in labelled]), (None, [p for p, _ in minor])]

    def logTickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:
        known = [self._labels.get(round(v, 9)) for v in values]
        if all(text is not None for text in known):
            return known  # type: ignore[return-value]
        return tick_labels([_from_position(v) for v in values])  # values from elsewhere: one style still

    # --- labels on the ends ---------------------------------------------------------------------
    def _overhang(self) -> float:
        """How far a label centred on the axis's end reaches past it."""
        metrics = self._metrics()
        if self.orientation in ("left", "right"):
            return metrics.height() / 2 + 1
        return metrics.horizontalAdvance("0.0001") / 2 + 1

    def boundingRect(self) -> QtCore.QRectF:
        rect = super().boundingRect()
        if not self.logMode and self.orientation in ("top", "bottom"):
            return rect  # a linear end label would run into a neighbour (a colour bar, the next plot)
        m = self._overhang()
        if self.orientation in ("left", "right"):
            return rect.adjusted(0, -m, 0, m)
        return rect.adjusted(-m, 0, m, 0)

    def setLogMode(self, *args, **kwargs) -> None:
        self.prepareGeometryChange()  # the bounding rectangle depends on it
        super().setLogMode(*args, **kwargs)

    def setStyle(self, **kwargs) -> None:
        self.prepareGeometryChange()  # the tick font sets the overhang
        super().setStyle(**kwargs)

    # --- the axis's label wraps rather than runs past the axis's ends ---------------------------
    def _updateLabel(self) -> None:  # pyqtgraph's hook for a new label text or style: the label's html
        super()._updateLabel()
        self._label_html = self.labelString()  # what the label holds now (setLabel sets the style before it)
        self.wrap_label()

    def _measure(self, width: float) -> tuple[float, float]:
        """(height, widest line) of the label laid out in lines of at most ``width`` pixels (-1: one line),
        measured on the label itself (its document has the fonts it is drawn with), which is then put back."""
        label = self.label
        option = label.document().defaultTextOption()
        if option.wrapMode() != QtGui.QTextOption.WrapMode.WordWrap or option.alignment() != _CENTRED:
            option.setWrapMode(QtGui.QTextOption.WrapMode.WordWrap)  # between words only: not "probabilit-y"
            option.setAlignment(_CENTRED)
            label.document().setDefaultTextOption(option)
        before = label.textWidth()
        label.setTextWidth(width)
        size = (label.boundingRect().height(), label.document().idealWidth() + 2 * label.document().documentMargin())
        label.setTextWidth(before)
        return size

    def _key(self) -> str | None:
        """What the label's measures depend on: the text and style it holds now."""
        return getattr(self, "_label_html", None)

    def longest_word(self) -> float:
        """The width of the label's longest word (it never wraps), in pixels; 0 without a label."""
        if getattr(self, "label", None) is None or not (self.labelText or self.labelUnits):
            return 0.0
        if getattr(self, "_word_key", None) != self._key():
            self._word_key, self._word = self._key(), self._measure(1)[1]  # a word a line: the widest is the longest
        return self._word

    def _floor_length(self) -> float:
        """The least length the axis gets: its plot's data area at its minimum (see ``explorer.ui.widgets.fit``)."""
        link = getattr(self, "_linkedView", None)  # pyqtgraph's weak reference, once it links a view
        view = link() if link is not None else None
        if view is None:
            return 0.0
        return view.minimumHeight() if self.orientation in ("left", "right") else view.minimumWidth()

    def _reserved(self) -> float | None:
        """The label's thickness across the axis: as many lines as it takes at the axis's least length, so
        the axis is as thick whatever its length now (a thickness that followed the lines would move the
        plot, and with it the length: the figure could flip between two layouts); None with no floor."""
        floor = self._floor_length()
        if floor <= 0:
            return None
        key = (self._key(), floor)
        if getattr(self, "_reserved_key", None) != key:
            natural = self._measure(-1)[1]
            self._reserved_key, self._reserved_height = key, self._measure(floor if natural > floor + 0.5 else -1)[0]
        return self._reserved_height

    def wrap_label(self) -> None:
        """Break the label into lines no longer than the axis (a short plot's "loss of the minibatch
        (nats)"), between words and centred; the axis is thick enough for the lines it takes at its
        plot's least size (see :meth:`_reserved`), which the plot takes from its data area."""
        label = getattr(self, "label", None)
        if label is None:
            return
        length = self.size().height() if self.orientation in ("left", "right") else self.size().width()
        if length <= 0:
            return
        natural = self._measure(-1)[1]
        label.setTextWidth(length if natural > length + 0.5 else -1)
        reserved = self._reserved()
        thickness = round(label.boundingRect().height()) if reserved is None else round(reserved)
        if thickness != getattr(self, "_label_height", None):
            self._label_height = thickness
            self._adjustSize()  # the axis's thickness holds the lines

    def _updateWidth(self) -> None:
        super()._updateWidth()
        self._room_for_lines()
        self._await_layout()

    def _updateHeight(self) -> None:
        super()._updateHeight()
        self._room_for_lines()
        self._await_layout()

    # --- tick text measured on the axis's laid-out thickness only ---------------------------------
    def _thickness(self) -> tuple[float, float]:
        """(the thickness the axis asks for, the one it has now)."""
        if self.orientation in ("left", "right"):
            return self.maximumWidth(), self.size().width()
        return self.maximumHeight(), self.size().height()

    def _await_layout(self) -> None:
        wanted, now = self._thickness()
        self._paints_to_skip = _SKIPPED_PAINTS if abs(wanted - now) > 0.5 else 0

    def resizeEvent(self, ev=None) -> None:
        self._paints_to_skip = 0  # laid out: what it paints now is what the layout gives it
        self.wrap_label()
        super().resizeEvent(ev)
        self._label_beside_ticks()

    def _label_beside_ticks(self) -> None:
        """pyqtgraph puts the label at the axis's outer edge; the axis is as thick as the label's lines at
        the plot's least size (see :meth:`_reserved`), so a label on fewer lines now floated away from its
        ticks, nearer the next plot than its own. Move it in by the lines it does not use."""
        label, reserved = getattr(self, "label", None), getattr(self, "_label_height", None)
        if label is None or reserved is None:
            return
        slack = max(0.0, reserved - label.boundingRect().height())
        if slack < 1:
            return
        shift = {"left": (slack, 0.0), "right": (-slack, 0.0), "bottom": (0.0, -slack), "top": (0.0, slack)}
        dx, dy = shift[self.orientation]
        label.setPos(label.pos().x() + dx, label.pos().y() + dy)

    def _updateMaxTextSize(self, x: float) -> None:
        """pyqtgraph's room for the tick text (it grows at once, shrinks only when the text is 10 px narrower),
        not measured while the axis waits for the thickness it asked for (a theme change, a new room).

        Measured on the old thickness, the ticks were those of the old plot: an aspect-locked plot's range
        follows its width, so a tick at the range's end ("-0.5") came and went with the axis's thickness,
        and the room kept (with or without that tick: both are stable) depended on when the paint came."""
        if getattr(self, "_paints_to_skip", 0) > 0 and self.isVisible():
            self._paints_to_skip -= 1
            return
        super()._updateMaxTextSize(x)

    def _room_for_lines(self) -> None:
        """pyqtgraph gives the label 0.8 of its height now (one line's margins are spare): give it instead
        the whole height of the lines it takes at the axis's least length (see :meth:`_reserved`)."""
        label = getattr(self, "label", None)
        fixed = self.fixedWidth if self.orientation in ("left", "right") else self.fixedHeight
        if label is None or fixed is not None or not (self.isVisible() and label.isVisible()):
            return
        reserved = self._reserved()
        if reserved is None and label.textWidth() <= 0:
            return  # one line, no floor: pyqtgraph's own thickness
        current = label.boundingRect().height()  # pyqtgraph counted 0.8 of it
        extra = (current if reserved is None else reserved) - 0.8 * current
        if self.orientation in ("left", "right"):
            width = self.maximumWidth() + extra
            self.setMaximumWidth(width)
            self.setMinimumWidth(width)
        else:
            height = self.maximumHeight() + extra
            self.setMaximumHeight(height)
            self.setMinimumHeight(height)
