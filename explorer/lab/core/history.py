"""Bounded histories for live plots: a sliding window and a whole-run record that thins itself.

A live run can last millions of steps; a list that grows by one entry a step eventually costs more
to draw than to compute. ``RingBuffer`` keeps the last ``capacity`` rows (a heatmap's time window);
``DecimatedHistory`` keeps the whole run in at most ``capacity`` rows by dropping every other row
and halving its sampling rate whenever it fills, so a loss curve always spans step 0 to now.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """The last ``capacity`` rows of a stream, in fixed memory; older rows are overwritten."""

    def __init__(self, capacity: int, row_shape: tuple[int, ...] = (), dtype: type = np.float64) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._data = np.zeros((capacity, *row_shape), dtype=dtype)
        self._next = 0  # where the next row goes
        self.total = 0  # rows ever written

    @property
    def capacity(self) -> int:
        return len(self._data)

    def __len__(self) -> int:
        return min(self.total, self.capacity)

    def extend(self, rows: np.ndarray) -> None:
        """Append rows (k, *row_shape); only the last ``capacity`` of a long block are kept."""
        rows = np.asarray(rows)
        self.total += len(rows)
        rows = rows[-self.capacity :]
        k = len(rows)
        first = min(k, self.capacity - self._next)
        self._data[self._next : self._next + first] = rows[:first]
        self._data[: k - first] = rows[first:]  # wrap around to the start
        self._next = (self._next + k) % self.capacity

    def append(self, row: np.ndarray | float) -> None:
        self.extend(np.asarray(row)[None])

    def array(self) -> np.ndarray:
        """A copy of the kept rows, oldest first."""
        if self.total < self.capacity:
            return self._data[: self.total].copy()
        return np.roll(self._data, -self._next, axis=0)


class DecimatedHistory:
    """Rows stamped with their step, from the first step to the latest, in at most ``capacity`` rows.

    Every ``stride``-th offered row is kept; when the store fills, every other kept row is dropped and
    ``stride`` doubles, so the kept rows stay evenly spaced in steps.
    """

    def __init__(self, capacity: int, width: int) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 2, got {capacity}")
        self._steps = np.zeros(capacity, dtype=np.float64)  # float64: what a plot's x axis wants
        self._values = np.zeros((capacity, width), dtype=np.float64)
        self._size = 0
        self._offered = 0
        self.stride = 1

    @property
    def capacity(self) -> int:
        return len(self._steps)

    def __len__(self) -> int:
        return self._size

    def extend(self, steps: np.ndarray, values: np.ndarray) -> None:
        """Offer rows ``values`` (k, width) taken at ``steps`` (k,)."""
        for step, row in zip(np.asarray(steps), np.asarray(values), strict=True):
            if self._offered % self.stride == 0:
                if self._size == self.capacity:
                    half = self.capacity // 2
                    self._steps[:half] = self._steps[::2]
                    self._values[:half] = self._values[::2]
                    self._size = half
                    self.stride *= 2
                if self._offered % self.stride == 0:
                    self._steps[self._size] = step
                    self._values[self._size] = row
                    self._size += 1
            self._offered += 1

    def steps(self) -> np.ndarray:
        return self._steps[: self._size].copy()

    def values(self) -> np.ndarray:
        """(len, width) copy of the kept rows, oldest first."""
        return self._values[: self._size].copy()
