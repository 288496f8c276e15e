"""The fine-tuning tab: pretraining job, live run through the page, k-sweep with Cancel, exports."""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6 import QtGui

from explorer.ui.tabs.finetune import describe

SMALL = [("blocks", 4), ("width", 4), ("pretrain_steps", 100), ("n_per_class", 5), ("n_val_per_class", 10),
         ("epochs", 4), ("batch_size", 8), ("steps_per_frame", 2), ("cka_every", 1)]  # fmt: skip
# 6 classes x 5 images: 4 steps an epoch, 16 steps a run; 5 layers below the classifier

# small settings applied before the tab starts: no default-size work. Slow: each test pretrains (the
# first) or loads a source network, and trains six strategies: 3-10 s
pytestmark = [pytest.mark.first_tab("finetune", values=SMALL), pytest.mark.slow]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _cached_and_one_thread(cache_dir, monkeypatch, one_thread):
    """Before the window: the source networks go to (and come from) this module's cache."""
    monkeypatch.setenv("LOSS_EXPLORER_CACHE", str(cache_dir))


@pytest.fixture
def page(qtbot, window):
    page = window.current_page()
    tab = page.tab
    qtbot.waitUntil(lambda: tab.frame is not None and tab.sweep is not None and not page.jobs.busy, timeout=60000)
    return page


def _play_to_the_end(qtbot, page) -> None:
    page.toggle_play()
    qtbot.waitUntil(lambda: page.runner.state == "finished", timeout=60000)


def test_tab_pretrains_sweeps_and_runs_every_strategy(qtbot, window, page):
    tab = page.tab
    assert window.tabs.tabToolTip(window.tabs.currentIndex()) == "Fine-tuning"
    assert tab.pretrained is not None and tab.pretrained.config.n_blocks == 4
    assert "Source: 4 blocks" in tab.source.text() and "k-sweep done" in tab.sweep_page.status.text()
    assert tab.frame.step == 0 and len(tab.training.diagram.texts) == 6 * 6  # 6 strategies x 6 units
    probe_row = [t.textItem.toPlainText() for t in tab.training.diagram.texts[6:12]]
    assert probe_row == ["frozen"] * 5 + ["η×10"]
    _play_to_the_end(qtbot, page)
    frame = tab.frame
    assert frame.step == 16 and frame.epoch == 4.0
    x, y = tab.training.curves.curves["top_k"][1].getData()
    assert len(x) == len(frame.state("top_k").epochs) > 2 and np.all((y >= 0) & (y <= 1))
    assert tab.training.table.rowCount() == 6 and tab.training.table.item(1, 0).text() == "none (probe)"
    assert tab.training.table.item(2, 1).text() == f"{frame.state('top_k').n_trainable:,}"
    assert tab.inside.layers.cka["top_k"].getData()[1] is None  # hidden: it catches up when it is shown
    tab.view_bar.show_view("inside")
    _, cka = tab.inside.layers.cka["top_k"].getData()
    np.testing.assert_allclose(cka[:3], 1.0, atol=1e-6)  # frozen layers: the pretrained representation
    assert tab.inside.layers.cka["finetune"].getData()[1][-1] < 1.0
    assert tab.inside.filters.image.image.shape == (9, 12)  # 4 filters of 3x3: step 0, now, change
    change = frame.state("finetune").filters - frame.state("finetune").initial_filters
    assert "change" in tab.inside.filters.plot.getAxis("left")._tickLevels[0][2][1]
    assert f"{change[0, 0, 0]:+.4f}" in tab.inside.filters.describe(0.5, 6.5)
    assert tab.inside.layers.cka_plot.getAxis("left").labelText == "linear CKA at epoch 4"  # the last frame
    top_right = tab.training.diagram.describe(5.0, 5.0)  # the scratch row's classifier
    assert "classifier" in top_right and "η × 10" in top_right
    assert "frozen" in tab.training.diagram.describe(0.0, 4.0)  # the probe's input conv
    assert "block 4: ‖W − W₀‖ / ‖W₀‖ = " in describe.weight_change_at(frame, 4.0)
    assert "CKA(X, Y)" in describe.cka_at(frame, 1.0)


def test_progressive_row_fills_from_the_top_as_it_trains(qtbot, page):
    page.apply_settings([("unfreeze_every", 1), ("epochs", 3)])
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.total_epochs == 3, timeout=60000)
    _play_to_the_end(qtbot, page)
    row = [t.textItem.toPlainText() for t in page.tab.training.diagram.texts[4 * 6 : 5 * 6]]  # progressive is row 5
    # epochs 1 and 2 each opened one more layer, top down; the run ends as epoch 3 would open a third
    assert row == ["frozen", "frozen", "frozen", "η×1", "η×1", "η×10"]


def test_k_sweep_runs_from_the_button_and_can_be_cancelled(qtbot, page):
    tab = page.tab
    with qtbot.waitSignal(page.jobs.sig_cancelled, timeout=60000):
        tab.sweep_page.button.click()
        assert page.jobs.busy and page.progress.isVisible()
        page.jobs.cancel()
    assert page.jobs.wait(60000)
    assert "k-sweep was cancelled" in tab.sweep_page.status.text()
    tab.sweep_page.button.click()
    qtbot.waitUntil(lambda: not page.jobs.busy and tab.sweep is not None, timeout=60000)
    sweep = tab.sweep
    assert sweep.ks.tolist() == [0, 1, 2, 3, 4, 5] and np.isfinite(sweep.scratch_val_accuracy)
    assert tab.sweep_page.plots.params.yData.tolist() == sweep.n_trainable.tolist()
    assert "k = 2 (top 2 of 5 layers)" in describe.sweep_at(sweep, 2.1)
    page.params.set_value("lr", 0.02)
    assert "earlier settings" in tab.sweep_page.status.text()


def test_exports_png_svg_csv_json(qtbot, window, page, tmp_path):
    tab = page.tab
    page.step()
    qtbot.waitUntil(lambda: tab.frame.step >= 2, timeout=60000)
    [png] = window.export_to(tmp_path / "ft.png")
    image = QtGui.QImage(str(png))
    assert image.width() == 2 * tab.width()
    svgs = {p.name for p in window.export_to(tmp_path / "ft.svg")}
    assert svgs == {"ft.svg", *(f"ft-{key}.svg" for key in tab.plots())} and len(svgs) == 8
    sweep_svg = (tmp_path / "ft-k_sweep.svg").read_text()
    assert "from scratch" in sweep_svg and "ms per step" in sweep_svg
    csvs = {p.name for p in window.export_to(tmp_path / "ft.csv")}
    assert csvs == {f"ft-{name}.csv" for name in ("curves", "per_layer", "summary", "filters", "k_sweep",
                                                  "pretraining")}  # fmt: skip
    assert (tmp_path / "ft-k_sweep.csv").read_text().splitlines()[-1].startswith("scratch,")
    [doc] = window.export_to(tmp_path / "ft.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["blocks"] == 4
    assert data["tables"]["summary"]["strategy"][0] == "scratch"


def test_views_axes_and_bad_values(page):
    tab = page.tab
    assert tab.stack.currentIndex() == 0 and "Which layers to retrain" in tab.headline.text()
    tab.view_bar.setCurrentIndex(2)  # the bar and the "view" parameter are one
    assert page.params.value("view") == "sweep" and tab.stack.currentWidget() is tab.sweep_page
    page.params.set_value("view", "inside")
    assert tab.view_bar.currentIndex() == 1 and "Generic below" in tab.headline.text()
    for item in tab.plots().values():
        for plot in [item] if isinstance(item, pg.PlotItem) else getattr(item, "plots", []):
            assert plot.getAxis("bottom").labelText and plot.getAxis("left").labelText
    page.params.set_value("k", 6)  # 4 blocks: at most 5 layers below the classifier
    assert "k must be between 0 and blocks + 1 = 5" in page.banner.text()
    page.params.set_value("k", 5)
    page.params.set_value("blocks", 5)
    assert page.params.value("k") == 5
    for key in ("scratch", "linear_probe", "top_k", "finetune", "progressive", "discriminative"):
        page.params.set_value(key, False)
    assert "at least one strategy" in page.banner.text()


def test_play_during_pretraining_starts_the_run_when_the_weights_arrive(qtbot, window):
    page = window.current_page()
    tab = page.tab
    qtbot.waitUntil(lambda: page.jobs.busy, timeout=60000)  # the tab has started
    page.params.set_value("pretrain_seed", 7)  # not in the cache: this one trains
    assert "Pretraining the source network" in tab.source.text()
    page.toggle_play()
    assert page.runner.state == "playing"
    qtbot.waitUntil(lambda: page.runner.state == "finished", timeout=60000)
    assert tab.frame.step == 16 and tab.pretrained.config.seed == 7 and not tab.pretrained.from_cache
    assert "trained in" in tab.source.text()
