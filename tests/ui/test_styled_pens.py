"""Series pens: one colour per key, and dashes only where two series of one tab would share a colour."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6 import QtCore

from explorer.ui.app import create_application
from explorer.ui.theme import SERIES_KEYS, Theme
from explorer.ui.widgets.plots import Styled

_DASH = QtCore.Qt.PenStyle.DashLine
_SOLID = QtCore.Qt.PenStyle.SolidLine


def _curves(styled: Styled, keys: list[str]) -> list[pg.PlotDataItem]:
    return [styled.keyed(pg.PlotDataItem([0, 1], [0, 1]), key) for key in keys]


def test_keys_past_the_palette_stay_solid_when_their_colour_is_free_in_the_tab() -> None:
    create_application()
    styled = Styled()
    plain, residual = _curves(styled, ["plain", "residual"])  # past Tableau's ten, but alone in their tab
    assert plain.opts["pen"].style() == _SOLID and residual.opts["pen"].style() == _SOLID
    assert plain.opts["pen"].color() != residual.opts["pen"].color()


def test_a_repeated_colour_is_dashed_and_restyle_recomputes_it() -> None:
    create_application()
    styled = Styled()
    keys = list(SERIES_KEYS[:10])  # ten optimizers: distinct in Tableau10, three repeats in Okabe-Ito's seven
    curves = _curves(styled, keys)
    assert all(c.opts["pen"].style() == _SOLID for c in curves)
    styled.restyle(Theme(presentation=True))
    styles = [c.opts["pen"].style() for c in curves]
    assert styles[:7] == [_SOLID] * 7 and styles[7:] == [_DASH] * 3
    pairs = {(c.opts["pen"].color().rgb(), s) for c, s in zip(curves, styles, strict=True)}
    assert len(pairs) == 10  # every series still distinguishable by colour and dash


def test_an_explicit_style_wins() -> None:
    create_application()
    styled = Styled()
    dotted = styled.keyed(pg.PlotDataItem([0, 1], [0, 1]), "gd", style=QtCore.Qt.PenStyle.DotLine)
    styled.restyle(Theme(presentation=True))
    assert dotted.opts["pen"].style() == QtCore.Qt.PenStyle.DotLine


def test_heatmap_hover_reads_the_cell_under_the_pointer() -> None:
    import numpy as np

    from explorer.ui.widgets.plots import HeatmapPanel

    create_application()
    styled = Styled()
    view = pg.GraphicsLayoutWidget()
    panel = HeatmapPanel(styled, styled.styled_plot(view.addPlot()))
    xs, ys = np.array([0.0, 1.0, 2.0]), np.array([10.0, 20.0])
    values = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    for _ in range(3):  # a per-frame redraw must not grow the restyle list
        panel.set_field(xs, ys, values, "v", values)
    assert sum(axis is panel.colorbar.axis for axis in styled._axes) == 1
    assert panel.value_at(0.4, 14.0) == 1.0  # nearest centre, not the next one to the right
    assert panel.value_at(1.6, 16.0) == 6.0
    assert panel.value_at(-0.49, 10.0) == 1.0  # the outer half cell still belongs to the image
    assert panel.value_at(-0.6, 10.0) is None and panel.value_at(1.0, 26.0) is None


def test_a_swatch_is_its_line_dashed_where_the_line_is() -> None:
    create_application()
    styled = Styled()
    _curves(styled, list(SERIES_KEYS[:10]))
    styled.restyle(Theme(presentation=True))

    def row(key: str) -> list[int]:
        image = styled.swatch(key).pixmap(36, 12).toImage()
        return [image.pixelColor(x, image.height() // 2).alpha() for x in range(image.width())]

    solid, dashed = row("gd"), row("newton")  # one colour in Okabe-Ito: the repeat is dashed
    assert (
        styled.swatch("gd").pixmap(36, 12).toImage().pixelColor(18, 6).rgb()
        == Theme(presentation=True).color("gd").rgb()
    )
    assert min(solid[2:-2]) > 0 and 0 in dashed[2:-2]  # gaps only in the dashed one
