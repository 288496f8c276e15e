"""The "Your model" tab: the shipped examples train and export headless, the heatmap's rows are the model's own
parameter names, a seed repeats a run, the landscape and spectrum jobs draw (and cancel), every bad file is one
banner line while the other tabs work on, File > Open model… opens a file, and the command line refuses a bad
file with one line and exit 2 before writing anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PyQt6 import QtCore, QtWidgets

from explorer import cli
from explorer.ui.app import create_application
from explorer.ui.export import export_file
from explorer.ui.window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
SPIRALS, STRIPES = ROOT / "examples" / "a_spiral_mlp.py", ROOT / "examples" / "b_stripes_cnn.py"
SMALL = [("steps", 30), ("steps_per_frame", 10), ("batch_size", 32), ("curvature_every", 10), ("path_every", 2),
         ("path_points", 16), ("resolution", "11")]  # fmt: skip

pytestmark = [pytest.mark.first_tab("your_model", values=SMALL), pytest.mark.usefixtures("one_thread")]

HEAD = "import torch\nfrom torch import nn\n"
MODEL = "def model():\n    return nn.Linear(3, 2)\n"
DATA = (
    "def data():\n    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0))\n"
    "    return x, (x[:, 0] > 0).long()\n"
)
#: a bad file's text (None: no file) and what its banner line says; extra settings for the case
BAD = [
    ("missing", None, "missing.py: no such file", ()),
    ("syntax", HEAD + "def model(:\n", "syntax.py: line 3: syntax error:", ()),
    ("no_model", HEAD + DATA, "no_model.py: defines no model() function", ()),
    ("no_data", HEAD + MODEL, "no_data.py: defines no data() function", ()),
    ("data_raises", HEAD + MODEL + "def data():\n    return 1 / 0\n",
     "data_raises.py: data() raised ZeroDivisionError: division by zero", ()),
    ("model_raises", HEAD + "def model():\n    raise RuntimeError('not built')\n" + DATA,
     "model_raises.py: model() raised RuntimeError: not built", ()),
    ("mse_shapes", HEAD + MODEL + "def data():\n    return torch.zeros(8, 3), torch.zeros(8, 1)\n",
     "mse_shapes.py: outputs of shape (8, 2) and targets of shape (8, 1) do not match", ()),
    ("nan", HEAD + MODEL + "def data():\n    return torch.full((8, 3), float('nan')), torch.zeros(8).long()\n",
     "nan.py: data(): 24 of the 24 inputs values are NaN or infinite", ()),
    ("too_large", HEAD + "def model():\n    return nn.Linear(3000, 3000)\n"
     "def data():\n    return torch.zeros(4, 3000), torch.zeros(4).long()\n",
     "too_large.py: model() has 9,003,000 parameters: training needs about 137.4 MiB", (("memory_limit_gb", 0.01),)),
    ("vector_loss", HEAD + MODEL + DATA + "def loss(outputs, targets):\n    return outputs.sum(1)\n",
     "vector_loss.py: the loss must return one number (a 0-d tensor), got (16,)", ()),
]  # fmt: skip
if not torch.cuda.is_available():
    BAD.append(("cuda", HEAD + MODEL + "def data():\n    return torch.zeros(4, 3, device='cuda'), torch.zeros(4)\n",
                "cuda.py: data() raised", ()))  # fmt: skip


def _ready(qtbot, window, path: Path | None = None):
    """The tab's page at step 0 of ``path`` (default: the first shipped example)."""
    page = window.page("your_model")
    if path is not None:
        page.params.set_value("model_path", str(path))
    name = (path or SPIRALS).name
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.model_file == name, timeout=60000)
    return page


def _train(qtbot, page):
    page.play()
    qtbot.waitUntil(lambda: page.runner.state == "finished", timeout=60000)
    return page.tab.frame


@pytest.mark.slow  # a process of its own: ~5 s
def test_the_spiral_example_exports_from_the_command_line(tmp_path):
    out = tmp_path / "x.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--tab", "your_model", "--model", str(SPIRALS), "--steps", "30",
         "--settings", str(tmp_path / "s.ini"), "--export", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    assert document["tab"] == "your_model" and document["parameters"]["model_path"] == str(SPIRALS)
    tables = document["tables"]
    names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"]
    assert list(tables["gradient_norms"]) == ["step", *names]
    assert tables["training"]["step"][-1] == 30 and len(tables["gradient_norms"]["step"]) == 30
    assert tables["validation"]["step"] == [0, 10, 20, 30]


def test_the_cnn_example_exports_its_landscape_headless(qtbot, settings, tmp_path):
    create_application()
    window = MainWindow(settings, headless=True)
    qtbot.addWidget(window)
    page = window.select("your_model")
    page.apply_settings([("model_path", str(STRIPES)), ("view", "landscape"), ("resolution", "11"),
                         ("curvature_every", 0)])  # fmt: skip
    assert page.run_headless(30) is None
    tab = page.tab
    assert tab.landscape.surface.complete and tab.landscape.surface.step == 30  # the job ran for the export
    written = {p.name: p for p in export_file(tab, tmp_path / "b.csv")}
    assert {"b-landscape.csv", "b-path.csv", "b-interpolation.csv", "b-gradient_norms.csv"} <= set(written)
    header = written["b-gradient_norms.csv"].read_text().splitlines()[0].split(",")
    assert header[:2] == ["step", "features.0.weight"] and header[-1] == "classifier.bias"
    assert len(written["b-landscape.csv"].read_text().splitlines()) == 1 + 11 * 11
    assert "b_stripes_cnn.py" in tab.caption()
    window.close()


def test_the_heatmap_rows_are_the_models_parameter_names(qtbot, window, tmp_path):
    from explorer.lab.your_model import loader

    page = _ready(qtbot, window, STRIPES)
    frame = _train(qtbot, page)
    names = loader.load(STRIPES).parameter_names
    assert frame.parameter_names == names and len(names) == 10
    training = page.tab.training
    assert training.heat.image.image.shape == (len(names), len(frame.grad_steps)) == (10, 30)
    ticks = dict(training.grads.getAxis("left")._tickLevels[0])
    assert [ticks[float(i)] for i in range(len(names))] == list(names)  # one row per tensor, input side first
    assert training.describe("grads", 12.0, 9.0).startswith("classifier.bias, step 12: ‖∂L/∂W‖ = ")
    assert list(page.tab.tables()["gradient_norms"]) == ["step", *names]
    assert "features.0.weight / classifier.weight" in [label.text for _, label in training.ratio.legend.items]
    assert "features.0.weight" in training.readout.text() and "step 30 of 30" in training.readout.text()


def test_the_same_seed_gives_the_same_curves(qtbot, window):
    page = _ready(qtbot, window)
    first = _train(qtbot, page)
    page.reset()
    qtbot.waitUntil(lambda: page.tab.frame.step == 0, timeout=60000)
    second = _train(qtbot, page)
    assert second is not first and second.step == first.step == 30
    for field in ("losses", "accuracies", "val_losses", "grad_norms", "top_eigenvalues"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field), err_msg=field)
    np.testing.assert_array_equal(page.tab.training.loss_curves["training"].yData, np.maximum(second.losses, 1e-12))


def test_the_landscape_and_spectrum_jobs_draw_and_cancel(qtbot, window):
    page = _ready(qtbot, window)
    frame = _train(qtbot, page)
    tab = page.tab
    tab.view_bar.setCurrentIndex(1)  # a click on the bar sets the parameter
    assert page.params.value("view") == "landscape" and tab.pages.currentWidget() is tab.landscape
    page.params.set_value("directions", "random")
    fractions = []
    draw = tab.landscape.show_surface
    tab.landscape.show_surface = lambda surface, name: (fractions.append(surface.fraction), draw(surface, name))
    qtbot.mouseClick(tab.landscape.button, QtCore.Qt.MouseButton.LeftButton)
    done = lambda: tab.landscape.line_result is not None and not page.jobs.busy  # noqa: E731
    qtbot.waitUntil(done, timeout=60000)
    surface = tab.landscape.surface
    assert surface.complete and surface.directions == "random" and surface.step == frame.step
    assert min(fractions) < 1.0 and fractions[-1] == 1.0  # partial grids first, coarse to fine
    assert tab.landscape.heat.image.image.shape == (11, 11) and len(tab.landscape.path_points.data) == 0
    assert tab.landscape.line_curve.xData[0] == 0.0 and tab.landscape.line_curve.xData[-1] == 1.0
    page.params.set_value("directions", "pca")  # the same weights, retaken on the path's own plane
    pca = lambda: tab.landscape.surface is not None and tab.landscape.surface.directions == "pca"  # noqa: E731
    qtbot.waitUntil(lambda: pca() and done(), timeout=60000)
    assert len(tab.landscape.path_points.data) == len(frame.snapshot.path) == 16
    assert "% of the path's variance" in tab.landscape.plane.plot.getAxis("bottom").labelText
    assert "PCA plane" in tab.landscape.info.text() and page.banner.text() == ""
    assert {"landscape", "path", "interpolation"} <= set(tab.tables())
    assert "loss L(θ + α d₁ + β d₂)" in tab.landscape.describe_plane(0.0, 0.0)
    qtbot.mouseClick(tab.landscape.button, QtCore.Qt.MouseButton.LeftButton)
    page.jobs.cancel()  # what the progress bar's Cancel does
    assert not page.jobs.busy and tab.landscape.info.text().startswith("Cancelled")
    assert page.jobs.wait(60000)
    tab.view_bar.setCurrentIndex(2)
    qtbot.mouseClick(tab.curvature.button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.curvature.spectrum is not None and not page.jobs.busy, timeout=60000)
    spectrum = tab.curvature.spectrum
    assert len(tab.curvature.top_bars.opts["x"]) == 5 and spectrum.top[0] >= spectrum.top[-1]
    assert spectrum.blocks == ("0", "2", "4", "6")  # the Sequential's children with parameters, by their names
    assert [t for _, t in tab.curvature.blocks.plot.getAxis("bottom")._tickLevels[0]] == list(spectrum.blocks)
    np.testing.assert_array_equal(tab.curvature.sharpness_curve.xData, [10, 20, 30])  # live, every 10 steps
    assert {"curvature", "top_eigenvalues", "spectral_density", "block_curvature"} <= set(tab.tables())
    assert tab.curvature.info.text().startswith(f"Step {frame.step}: the largest Hessian eigenvalues are")


def test_every_bad_file_is_one_banner_line_and_the_other_tabs_work_on(qtbot, window, tmp_path):
    page = _ready(qtbot, window)
    for name, text, expected, extra in BAD:
        path = tmp_path / f"{name}.py"
        if text is not None:
            path.write_text(text)
        page.apply_settings([*extra, ("model_path", str(path))])
        qtbot.waitUntil(lambda: page.runner.state == "failed", timeout=60000)
        line = page.banner.text()
        assert line.startswith(expected if name != "missing" else str(path)), (name, line)
        assert "\n" not in line and "Stopped" not in line, (name, line)
        page.apply_settings([("memory_limit_gb", 0.0)] if extra else [])
    saddle = window.select("saddle")
    qtbot.waitUntil(lambda: saddle.tab.frame is not None, timeout=60000)
    step = saddle.tab.frame.step
    saddle.step()
    qtbot.waitUntil(lambda: saddle.tab.frame.step > step, timeout=60000)
    assert saddle.banner.text() == ""
    window.select("your_model")
    _ready(qtbot, window, SPIRALS)  # a good file again: the banner goes, the run starts
    assert page.banner.text() == ""


def test_file_open_model_selects_the_tab_and_remembers_the_folder(qtbot, window, monkeypatch):
    window.select("saddle")
    asked = []

    def choose(parent, title, folder, kinds):
        asked.append((folder, kinds))
        return str(STRIPES), kinds

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", choose)
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "Open model…")
    action.trigger()
    assert window.tabs.currentWidget().property("topic") == "your_model"
    assert asked == [(str(Path.home()), "Python files (*.py)")]
    assert window.settings["model_folder"] == str(STRIPES.parent)
    page = window.pages["your_model"]
    assert page.params.value("model_path") == str(STRIPES)
    qtbot.waitUntil(lambda: page.tab.frame is not None and page.tab.frame.model_file == STRIPES.name, timeout=60000)
    action.trigger()  # the same file again: read afresh
    assert asked[-1][0] == str(STRIPES.parent)
    qtbot.waitUntil(lambda: page.tab.frame.step == 0 and page.runner.state == "paused", timeout=60000)


def test_the_command_line_refuses_a_bad_file_with_one_line(tmp_path, capsys):
    bad = tmp_path / "my_net.py"
    bad.write_text(HEAD + MODEL + "def data():\n    return 1 / 0\n")
    out = tmp_path / "never.png"
    assert cli.main(["--tab", "your_model", "--model", str(bad), "--export", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "loss-explorer: error: my_net.py: data() raised ZeroDivisionError: division by zero\n"
    assert cli.main(["--model", str(tmp_path / "none.py"), "--export", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert cli.main(["--tab", "saddle", "--model", str(SPIRALS), "--export", str(out)]) == 2
    assert "--model is for --tab your_model" in capsys.readouterr().err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["my_net.py"]


def _hanging_file(folder: Path) -> tuple[Path, Path, Path]:
    """A model file whose data() says it has started, then waits until ``release`` exists."""
    entered, release, path = folder / "entered", folder / "release", folder / "hangs.py"
    path.write_text(
        HEAD + MODEL + "import pathlib, time\n"
        f"def data():\n    pathlib.Path({str(entered)!r}).touch()\n"
        f"    while not pathlib.Path({str(release)!r}).exists():\n        time.sleep(0.01)\n"
        "    raise RuntimeError('released')\n"
    )
    return path, entered, release


def test_reset_abandons_a_model_that_hangs(qtbot, window, tmp_path):
    page = _ready(qtbot, window)
    path, entered, release = _hanging_file(tmp_path)
    page.params.set_value("model_path", str(path))
    try:
        qtbot.waitUntil(entered.exists, timeout=60000)  # the worker is inside the user's data()
        page.params.set_value("model_path", str(SPIRALS))  # a Reset while it hangs: the GUI goes on
        _ready(qtbot, window, SPIRALS)
        frame = _train(qtbot, page)
        assert frame.model_file == SPIRALS.name and page.banner.text() == ""
    finally:
        release.touch()


@pytest.mark.slow  # a process of its own: ~4 s
def test_quit_abandons_a_model_that_hangs(tmp_path):
    path, _, _ = _hanging_file(tmp_path)  # never released: only the process's end stops it
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LOSS_EXPLORER_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, str(ROOT / "main.py"), "--settings", str(tmp_path / "s.ini"), "--model", str(path),
               "--play", "--quit-after-paint", "3000"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "terminate called" not in done.stderr and "QThread" not in done.stderr, done.stderr
    assert (tmp_path / "entered").exists()  # it did hang inside data() when the window closed
