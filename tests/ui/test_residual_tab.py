"""The residual-networks tab: training through the page's runner, the landscape job, exports, divergence."""

import json
import re

import numpy as np
import pytest
import torch
from PyQt6 import QtCore, QtGui

from explorer.lab import landscape
from explorer.ui.tabs.residual.training_panels import even_columns

pytestmark = pytest.mark.first_tab("residual")

SMALL = [("depths", "4,8,16"), ("width", 8), ("n_points", 128), ("batch_size", 64), ("grid", 20),
         ("steps", 40), ("steps_per_frame", 5), ("boundary_every", 2), ("resolution", "11")]  # fmt: skip


@pytest.fixture
def page(qtbot, window, one_thread):
    page = window.select("residual")
    page.start()
    page.apply_settings(SMALL)
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.depths == (4, 8, 16), timeout=60000)
    return page


def _play_until(qtbot, page, step: int) -> None:
    page.toggle_play()
    qtbot.waitUntil(lambda: page.tab.frame.step >= step, timeout=60000)
    if page.runner.state == "playing":
        page.toggle_play()


def test_training_draws_curves_ratios_and_boundaries(qtbot, window, page):
    tab = page.tab
    assert window.tabs.tabToolTip(window.tabs.currentIndex()) == "Residual networks"
    assert page.controls.step_label.text() == "step 0"
    _play_until(qtbot, page, 20)
    frame = tab.frame
    curve = tab.training.loss_curves["plain"][0]  # slot 0: the deepest, 16 blocks
    np.testing.assert_array_equal(curve.xData, frame.steps)
    np.testing.assert_allclose(curve.yData, frame.plain_smoothed[2])
    assert [label.text for _, label in tab.training.loss_panel.legend.items] == [
        "plain 16", "plain 8", "plain 4", "residual 16", "residual 8", "residual 4", "each minibatch"]  # fmt: skip
    grid, _ = even_columns(frame.ratio_steps, np.zeros((1, len(frame.ratio_steps))))
    assert tab.training.ratio_map.image.image.shape == (16, len(grid))  # blocks x steps of residual 16
    x_range = tab.training.ratio_plot.getViewBox().viewRange()[0]
    assert x_range[0] < 0 and x_range[1] > 40  # the whole run, as the loss curves: the axis stays put
    assert tab.boundaries.maps["residual"].image.image.shape == (20, 20)
    assert frame.boundary_step > 0  # recomputed since step 0: the panels show the new arrays, not the first
    np.testing.assert_array_equal(tab.boundaries.maps["residual"].image.image, frame.residual_boundary[2])
    assert sum(len(p.data) for p in tab.boundaries.points["plain"]) == 128
    assert tab.boundaries.panels["plain"].plot.titleLabel.text == "Plain 16"
    assert "‖F(x)‖ / ‖x‖ =" in tab._describe("ratio_cell", frame.ratio_steps[-1], 3.0)
    assert tab._describe("loss", 10.0, 0.5).startswith("step 10, training loss")
    assert "P(class 1)" in tab._describe("boundary", 0.0, 0.0)
    page.params.set_value("shown", "shallowest")  # a display choice: same frame, other depth
    assert tab.frame is frame and tab.training.ratio_map.image.image.shape[0] == 4
    assert tab.boundaries.panels["residual"].plot.titleLabel.text == "Residual 4"
    page.apply_settings([("norm", "none"), ("lr", 10.0)])  # no normalization, a huge step: it must blow up
    page.toggle_play()
    qtbot.waitUntil(lambda: page.runner.state == "failed", timeout=60000)
    text = page.banner.text()
    assert text.startswith("Diverged:") and " at step " in text and "smaller learning rate" in text


def test_ratios_taken_at_uneven_steps_fill_even_columns_with_the_nearest_measurement():
    steps = np.array([0.0, 5.0, 10.0, 11.0, 12.0])  # the time budget went from 5 steps a frame to 1
    grid, shown = even_columns(steps, np.array([[0.0, 1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(grid, np.arange(13.0))
    np.testing.assert_array_equal(shown[0], [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 3, 4])  # ties go to the earlier
    even = np.arange(0.0, 50.0, 5.0)
    grid, shown = even_columns(even, even[None])
    np.testing.assert_array_equal(grid, even)
    np.testing.assert_array_equal(shown[0], even)
    assert len(even_columns(np.array([0.0, 1.0, 1e6]), np.zeros((2, 3)))[0]) == 1001  # at most 1000 steps apart


def test_landscape_of_the_current_nets_centre_is_the_models_loss(qtbot, page):
    tab = page.tab
    page.params.set_value("auto_landscape", False)
    _play_until(qtbot, page, 15)
    frame = tab.frame
    assert (
        tab.landscapes.pair is None and "“Landscape of the current nets”" in tab.landscapes.hints["plain"].toPlainText()
    )
    qtbot.mouseClick(tab.landscape_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.landscapes.pair is not None and tab.landscapes.pair.complete, timeout=60000)
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=60000)  # the job reports its end just after its last grid
    pair = tab.landscapes.pair
    assert pair.step == frame.step and pair.depth == 16 and pair.losses[0].shape == (11, 11)
    X, y = torch.tensor(frame.points), torch.tensor(frame.labels)
    for net, losses in zip(frame.checkpoint.nets(16), pair.losses, strict=True):
        assert losses[5, 5] == landscape.model_loss(net, X, y)
    levels = [tuple(p.image.levels) for p in tab.landscapes.maps.values()]
    assert levels[0] == levels[1] == pytest.approx(pair.color_range)  # one colour scale for both
    assert tab.landscapes.maps["plain"].image.image.shape == (11, 11)
    assert "α = 0, β = 0" in tab.landscapes.describe("residual", 0.01, -0.01)
    assert f"plain {pair.losses[0][5, 5]:.4g}" in tab.landscapes.describe("plain", 0.0, 0.0)
    assert f"step {frame.step}" in tab.landscape_info.text()
    page.params.set_value("loss_cap", 0.5)  # a finished landscape is redrawn, not recomputed
    assert not page.jobs.busy and tab.landscapes.pair.color_range[1] == pytest.approx(np.log10(0.5))
    page.params.set_value("resolution", "101")  # the same nets on a long grid: it can be cancelled half way
    qtbot.waitUntil(lambda: len(tab.landscapes.pair.alphas) == 101, timeout=60000)
    qtbot.mouseClick(page.progress.cancel, QtCore.Qt.MouseButton.LeftButton)
    assert not page.jobs.busy and not page.progress.isVisible() and page.jobs.wait(60000)
    qtbot.wait(50)
    assert not tab.landscapes.pair.complete  # no result arrives after Cancel


def test_landscape_at_the_end_of_training_exports_and_goes_on_reset(qtbot, window, page, tmp_path):
    tab = page.tab
    page.toggle_play()
    qtbot.waitUntil(lambda: page.runner.state == "finished", timeout=60000)
    assert tab.frame.step == 40  # the parameter's last step
    first = tab.frame.plain_losses[:, 0].copy()
    # the last partial result completes the grid a moment before the job reports that it finished
    qtbot.waitUntil(lambda: tab.landscapes.pair is not None and tab.landscapes.pair.complete, timeout=60000)
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=60000)
    assert tab.landscapes.pair.step == 40 and not page.progress.isVisible()  # started by itself
    [png] = window.export_to(tmp_path / "r.png")
    assert QtGui.QImage(str(png)).width() == 2 * tab.width()
    svgs = {p.name for p in window.export_to(tmp_path / "r.svg")}
    assert {"r-figure.svg", "r-training_loss.svg", "r-ratio_heatmap.svg", "r-landscape_residual.svg"} <= svgs
    # the texts of the SVG, one line after another: a label too long for its axis wraps onto lines
    text = " ".join(" ".join(re.findall(r">([^<>]*)<", (tmp_path / "r-training_loss.svg").read_text())).split())
    assert "residual 16" in text and "training loss (nats)" in text  # legend and axis label
    csvs = {p.name for p in window.export_to(tmp_path / "r.csv")}
    tables = ("training", "branch_ratios", "decision_boundary", "points", "landscape", "curvature")
    assert csvs == {f"r-{n}.csv" for n in tables}  # the curvature view's analysis is not asked for here
    assert (tmp_path / "r-training.csv").read_text().startswith("step,plain_4_loss,plain_4_accuracy")
    assert len((tmp_path / "r-landscape.csv").read_text().splitlines()) == 1 + 11 * 11
    [doc] = window.export_to(tmp_path / "r.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["depths"] == "4,8,16" and len(data["tables"]["branch_ratios"]["ratio"]) > 0
    page.reset()  # new nets: the old landscape goes; the same seed starts from the same weights
    qtbot.waitUntil(lambda: tab.frame.step == 0, timeout=60000)
    assert tab.landscapes.pair is None and tab.landscapes.maps["plain"].image.image is None
    np.testing.assert_array_equal(tab.frame.plain_losses[:, 0], first)
