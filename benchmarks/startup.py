"""Time from process start to the window painted, as a ratio to `python -c "import torch"`.

Target: <= 0.5. Both are timed the same way (wall clock from spawning the process to its signal),
interleaved, several times; medians and their ratio come from one run of this script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import summary, write

ROOT = Path(__file__).resolve().parents[1]


def time_window(settings: Path) -> float:
    env = {**os.environ}
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    start = time.time()
    out = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--quit-after-paint", "--settings", str(settings)],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout  # fmt: skip
    painted = float(next(line for line in out.splitlines() if line.startswith("painted")).split()[1])
    return painted - start


def time_torch() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "import torch"], check=True, timeout=60)
    return time.time() - start


def main(repeats: int = 7) -> None:
    settings = Path(tempfile.mkdtemp()) / "settings.ini"
    time_window(settings)  # warm the file cache for both
    time_torch()
    window, torch = [], []
    for _ in range(repeats):
        window.append(time_window(settings))
        torch.append(time_torch())
    results = {"window_painted_s": summary(window), "import_torch_s": summary(torch)}
    ratio = results["window_painted_s"]["median"] / results["import_torch_s"]["median"]
    results.update(ratio=ratio, target_ratio=0.5, passed=ratio <= 0.5)
    print(write("startup", results))
    print(f"window painted {results['window_painted_s']['median']:.3f} s, import torch "
          f"{results['import_torch_s']['median']:.3f} s, ratio {ratio:.2f} (target <= 0.5)")  # fmt: skip


if __name__ == "__main__":
    main()
