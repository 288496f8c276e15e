"""Time the saddle tab's one-shot work: a 400 x 400 grid with contours, and the critical-point search.

Both run in the job thread (never on the GUI thread); this reports how long the user waits for them.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import write

from explorer.lab.core.protocol import run_job
from explorer.lab.saddle import saddle, surfaces


def main(repeats: int = 3) -> None:
    results = {}
    for name in surfaces.NAMES:
        grid, search = [], []
        for _ in range(repeats):
            surfaces.critical_points.cache_clear()
            start = time.perf_counter()
            surfaces.critical_points(surfaces.get(name))
            search.append(time.perf_counter() - start)
            start = time.perf_counter()
            run_job(saddle.surface_map(name, resolution=400, log_scale=True))  # critical points now cached
            grid.append(time.perf_counter() - start)
        results[name] = {
            "grid_400_with_contours_s": statistics.median(grid),
            "critical_points_s": statistics.median(search),
        }
        print(f"{name:<16} grid+contours {results[name]['grid_400_with_contours_s']:.3f} s   "
              f"critical points {results[name]['critical_points_s']:.3f} s")  # fmt: skip
    print(write("surface-grid", results))


if __name__ == "__main__":
    main()
