"""``python -m explorer`` is the same as ``python main.py`` and ``loss-explorer``."""

from explorer.cli import run

run()
