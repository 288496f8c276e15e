"""How the natural-gradient tab writes counts, bytes and durations: from a step's milliseconds to the
centuries a dense Fisher of a real network would take."""

from __future__ import annotations

import math


def count(n: float) -> str:
    """25_600_000 → "25.6 M"."""
    for factor, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return f"{n:.0f}"


def nbytes(n: float) -> str:
    """Binary units: 2.6e15 → "2.33 PiB"."""
    for power, suffix in ((6, "EiB"), (5, "PiB"), (4, "TiB"), (3, "GiB"), (2, "MiB"), (1, "KiB")):
        if n >= 1024.0**power:
            return f"{n / 1024.0**power:.3g} {suffix}"
    return f"{n:.0f} B"


def duration(seconds: float) -> str:
    """Seconds in the largest unit that reads well: "3.2 minutes", "3,904 years"."""
    if not math.isfinite(seconds):
        return "—"
    year = 365.25 * 86400
    if seconds >= 1e6 * year:
        return f"{seconds / year:.2g} years"
    if seconds >= year:
        return f"{seconds / year:,.0f} years"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"
