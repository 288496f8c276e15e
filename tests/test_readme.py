"""The README's Python examples run as written (a moved module breaks them, and this says so)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_api_section_runs() -> None:
    block = re.search(r"### From Python.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    grid = np.linspace(-1, 1, 5)
    q = torch.randn(1, 2, 32, 16)
    namespace = {"x": grid, "y": grid, "q": q, "k": q.clone(), "v": q.clone(), "torch": torch}
    code = block.replace("n=4096", "n=128")  # the same call, at a size the CI machine runs in a moment
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["information"].entropy([0.5, 0.25, 0.125, 0.125]) == 1.75
