"""Export what a tab shows: PNG at 2x (optionally captioned), SVG of each plot, CSV and JSON data.

Every file is written to a temporary name beside its target and renamed into place, so a failed
export never leaves a half-written file and never destroys an earlier good one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.topic import Table, TopicTab

SUFFIXES = (".png", ".svg", ".csv", ".json")


class ExportError(OSError):
    """An export that could not be written; the message is one line for the user."""


def check_writable(path: Path) -> None:
    """Raise :class:`ExportError` unless a file can be created at ``path``."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write {path}: folder {folder} is not writable")


def write_atomic(path: Path, data: bytes) -> Path:
    check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an exported figure is an ordinary file
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def render_image(widget: QtWidgets.QWidget, scale: float = 2.0, caption: str | None = None) -> QtGui.QImage:
    """The widget drawn at ``scale`` x its size (vector plots stay sharp), with a caption band."""
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
    """One SVG per plot (title, axis labels and legend included)."""
    plots = tab.plots()
    if not plots:
        raise ExportError(f"the {tab.title} tab has no plot to export as SVG")
    for key in plots:
        check_writable(_sibling(path, key, len(plots)))
    from explorer.ui.svg import plot_svg  # pyqtgraph's exporters cost 70 ms: not on the start-up path

    written = []
    for scene in {id(plot.scene()): plot.scene() for plot in plots.values() if plot.scene() is not None}.values():
        # a view applies a new range to its items only when it is about to paint; an SVG is written from
        # the transforms as they stand, so data drawn since the last paint would sit off its axes
        scene.prepareForPaint()
    for key, plot in plots.items():
        data = plot_svg(plot)
        written.append(write_atomic(_sibling(path, key, len(plots)), data))
    return written


def _cell(value: Any) -> Any:
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
    return [write_atomic(_sibling(path, name, len(tables)), table_csv(t)) for name, t in tables.items()]


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
    for suffix in SUFFIXES:
        target = folder / f"{tab.name}{suffix}"
        if suffix == ".svg" and not tab.plots():
            continue
        if suffix == ".csv" and not tab.tables():
            continue
        written += export_file(tab, target, caption=caption, step=step)
    return written


def copy_image(tab: TopicTab, scale: float = 2.0) -> None:
    QtWidgets.QApplication.clipboard().setImage(render_image(tab, scale))


def names(paths: Sequence[Path]) -> str:
    return ", ".join(p.name for p in paths)
