"""The window's file actions: export (one tab, all tabs, the clipboard), recording, and the Your model
tab's Open model…; the dialogs remember their folders. A mixin of :class:`explorer.ui.window.MainWindow`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

from explorer.ui.topic import BROKEN_TABS

if TYPE_CHECKING:
    from explorer.ui.settings import Settings


class FileActions:
    """What File > … does, for the window that mixes it in (it has ``settings``, pages and a status bar)."""

    settings: Settings
    topics: dict

    # --- export -------------------------------------------------------------------------------
    def export_to(self, path: Path) -> list[Path]:
        from explorer.ui import export

        page = self.current_page()
        return export.export_file(
            page.tab, path, caption=self.settings["caption"], step=page.runner.current_step or None
        )

    def start_folder(self, key: str = "export_folder") -> Path:
        """Where the last export (or opened model: ``key``) went (the dialogs remember it), else the home folder."""
        folder = Path(self.settings[key]) if self.settings[key] else Path.home()
        return folder if folder.is_dir() else Path.home()

    def remember_folder(self, folder: Path, key: str = "export_folder") -> None:
        with contextlib.suppress(ValueError):
            self.settings[key] = str(folder)

    # --- your model ---------------------------------------------------------------------------
    def _open_model_dialog(self) -> None:
        start = str(self.start_folder("model_folder"))
        name, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open model", start, "Python files (*.py)")
        if name:
            self.remember_folder(Path(name).parent, "model_folder")
            self.open_model(Path(name))

    def open_model(self, path: Path) -> None:
        """The "Your model" tab on ``path`` (a file with model() and data()): it loads and starts anew."""
        if "your_model" not in self.topics:
            why = BROKEN_TABS.get("your_model", "the tab is not installed")
            self.statusBar().showMessage(f"Cannot open a model: the Your model tab could not load ({why})", 15000)
            return
        page = self.select("your_model")
        if page.params.value("model_path") == str(path):
            page.reset()  # the same file again: read it again (it may have been edited)
        else:
            page.params.set_value("model_path", str(path))  # the page restarts the experiment on it

    def _export_dialog(self, suffix: str) -> None:
        page = self.current_page()
        kinds = {".png": "PNG image (*.png)", ".svg": "SVG (*.svg)", ".csv": "CSV (*.csv)", ".json": "JSON (*.json)"}
        start = str(self.start_folder() / f"{page.tab.name}{suffix}")
        name, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export", start, kinds[suffix])
        if not name:
            return
        path = Path(name) if Path(name).suffix else Path(name + suffix)
        self.remember_folder(path.parent)
        self._report(lambda: self.export_to(path))

    def _export_all_dialog(self) -> None:
        start = str(self.start_folder())
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export all tabs to folder", start)
        if folder:
            self.remember_folder(Path(folder))
            self._report(lambda: self.export_all(Path(folder), progress=True), folder=Path(folder))

    def export_all(self, folder: Path, progress: bool = False) -> list[Path]:
        """Every tab's PNG, SVG, CSV and JSON into ``folder``; with ``progress``, a dialog with Cancel.

        Cancel keeps the tabs already written (each tab's files are whole) and stops before the next.
        """
        from explorer.ui import export

        written: list[Path] = []
        dialog = None
        if progress:
            dialog = QtWidgets.QProgressDialog("Exporting…", "Cancel", 0, len(self.topics), self)
            dialog.setWindowTitle("Export all tabs")
            dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
            dialog.setMinimumDuration(0)
        try:
            for i, (name, info) in enumerate(self.topics.items()):
                if dialog is not None:
                    dialog.setValue(i)
                    dialog.setLabelText(f"{info.title} ({i + 1} of {len(self.topics)})")
                    QtWidgets.QApplication.processEvents()
                    if dialog.wasCanceled():
                        break
                written += export.export_everything(self.page(name).tab, folder, caption=self.settings["caption"])
        finally:
            if dialog is not None:
                dialog.setValue(len(self.topics))
                dialog.deleteLater()
        return written

    def _record_dialog(self) -> None:
        from explorer.ui.record import open_record_dialog  # numpy; Pillow and ffmpeg only when it records

        open_record_dialog(self)

    def _copy_image(self) -> None:
        from explorer.ui import export

        export.copy_image(self.current_page().tab)
        self.statusBar().showMessage("Image copied to the clipboard", 5000)

    def _report(self, action, folder: Path | None = None) -> None:
        from explorer.ui import export

        try:
            written = action()
        except export.ExportError as exc:
            QtWidgets.QMessageBox.warning(self, "Export failed", str(exc))
            return
        if folder is not None or len(written) > 4:  # a short message, not a list of a hundred names
            where = folder or (written[0].parent if written else Path("."))
            self.statusBar().showMessage(f"Exported {len(written)} files into {where}", 8000)
        else:
            self.statusBar().showMessage(f"Exported {export.names(written)}", 8000)
