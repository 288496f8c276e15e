"""The natural-gradient tab: the race and the Gaussian fit play through the page, the cost sweep is a job."""

import json

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6 import QtGui, QtWidgets

SMALL_RACE = [("width", 8), ("n_points", 128), ("batch_size", 64), ("steps_per_frame", 10)]


@pytest.fixture
def ng_page(qtbot, window, one_thread):
    page = window.select("natural_gradient")
    page.start()
    page.jobs.cancel(quiet=True)  # the start-up sweep takes seconds: tests measure small ones themselves
    assert page.jobs.wait(60000)
    page.apply_settings(SMALL_RACE)
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.race.n_params == 114, timeout=60000)
    return page


def _play_until(qtbot, page, step: int) -> None:
    page.toggle_play()
    qtbot.waitUntil(lambda: page.tab.frame.step >= step, timeout=60000)
    page.toggle_play()


def _small_sweep(page) -> None:
    page.apply_settings([("cost_budget_s", 0.5), ("cost_exact_max_width", 16)])


def test_tab_opens_with_three_views(window, ng_page):
    tab = ng_page.tab
    assert window.tabs.tabToolTip(window.tabs.currentIndex()) == "Natural gradient"
    assert tab.stack.currentIndex() == 0 and "Invariance" in tab.headline.text()
    tab.view_bar.setCurrentIndex(1)  # the bar and the parameter stay one
    assert ng_page.params.value("view") == "race" and tab.stack.currentIndex() == 1
    ng_page.params.set_value("view", "cost")
    assert tab.view_bar.currentIndex() == 2 and "The cost" in tab.headline.text()
    assert ng_page.controls.step_label.text() == "step 0"


def test_race_runs_through_the_page_runner(qtbot, ng_page):
    _play_until(qtbot, ng_page, 30)
    tab = ng_page.tab
    race = tab.frame.race
    assert all(race.available)
    for method in ("sgd", "adam", "kfac", "exact_ng"):
        steps, loss = tab.race_page.step_curves[method].getData()
        assert len(steps) == len(race.steps) > 2 and np.all(np.isfinite(loss))
        seconds, _ = tab.race_page.time_curves[method].getData()
        assert len(seconds) > 1 and np.all(np.diff(seconds) > 0)  # wall-clock grows
    assert tab.race_page.table.item(3, 0).text() == "Exact natural gradient"
    assert "P = 114" in tab.race_page.info.text() and "off" not in tab.race_page.info.text()
    assert "nats" in tab.race_page.describe_step(10.0, 0.0)
    ng_page.params.set_value("log_time", False)  # no restart: the seconds axis turns linear, t = 0 returns
    assert not tab.race_page.time_plot.getAxis("bottom").logMode and tab.frame.step >= 30
    assert tab.race_page.time_curves["sgd"].xData[0] == 0.0
    assert "optimizer time" in tab.race_page.describe_time(0.01, 0.0)
    ng_page.params.set_value("log_time", True)
    assert tab.race_page.time_curves["sgd"].xData[0] > 0.0


def test_exact_natural_gradient_says_why_it_sits_out(qtbot, ng_page):
    ng_page.apply_settings([("width", 64), ("max_exact_params", 2000)])
    qtbot.waitUntil(lambda: ng_page.tab.frame.race.n_params == 4482, timeout=60000)
    tab = ng_page.tab
    assert not tab.frame.race.available[3]
    info = tab.race_page.info.text()
    assert "Exact natural gradient is off" in info and "4482 parameters > 2000" in info
    assert tab.race_page.info.isVisibleTo(tab.stack.widget(1))
    assert len(tab.race_page.step_curves["exact_ng"].getData()[0] or []) == 0
    assert tab.race_page.table.item(3, 6).text() == "off: P too large"


def test_gaussian_fit_natural_paths_coincide_and_gradient_paths_do_not(qtbot, ng_page):
    ng_page.apply_settings([("steps_per_frame", 25)])
    _play_until(qtbot, ng_page, 150)
    tab = ng_page.tab

    def drawn(method, chart):
        x, y = tab.fit_page.fit_paths[(method, chart)].getData()
        return np.column_stack([x, y])

    natural = drawn("natural", "sigma") - drawn("natural", "log_sigma")
    gradient = drawn("gd", "sigma") - drawn("gd", "log_sigma")
    assert len(natural) == tab.frame.fit.step + 1 >= 151
    assert np.max(np.abs(natural)) < 0.01
    assert np.max(np.abs(gradient)) > 0.2
    ellipse_x, _ = tab.fit_page.ellipses["sigma"].getData()
    assert np.isfinite(ellipse_x).sum() == 42 * 49  # a 7 x 6 grid of closed curves
    assert "diag(1/σ², 2/σ²)" in tab.fit_page.describe_sigma_chart(0.0, 2.0)
    assert "diag(0.25, 0.5)" in tab.fit_page.describe_sigma_chart(0.0, 2.0)


def test_a_diverging_fit_shows_a_message_and_the_race_goes_on(qtbot, ng_page):
    ng_page.apply_settings([("fit_lr", 1.0), ("sigma0", 1.0), ("mu0", -1.0), ("steps_per_frame", 5)])
    _play_until(qtbot, ng_page, 30)
    tab = ng_page.tab
    assert "sigma became" in tab.frame.fit_stopped
    assert "sigma became" in ng_page.banner.text()
    assert tab.frame.race.step >= 30


def test_cost_sweep_completes_and_draws_fits_and_the_formula_table(qtbot, ng_page):
    _small_sweep(ng_page)
    tab = ng_page.tab
    ng_page.params.set_value("view", "cost")
    tab.cost_page.measure_button.click()
    qtbot.waitUntil(lambda: tab.cost_page.result is not None, timeout=60000)
    cost = tab.cost_page.result
    item = tab.cost_page.points[("memory", "exact")]
    p, memory = item.xData, item.yData  # getData() gives log10 on log axes
    np.testing.assert_allclose(p, cost.exact.n_params)
    np.testing.assert_allclose(memory, cost.exact.peak_bytes / 2**20)
    assert len(tab.cost_page.points[("time", "kfac")].getData()[0]) == len(cost.kfac.n_params) >= 2
    assert len(tab.cost_page.fits[("time", "exact")].getData()[0]) >= 1
    legend = [label.text for _, label in tab.cost_page.legends["time"].items]
    assert any(f"slope {cost.exact.time_slope:.2f} (formula 3)" in text for text in legend)
    assert tab.cost_page.table.rowCount() == 3 and tab.cost_page.table.item(0, 0).text() == "ResNet-50"
    assert tab.cost_page.table.item(2, 5).text() == "formula, not measured"
    assert "computed from the formula, not measured" in tab.cost_page.extrapolation_title.text()
    assert "parameters P" in tab.cost_page.memory_plot.getAxis("bottom").labelText
    assert "MiB" in tab.cost_page.memory_plot.getAxis("left").labelText
    assert "P² =" in tab.cost_page.describe_memory(np.log10(cost.exact.n_params[-1]), 0.0)


def test_cost_sweep_can_be_cancelled(qtbot, ng_page):
    _small_sweep(ng_page)
    tab = ng_page.tab
    with qtbot.waitSignal(ng_page.jobs.sig_cancelled, timeout=60000):
        tab.measure_cost()
        assert ng_page.jobs.busy and ng_page.progress.isVisible()
        ng_page.jobs.cancel()
    assert ng_page.jobs.wait(60000)
    qtbot.wait(50)  # a late result would arrive as a queued signal: it must be ignored
    assert tab.cost_page.result is None
    assert len(tab.cost_page.points[("memory", "exact")].getData()[0] or []) == 0
    assert "Cancelled" in tab.cost_page.status.text()


@pytest.mark.slow  # ~5 s
def test_exports_png_svg_csv_json(qtbot, window, ng_page, tmp_path):
    _small_sweep(ng_page)
    tab = ng_page.tab
    tab.measure_cost()
    qtbot.waitUntil(lambda: tab.cost_page.result is not None, timeout=60000)
    _play_until(qtbot, ng_page, 20)
    [png] = window.export_to(tmp_path / "ng.png")
    image = QtGui.QImage(str(png))
    assert image.width() == 2 * tab.width()
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    assert pixels.std() > 20
    svgs = {p.name for p in window.export_to(tmp_path / "ng.svg")}
    assert svgs == {"ng.svg", *(f"ng-{key}.svg" for key in tab.plots())} and len(svgs) == 11
    figure = (tmp_path / "ng-race_figure.svg").read_text()
    assert "K-FAC" in figure and "Exact natural gradient" in figure and "wall-clock time (s)" in figure
    cost_svg = (tmp_path / "ng-cost_figure.svg").read_text()
    assert "slope" in cost_svg and "parameters P" in cost_svg
    csvs = {p.name for p in window.export_to(tmp_path / "ng.csv")}
    assert csvs == {f"ng-{name}.csv" for name in (
        "fit_paths", "fit_ellipses", "fit_points", "race_history", "race_summary", "cost_points", "cost_fits",
        "cost_extrapolation",
    )}  # fmt: skip
    header = (tmp_path / "ng-race_history.csv").read_text().splitlines()[0]
    assert (
        header
        == "step,sgd_loss,sgd_seconds,adam_loss,adam_seconds,kfac_loss,kfac_seconds,exact_ng_loss,exact_ng_seconds"
    )
    assert "formula" in (tmp_path / "ng-cost_extrapolation.csv").read_text()
    [doc] = window.export_to(tmp_path / "ng.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["width"] == 8
    assert data["tables"]["race_summary"]["method"] == ["sgd", "adam", "kfac", "exact_ng"]
    assert len(data["tables"]["fit_paths"]["step"]) == tab.frame.fit.step + 1


def test_plots_have_labelled_axes_and_presentation_keeps_dashes(window, ng_page):
    for plot in ng_page.tab.plots().values():
        if isinstance(plot, pg.PlotItem):
            for side in ("bottom", "left"):  # labelled with units, and no "(x0.001)" beside a label in seconds
                assert plot.getAxis(side).labelText and not plot.getAxis(side).autoSIPrefix
    dashed = ng_page.tab.fit_page.fit_paths[("natural", "log_sigma")]
    width = dashed.opts["pen"].widthF()
    window.set_presentation(True)
    assert dashed.opts["pen"].style() == QtGui.QPen().style().DashLine
    assert dashed.opts["pen"].widthF() == 2 * width
    window.set_presentation(False)


def test_log_axes_label_each_decade_once_in_one_style(qtbot):
    from explorer.ui.tabs.natural_gradient.race_page import RacePage
    from explorer.ui.widgets.plots import Styled

    page = RacePage(Styled(), QtWidgets.QLabel())
    qtbot.addWidget(page)

    def labels(low, high):
        axis = page.step_plot.getAxis("left")
        axis.setLogMode(True)
        axis.setRange(low, high)
        levels = axis.tickValues(low, high, 300)
        return [s for spacing, values in levels for s in axis.tickStrings(values, 1, spacing) if s]

    assert labels(-2.1, 1.1) == ["0.01", "0.1", "1", "10"]  # not again on the minor level: that reads bold
    assert sorted(labels(1.5, 6.2)) == sorted(["10²", "10³", "10⁴", "10⁵", "10⁶"])  # powers on the whole axis
    assert labels(-0.5, 1.2) == ["0.5", "1", "2", "5", "10"]  # under two decades: 1, 2 and 5


def test_a_new_race_fits_its_own_loss_range(qtbot, ng_page):
    """After Reset the loss axis fits the new run, not the largest loss of the one before."""
    from dataclasses import replace

    race_page = ng_page.tab.race_page
    frame = ng_page.tab.frame.race
    huge = replace(frame, step=50, losses=np.full_like(frame.losses, 1e6))
    race_page.draw(huge, ng_page.tab.values())
    top_before = race_page.step_plot.getViewBox().viewRange()[1][1]
    race_page.draw(replace(frame, step=0), ng_page.tab.values())  # Reset: the next run's step 0
    top_after = race_page.step_plot.getViewBox().viewRange()[1][1]
    assert top_before >= 6 and top_after < 3  # log10 axis: 1e6 then about the first losses (~1 nat)
