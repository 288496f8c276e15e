"""The shared log axis: readable labels from a fraction of a decade to two hundred, drawn once, one style."""

import math
from itertools import pairwise

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6 import QtCore, QtGui

from explorer.ui.theme import Theme
from explorer.ui.widgets.logaxis import LogAxis, decade_ticks, log_ticks
from explorer.ui.widgets.plots import Styled, new_plot

SUPERSCRIPTS = set("⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def labels(low: float, high: float, **options) -> list[str]:
    return [text for _, text in log_ticks(low, high, **options)[0]]


def is_power(text: str) -> bool:
    return text[-1] in SUPERSCRIPTS


def test_one_decade_labels_one_two_five():
    assert labels(0.0, 1.0) == ["1", "2", "5", "10"]
    assert labels(-3.0, -2.0) == ["0.001", "0.002", "0.005", "0.01"]
    assert labels(-6.0, -5.0) == ["10⁻⁶", "2×10⁻⁶", "5×10⁻⁶", "10⁻⁵"]


def test_five_decades_label_decades_only():
    assert labels(-2.0, 3.0) == ["0.01", "0.1", "1", "10", "100", "1000"]
    assert labels(-7.2, -2.1) == ["10⁻⁷", "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³"]
    minor = [p for p, _ in log_ticks(-2.0, 3.0)[1]]
    assert len(minor) == 5 * 8  # 2 … 9 of every decade, unlabelled


def test_just_over_two_decades_with_two_decades_in_view_keeps_one_two_five():
    # depths 2 … 200 with a little padding: decades alone would label only 10 and 100
    assert labels(math.log10(2) - 0.08, math.log10(200) + 0.08) == ["2", "5", "10", "20", "50", "100", "200"]


def test_hundreds_of_decades_label_a_stride_of_decades():
    shown = labels(-172.3, 2.1)
    assert 4 <= len(shown) <= 8
    exponents = [int(p) for p, _ in log_ticks(-172.3, 2.1)[0]]
    assert len({b - a for a, b in pairwise(exponents)}) == 1  # evenly spaced
    assert exponents[1] - exponents[0] in (20, 25, 50)
    assert all(is_power(text) for text in shown)


def test_a_short_view_still_shows_two_or_more_plain_steps():
    shown = labels(math.log10(0.26), math.log10(0.44))  # no 1, 2 or 5 in view
    assert 2 <= len(shown) <= 5
    assert shown == sorted(shown, key=float)


@pytest.mark.parametrize("most", [3, 8])
def test_one_style_per_axis_and_no_label_twice(most):
    rng = np.random.default_rng(0)
    for _ in range(300):
        low = rng.uniform(-200, 50)
        high = low + 10 ** rng.uniform(-1.5, 2.4)
        labelled, minor = log_ticks(low, high, most=most)
        texts = [t for _, t in labelled]
        positions = [p for p, _ in labelled] + [p for p, _ in minor]
        assert texts, (low, high)
        assert len({is_power(t) for t in texts}) == 1, texts  # never "0.0001" beside "10⁻⁵"
        assert len(set(texts)) == len(texts)
        assert len({round(p, 9) for p in positions}) == len(positions)  # a label's tick is not drawn again
        assert all(low - 1e-9 <= p <= high + 1e-9 for p in positions)
        assert all(t == "" for _, t in minor)
        if high - low >= 2:
            assert len(texts) <= most


def test_zoomed_far_in_no_label_repeats():
    for width in (1e-3, 1e-6, 1e-9, 1e-12, 1e-15, 1e-18):
        texts = labels(0.3, 0.3 + width)
        assert len(set(texts)) == len(texts), (width, texts)  # six digits, or nothing, rather than repeats
    assert labels(-1e-3, 1e-3) == ["0.998", "0.999", "1", "1.001", "1.002"]


def test_plain_numbers_only_within_1e4():
    assert labels(-4.0, 4.0) == ["0.0001", "0.01", "1", "100", "10000"]
    assert labels(-4.0, 6.0) == ["10⁻⁴", "10⁻²", "10⁰", "10²", "10⁴", "10⁶"]  # 1e6 labelled: powers, 10⁰ too


def test_fits_asks_for_fewer_labels():
    assert labels(-6.0, 0.0, fits=lambda ticks: len(ticks) <= 4) == ["10⁻⁶", "10⁻⁴", "10⁻²", "10⁰"]
    assert labels(0.0, 1.0, fits=lambda ticks: len(ticks) <= 2) == ["1", "10"]  # 1, 2, 5 gives way to decades


def test_fixed_decades_share_the_style():
    assert decade_ticks((-16, -8, 0)) == [[(-16.0, "10⁻¹⁶"), (-8.0, "10⁻⁸"), (0.0, "10⁰")], []]
    assert decade_ticks((0, 1, 2)) == [[(0.0, "1"), (1.0, "10"), (2.0, "100")], []]


# --- the axis on screen ------------------------------------------------------------------------
@pytest.fixture
def view(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(420, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drawn(axis: pg.AxisItem) -> list[tuple[QtCore.QRectF, str]]:
    """The tick texts the axis paints, with their rectangles (what a viewer sees)."""
    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _, text in specs[2] if text]


def overlaps(texts: list[tuple[QtCore.QRectF, str]]) -> bool:
    rects = [rect for rect, _ in texts]
    return any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])


def make_plot(view, theme: Theme | None = None, **options) -> pg.PlotItem:
    styled = Styled()
    styled.theme = theme or Theme()
    plot = new_plot(styled, "title", "step", "loss (nats)", legend=None, **options)
    view.addItem(plot)
    plot.plot([1, 2, 3], [1.0, 0.1, 0.01])
    return plot


def settle(qtbot, view) -> None:
    view.grab()  # lays out the axes at their text widths
    qtbot.wait(1)


def test_new_plot_log_axis_follows_zoom_labels_ends_and_never_overlaps(qtbot, view):
    plot = make_plot(view, log_y=True)
    axis = plot.getAxis("left")
    assert isinstance(axis, LogAxis) and not axis.autoSIPrefix
    for (low, high), expected in (((-3, 0), ["0.001", "0.01", "0.1", "1"]), ((-1, 0), ["0.1", "0.2", "0.5", "1"])):
        plot.setYRange(low, high, padding=0)
        settle(qtbot, view)
        assert [text for _, text in drawn(axis)] == expected  # both ends labelled, though they overhang the axis
    plot.setYRange(-170, 0, padding=0.02)
    settle(qtbot, view)
    texts = drawn(axis)
    assert 3 <= len(texts) <= 8 and not overlaps(texts)
    assert all(is_power(text) for _, text in texts)


def test_presentation_fonts_get_fewer_labels_not_overlapping_ones(qtbot, view):
    counts = []
    for theme in (Theme(), Theme(presentation=True)):
        view.clear()
        plot = make_plot(view, theme, log_x=True, log_y=True)
        plot.setRange(xRange=(-60, 0), yRange=(-60, 0), padding=0)
        settle(qtbot, view)
        texts = {side: drawn(plot.getAxis(side)) for side in ("left", "bottom")}
        assert all(texts.values()) and not any(overlaps(t) for t in texts.values())
        counts.append(len(texts["left"]) + len(texts["bottom"]))
    assert counts[1] < counts[0]


def test_a_plot_switched_to_log_later_gets_the_same_labels(qtbot, view):
    plot = make_plot(view)
    axis = plot.getAxis("left")
    plot.setLogMode(y=True)
    plot.setYRange(-0.5, 1.2, padding=0)
    settle(qtbot, view)
    assert [text for _, text in drawn(axis)] == ["0.5", "1", "2", "5", "10"]


def test_linear_mode_is_pyqtgraphs_own(qtbot, view):
    plot = make_plot(view)
    plain = pg.AxisItem("left")
    plain.enableAutoSIPrefix(False)
    for low, high in ((0, 1), (-3e-5, 7e-5), (12, 1e6)):
        mine = plot.getAxis("left").tickValues(low, high, 250)
        theirs = plain.tickValues(low, high, 250)
        assert mine == theirs
        assert [plot.getAxis("left").tickStrings(v, 1, s) for s, v in mine] == [
            plain.tickStrings(v, 1, s) for s, v in theirs
        ]
