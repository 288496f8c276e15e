"""Argument checks for the lab's public functions: one wording, one size rule.

A bad argument must fail at the door with a ValueError that names it and its bounds, not deep inside
numpy or torch as an IndexError, a NaN result or a 9 GB allocation. The size rule lives here once:
no single allocation may take more than a quarter of the memory the machine has available now.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

#: the largest share of available memory one array may take
ALLOCATION_SHARE = 0.25


def available_bytes() -> int:
    """Memory the kernel could hand out now (MemAvailable), or the physical memory where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return 8 * 2**30  # no way to ask (Windows without /proc): assume a modest laptop


def check_allocation(n_bytes: float, what: str) -> None:
    """Refuse one allocation of ``n_bytes`` above a quarter of the available memory."""
    limit = int(available_bytes() * ALLOCATION_SHARE)
    if not math.isfinite(n_bytes) or n_bytes > limit:
        raise ValueError(
            f"{what} would need {_size(n_bytes)}, more than a quarter of the available memory ({_size(limit)})"
        )


def _size(n_bytes: float) -> str:
    if not math.isfinite(n_bytes):
        return "unbounded memory"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n_bytes) < 1024 or unit == "TB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.1f} TB"  # pragma: no cover


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not hasattr(value, "__float__"):  # str has no __float__: "1" is refused
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None


def finite(name: str, value: Any) -> float:
    """``value`` as a float, or ValueError if it is not a finite number."""
    number = _number(name, value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def positive(name: str, value: Any) -> float:
    """A finite number above zero (a learning rate, a standard deviation)."""
    number = _number(name, value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}")
    return number


def in_range(name: str, value: Any, low: float, high: float) -> float:
    """A finite number in [low, high]."""
    number = _number(name, value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return number


def whole(name: str, value: Any, low: int, high: int) -> int:
    """An integer in [low, high] (a count, a size, a number of steps); bools and floats are refused."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):  # 3.0 too: numpy and torch want an int
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {number}")
    return number


def known(name: str, value: Any, choices: Iterable[str]) -> Any:
    """One of a fixed set of names."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return value


def device(name: str, value: Any) -> str:
    """'cpu', 'cuda' or 'cuda:N' that this machine has.

    The spelling is checked before torch is imported (a typo fails at once, not after the 1 s import);
    torch is asked about CUDA only when CUDA is asked for, and the caller is about to use torch anyway.
    """
    if isinstance(value, str):
        kind, _, index = value.partition(":")
        if kind == "cpu" and not index:
            return value
        if kind == "cuda" and (not index or index.isdigit()):
            import torch

            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if int(index or 0) >= count:
                have = f"{count} CUDA device(s)" if count else "no CUDA device"
                raise ValueError(f"{name} {value!r} is not available: this machine has {have}")
            return value
    raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {value!r}")
