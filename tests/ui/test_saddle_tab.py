import json

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.runner import unfinished_threads
from explorer.ui.settings import Settings
from explorer.ui.window import MainWindow


def test_window_opens_on_the_saddle_tab(window, saddle_page):
    assert window.tabs.tabToolTip(window.tabs.currentIndex()) == "Saddle points"
    assert saddle_page.tab.surface_plot.titleLabel.text == "Saddle x² − y²"
    assert len(saddle_page.tab.critical_items["saddle"].data) == 1
    assert saddle_page.controls.step_label.text() == "step 0"


def test_play_runs_steps_and_draws_paths(qtbot, saddle_page):
    saddle_page.toggle_play()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step >= 40, timeout=60000)
    saddle_page.toggle_play()
    frame = saddle_page.tab.frame
    x, _ = saddle_page.tab.paths["gd"].getData()
    assert len(x) == len(frame.paths["gd"]) > 1
    assert saddle_page.tab.table.rowCount() == len(frame.paths)
    assert saddle_page.controls.step_label.text() == f"step {frame.step}"


def test_step_button_and_reset_return_to_the_same_start(qtbot, saddle_page):
    saddle_page.step()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step == 2, timeout=60000)  # 2 steps per frame
    sgd_after_step = saddle_page.tab.frame.paths["sgd"].copy()
    saddle_page.reset()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step == 0, timeout=60000)
    saddle_page.step()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step == 2, timeout=60000)
    np.testing.assert_array_equal(saddle_page.tab.frame.paths["sgd"], sgd_after_step)  # same seed, same noise


def test_changing_surface_regrids_and_marks_critical_points(qtbot, saddle_page):
    saddle_page.params.set_value("surface", "himmelblau")
    qtbot.waitUntil(lambda: saddle_page.tab.surface_map.surface == "himmelblau", timeout=60000)
    counts = {k: len(item.data) for k, item in saddle_page.tab.critical_items.items()}
    assert counts == {"minimum": 4, "maximum": 1, "saddle": 4, "degenerate": 0}
    assert saddle_page.params.value("start_x") == -0.1  # the surface's own default start


def test_natural_gradient_only_on_model_surfaces(qtbot, saddle_page):
    assert not saddle_page.params.is_enabled("natural_gradient")
    saddle_page.params.set_value("surface", "two_param_net")
    qtbot.waitUntil(lambda: saddle_page.tab.surface_map.surface == "two_param_net", timeout=60000)
    assert saddle_page.params.is_enabled("natural_gradient")
    qtbot.waitUntil(lambda: "natural_gradient" in saddle_page.tab.frame.paths, timeout=60000)


def test_click_on_the_surface_sets_the_start(qtbot, saddle_page):
    plot = saddle_page.tab.surface_plot
    scene_pos = plot.vb.mapViewToScene(QtCore.QPointF(0.5, -1.0))
    view = saddle_page.tab.view
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_pos))
    qtbot.waitUntil(lambda: abs(saddle_page.params.value("start_x") - 0.5) < 0.05, timeout=60000)
    assert abs(saddle_page.params.value("start_y") + 1.0) < 0.05
    qtbot.waitUntil(
        lambda: saddle_page.tab.frame.step == 0 and abs(saddle_page.tab.frame.paths["gd"][0, 0] - 0.5) < 0.05,
        timeout=60000,
    )


def test_hover_reads_the_value_and_critical_points(saddle_page):
    tab = saddle_page.tab
    assert tab._describe_point(0.0, 0.0).startswith("saddle at (0, 0)")
    text = tab._describe_point(1.0, 0.5)
    assert "f = 0.75" in text and "x² − y²" in text


def test_exports_png_svg_csv_json(qtbot, window, saddle_page, tmp_path):
    saddle_page.step()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step >= 2, timeout=60000)
    [png] = window.export_to(tmp_path / "saddle.png")
    image = QtGui.QImage(str(png))
    tab_size = saddle_page.tab.size()
    assert image.width() == 2 * tab_size.width() and image.height() > 2 * tab_size.height()  # + caption band
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    assert pixels.std() > 20  # not blank
    svgs = window.export_to(tmp_path / "saddle.svg")
    assert sorted(p.name for p in svgs) == [
        "saddle-figure.svg", "saddle-grad_norm.svg", "saddle-loss.svg", "saddle-surface.svg", "saddle.svg"
    ]  # fmt: skip
    loss_svg = (tmp_path / "saddle-loss.svg").read_text()
    assert "<svg" in loss_svg and "step" in loss_svg  # axis label
    figure_svg = (tmp_path / "saddle-figure.svg").read_text()
    assert "GD" in figure_svg and "minimum" in figure_svg and "|∇f|" in figure_svg  # legend and labels
    csvs = window.export_to(tmp_path / "saddle.csv")
    header = (tmp_path / "saddle-trajectories.csv").read_text().splitlines()[0]
    assert header.startswith("step,gd_x,gd_y,gd_f,gd_grad_norm")
    assert {p.name for p in csvs} >= {"saddle-outcomes.csv", "saddle-critical_points.csv"}
    [doc] = window.export_to(tmp_path / "saddle.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["surface"] == "saddle"
    assert data["tables"]["critical_points"]["kind"] == ["saddle"]


def test_export_to_missing_folder_is_a_clear_error(window, saddle_page, tmp_path):
    from explorer.ui.export import ExportError

    try:
        window.export_to(tmp_path / "missing" / "x.png")
    except ExportError as exc:
        assert "does not exist" in str(exc)
    else:
        raise AssertionError("export into a missing folder must fail")
    assert not (tmp_path / "missing").exists()


def test_presentation_mode_enlarges_fonts_and_pens(window, saddle_page):
    app = QtWidgets.QApplication.instance()
    before = app.font().pointSizeF()
    pen_before = saddle_page.tab.loss_curves["gd"].opts["pen"].widthF()
    window.set_presentation(True)
    assert app.font().pointSizeF() == 1.5 * before
    assert saddle_page.tab.loss_curves["gd"].opts["pen"].widthF() == 2 * pen_before
    assert window.settings["presentation"] is True
    window.set_presentation(False)
    assert app.font().pointSizeF() == before


def test_dark_theme_changes_plot_background(window, saddle_page):
    window.set_dark(True)
    assert saddle_page.tab.view.backgroundBrush().color().name() == "#1e1e1e"
    window.set_dark(False)
    assert saddle_page.tab.view.backgroundBrush().color().name() == "#ffffff"


def test_closing_during_a_run_stops_its_worker(qtbot, window, saddle_page):
    saddle_page.params.set_value("steps", 5000)
    saddle_page.toggle_play()
    qtbot.waitUntil(lambda: saddle_page.tab.frame.step > 10, timeout=30000)
    window.close()  # tells the worker to stop and waits a moment, never for a step still running
    assert saddle_page.runner.state in ("playing", "paused")  # it was stopped, not finished
    qtbot.waitUntil(lambda: unfinished_threads() == 0, timeout=30000)


def test_corrupt_settings_fall_back_with_a_warning(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text("[General]\ntheme=purple\npresentation=maybe\ndevice=tpu\n")
    settings = Settings(path)
    assert settings["theme"] == "light" and settings["presentation"] is False and settings["device"] == "auto"
    assert len(settings.warnings) == 1  # one note, naming the file and every bad key (a status bar shows one)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    shown = win.statusBar().currentMessage()
    assert str(path) in shown
    assert all(bad in shown for bad in ("theme='purple'", "presentation='maybe'", "device='tpu'"))


def test_settings_persist(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    settings = Settings(path)
    settings["theme"] = "dark"
    settings.save()
    assert Settings(path)["theme"] == "dark"


def test_plots_have_labelled_axes(saddle_page):
    for plot in saddle_page.tab.plots().values():
        if not isinstance(plot, pg.PlotItem):
            continue
        assert plot.getAxis("bottom").labelText and plot.getAxis("left").labelText


@pytest.mark.slow  # ~6 s: every tab builds and exports
def test_export_all_tabs_and_copy_image(qtbot, window, saddle_page, tmp_path):
    folder = tmp_path / "all"
    folder.mkdir()
    names = {p.name for p in window.export_all(folder)}
    for tab in window.topics:
        assert f"{tab}.png" in names and f"{tab}.json" in names
    assert "saddle-figure.svg" in names and "saddle-critical_points.csv" in names
    window._copy_image()
    clipped = QtWidgets.QApplication.clipboard().image()
    assert clipped.width() == 2 * saddle_page.tab.width()


def test_table_marks_follow_the_theme_and_match_their_lines(saddle_page):
    from PyQt6 import QtCore

    from explorer.ui.theme import Theme

    tab = saddle_page.tab
    assert tab._table_names
    for theme in (Theme(presentation=True), Theme()):
        tab.apply_theme(theme)
        for row, name in enumerate(tab._table_names):
            image = tab.table.item(row, 0).data(QtCore.Qt.ItemDataRole.DecorationRole).pixmap(36, 12).toImage()
            assert image.pixelColor(18, 6).rgb() == theme.color(name).rgb(), (theme, name)
