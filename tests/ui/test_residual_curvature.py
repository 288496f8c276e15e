"""The residual tab's "Curvature & path" view: the series over training, the analysis job, Cancel, exports."""

import re

import numpy as np
import pytest
import torch
from PyQt6 import QtCore

from explorer.ui.settings import Settings

SMALL = [("depths", "4,8,16"), ("width", 8), ("n_points", 128), ("batch_size", 64), ("grid", 20),
         ("steps", 40), ("steps_per_frame", 5), ("boundary_every", 2), ("resolution", "11"),
         ("auto_landscape", False), ("curvature_every", 5), ("path_every", 2), ("path_points", 8),
         ("pca_resolution", "11")]  # fmt: skip


@pytest.fixture
def settings(tmp_path):
    settings = Settings(tmp_path / "settings.ini")
    settings["last_tab"] = "residual"
    return settings


@pytest.fixture
def page(qtbot, window):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    page = window.select("residual")
    page.start()
    page.apply_settings(SMALL)
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.depths == (4, 8, 16), timeout=60000)
    yield page
    torch.set_num_threads(before)


def _play_until(qtbot, page, step: int) -> None:
    page.toggle_play()
    qtbot.waitUntil(lambda: page.tab.frame.step >= step, timeout=60000)
    if page.runner.state == "playing":
        page.toggle_play()


def test_view_shows_curvature_over_training_and_the_analysis(qtbot, window, page, tmp_path):
    tab = page.tab
    assert tab.pages.currentWidget() is not tab.curvature_page
    tab.view_bar.setCurrentIndex(1)  # a click on the bar sets the parameter
    assert page.params.value("view") == "curvature" and tab.pages.currentWidget() is tab.curvature_page
    assert "PCA plane" in tab.headline.text()
    _play_until(qtbot, page, 20)
    frame = tab.frame
    assert frame.curvature_steps.tolist() == list(range(0, frame.step + 1, 5))
    curvature, trajectory = tab.curvature_page.curvature, tab.curvature_page.trajectory
    deepest = curvature.sharpness_curves["plain"][0]  # slot 0: the deepest, the only one tracked by default
    np.testing.assert_array_equal(deepest.xData, frame.curvature_steps)
    np.testing.assert_allclose(deepest.yData, frame.plain_top[2])
    middle = curvature.sharpness_curves["plain"][1]  # untracked: no line
    assert middle.xData is None or len(middle.xData) == 0
    assert [label.text for _, label in curvature.sharpness.legend.items] == ["plain 16", "residual 16"]
    assert tab.curvature_page.button.isEnabled()
    qtbot.mouseClick(tab.curvature_page.button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: trajectory.pair is not None and trajectory.pair.complete, timeout=60000)
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=60000)
    pair = curvature.pair
    assert pair.complete and pair.step == frame.step and pair.depth == 16
    assert len(curvature.density_curves["residual"].xData) == len(pair.residual.grid)
    assert len(curvature.bars["plain"].opts["x"]) == 16 + 2  # stem, 16 blocks, head
    named = dict(curvature.blocks.plot.getAxis("bottom")._tickLevels[0])
    assert named[0] == "stem" and named[17] == "head"  # the ends are named (18 bars: every one is)
    left, right = curvature.blocks.plot.viewRange()[0]
    assert left <= -0.8 and right >= 17.8  # room for the end labels: an axis with a grid drops text that runs past
    path = trajectory.pair.plain
    np.testing.assert_array_equal(trajectory.lines["plain"].xData, path.coords[:, 0])
    assert path.steps[-1] == frame.step and trajectory.maps["plain"].image.image.shape == (11, 11)
    assert "% of the path's variance" in trajectory.panels["residual"].plot.getAxis("bottom").labelText
    np.testing.assert_array_equal(trajectory.line_curves["residual"].xData, trajectory.pair.residual.t)
    info = tab.curvature_page.info.text()
    assert f"step {frame.step}" in info and "top Hessian eigenvalue" in info
    assert "PCA plane" in trajectory.describe("plain", 0.0, 0.0)
    csvs = {p.name for p in window.export_to(tmp_path / "r.csv")}
    new = ("curvature", "top_eigenvalue", "block_curvature", "spectral_density", "pca_path", "pca_landscape_plain",
           "pca_landscape_residual", "interpolation")  # fmt: skip
    assert {f"r-{n}.csv" for n in new} <= csvs
    assert (tmp_path / "r-curvature.csv").read_text().startswith("step,plain_4_top_eigenvalue")
    assert len((tmp_path / "r-pca_landscape_plain.csv").read_text().splitlines()) == 1 + 11 * 11
    assert (tmp_path / "r-block_curvature.csv").read_text().splitlines()[1].startswith("stem,")
    svgs = {p.name for p in window.export_to(tmp_path / "r.svg")}
    assert {"r-top_eigenvalue.svg", "r-pca_landscape_plain.svg", "r-interpolation.svg"} <= svgs
    svg = (tmp_path / "r-top_eigenvalue.svg").read_text()
    assert "minibatch loss Hessian" in " ".join(" ".join(re.findall(r">([^<>]*)<", svg)).split())  # lines joined
    page.reset()  # new nets: the analysis goes
    qtbot.waitUntil(lambda: tab.frame.step == 0, timeout=60000)
    assert curvature.pair is None and trajectory.pair is None and trajectory.maps["plain"].image.image is None


def test_analysis_can_be_cancelled(qtbot, page):
    tab = page.tab
    page.params.set_value("view", "curvature")
    page.params.set_value("pca_resolution", "51")  # a long grid: still running after the first pieces
    _play_until(qtbot, page, 10)
    qtbot.mouseClick(tab.curvature_page.button, QtCore.Qt.MouseButton.LeftButton)
    trajectory = tab.curvature_page.trajectory
    qtbot.waitUntil(lambda: tab.curvature_page.curvature.pair is not None, timeout=60000)  # first partial result
    assert page.jobs.busy and page.progress.isVisible()
    qtbot.mouseClick(page.progress.cancel, QtCore.Qt.MouseButton.LeftButton)
    assert not page.jobs.busy and not page.progress.isVisible() and page.jobs.wait(60000)
    qtbot.wait(50)
    assert trajectory.pair is None or not trajectory.pair.complete  # no result arrives after Cancel
