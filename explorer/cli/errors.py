"""The command line's exit statuses and its one-line complaint."""

EXIT_USAGE = 2
EXIT_DIVERGED = 3  # headless: a run diverged, ran out of memory or failed; what it had is exported
EXIT_NO_DISPLAY = 1


class UsageError(Exception):
    """A one-line complaint about the command line."""
