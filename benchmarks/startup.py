"""Start-up and quit of the real program, every tab as the first tab, against `python -c "import torch"`.

Targets: the window painted in <= 0.3x the time of `import torch` (medians of interleaved runs) for
every tab as the first tab, and every quit right after the first paint exits 0 (20 of 20 at least),
within 1 s of the close. Also recorded: when the first tab's page is built (just after the paint),
and the floor, a bare PyQt6 + pyqtgraph window with one plot. All are timed the same way: wall clock
from spawning the process to the line it prints, interleaved, in one run of this script.

    python benchmarks/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import summary, write

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.3

_BARE = """
import time, os
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets
app = QtWidgets.QApplication([])
window = QtWidgets.QMainWindow()
plot = pg.PlotWidget()
plot.plot([0, 1, 2], [0, 1, 0])
window.setCentralWidget(plot)
class First(QtCore.QObject):
    def eventFilter(self, obj, event):
        if event.type() == QtCore.QEvent.Type.Paint:
            print(f"painted {time.time():.6f}", flush=True)
            os._exit(0)
        return False
first = First()
app.installEventFilter(first)  # the first paint of any widget
window.show()
app.exec()
"""


def _env() -> dict[str, str]:
    env = {**os.environ}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _stamps(out: str) -> dict[str, float]:
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if len(line.split()) == 2}


def time_window(tab: str, folder: Path) -> dict[str, float]:
    """Seconds from spawn to paint and to the page built; close-to-exit seconds; the exit status."""
    settings = folder / f"{tab}.ini"
    settings.write_text(f"[General]\nlast_tab={tab}\n")
    start = time.time()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--quit-after-paint", "--settings", str(settings)],
        capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip
    ended = time.time()
    stamps = _stamps(done.stdout)
    return {
        "painted_s": stamps.get("painted", float("nan")) - start,
        "page_s": stamps.get("page", float("nan")) - start,
        "quit_s": ended - stamps.get("closing", float("nan")),
        "returncode": done.returncode,
        "stderr": done.stderr.strip().splitlines()[-1:] if done.returncode else [],
    }


def time_command(code: str) -> float:
    start = time.time()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    stamps = _stamps(done.stdout)
    return stamps.get("painted", time.time()) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from explorer.ui.topic import tab_classes

    tabs = [cls.name for cls in tab_classes()]
    folder = Path(tempfile.mkdtemp())
    time_command("import torch")  # warm the file cache for all
    time_command(_BARE)
    for tab in tabs:
        time_window(tab, folder)
    runs: dict[str, list[dict[str, float]]] = {tab: [] for tab in tabs}
    torch_s, bare_s = [], []
    for _ in range(args.repeats):
        for tab in tabs:
            runs[tab].append(time_window(tab, folder))
        torch_s.append(time_command("import torch"))
        bare_s.append(time_command(_BARE))
    torch_median = statistics.median(torch_s)
    results: dict[str, object] = {
        "import_torch_s": summary(torch_s),
        "bare_pyqtgraph_window_s": summary(bare_s),
        "bare_ratio": statistics.median(bare_s) / torch_median,
        "target_ratio": TARGET_RATIO,
        "tabs": {},
    }
    quits = [r for tab in tabs for r in runs[tab]]
    for tab in tabs:
        painted = [r["painted_s"] for r in runs[tab]]
        ratio = statistics.median(painted) / torch_median
        results["tabs"][tab] = {
            "painted_s": summary(painted),
            "page_built_s": summary([r["page_s"] for r in runs[tab]]),
            "ratio": round(ratio, 3),
            "passed": ratio <= TARGET_RATIO,
        }
        print(f"{tab:<17} painted {statistics.median(painted):.3f} s  ratio {ratio:.2f}  page built "
              f"{statistics.median(r['page_s'] for r in runs[tab]):.3f} s")  # fmt: skip
    clean = sum(r["returncode"] == 0 for r in quits)
    quit_times = [r["quit_s"] for r in quits if r["returncode"] == 0]
    results["quits"] = {
        "exit_0": clean,
        "runs": len(quits),
        "close_to_exit_s": summary(quit_times) if quit_times else None,
        "failures": [r["stderr"] for r in quits if r["returncode"]],
    }
    results["passed"] = (
        all(t["passed"] for t in results["tabs"].values())
        and clean == len(quits) >= 20
        and bool(quit_times) and max(quit_times) <= 1.0
    )  # fmt: skip
    print(write("startup", results))
    print(f"import torch {torch_median:.3f} s; bare window {statistics.median(bare_s):.3f} s "
          f"({results['bare_ratio']:.2f}x); quits exit 0: {clean}/{len(quits)}, close to exit median "
          f"{statistics.median(quit_times):.3f} s max {max(quit_times):.3f} s; "
          f"{'pass' if results['passed'] else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    main()
