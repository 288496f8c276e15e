import json
import math

import numpy as np
import pytest
from PyQt6 import QtGui

pytestmark = pytest.mark.first_tab("label_smoothing")


@pytest.fixture
def page(qtbot, window, one_thread):
    page = window.select("label_smoothing")
    small = {"n_train": 200, "n_val": 300, "hidden": 32, "steps": 60, "steps_per_frame": 5}
    for key, value in small.items():
        page.params.set_value(key, value)
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.step == 0, timeout=60000)
    return page


def test_smoothed_targets_for_eps_008_k4_class2(page):
    for key, value in (("eps", 0.08), ("num_classes", 4), ("target_class", 2)):
        page.params.set_value(key, value)
    tab = page.tab
    np.testing.assert_allclose(tab.theory_plots.target_bars["smoothed"].opts["height"], [0.02, 0.02, 0.94, 0.02])
    np.testing.assert_allclose(tab.theory_plots.target_bars["one_hot"].opts["height"], [0, 0, 1, 0])
    gap = math.log(0.94 / 0.02)
    assert tab.theory_plots.loss_panel.plot.titleLabel.text == f"Optimal logit gap: {gap:.2f}"
    assert tab.theory_plots.loss_best.data["x"][0] == pytest.approx(0.94)
    page.params.set_value("eps", 0.0)
    assert tab.theory_plots.loss_panel.plot.titleLabel.text == "Optimal logit gap: ∞"


def test_fewer_classes_move_the_class_shown_and_a_bad_class_is_a_message(page):
    page.params.set_value("num_classes", 5)
    page.params.set_value("target_class", 4)
    page.params.set_value("num_classes", 3)
    assert page.params.value("target_class") == 2
    page.params.set_value("target_class", 7)
    assert "0 to 2" in page.banner.text()


def test_training_runs_through_the_runner_and_shows_ece(qtbot, page):
    tab = page.tab
    page.toggle_play()
    qtbot.waitUntil(lambda: tab.frame.step >= 30, timeout=60000)
    page.toggle_play()
    frame = tab.frame
    labels = [label.text for _, label in tab.calibration_plots.rel_panel.legend.items]
    assert any(t.startswith("one-hot: ECE = ") for t in labels) and any(
        t.startswith("smoothed: ECE = ") for t in labels
    )
    assert f"smoothed: ECE = {frame.smoothed.reliability.ece:.3f}" in labels  # no event loop ran: same frame
    assert tab.table.item(0, 5).text() != "—" and tab.table.item(1, 9).text() == f"{frame.optimal_logit_gap:.3f}"
    assert tab.table.item(0, 9).text() == "∞"
    x, _ = tab.training_plots.acc_curves["smoothed"]["val"].getData()
    assert len(x) == len(frame.history_steps) > 1
    assert sum(len(item.data) for item in tab.geometry_plots.points["one_hot"]) == len(frame.train_projection_labels)
    page.params.set_value("projection", "val")  # no restart: the same frame, other points
    assert tab.frame is frame
    assert sum(len(item.data) for item in tab.geometry_plots.points["smoothed"]) == len(frame.val_projection_labels)


def test_exports_png_svg_csv_json(qtbot, window, page, tmp_path):
    tab = page.tab
    page.step()
    qtbot.waitUntil(lambda: tab.frame.step >= 5, timeout=60000)
    [png] = window.export_to(tmp_path / "x.png")
    assert QtGui.QImage(str(png)).width() == 2 * tab.width()
    svgs = {p.name for p in window.export_to(tmp_path / "x.svg")}
    assert {"x-figure.svg", "x-targets.svg", "x-reliability.svg", "x-penultimate_smoothed.svg"} <= svgs
    text = (tmp_path / "x-reliability.svg").read_text()
    assert "ECE" in text and "confidence (top q)" in text  # legend and axis label
    csvs = {p.name for p in window.export_to(tmp_path / "x.csv")}
    assert {"x-targets.csv", "x-summary.csv", "x-curves.csv", "x-reliability.csv", "x-templates.csv"} <= csvs
    assert (tmp_path / "x-curves.csv").read_text().startswith("step,one_hot_train_accuracy")
    [doc] = window.export_to(tmp_path / "x.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["eps"] == 0.1
    assert data["tables"]["summary"]["optimal_gap"][0] is None  # ∞ for one-hot targets


def test_hover_explains_targets_and_loss(page):
    tab = page.tab
    assert "1 − ε + ε/K = 0.91" in tab.theory_plots.describe_target(2.1, 0.5)
    assert "ε/K = 0.01" in tab.theory_plots.describe_target(5.0, 0.01)
    assert "−log q" in tab.theory_plots.describe_loss(0.5, 1.0)
