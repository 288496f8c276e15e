"""Start in a blink and quit cleanly: nothing heavy before the first paint, whichever tab opens first,
and the real program (``main.py``) exits 0 however early or late it is closed.

Each case is its own process: imports and the interpreter's exit are what is under test. Nothing here
depends on a duration; the subprocess timeouts only turn a hang into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.ui.topic import tab_classes

ROOT = Path(__file__).resolve().parents[2]
TAB_NAMES = [cls.name for cls in tab_classes()]
HEAVY = ("torch", "scipy", "triton")

# Builds the window with TAB remembered as the last tab, and reports at the first paint which heavy
# packages are loaded, then (once the page exists) which tab it built.
_FIRST_PAINT = """
import os, sys
from PyQt6 import QtCore
from explorer.ui.app import create_application
from explorer.ui.settings import Settings
from explorer.ui.window import MainWindow

from pathlib import Path
settings = Settings(Path(sys.argv[2]))
settings["last_tab"] = sys.argv[1]
app = create_application()
window = MainWindow(settings)

class Watch(QtCore.QObject):
    def eventFilter(self, obj, event):
        if obj is window and event.type() == QtCore.QEvent.Type.Paint:
            window.removeEventFilter(self)
            heavy = [m for m in ("torch", "scipy", "triton") if m in sys.modules]
            print("heavy at paint:", ",".join(heavy) or "none", flush=True)
            QtCore.QTimer.singleShot(0, self.built)
        return False

    def built(self):
        print("page:", window.current_page().tab.name, flush=True)
        app.quit()

watch = Watch()
window.installEventFilter(watch)
window.show()
app.exec()
os._exit(0)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LOSS_EXPLORER_CACHE": str(tmp_path / "cache")}


@pytest.mark.parametrize("name", TAB_NAMES)
def test_no_heavy_import_before_the_first_paint(tmp_path, name) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_PAINT, name, str(tmp_path / "settings.ini")],
        capture_output=True, text=True, timeout=120, env=_env(tmp_path), cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "heavy at paint: none", f"{name} as first tab: {lines[0]}"
    assert lines[1] == f"page: {name}"  # the remembered tab opens


def _main(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "main.py"), "--settings", str(tmp_path / "settings.ini"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env(tmp_path))


def _assert_clean_exit(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert "terminate called" not in done.stderr and "QThread" not in done.stderr, done.stderr
    assert done.stdout.startswith("painted ")


@pytest.mark.parametrize(
    ("args", "when"),
    [
        ((), "right after the first paint, on the default first tab"),
        (("--quit-after-paint", "350"), "while the device probe imports torch"),
        (("--tab", "residual", "--play", "--quit-after-paint", "3000"), "while training"),
        (("--tab", "finetune", "--quit-after-paint", "3000"), "while the pretraining job runs"),
        (("--tab", "vanishing", "--play", "--quit-after-paint", "3000"), "while training and a sweep runs"),
    ],
)
def test_quit_at_any_moment_exits_zero(tmp_path, args, when) -> None:
    quit_args = args if "--quit-after-paint" in args else (*args, "--quit-after-paint")
    done = _main(tmp_path, *quit_args)
    _assert_clean_exit(done)
    assert (tmp_path / "settings.ini").exists(), f"settings not saved when quitting {when}"


@pytest.mark.parametrize("name", TAB_NAMES)
def test_quit_while_each_tab_runs_exits_zero(tmp_path, name) -> None:
    """Every tab playing (or running its start-up job: a sweep, a landscape, pretraining) when closed."""
    _assert_clean_exit(_main(tmp_path, "--tab", name, "--play", "--quit-after-paint", "2500"))


def test_the_remembered_tab_opens_and_is_kept(tmp_path) -> None:
    (tmp_path / "settings.ini").write_text("[General]\nlast_tab=entropy\n")
    done = _main(tmp_path, "--quit-after-paint")
    _assert_clean_exit(done)
    assert "last_tab=entropy" in (tmp_path / "settings.ini").read_text()
