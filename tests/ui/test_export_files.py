"""What an export does to the file system: atomic, no temporary left on any failure, modes kept,
read-only targets refused, symlinks written through, orphaned ``.part`` files of killed writers removed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest

from explorer.ui import export


def _parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_a_new_file_is_written_whole_and_nothing_else_is_left(tmp_path):
    target = tmp_path / "out.json"
    assert export.write_atomic(target, b"{}") == target
    assert target.read_bytes() == b"{}" and _parts(tmp_path) == [] and not export.IN_FLIGHT


def test_a_failed_write_leaves_no_temporary_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"good")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(export.ExportError, match="No space left on device"):
        export.write_atomic(target, b"new")
    assert target.read_bytes() == b"good" and _parts(tmp_path) == [] and not export.IN_FLIGHT


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(path, mode):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "chmod", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export.write_atomic(tmp_path / "out.png", b"data")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "shared.csv"
    target.write_bytes(b"old")
    target.chmod(0o640)
    export.write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_read_only_target_is_refused_with_a_clear_error_even_for_root(tmp_path):
    target = tmp_path / "keep.png"
    target.write_bytes(b"precious")
    target.chmod(0o444)
    with pytest.raises(export.ExportError, match=r"keep\.png: the file is read-only"):
        export.write_atomic(target, b"new")
    assert target.read_bytes() == b"precious" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_symlink_target_is_written_through_to_its_file(tmp_path):
    real = tmp_path / "figures" / "real.png"
    real.parent.mkdir()
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "link.png"
    link.symlink_to(real)
    export.write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600 and _parts(real.parent) == []


@pytest.mark.parametrize("make", ["folder", "fifo"])
def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path, make):
    target = tmp_path / "out.svg"
    if make == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    with pytest.raises(export.ExportError, match=r"out\.svg: it (is a folder|exists and is not a regular file)"):
        export.check_writable(target)


def test_a_folder_that_refuses_files_is_found_by_trying_not_by_asking():
    with pytest.raises(export.ExportError, match="is not writable"):
        export.check_writable(Path("/proc/figure.png"))  # os.access says yes to root here


def test_remove_partial_files_deletes_writes_in_flight(tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()
    chmod = os.chmod

    def slow_chmod(path, mode):
        started.set()
        release.wait(10)
        chmod(path, mode)

    monkeypatch.setattr(os, "chmod", slow_chmod)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            export.write_atomic(tmp_path / "big.png", b"x" * 1000)
        except export.ExportError as exc:
            errors.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    assert started.wait(10)
    [part] = _parts(tmp_path)
    assert [p.name for p in export.remove_partial_files()] == [part]
    assert _parts(tmp_path) == []
    release.set()
    worker.join(10)
    assert errors and not (tmp_path / "big.png").exists()  # the rename found its file gone: an error, not a crash


def test_a_killed_writers_part_file_is_removed_by_the_next_export(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".out.png.{int(dead.stdout)}.abc123.part"
    orphan.write_bytes(b"half")
    unrelated = tmp_path / ".other.png.1.abc.part"
    unrelated.write_bytes(b"not ours")  # pid 1 is alive: another process may be writing it
    export.write_atomic(tmp_path / "out.png", b"whole")
    assert not orphan.exists() and unrelated.exists()


def test_removed_on_failure_deletes_what_the_block_wrote(tmp_path):
    written: list[Path] = []
    with pytest.raises(export.ExportError), export.removed_on_failure(written):
        written.append(export.write_atomic(tmp_path / "a.png", b"a"))
        written.append(export.write_atomic(tmp_path / "b.png", b"b"))
        export.write_atomic(tmp_path / "no" / "c.png", b"c")
    assert list(tmp_path.iterdir()) == []


def test_an_exported_figure_leaves_out_the_controls_and_the_hover_line(qtbot, window, tmp_path) -> None:
    from PyQt6 import QtCore

    page = window.select("saddle")
    qtbot.waitUntil(lambda: page.tab.surface_map is not None, timeout=60000)
    controls = export.chrome(page.tab)
    hover = [w for w in controls if w.property("chrome")]
    assert hover, "the hover line is marked as chrome"
    hidden: list[QtCore.QObject] = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):
            if event.type() == QtCore.QEvent.Type.Hide:
                hidden.append(obj)
            return False

    spy = Spy()
    for w in controls:
        w.installEventFilter(spy)
    export.export_png(page.tab, tmp_path / "saddle.png")
    assert set(hidden) == set(controls)  # each was hidden while the figure was drawn
    assert all(w.isVisibleTo(page.tab) for w in controls)  # and is back afterwards
    assert (tmp_path / "saddle.png").stat().st_size > 0


def test_csv_numbers_are_shortest_in_their_own_precision():
    table = {
        "float32": np.array([0.01, 1e-20, np.nan], dtype=np.float32),
        "float64": np.array([0.1 * 0.1, 2.5, np.inf]),
        "python": [0.01, 3, None],
    }
    rows = export.table_csv(table).decode().splitlines()
    assert rows == ["float32,float64,python", "0.01,0.010000000000000002,0.01", "1e-20,2.5,3", ",,"]


def test_a_plot_with_its_legend_below_is_exported_with_that_legend(qtbot, tmp_path):
    import pyqtgraph as pg

    from explorer.ui.app import create_application
    from explorer.ui.widgets.legended import LegendedPlot
    from explorer.ui.widgets.plots import Styled

    create_application()
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    panel = LegendedPlot(Styled(), "Loss", "step", "loss")
    view.addItem(panel)
    panel.add(pg.PlotDataItem([0, 1, 2], [3, 1, 2]), "residual net")

    class OnePlot:
        title = "test"
        plot_focus = types.SimpleNamespace(plot=panel.plot)  # focused: the file is that plot alone

        def exported_plots(self):
            return {"loss": panel.plot}  # the inner plot, as a tab might list it

    written = export.export_svg(OnePlot(), tmp_path / "loss.svg")
    assert written == [tmp_path / "loss.svg"] and "residual net" in written[0].read_text()
