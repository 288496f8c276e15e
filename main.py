"""Entry point: ``python main.py [options]`` (see ``python main.py --help``)."""

from explorer.cli import run

if __name__ == "__main__":
    run()
