"""Entry point: ``python main.py [options]`` (see ``python main.py --help``)."""

import sys

from explorer.cli import main

if __name__ == "__main__":
    sys.exit(main())
