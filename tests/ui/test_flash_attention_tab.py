"""The FlashAttention tab: a small measured sweep (partial points, Cancel, OOM line), the online softmax
stepped to the exact result, exports, and bf16 refused where Triton is interpreted."""

import json
import math

import numpy as np
import pytest
import torch
from PyQt6 import QtCore, QtGui

pytestmark = pytest.mark.first_tab("flash_attention")

# N = 128 and 256 on the CPU, d = 16: every method, the interpreted kernel included, in about a second.
# With CUDA present the compiled kernel cannot take CPU tensors: the kernel tests cover it there.
SMALL = [("device", "cpu"), ("dtype", "float32"), ("d", 16), ("batch_heads", "1"), ("max_n", "256"),
         ("flash", not torch.cuda.is_available())]  # fmt: skip
MEASURED = (
    ("naive", "tiled_torch", "flash", "sdpa") if not torch.cuda.is_available() else ("naive", "tiled_torch", "sdpa")
)


@pytest.fixture
def page(qtbot, window, one_thread):
    page = window.page("flash_attention")
    page.apply_settings(SMALL)
    page.start()  # a no-op when the window already started it
    page.jobs.cancel(quiet=True)  # the start-up sweep: each test measures what it needs
    assert page.jobs.wait(60000)
    qtbot.waitUntil(lambda: page.tab.step_frame is not None, timeout=60000)
    return page


def _measure(qtbot, page) -> None:
    tab = page.tab
    tab.measure()
    qtbot.waitUntil(lambda: tab.sweep_complete and not page.jobs.busy, timeout=30000)


def _x(item) -> np.ndarray:
    """The x data a curve was given (not getData(): that is log₁₀ on a log axis); empty when it has none."""
    return np.empty(0) if item.xData is None else item.xData


def _hover(qtbot, page, plot, x: float, y: float) -> str:
    """Move the mouse over (x, y) of ``plot`` (view coordinates) and return the readout's text."""
    before = page.tab.hover.text()
    plot.scene().sigMouseMoved.emit(plot.vb.mapViewToScene(QtCore.QPointF(x, y)))
    qtbot.waitUntil(lambda: page.tab.hover.text() != before, timeout=60000)
    return page.tab.hover.text()


def test_tab_opens_with_two_views_and_the_io_model(window, page):
    tab = page.tab
    assert window.tabs.tabToolTip(window.tabs.currentIndex()) == "FlashAttention"
    assert tab.stack.currentIndex() == 0 and "Memory, not FLOPs" in tab.headline.text()
    tab.view_bar.setCurrentIndex(1)  # the bar and the parameter stay one
    assert page.params.value("view") == "step" and tab.stack.currentIndex() == 1
    page.params.set_value("view", "sweep")
    assert tab.view_bar.currentIndex() == 0
    n, standard = tab.sweep_view.io_curves["standard"].xData, tab.sweep_view.io_curves["standard"].yData
    np.testing.assert_array_equal(n, [128, 256])
    np.testing.assert_array_equal(standard, 4 * n * 16 + 4 * n**2)  # 4Nd + 4N², d = 16
    flash_before = tab.sweep_view.io_curves["flash"].yData.copy()
    page.params.set_value("sram_kib", 4)  # a smaller SRAM: more passes over Q and O
    assert np.all(tab.sweep_view.io_curves["flash"].yData > flash_before)
    assert "M = 4 KiB" in [label.text for _, label in tab.sweep_view.legend.items][5]
    assert tab.step_frame.step == 0 and page.controls.step_label.text() == "step 0"


def test_a_small_sweep_draws_points_as_they_arrive_and_completes(qtbot, page, monkeypatch):
    tab, view = page.tab, page.tab.sweep_view
    drawn_while_running = []
    show_result = view.show_result

    def watched(result, complete):
        show_result(result, complete)
        if not complete:  # what the plot and the status show while the sweep goes on
            naive = view.curves[("memory", "naive")]
            drawn_while_running.append((len(_x(naive)), len(result.measurements), view.status.text()))

    monkeypatch.setattr(view, "show_result", watched)
    tab.measure()
    qtbot.waitUntil(lambda: tab.sweep_complete and not page.jobs.busy, timeout=30000)
    assert [k for _, k, _ in drawn_while_running] == list(range(1, 2 * len(MEASURED) + 1))
    assert drawn_while_running[0][0] == 1 and "Measuring…" in drawn_while_running[0][2]
    result = tab.sweep
    for method in MEASURED:
        curve = result.curves[method]
        item = view.curves[("memory", method)]
        np.testing.assert_array_equal(item.xData, [128, 256])  # getData() would give log10 on log axes
        np.testing.assert_allclose(item.yData, curve.peak_bytes / 2**20)
        np.testing.assert_allclose(view.curves[("time", method)].yData, curve.ms)
        flops = 4 * 1 * 128**2 * 16
        assert curve.tflops[0] == pytest.approx(flops / (curve.ms[0] * 1e9))
        assert np.nanmax(curve.max_abs_err) < 1e-4
    assert result.curves["naive"].peak_bytes[1] > 2 * result.curves["naive"].peak_bytes[0]  # the N² term
    if result.interpreter:
        assert "Triton interpreter (CPU): one program at a time, sizes capped at N = 256" in view.status.text()
    assert "Measured" in view.status.text() and "d = 16" in view.status.text()
    rows = {view.table.item(r, 0).text(): r for r in range(view.table.rowCount())}
    error = float(view.table.item(rows["torch tiled"], 4).text())
    assert error == pytest.approx(np.nanmax(result.curves["tiled_torch"].max_abs_err), rel=0.05) and error < 1e-4
    table = tab.tables()["sweep"]
    assert list(table["method"]) == list(MEASURED) * 2
    assert list(table["n"]) == [128] * len(MEASURED) + [256] * len(MEASURED) and not any(table["oom"])
    naive_256 = result.curves["naive"].peak_bytes[1] / 2**20
    text = _hover(qtbot, page, view.memory, math.log10(256), math.log10(naive_256))
    assert "naive, N = 256" in text and "2·B·H·N²·bytes = 2·1·256²·4 B = 512 KiB" in text


def test_a_sweep_can_be_cancelled_and_keeps_its_points(qtbot, page):
    page.apply_settings([("max_n", "4096")])
    tab = page.tab
    tab.measure()
    qtbot.waitUntil(lambda: tab.sweep is not None and len(tab.sweep.measurements) >= 2, timeout=60000)
    assert page.jobs.busy and page.progress.isVisible()
    with qtbot.waitSignal(page.jobs.sig_cancelled, timeout=60000):
        page.progress.cancel.click()
    assert page.jobs.wait(60000)
    qtbot.wait(50)  # a late result would arrive as a queued signal: it must be ignored
    assert not page.jobs.busy and not page.progress.isVisible() and not tab.sweep_complete
    assert "Cancelled" in tab.sweep_view.status.text()
    kept = len(tab.sweep.measurements)
    assert 2 <= kept < len(MEASURED) * 6
    drawn = sum(len(_x(tab.sweep_view.curves[("memory", m)])) for m in ("naive", "tiled_torch", "flash", "sdpa"))
    assert drawn == kept


def test_out_of_memory_is_marked_on_the_memory_plot(qtbot, page, monkeypatch):
    from kernels import measure

    naive = measure.METHODS["naive"]

    def runs_out_at_256(q, k, v, causal):
        if q.shape[-2] >= 256:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return naive(q, k, v, causal)

    monkeypatch.setitem(measure.METHODS, "naive", runs_out_at_256)
    page.apply_settings([("flash", False), ("max_n", "512")])
    _measure(qtbot, page)
    view = page.tab.sweep_view
    line = view.oom_lines["naive"]
    assert line.isVisible() and line.value() == pytest.approx(math.log10(256))
    assert line.label.format == "naive: out of memory at N = 256"
    assert not view.oom_lines["sdpa"].isVisible()
    assert "naive ran out of memory at N = 256" in view.status.text()
    rows = {view.table.item(r, 0).text(): r for r in range(view.table.rowCount())}
    assert view.table.item(rows["naive"], 5).text() == "out of memory at N = 256"
    assert view.table.item(rows["Triton flash"], 5).text() == "off"
    assert "Triton flash (off)" in [label.text for _, label in view.legend.items]
    table = page.tab.tables()["sweep"]
    oom = [(n, m) for n, m, flag in zip(table["n"], table["method"], table["oom"], strict=True) if flag]
    assert oom == [(256, "naive")]


@pytest.mark.slow  # ~5 s: every tile step
def test_step_through_reaches_softmax_qk_v(qtbot, page):
    page.apply_settings([("example_n", 12), ("example_d", 3), ("block_m", 4), ("block_n", 5), ("seed", 7)])
    tab, view = page.tab, page.tab.step_view
    qtbot.waitUntil(lambda: tab.step_frame.config.n == 12 and tab.step_frame.step == 0, timeout=60000)
    view.next.click()
    qtbot.waitUntil(lambda: tab.step_frame.step == 1, timeout=60000)
    assert page.params.value("view") == "sweep"  # a jump does not switch the view; Play does
    assert "query tile 0 (rows 0–3) × key tile 0 (keys 0–4)" in view.readout.text()
    page.reset()
    qtbot.waitUntil(lambda: tab.step_frame.step == 0, timeout=60000)
    page.toggle_play()
    qtbot.waitUntil(lambda: tab.step_frame.finished and page.runner.state == "finished", timeout=60000)
    assert page.params.value("view") == "step"
    assert tab.step_frame.n_steps == 3 * 3
    from explorer.lab.flash_attention.attention import example_qkv

    q, k, v = example_qkv(12, 3, seed=7)
    scores = q @ k.T / math.sqrt(3)
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax_qk_v = (p / p.sum(axis=1, keepdims=True)) @ v
    np.testing.assert_allclose(view.output.image.image, softmax_qk_v, atol=1e-6)  # what the heatmap shows
    np.testing.assert_allclose(tab.step_frame.output, softmax_qk_v, rtol=1e-12, atol=1e-14)
    assert f"max |ΔO| = {tab.step_frame.max_abs_diff:.2g}" in view.readout.text()
    assert tab.step_frame.max_abs_diff < 1e-14
    assert len(view.reached["m"].data) == 12 - 4 and len(view.current["m"].data) == 4
    view.previous.click()
    qtbot.waitUntil(lambda: tab.step_frame.step == 8, timeout=60000)
    assert view.position.text() == "step 8 of 9" and view.next.isEnabled()
    text = _hover(qtbot, page, view.scores_plot, 10.5, 0.5)
    assert "S[0, 10] = qᵢ·kⱼ / √d" in text and f"{scores[0, 10]:.4g}" in text and "ℓ =" in text


def test_causal_step_through_skips_tiles_right_of_the_diagonal(qtbot, page):
    page.apply_settings([("example_n", 16), ("block_m", 4), ("block_n", 4), ("causal", True)])
    tab = page.tab
    qtbot.waitUntil(lambda: tab.step_frame.config.causal, timeout=60000)
    tab.step_view.slider.setValue(tab.step_frame.n_steps)  # the slider jumps where it is let go
    qtbot.waitUntil(lambda: tab.step_frame.finished, timeout=60000)
    assert tab.step_frame.n_steps == 1 + 2 + 3 + 4
    assert tab.step_frame.max_abs_diff < 1e-14
    shown = tab.step_view.scores.image.image
    assert np.isnan(shown[0, 1:]).all() and np.isfinite(np.diag(shown)).all()


def test_exports_png_svg_csv_json(qtbot, window, page, tmp_path):
    _measure(qtbot, page)
    [png] = window.export_to(tmp_path / "fa.png")
    image = QtGui.QImage(str(png))
    assert image.width() == 2 * page.tab.width()
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    assert pixels.std() > 20
    svgs = {p.name for p in window.export_to(tmp_path / "fa.svg")}
    assert svgs == {"fa.svg", *(f"fa-{key}.svg" for key in page.tab.plots())} and len(svgs) == 12
    figure = (tmp_path / "fa-sweep_figure.svg").read_text()
    assert "peak memory (MiB)" in figure and "PyTorch SDPA" in figure and "standard" in figure
    assert "query row i" in (tmp_path / "fa-step_figure.svg").read_text()
    csvs = {p.name for p in window.export_to(tmp_path / "fa.csv")}
    assert csvs == {"fa-sweep.csv", "fa-io_model.csv", "fa-step_through.csv"}
    lines = (tmp_path / "fa-sweep.csv").read_text().splitlines()
    assert lines[0] == "n,method,peak_bytes,ms,tflops,max_abs_err,oom,status"
    assert len(lines) == 1 + 2 * len(MEASURED) and lines[1].startswith("128,naive,")
    [doc] = window.export_to(tmp_path / "fa.json")
    data = json.loads(doc.read_text())
    assert data["parameters"]["d"] == 16
    assert data["tables"]["io_model"]["n"] == [128.0, 256.0]
    assert len(data["tables"]["step_through"]["row"]) == 16


def test_bf16_under_the_interpreter_is_refused_with_a_message(qtbot, page):
    page.apply_settings([("dtype", "bfloat16")])
    page.tab.measure()
    assert "bfloat16 is refused on the CPU" in page.banner.text()
    assert not page.jobs.busy and "Not measured" in page.tab.sweep_view.status.text()
    page.apply_settings([("dtype", "float32")])
    page.tab.measure()
    assert page.banner.text() == "" and page.jobs.busy  # a good setting clears the message and measures
    page.jobs.cancel(quiet=True)
    assert page.jobs.wait(60000)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_an_auto_sweep_follows_the_device_menu(qtbot, page):
    page.apply_settings([("device", "auto")])
    page.tab.device = "cuda"  # what the window does when the Device menu changes, or CUDA is found late
    assert page.jobs.busy
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=60000)
    assert "no CUDA GPU" in page.banner.text()  # this machine has none: the sweep says so and stops
    assert "The sweep stopped" in page.tab.sweep_view.status.text()
    page.apply_settings([("device", "cpu")])
    page.tab.device = "cpu"  # a fixed device: changing the menu does not start a sweep
    assert not page.jobs.busy


def test_a_head_dim_of_one_the_listed_minimum_draws(qtbot, page):
    """example_d = 1 once failed with "index 1 is out of bounds": a one-column heatmap has no neighbour."""
    page.apply_settings([("example_n", 8), ("example_d", 1), ("block_m", 4), ("block_n", 4)])
    tab, view = page.tab, page.tab.step_view
    qtbot.waitUntil(lambda: tab.step_frame.config.d == 1, timeout=60000)
    view.slider.setValue(tab.step_frame.n_steps)
    qtbot.waitUntil(lambda: tab.step_frame.finished, timeout=60000)
    assert page.banner.text() == ""
    assert view.output.image.image.shape == (8, 1)
    rect = view.output.image.mapRectToParent(view.output.image.boundingRect())
    assert (rect.left(), rect.width()) == (0.0, 1.0)  # the one column spans [0, 1], like any other column
    np.testing.assert_allclose(view.output.image.image[:, 0], tab.step_frame.exact[:, 0], atol=1e-6)
