"""``python -m explorer`` is the same as ``python main.py`` and ``loss-explorer``."""

import sys

from explorer.cli import main

sys.exit(main())
