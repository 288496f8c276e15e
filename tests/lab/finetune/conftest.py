"""Fine-tuning lab tests share a private pretraining cache and a way to drive a job to its end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from explorer.lab.core.protocol import Job, Progress


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of this test's own: pretraining starts from nothing."""
    monkeypatch.setenv("LOSS_EXPLORER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def drive() -> Callable[[Job[Any]], tuple[list[Progress], Any]]:
    """Run a job to its end: (every Progress it reported, its result)."""

    def run(job: Job[Any]) -> tuple[list[Progress], Any]:
        reports = []
        while True:
            try:
                reports.append(next(job))
            except StopIteration as done:
                return reports, done.value

    return run
