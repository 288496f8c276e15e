"""Describe the machine a benchmark ran on, and write its results beside that description."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"model name\s*:\s*(.+)", text)
    return match.group(1).strip() if match else platform.machine()


def describe() -> dict[str, object]:
    versions = {}
    for package in ("torch", "triton", "PyQt6", "pyqtgraph", "numpy", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", "default"),
        "versions": versions,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p99": percentile(values, 99), "max": max(values), "n": len(values)}


def write(name: str, results: dict[str, object]) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", f"{describe()['cpu']}-{os.cpu_count()}cores".lower()).strip("-")
    path = RESULTS / f"{name}-{slug}.json"
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps({"benchmark": name, "machine": describe(), "results": results}, indent=1))
    return path
