"""Export what a tab shows: PNG at 2x (optionally captioned), SVG of each plot, CSV and JSON data.

Every file is written to a temporary ``.part`` name beside its target and renamed into place, so a
failed export never leaves a half-written file and never destroys an earlier good one. The temporary
file is removed on any failure; :func:`remove_partial_files` removes those of writes still in flight
(quitting mid-export), and a later write removes those a killed process left behind. A target that
exists is replaced only if it is a regular file we may write, and keeps its permissions; a symlink is
written through to the file it points to.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.topic import Table, TopicTab
from explorer.ui.widgets.legended import LegendedPlot

SUFFIXES = (".png", ".svg", ".csv", ".json")

#: temporary files of writes in progress (any thread), for :func:`remove_partial_files`
IN_FLIGHT: set[Path] = set()
_in_flight_lock = threading.Lock()


class ExportError(OSError):
    """An export that could not be written; the message is one line for the user."""


def resolved(path: Path) -> Path:
    """Where writing ``path`` lands: a symlink (or a folder on the way) is followed to its file."""
    return Path(os.path.realpath(path))


def check_writable(path: Path) -> None:
    """Raise :class:`ExportError` unless a file can be written at ``path``, by trying.

    ``os.access`` answers yes to root for a read-only file and for /proc, so the folder is probed by
    creating (and removing) a file in it; an existing target must be a regular file with a write bit.
    """
    target = resolved(path)
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {path.parent} does not exist")
    if target.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if target.exists():
        mode = target.stat().st_mode
        if not stat.S_ISREG(mode):
            raise ExportError(f"cannot write {path}: it exists and is not a regular file")
        if not mode & 0o222 or not os.access(target, os.W_OK):
            raise ExportError(f"cannot write {path}: the file is read-only")
    probe_folder(folder, path)


def probe_folder(folder: Path, shown: Path | None = None) -> None:
    """Create and remove a file in ``folder``: the only honest answer to "can we write here?"."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe-", suffix=".part")
    except OSError as exc:
        raise ExportError(f"cannot write {shown or folder}: folder {folder} is not writable ({_reason(exc)})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename; return ``path``."""
    check_writable(path)
    target = resolved(path)
    _remove_orphans(target)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".part")
        tmp = Path(name)
        with _in_flight_lock:
            IN_FLIGHT.add(tmp)
        with os.fdopen(fd, "wb") as handle:  # a full disk fails here, at write or at close
            handle.write(data)
        os.chmod(tmp, mode)  # mkstemp makes 0600; a replaced file keeps its mode, a new one gets the umask's
        os.replace(tmp, target)
        _forget(tmp)
        tmp = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    finally:
        if tmp is not None:  # anything, even KeyboardInterrupt: never leave the half-written file
            with contextlib.suppress(OSError):
                tmp.unlink()
            _forget(tmp)
    return path


@contextlib.contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for a writer that wants a file name (an encoder), renamed into
    place when the block ends and removed if it fails, is cancelled or is interrupted: :func:`write_atomic`
    for output that is not one ``bytes``."""
    check_writable(path)
    target = resolved(path)
    _remove_orphans(target)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".part")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    os.close(fd)
    tmp = Path(name)
    with _in_flight_lock:
        IN_FLIGHT.add(tmp)
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    finally:
        with contextlib.suppress(OSError):  # gone after the rename; anything else: no half-written file
            tmp.unlink()
        _forget(tmp)


def _forget(tmp: Path) -> None:
    with _in_flight_lock:
        IN_FLIGHT.discard(tmp)


def remove_partial_files() -> list[Path]:
    """Delete the temporary files of writes still in progress (call on quit); return those removed."""
    with _in_flight_lock:
        pending = list(IN_FLIGHT)
        IN_FLIGHT.clear()
    removed = []
    for tmp in pending:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _remove_orphans(target: Path) -> None:
    """Remove ``.part`` files beside ``target`` whose writing process is gone (killed mid-export)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.[^.]+\.part$")
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            found = pattern.match(entry.name)
            if found and not _alive(int(found.group(1))):
                with contextlib.suppress(OSError):
                    entry.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":  # Windows' os.kill(pid, 0) would send Ctrl+C
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def chrome(widget: QtWidgets.QWidget) -> list[QtWidgets.QWidget]:
    """The controls inside ``widget`` that are not the figure: buttons, check boxes, view bars, and the
    hover line (marked ``chrome``), as far as they are shown."""
    found = [
        w
        for w in widget.findChildren(QtWidgets.QWidget)
        if isinstance(w, QtWidgets.QAbstractButton | QtWidgets.QTabBar) or w.property("chrome")
    ]
    return [w for w in found if w.isVisibleTo(widget)]


@contextlib.contextmanager
def chrome_hidden(widget: QtWidgets.QWidget) -> Iterator[None]:
    """Hide the controls while the figure is drawn (the plots take their room), then bring them back."""
    hidden = chrome(widget)
    for w in hidden:
        w.hide()
    try:
        yield
    finally:
        for w in hidden:
            w.show()
        QtWidgets.QApplication.processEvents()


def render_image(widget: QtWidgets.QWidget, scale: float = 2.0, caption: str | None = None) -> QtGui.QImage:
    """The widget's figure drawn at ``scale`` x its size (vector plots stay sharp), with a caption band:
    what the user sees, without buttons, view bars or the hover line."""
    with chrome_hidden(widget):
        return _render(widget, scale, caption)


def _render(widget: QtWidgets.QWidget, scale: float, caption: str | None) -> QtGui.QImage:
    # one screen paint first: axes size themselves to their tick text on first paint, and a layout
    # that settles during our render would draw labels over data
    widget.grab()
    QtWidgets.QApplication.processEvents()
    size = widget.size()
    band = 0
    font = QtGui.QFont(widget.font())
    font.setPointSizeF(max(font.pointSizeF(), 9.0))
    if caption:
        band = QtGui.QFontMetrics(font).height() + 12
    image = QtGui.QImage(
        int(size.width() * scale), int((size.height() + band) * scale), QtGui.QImage.Format.Format_ARGB32
    )
    image.setDevicePixelRatio(scale)
    image.fill(widget.palette().color(QtGui.QPalette.ColorRole.Window))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    widget.render(painter)
    if caption:
        painter.setFont(font)
        painter.setPen(widget.palette().color(QtGui.QPalette.ColorRole.WindowText))
        rect = QtCore.QRectF(8, size.height() + 4, size.width() - 16, band - 8)
        painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter, caption)
    painter.end()
    return image


def png_bytes(image: QtGui.QImage) -> bytes:
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("could not encode the image as PNG")
    return bytes(buffer.data())


def export_png(tab: TopicTab, path: Path, scale: float = 2.0, caption: bool = False) -> list[Path]:
    image = render_image(tab, scale, tab.caption() if caption else None)
    return [write_atomic(path, png_bytes(image))]


def _sibling(path: Path, part: str, count: int) -> Path:
    """``out.svg`` for a single item, ``out-<part>.svg`` when a tab has several."""
    if count == 1:
        return path
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", part).strip("-") or "plot"
    return path.with_name(f"{path.stem}-{slug}{path.suffix}")


def export_svg(tab: TopicTab, path: Path) -> list[Path]:
    """``path``: the whole figure as the tab shows it (plots, tables, legends; no controls), and beside it
    one SVG per plot (``<stem>-<plot>.svg``, title, axis labels and legend included). While a plot is
    focused, ``path`` is that plot alone."""
    plots = tab.exported_plots()
    if not plots:
        raise ExportError(f"the {tab.title} tab has no plot to export as SVG")
    focus = tab.plot_focus
    focused = focus is not None and focus.plot is not None
    beside = {} if focused else {key: _sibling(path, key, 2) for key in plots}
    for target in (path, *beside.values()):
        check_writable(target)
    written: list[Path] = []
    from explorer.ui.svg import plot_svg, widget_svg  # pyqtgraph's exporters cost 70 ms: not at start-up

    for scene in {id(plot.scene()): plot.scene() for plot in plots.values() if plot.scene() is not None}.values():
        # a view applies a new range to its items only when it is about to paint; an SVG is written from
        # the transforms as they stand, so data drawn since the last paint would sit off its axes
        scene.prepareForPaint()
    with removed_on_failure(written):
        if focused:
            written.append(write_atomic(path, plot_svg(_with_legend(next(iter(plots.values()))))))
            return written
        with chrome_hidden(tab):
            tab.grab()  # axes size themselves to their tick text on the first paint
            written.append(write_atomic(path, widget_svg(tab, tab.caption())))
        for key, plot in plots.items():
            written.append(write_atomic(beside[key], plot_svg(_with_legend(plot))))
    return written


def _with_legend(plot: pg.GraphicsItem) -> pg.GraphicsItem:
    """A plot whose legend sits below it in a :class:`LegendedPlot` is exported with that legend."""
    parent = plot.parentItem()
    return parent if isinstance(parent, LegendedPlot) and parent.plot is plot else plot


def _cell(value: Any) -> Any:
    """A number in its shortest form that reads back exactly *in its own precision*: a float32 0.01 is
    "0.01", not the "0.009999999776482582" of the same value widened to float64."""
    if isinstance(value, np.floating) and not isinstance(value, np.float64):
        return "" if not np.isfinite(value) else str(value)
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(value) else repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


def table_csv(table: Table) -> bytes:
    columns = list(table)
    length = max((len(v) for v in table.values()), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i in range(length):
        writer.writerow([_cell(table[c][i]) if i < len(table[c]) else "" for c in columns])
    return out.getvalue().encode("utf-8")


def export_csv(tab: TopicTab, path: Path) -> list[Path]:
    """One CSV per table the tab shows (a header row, then values; blank where a column is shorter)."""
    tables = tab.tables()
    if not tables:
        raise ExportError(f"the {tab.title} tab has no data yet")
    for name in tables:
        check_writable(_sibling(path, name, len(tables)))
    written: list[Path] = []
    with removed_on_failure(written):
        for name, table in tables.items():
            written.append(write_atomic(_sibling(path, name, len(tables)), table_csv(table)))
    return written


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, list, tuple)):
        return [_jsonable(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def export_json(tab: TopicTab, path: Path, step: int | None = None) -> list[Path]:
    document = {
        "tab": tab.name,
        "title": tab.title,
        "step": step,
        "parameters": tab.values() if tab.panel is not None else {},
        "tables": tab.tables(),
    }
    text = json.dumps(_jsonable(document), indent=1, ensure_ascii=False, allow_nan=False)
    return [write_atomic(path, text.encode("utf-8"))]


def export_file(tab: TopicTab, path: Path, *, caption: bool = False, step: int | None = None) -> list[Path]:
    """Export by the file's suffix: .png, .svg, .csv or .json."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        return export_png(tab, path, caption=caption)
    if suffix == ".svg":
        return export_svg(tab, path)
    if suffix == ".csv":
        return export_csv(tab, path)
    if suffix == ".json":
        return export_json(tab, path, step)
    raise ExportError(f"cannot export {path.name}: use one of {', '.join(SUFFIXES)}")


def export_everything(tab: TopicTab, folder: Path, *, caption: bool = False, step: int | None = None) -> list[Path]:
    """PNG, SVGs, CSVs and JSON of one tab into ``folder``, named after the tab."""
    written: list[Path] = []
    with removed_on_failure(written):
        for suffix in SUFFIXES:
            target = folder / f"{tab.name}{suffix}"
            if suffix == ".svg" and not tab.plots():
                continue
            if suffix == ".csv" and not tab.tables():
                continue
            written += export_file(tab, target, caption=caption, step=step)
    return written


@contextlib.contextmanager
def removed_on_failure(written: list[Path]) -> Iterator[None]:
    """All or nothing: if the block fails, delete the files it had already written (listed in ``written``)."""
    try:
        yield
    except BaseException:
        for done in written:
            with contextlib.suppress(OSError):
                resolved(done).unlink()
        raise


def copy_image(tab: TopicTab, scale: float = 2.0) -> None:
    QtWidgets.QApplication.clipboard().setImage(render_image(tab, scale))


def names(paths: Sequence[Path]) -> str:
    return ", ".join(p.name for p in paths)
