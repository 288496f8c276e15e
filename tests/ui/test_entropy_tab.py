import json
import math

import numpy as np
import pytest
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.entropy import information

pytestmark = pytest.mark.first_tab("entropy")


@pytest.fixture
def page(qtbot, window):
    page = window.select("entropy")
    qtbot.waitUntil(lambda: page.tab.info is not None and page.tab.split_plots.split is not None, timeout=60000)
    return page


def _drag(qtbot, view, start: QtCore.QPointF, end: QtCore.QPointF) -> None:
    """A real left-button drag on a GraphicsView (QTest's mouseMove carries no buttons in Qt 6)."""
    viewport = view.viewport()
    a, b = view.mapFromScene(start), view.mapFromScene(end)
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    mods = QtCore.Qt.KeyboardModifier.NoModifier

    def send(kind, pos, button, buttons):
        local = QtCore.QPointF(pos)
        event = QtGui.QMouseEvent(kind, local, viewport.mapToGlobal(local), button, buttons, mods)
        QtWidgets.QApplication.sendEvent(viewport, event)

    send(QtCore.QEvent.Type.MouseButtonPress, a, left, left)
    for f in np.linspace(0.1, 1.0, 6):
        send(QtCore.QEvent.Type.MouseMove, a + (b - a) * float(f), none, left)
    send(QtCore.QEvent.Type.MouseButtonRelease, b, left, none)
    qtbot.wait(10)


def test_tab_opens_without_run_controls(page):
    tab = page.tab
    assert not page.has_experiment and not page.controls.isVisible()
    assert "H(p) = −Σ p log₂ p" in tab.entropy_label.text()
    assert tab.code_plots.table.rowCount() == 8  # default: Zipf over 8 outcomes
    h = information.entropy(tab.p)
    assert f"{h:.3f}".rstrip("0") in tab.entropy_label.text()


def test_uniform_over_8_is_3_bits_and_huffman_is_exact(page):
    page.params.set_value("outcomes", 8)
    page.params.set_value("p_preset", "uniform")
    tab = page.tab
    assert "<b>3 bits</b>" in tab.entropy_label.text()
    assert "log₂ 8 = 3 bits" in tab.entropy_label.text()
    np.testing.assert_allclose(tab.info_plots.p_bars.opts["height"], np.full(8, 0.125))
    assert "L = Σ pᵢ ℓᵢ = <b>3 bits</b>" in tab.code_plots.summary.text()
    assert {tab.code_plots.table.item(r, 2).text() for r in range(8)} == {f"{i:03b}" for i in range(8)}


def test_a_certain_outcome_reads_zero_bits(page):
    page.params.set_value("p_preset", "one_hot")
    tab = page.tab
    assert "<b>0 bits</b> = 0 nats" in tab.entropy_label.text()
    quantities = tab.tables()["quantities"]
    h = quantities["value"][quantities["quantity"].index("H(p)")]
    assert h == 0.0 and math.copysign(1.0, h) == 1.0  # a CSV shows 0.0, not -0.0


def test_coins_have_two_outcomes_and_sit_on_the_binary_curve(page):
    page.params.set_value("p_preset", "fair_coin")
    tab = page.tab
    assert page.params.value("outcomes") == 2 and tab.q.size == 2
    assert "<b>1 bit</b>" in tab.entropy_label.text()
    assert list(tab.info_plots.binary_p.data["x"]) == [0.5] and list(tab.info_plots.binary_p.data["y"]) == [1.0]
    page.params.set_value("p_preset", "biased_coin")
    page.params.set_value("p_heads", 0.9)
    assert tab.info_plots.binary_p.data["y"][0] == pytest.approx(float(information.binary_entropy(0.9)))
    page.params.set_value("outcomes", 5)  # more outcomes than a coin has: p becomes uniform
    assert page.params.value("p_preset") == "uniform" and tab.p.size == 5
    assert len(tab.info_plots.binary_p.data) == 0


def test_dragging_a_bar_with_the_mouse_changes_entropy(qtbot, page):
    tab = page.tab
    page.params.set_value("p_preset", "uniform")
    before = tab.entropy_label.text()
    vb = tab.info_plots.pq_panel.plot.vb
    x = float(tab.info_plots.p_bars.positions()[0])
    _drag(qtbot, tab.view, vb.mapViewToScene(QtCore.QPointF(x, 0.1)), vb.mapViewToScene(QtCore.QPointF(x, 0.9)))
    assert tab.p[0] == pytest.approx(0.9, abs=0.03)  # the dragged bar follows the mouse
    assert tab.p.sum() == pytest.approx(1.0)
    assert page.params.value("p_preset") == "custom"
    assert tab.entropy_label.text() != before
    np.testing.assert_allclose(tab.q, np.full(8, 0.125))  # q was not touched


def test_drag_handler_renormalises_and_q_drag_changes_kl(page):
    tab = page.tab
    page.params.set_value("p_preset", "uniform")
    tab.set_bar("p", 3, 0.5)
    assert tab.p[3] == pytest.approx(0.5)
    np.testing.assert_allclose(np.delete(tab.p, 3), np.full(7, 0.5 / 7))
    tab.set_bar("q", 0, 1.0)  # q becomes one-hot where p is not: KL(p‖q) is infinite
    assert math.isinf(tab.info.pq.kl)
    assert "∞" in tab.cross_label.text() and "∞" in tab.info_plots.ce_texts[0].toPlainText()
    tab.set_bar("q", 0, 0.2)
    parts = tab.info.pq
    assert parts.cross_entropy == pytest.approx(parts.entropy + parts.kl)
    assert tab.info_plots.kl_bars.opts["height"][0] == pytest.approx(parts.kl)


def test_typed_weights_and_a_bad_vector(qtbot, page):
    tab = page.tab
    tab.p_edit.setText("4 2 1 1")
    qtbot.keyClick(tab.p_edit, QtCore.Qt.Key.Key_Return)
    assert page.params.value("outcomes") == 4 and tab.q.size == 4
    assert "<b>1.75 bits</b>" in tab.entropy_label.text()  # the dyadic case: Huffman meets H exactly
    assert "L = Σ pᵢ ℓᵢ = <b>1.75 bits</b>" in tab.code_plots.summary.text()
    tab.p_edit.setText("1 two 3")
    qtbot.keyClick(tab.p_edit, QtCore.Qt.Key.Key_Return)
    assert "could not read" in page.banner.text()
    tab.p_edit.setText("0 0 0")
    qtbot.keyClick(tab.p_edit, QtCore.Qt.Key.Key_Return)
    assert "all zero" in page.banner.text()
    assert tab.p.size == 4  # the last good distribution stays
    tab.set_bar("p", 0, 0.5)
    assert page.banner.text() == ""  # a good edit clears the complaint


def test_compression_counts_bits_against_entropy(page):
    page.params.set_value("message_length", 4000)
    c = page.tab.compression
    assert c.round_trip and c.message.size == 4000 and c.actual_bits == len(c.bits)
    assert c.entropy <= c.average_length < c.entropy + 1
    assert f"{c.actual_bits:,} bits" in page.tab.code_plots.message_label.text()


def test_threshold_line_moves_and_gain_updates(qtbot, page):
    tab = page.tab
    before_title = tab.split_plots.gain_panel.plot.titleLabel.text
    before_gain = tab.split_plots.split.gain
    tab.split_plots.threshold_line.setValue(-2.5)  # what dragging the line does
    assert page.params.value("threshold") == pytest.approx(-2.5)
    assert tab.split_plots.gain_line.value() == pytest.approx(-2.5)
    assert tab.split_plots.split.gain != pytest.approx(before_gain)
    assert tab.split_plots.gain_panel.plot.titleLabel.text != before_title
    scan = tab.split_plots.best.scans[0]
    assert tab.split_plots.gain_best.data["x"][0] == pytest.approx(scan.best_threshold)
    assert scan.best_gain >= scan.gains.max() - 1e-12
    page.params.set_value("threshold", float(scan.best_threshold))
    assert tab.split_plots.threshold_line.value() == pytest.approx(scan.best_threshold)
    assert tab.split_plots.split.gain == pytest.approx(scan.best_gain)
    page.params.set_value("split_feature", "x2")
    assert tab.split_plots.threshold_line.angle == 0 and "x₂" in tab.split_label.text()


def test_split_gain_matches_the_lab(page):
    tab = page.tab
    page.params.set_value("split_classes", 2)
    assert len(tab.split_plots.class_items[2].data) == 0
    plots = tab.split_plots
    split = plots.split
    assert split.gain == pytest.approx(
        information.information_gain(plots.labels, plots.points[:, 0] <= split.threshold)
    )


def test_exports_png_svg_csv_json(window, page, tmp_path):
    [png] = window.export_to(tmp_path / "x.png")
    image = QtGui.QImage(str(png))
    assert image.width() == 2 * page.tab.width()
    svgs = {p.name for p in window.export_to(tmp_path / "x.svg")}
    assert {"x-figure.svg", "x-distributions.svg", "x-split.svg", "x-gain.svg", "x-compression.svg"} <= svgs
    text = (tmp_path / "x-distributions.svg").read_text()
    assert "outcome i" in text and "p: the source" in text  # axis label and legend
    csvs = {p.name for p in window.export_to(tmp_path / "x.csv")}
    assert {"x-distributions.csv", "x-quantities.csv", "x-split_gain.csv", "x-message.csv"} <= csvs
    assert (tmp_path / "x-distributions.csv").read_text().startswith("outcome,p,q,surprise_bits")
    [doc] = window.export_to(tmp_path / "x.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["outcomes"] == 8
    assert sum(data["tables"]["distributions"]["p"]) == pytest.approx(1.0)


def test_hover_explains_the_numbers(page):
    tab = page.tab
    page.params.set_value("p_preset", "uniform")
    p0 = float(tab.info_plots.p_bars.positions()[0])
    assert "surprise −log₂ p₀ = 3 bits" in tab.info_plots.describe_bar(p0, 0.1)
    assert "KL(p‖q)" in tab.info_plots.describe_bar(float(tab.info_plots.q_bars.positions()[0]), 0.1)
    assert tab.info_plots.describe_cross(0.0, 1.0).startswith("H(p, q) = −Σ p log₂ q = 3 bits")
    assert tab.info_plots.describe_binary(0.5, 0.5).endswith("= 1 bit")
    assert "IG = " in tab.split_plots.describe_gain(0.0, 0.0)


def test_closing_while_hovering_is_quiet(qtbot, settings):
    """The hover readout's delayed mouse-move may arrive after the window is gone: no error then."""
    from explorer.ui.window import MainWindow

    win = MainWindow(settings)
    win.resize(1400, 900)
    win.show()
    page = win.select("entropy")
    qtbot.waitUntil(lambda: page.tab.info is not None, timeout=60000)
    view = page.tab.view
    pos = QtCore.QPointF(view.mapFromScene(page.tab.info_plots.pq_panel.plot.vb.mapViewToScene(QtCore.QPointF(0, 0.5))))
    none = QtCore.Qt.MouseButton.NoButton
    move = QtGui.QMouseEvent(QtCore.QEvent.Type.MouseMove, pos, view.viewport().mapToGlobal(pos), none, none,
                             QtCore.Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QtWidgets.QApplication.sendEvent(view.viewport(), move)
    win.close()
    win.deleteLater()
    qtbot.wait(200)  # an exception in the event loop now would fail this test
