"""The window paints before torch loads: registering every tab must not import torch or triton."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from explorer.ui.topic import BROKEN_TABS, tab_classes
names = [cls.name for cls in tab_classes()]
assert not BROKEN_TABS, BROKEN_TABS
heavy = sorted(m for m in ("torch", "triton") if m in sys.modules)
print(len(names), ",".join(heavy))
"""


def test_registering_all_tabs_leaves_torch_unloaded() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)
    count, heavy = done.stdout.split()[0], done.stdout.strip().partition(" ")[2]
    assert int(count) >= 4
    assert heavy == "", f"importing the tab modules loaded {heavy}: move those imports into functions"
