"""Layouts that fit a projector: every tab and view, at four screen sizes, in normal and presentation mode.

One window is built and resized to 1280x720, 1366x768 and 1920x1080 (3840x2160 at a device pixel ratio
of 2 runs the same survey in a child process with ``QT_SCALE_FACTOR=2``). At each size and mode every
tab, and every view of a tab with a view bar, is shown at step 0 (nothing trains; the tabs' jobs are
cancelled once the page has drawn), the layout is left to settle (until two passes of the event loop
measure the same geometry: no sleeps; a layout that never settles fails), and then:

* every visible plot's data area (the ViewBox of each PlotItem, colour bars aside) is at least
  160x110 logical px (less 15 % slack), and lies inside its graphics view (not cut off);
* a plot title or axis label (each line of a wrapped one) is no longer than the side it labels;
* the plots never scroll sideways: the tab is no wider than the page's scroll area;
* a view bar names every view without scroll arrows; a visible button, or a label that does not
  wrap, is at least as large as its text needs;
* with the side panel open, its parameter tree has no horizontal scroll bar, no parameter name or
  group title and no value is cut (text width by QFontMetrics against the room its column or field
  gives it), and the note does not scroll sideways; in presentation mode (side panel folded by
  default) the side panel is also opened once per tab (F9) to check this, and the plots under it
  (a drawer over their right edge) are checked again.

The window's own tab bar (window.py) is checked by an expected-to-fail test of its own. Running this
file as a script does the same survey for the sizes, modes and tabs named on its command line (``--shots
DIR`` saves a screenshot of each layout) and prints one ``FAIL`` line per problem (exit status 1 when
there are any).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__" and str(ROOT) not in sys.path:  # the script mode: run from anywhere
    sys.path.insert(0, str(ROOT))

import pyqtgraph as pg  # noqa: E402
import pytest  # noqa: E402
from PyQt6 import QtCore, QtGui, QtWidgets  # noqa: E402

from explorer.ui.app import create_application  # noqa: E402
from explorer.ui.settings import Settings  # noqa: E402
from explorer.ui.window import MainWindow  # noqa: E402

SIZES = ((1280, 720), (1366, 768), (1920, 1080))
MODES = ("normal", "presentation")
#: the smallest data area a plot may have, logical px, and the slack the check allows
MIN_PLOT = (160, 110)
SLACK = 0.85
#: how long a page may take to draw its step 0 (torch tabs load a model first); past it, measured as is
FIRST_FRAME_S = 30.0
SETTLE_S = 10.0


@dataclass
class Survey:
    failures: list[str]  # in the tabs: plots, their texts, the side panel
    layouts: int = 0
    notes: list[str] | None = None
    chrome: list[str] | None = None  # in the window's own tab bar (window.py)


# --- settling ------------------------------------------------------------------------------------
def _process(app: QtWidgets.QApplication) -> None:
    app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest.value)
    app.processEvents()


def settle(app: QtWidgets.QApplication, probe, timeout_s: float = SETTLE_S) -> bool:
    """Run the event loop until ``probe()`` returns the same twice running (layout done), or time out."""
    deadline = time.monotonic() + timeout_s
    last, same = None, 0
    while time.monotonic() < deadline:
        _process(app)
        now = probe()
        same = same + 1 if now == last else 0
        if same >= 2:
            return True
        last = now
    return False


def wait_for(app: QtWidgets.QApplication, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QtCore.QThread.msleep(5)  # yield the GIL to a worker computing step 0
    return condition()


# --- what is measured ----------------------------------------------------------------------------
def _graphics_views(page: QtWidgets.QWidget) -> list[pg.GraphicsView]:
    return [view for view in page.findChildren(pg.GraphicsView) if view.isVisible()]


def _plots(view: pg.GraphicsView) -> list[pg.PlotItem]:
    return [
        item
        for item in view.scene().items()
        if isinstance(item, pg.PlotItem) and not isinstance(item, pg.ColorBarItem) and item.isVisible()
    ]


def _plot_name(plot: pg.PlotItem) -> str:
    title = plot.titleLabel.text if plot.titleLabel is not None else ""
    if title:
        return repr(QtGui.QTextDocumentFragment.fromHtml(title).toPlainText())
    labels = [plot.getAxis(side).labelText for side in ("bottom", "left")]
    return "plot(" + " / ".join(label for label in labels if label) + ")"


def _in_view(view: pg.GraphicsView, item: QtWidgets.QGraphicsItem) -> QtCore.QRect:
    return view.mapFromScene(item.sceneBoundingRect()).boundingRect()


def geometry(page) -> tuple:
    """What settling waits on: the window's and every visible plot's geometry."""
    rects = [page.tab.size(), page.scroll.viewport().size()]
    for view in _graphics_views(page):
        rects += [_in_view(view, plot.vb) for plot in _plots(view)]
    return tuple((r.width(), r.height()) if isinstance(r, QtCore.QSize) else r.getRect() for r in rects)


def check_plots(page, where: str) -> list[str]:
    failures = []
    need_w, need_h = MIN_PLOT[0] * SLACK, MIN_PLOT[1] * SLACK
    for view in _graphics_views(page):
        port = view.viewport().rect().adjusted(-1, -1, 1, 1)
        for plot in _plots(view):
            name = _plot_name(plot)
            box = _in_view(view, plot.vb)
            if box.width() < need_w or box.height() < need_h:
                failures.append(f"{where}: {name} data area {box.width()}x{box.height()} < {MIN_PLOT[0]}x{MIN_PLOT[1]}")
            if not port.contains(box):
                failures.append(f"{where}: {name} data area {box.getRect()} cut by its view {port.getRect()}")
            title = plot.titleLabel
            if title.isVisible() and title.text:
                text_w = title.item.boundingRect().width()
                if text_w > plot.size().width() + 1:
                    failures.append(
                        f"{where}: {name} title {text_w:.0f} px wide in a {plot.size().width():.0f} px plot"
                    )
            for side in ("left", "bottom", "right", "top"):
                axis = plot.getAxis(side)
                if not (axis.isVisible() and axis.label.isVisible() and axis.labelText):
                    continue
                length = axis.size().height() if side in ("left", "right") else axis.size().width()
                wrapped = axis.label.textWidth() > 0  # lines no longer than the axis: the widest line counts
                text_w = axis.label.document().idealWidth() if wrapped else axis.label.boundingRect().width()
                if text_w > length + 1:
                    failures.append(
                        f"{where}: {name} {side} label {axis.labelText!r} {text_w:.0f} px on {length:.0f} px"
                    )
    return failures


def check_widgets(page, where: str) -> list[str]:
    """Plots never scroll sideways, and no button or one-line label is narrower than its text."""
    failures = []
    tab, port = page.tab, page.scroll.viewport()
    if tab.width() > port.width() + 1:
        failures.append(f"{where}: the plots are {tab.width()} px wide in a {port.width()} px page (cut at the right)")
    for bar in tab.findChildren(QtWidgets.QTabBar):  # a view bar: every view named, no scroll arrows
        need = sum(bar.tabRect(i).width() for i in range(bar.count()))
        if bar.isVisible() and need > bar.width():
            failures.append(f"{where}: the view bar needs {need} px, has {bar.width()}")
    for widget in tab.findChildren(QtWidgets.QAbstractButton) + tab.findChildren(QtWidgets.QLabel):
        if not widget.isVisible() or widget.property("chrome") or isinstance(widget, QtWidgets.QRadioButton):
            continue
        if isinstance(widget, QtWidgets.QLabel) and (widget.wordWrap() or not widget.text()):
            continue
        hint = widget.minimumSizeHint() if isinstance(widget, QtWidgets.QLabel) else widget.sizeHint()
        if widget.width() + 1 < hint.width():
            text = widget.text().replace("\n", " ")[:40]
            failures.append(
                f"{where}: {type(widget).__name__} {text!r} is {widget.width()} px, its text needs {hint.width()}"
            )
    return failures


def _text_width(widget: QtWidgets.QWidget, text: str) -> int:
    return QtGui.QFontMetrics(widget.font()).horizontalAdvance(text)


def _editor_room(widget: QtWidgets.QWidget) -> tuple[str, int] | None:
    """(text shown, room for it in px) of a value editor, or None for one without text (a check box)."""
    if isinstance(widget, QtWidgets.QComboBox):
        option = QtWidgets.QStyleOptionComboBox()
        widget.initStyleOption(option)
        style = widget.style()
        field = style.subControlRect(
            QtWidgets.QStyle.ComplexControl.CC_ComboBox,
            option,
            QtWidgets.QStyle.SubControl.SC_ComboBoxEditField,
            widget,
        )
        return widget.currentText(), field.width() - 2
    if isinstance(widget, QtWidgets.QAbstractSpinBox):
        edit = widget.findChild(QtWidgets.QLineEdit)
        return edit.text(), edit.contentsRect().width() - 4  # QLineEdit's own horizontal margin
    if isinstance(widget, QtWidgets.QLineEdit):
        return widget.text(), widget.contentsRect().width() - 4
    return None


def check_side(page, where: str) -> list[str]:
    failures = []
    panel = page.params
    tree = panel.tree
    if tree.horizontalScrollBar().isVisible():
        failures.append(f"{where}: the parameter tree scrolls sideways ({tree.horizontalScrollBar().maximum()} px)")
    note = page.note.browser
    if note.isVisible() and note.horizontalScrollBar().isVisible():
        failures.append(f"{where}: the note scrolls sideways")
    port_w = tree.viewport().width()
    for item in tree.listAllItems():  # every name, a group's title too
        rect = tree.visualRect(tree.indexFromItem(item, 0))  # starts after the indentation
        if item.isHidden() or not item.text(0) or not rect.isValid() or rect.height() < 2:
            continue  # the form's hidden top item, a row in a folded group
        end = port_w if item.isFirstColumnSpanned() else tree.columnViewportPosition(0) + tree.columnWidth(0)
        need = QtGui.QFontMetrics(item.font(0)).horizontalAdvance(item.text(0)) + 6  # the item's text margins
        if need > end - rect.left():
            failures.append(f"{where}: the name {item.text(0)!r} needs {need} px, has {end - rect.left()}")
    for key, node in panel._params.items():
        for item in node.items:
            if item.isHidden() or item.treeWidget() is not tree:
                continue
            value_x = tree.columnViewportPosition(1)
            if value_x + min(tree.columnWidth(1), 40) > port_w:
                failures.append(f"{where}: the value of {key!r} starts at {value_x} px, beyond the {port_w}-px tree")
            label, widget = getattr(item, "displayLabel", None), getattr(item, "widget", None)
            shown = []
            if isinstance(label, QtWidgets.QLabel) and label.isVisible():
                shown.append((label.text(), label.contentsRect().width(), label))
            elif isinstance(widget, QtWidgets.QWidget) and widget.isVisible():
                room = _editor_room(widget)
                if room is not None:
                    shown.append((*room, widget))
            for text, room, owner in shown:
                visible_right = owner.mapTo(tree.viewport(), QtCore.QPoint(owner.width(), 0)).x()
                if _text_width(owner, text) > room or visible_right > port_w + 1:
                    failures.append(
                        f"{where}: the value {text!r} of {key!r} needs {_text_width(owner, text)} px, has {room}"
                        + (f" (its field ends at {visible_right} px of {port_w})" if visible_right > port_w + 1 else "")
                    )
    return failures


# --- the survey ----------------------------------------------------------------------------------
def _views(page) -> list[str | None]:
    spec = page.params.specs.get("view")
    return list(spec.choices) if spec is not None and spec.choices else [None]


def _first_show(app, window, name: str, notes: list[str]) -> None:
    """Build and start the page, wait for its step 0 (if any), then cancel its jobs: nothing trains."""
    page = window.select(name)
    drawn = lambda: (  # noqa: E731
        not page.has_experiment or page._last_frame is not None or page.runner.state in ("failed", "finished")
    )
    if not wait_for(app, drawn, FIRST_FRAME_S):
        notes.append(f"{name}: no step-0 frame within {FIRST_FRAME_S:.0f} s; measured without it")
    page.jobs.cancel(quiet=True)
    page.runner.pause()


def survey(app, window, sizes, modes, tabs=None, shots: Path | None = None, skip=()) -> Survey:
    result = Survey(failures=[], notes=[], chrome=[])
    names = [name for name in (window.topics if tabs is None else tabs) if name not in skip]
    shown: set[str] = set()
    for mode in modes:
        window.set_presentation(mode == "presentation")
        for width, height in sizes:
            window.resize(width, height)
            _process(app)
            size = window.size()
            label = f"{width}x{height} {mode}"
            if (size.width(), size.height()) != (width, height):
                hint = window.minimumSizeHint()
                result.failures.append(
                    f"{label}: the window will not shrink to {width}x{height}: it is {size.width()}x{size.height()} "
                    f"(minimum {hint.width()}x{hint.height()})"
                )
            bar = window.tabs.tabBar()
            need = sum(bar.tabRect(i).width() for i in range(bar.count()))
            if need > window.tabs.width():
                result.chrome.append(f"{label}: the window's tabs need {need} px, have {window.tabs.width()}")
            for name in names:
                if name not in shown:
                    _first_show(app, window, name, result.notes)
                    shown.add(name)
                page = window.select(name)
                for view in _views(page):
                    if view is not None:
                        page.params.set_value("view", view)
                    where = f"{label} {name}" + (f"/{view}" if view else "")
                    if not settle(app, lambda page=page: geometry(page)):  # flipping between two layouts
                        result.failures.append(f"{where}: the layout kept moving for {SETTLE_S:.0f} s")
                    result.failures += check_plots(page, where)
                    result.failures += check_widgets(page, where)
                    result.layouts += 1
                    if shots is not None:
                        window.grab().save(str(shots / f"{where.replace(' ', '_').replace('/', '-')}.png"))
                    if page.side_is_open():
                        result.failures += check_side(page, where)
                if not page.side_is_open():
                    page.set_side_open(True)  # the side panel a presenter opens with F9
                    settle(app, lambda page=page: (page.params.tree.viewport().size(), page.params.tree.columnWidth(1)))
                    opened = f"{label} {name} (side panel opened)"
                    result.failures += check_side(page, opened)
                    settle(app, lambda page=page: geometry(page))  # a drawer over the plots: they stay whole
                    result.failures += check_plots(page, opened) + check_widgets(page, opened)
                    page.set_side_open(False)
    window.set_presentation(False)
    return result


def open_window(settings_path: Path) -> tuple[QtWidgets.QApplication, MainWindow]:
    app = create_application()
    window = MainWindow(Settings(settings_path))
    window.resize(*SIZES[0])
    window.show()
    wait_for(app, lambda: bool(window.pages), 30.0)  # the first page is built just after the first paint
    return app, window


def close_window(app, window) -> None:
    for page in window.pages.values():
        page.shutdown()
    window.close()
    _process(app)
    window.deleteLater()  # now, by Qt: left to Python's collector, it went in a later test (see conftest)
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


# --- the tests -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shared_window(tmp_path_factory):
    """One window for every size and mode; torch on one thread, fine-tuning's cache out of the way."""
    import torch

    folder = tmp_path_factory.mktemp("layout")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOSS_EXPLORER_CACHE", str(folder / "cache"))
        app, window = open_window(folder / "settings.ini")
        yield app, window
        close_window(app, window)
    torch.set_num_threads(threads)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_tab_fits(shared_window, size, mode) -> None:
    app, window = shared_window
    found = survey(app, window, [size], [mode])
    assert found.layouts >= len(window.topics)
    assert not found.failures, "\n".join(found.failures)


@pytest.mark.slow
def test_the_window_tab_bar_fits(shared_window) -> None:
    app, window = shared_window
    found = survey(app, window, SIZES, MODES, tabs=[])
    assert not found.chrome, "\n".join(found.chrome)


@pytest.mark.slow
def test_every_tab_fits_at_4k_with_device_pixel_ratio_2(tmp_path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QT_SCALE_FACTOR": "2",
        "LOSS_EXPLORER_CACHE": str(tmp_path / "cache"),
    }
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--size",
        "1920x1080",
        "--settings",
        str(tmp_path / "s.ini"),
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    report = done.stdout + done.stderr
    assert "device pixel ratio 2.0" in done.stdout, report
    assert "FAIL" not in done.stdout, report
    assert done.returncode == 0, report


# --- the script ----------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", action="append", help="WIDTHxHEIGHT in logical px (default: all three)")
    parser.add_argument("--mode", action="append", choices=MODES, help="normal, presentation (default: both)")
    parser.add_argument("--tab", action="append", help="only these tabs")
    parser.add_argument("--skip", action="append", default=[], help="not these tabs")
    parser.add_argument("--settings", type=Path, default=Path("layout-settings.ini"))
    parser.add_argument("--shots", type=Path, help="save a screenshot of every layout into this folder")
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in text.split("x")) for text in args.size] if args.size else list(SIZES)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)
    started = time.monotonic()
    app, window = open_window(args.settings)
    print(f"device pixel ratio {window.devicePixelRatioF():.1f}", flush=True)
    if args.shots is not None:
        args.shots.mkdir(parents=True, exist_ok=True)
    found = survey(app, window, sizes, args.mode or list(MODES), args.tab, args.shots, args.skip)
    for note in [*(found.notes or []), *(found.chrome or [])]:
        print(f"note: {note}")
    for failure in found.failures:
        print(f"FAIL {failure}")
    print(f"{found.layouts} layouts checked, {len(found.failures)} problems, {time.monotonic() - started:.1f} s")
    sys.stdout.flush()
    close_window(app, window)
    os._exit(1 if found.failures else 0)  # workers still inside torch must not hold the exit


if __name__ == "__main__":
    main()
