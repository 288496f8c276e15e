"""The "VGG vs ResNet" tab: both nets train through the page's runner, the depth sweep is a job with
Cancel, a huge learning rate stops with a message, and the tab exports what it shows."""

import json
import math

import numpy as np
import pytest
from PyQt6 import QtGui

from explorer.lab.core import training
from explorer.lab.vanishing import gradflow, params
from explorer.ui.tabs.vanishing.readout import verdict
from explorer.ui.tabs.vanishing.view import VanishingTab
from models import ACTIVATIONS, INITS, NORMS

pytestmark = pytest.mark.first_tab("vanishing")

SMALL = [("depth", 6), ("width", 8), ("n_points", 200), ("batch_size", 32), ("sweep_max_depth", 12)]


@pytest.fixture
def page(qtbot, window, one_thread):
    page = window.select("vanishing")
    page.apply_settings(SMALL)  # before the page starts: its first sweep and run are already small
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.sweep.result is not None, timeout=60000)
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=60000)
    return page


def _play_until(qtbot, page, step: int) -> None:
    page.toggle_play()
    qtbot.waitUntil(lambda: page.tab.frame.step >= step, timeout=60000)
    page.toggle_play()


def test_defaults_are_the_textbook_setting_and_choices_match_the_lab():
    defaults = {p.key: p.default for p in VanishingTab.parameters()}
    assert (defaults["activation"], defaults["norm"], defaults["model"]) == ("sigmoid", "none", "mlp")
    assert params.ACTIVATIONS == ACTIVATIONS and params.NORMS == NORMS and params.INITS == INITS
    assert params.DATASETS == training.DATASETS and params.OPTIMIZERS == training.OPTIMIZERS
    assert params.MODELS == gradflow.MODELS
    assert all(p.tip and (p.bounds or p.choices or p.kind == "bool") for p in VanishingTab.parameters())
    assert params.sweep_depths(200)[0] == 2 and params.sweep_depths(200)[-1] == 200
    assert params.sweep_depths(12) == (2, 3, 4, 5, 6, 7, 8, 9, 10, 12)


def test_the_readout_words_a_ratio_by_its_size():
    assert verdict(1.2e-17) == "vanishing: 17 orders of magnitude smaller at the first block"
    assert verdict(17.6) == "17.6× larger at the first block"
    assert verdict(0.5) == "within a factor of 10 across the depth"
    assert verdict(126.0) == "exploding: 126× larger at the first block"
    assert verdict(0.0).startswith("underflowed in float32")


def test_both_nets_train_on_one_colour_scale_and_reset_repeats_the_run(qtbot, window, page):
    assert window.tabs.tabToolTip(window.tabs.currentIndex()) == "VGG vs ResNet"
    tab = page.tab
    _play_until(qtbot, page, 20)
    frame = tab.frame
    for net, flow in (("plain", frame.plain), ("residual", frame.residual)):
        image = tab.heatmaps.images[net].image
        assert image.shape == (8, len(flow.heatmap_steps))  # input, six blocks, output
        np.testing.assert_array_equal(image, flow.heatmap)
        assert tuple(tab.heatmaps.images[net].levels) == tab.heatmaps.levels  # one shared colour scale
        assert len(tab.bars[net].opts["height"]) == 8
        x, _ = tab.loss_curves[net].getData()
        assert len(x) == len(flow.steps) > 1
    assert tuple(tab.heatmaps.colorbar.levels()) == tab.heatmaps.levels
    low, high = tab.heatmaps.levels
    assert low <= frame.plain.heatmap.min() and frame.residual.heatmap.max() <= high
    assert low.is_integer() and high.is_integer()  # whole decades: the colour bar's ticks stay put
    text = tab.ratio_label.text()
    assert f"Ratio at step {frame.step}" in text and f"{frame.plain.grad_ratio:.3g}" in text
    assert "input and output layers left out" in text
    assert page.controls.step_label.text() == f"step {frame.step}"

    page.reset()
    qtbot.waitUntil(lambda: tab.frame.step == 0, timeout=60000)
    page.step()
    qtbot.waitUntil(lambda: tab.frame.step == 5, timeout=60000)
    np.testing.assert_array_equal(tab.frame.plain.losses, frame.plain.losses[:6])  # same seed, same run


def test_a_small_depth_sweep_shows_the_textbook_result(page):
    sweep = page.tab.sweep
    result = sweep.result
    assert result.depths.tolist() == list(params.sweep_depths(12))
    assert result.ratio_plain[-1] < 1e-6 < 0.1 < result.ratio_residual[-1] < 10  # sigmoid, no normalization
    curve = sweep.curves["plain"]  # xData, yData: the data before the log axes' transform
    np.testing.assert_allclose(curve.xData, result.depths)
    np.testing.assert_allclose(curve.yData, result.ratio_plain)
    assert page.tab.tables()["depth_sweep"]["depth"].tolist() == result.depths.tolist()
    assert "depth 12" in sweep.describe(math.log10(12), -5.0)


def test_batchnorm_restarts_the_sweep_and_changes_the_picture(qtbot, page):
    page.params.set_value("norm", "batchnorm")
    assert page.jobs.busy
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=60000)
    assert page.tab.sweep.result.ratio_plain[-1] > 0.1  # no longer vanishing


def test_the_depth_sweep_can_be_cancelled(qtbot, page):
    page.params.set_value("sweep_max_depth", 200)  # a sweep setting: the sweep starts again
    assert page.progress.isVisible() and page.jobs.busy
    with qtbot.waitSignal(page.jobs.sig_cancelled, timeout=60000):
        page.progress.cancel.click()
    assert not page.jobs.busy and not page.progress.isVisible()
    assert page.jobs.wait(60000)
    qtbot.wait(50)  # a late partial result of the cancelled job must not arrive
    title = page.tab.sweep.plot.titleLabel.text
    assert title.startswith("Sweep cancelled")
    result = page.tab.sweep.result
    assert result is None or result.depths[-1] < 200


def test_a_huge_learning_rate_stops_with_a_message_naming_the_step(qtbot, page):
    page.params.set_value("lr", 10.0)
    page.toggle_play()
    qtbot.waitUntil(lambda: page.banner.text() != "", timeout=60000)
    text = page.banner.text()
    assert text.startswith("Diverged:") and "loss rose to" in text
    step = int(text.split(" at step ")[1].split(".")[0])
    assert step > 0
    assert page.runner.state == "failed"


def test_cnn_trains_on_glyphs_and_only_its_sizes_apply(qtbot, page):
    page.apply_settings([("blocks", 2), ("channels", 2), ("n_points", 100), ("batch_size", 16)])
    page.params.set_value("model", "cnn")
    assert page.params.value("dataset") == "glyphs"
    assert page.params.is_enabled("blocks") and not page.params.is_enabled("depth")
    qtbot.waitUntil(lambda: page.tab.frame.plain.layer_names[-2] == "block 2", timeout=60000)
    assert page.tab.heatmaps.images["plain"].image.shape[0] == 4
    assert not page.tab.sweep.live.isVisible()  # the sweep is of MLPs: no live depth on it
    page.params.set_value("dataset", "spirals")
    assert page.params.value("model") == "mlp" and page.params.is_enabled("depth")


def test_activation_gradients_redraw_without_a_restart(page):
    tab = page.tab
    frame = tab.frame
    page.params.set_value("gradient", "activation")
    assert tab.frame is frame
    assert tab.heatmaps.images["plain"].image.shape[0] == 7  # h0 .. h6
    assert "∂L/∂h" in tab.heatmaps.colorbar.axis.labelText
    assert "‖∂L/∂h<sub>0</sub>‖" in tab.ratio_label.text()
    assert tab.tables()["heatmap_plain"]["log10_activation_grad h₀"][0] == pytest.approx(
        math.log10(frame.plain.act_grad_norms[0]), rel=1e-5
    )


def test_hover_reads_cells_bars_and_the_formula(page):
    tab = page.tab
    frame = tab.frame
    text = tab._describe_cell("plain", 0.0, 1.0)
    assert text.startswith("plain (VGG), block 1, step 0:") and "‖∂L/∂W‖ = " in text
    assert f"{frame.plain.weight_grad_norms[1]:.3g}" in text
    assert tab._describe_cell("plain", 0.0, 40.0) is None
    bar = tab._describe_bar(7.1, -3.0)
    assert bar.startswith("output at step 0") and f"{frame.residual.weight_grad_norms[7]:.3g}" in bar
    assert "not by depth" in tab.ratio_label.toolTip()  # why the ratio leaves the input and output layers out
    assert "‖∂L/∂W<sub>1</sub>‖ / ‖∂L/∂W<sub>L</sub>‖" in tab.ratio_label.text()  # the formula, in the readout


def test_exports_png_svg_csv_json(qtbot, window, page, tmp_path):
    page.step()
    qtbot.waitUntil(lambda: page.tab.frame.step >= 5, timeout=60000)
    [png] = window.export_to(tmp_path / "v.png")
    image = QtGui.QImage(str(png))
    assert image.width() == 2 * page.tab.width()
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    assert pixels.std() > 20  # not blank
    svgs = {p.name for p in window.export_to(tmp_path / "v.svg")}
    assert svgs == {
        "v.svg",
        *(f"v-{k}.svg" for k in ("figure", "heatmaps", "layers", "loss", "accuracy", "depth_sweep")),
    }
    assert "training step" in (tmp_path / "v-heatmaps.svg").read_text()
    assert "residual (ResNet)" in (tmp_path / "v-loss.svg").read_text()  # its legend
    csvs = {p.name for p in window.export_to(tmp_path / "v.csv")}
    assert {"v-layers.csv", "v-curves.csv", "v-heatmap_plain.csv", "v-depth_sweep.csv"} <= csvs
    rows = (tmp_path / "v-layers.csv").read_text().splitlines()
    assert rows[0] == "layer,plain_weight_grad_norm,residual_weight_grad_norm" and rows[1].startswith("input,")
    [doc] = window.export_to(tmp_path / "v.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["activation"] == "sigmoid" and data["tables"]["curves"]["step"][-1] == 5
