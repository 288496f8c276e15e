"""Bounded histories: the ring buffer keeps the last rows in order, the decimated one the whole run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.lab.core.history import DecimatedHistory, RingBuffer


@settings(max_examples=60, deadline=None)
@given(capacity=st.integers(1, 12), blocks=st.lists(st.integers(0, 30), max_size=12))
def test_ring_buffer_keeps_the_last_rows_in_order(capacity: int, blocks: list[int]) -> None:
    ring = RingBuffer(capacity, (2,))
    stream = np.zeros((0, 2))
    start = 0
    for k in blocks:
        rows = np.stack([np.arange(start, start + k), -np.arange(start, start + k)], axis=1)  # (k, 2)
        start += k
        ring.extend(rows)
        stream = np.concatenate([stream, rows])
        assert len(ring) <= capacity
        np.testing.assert_array_equal(ring.array(), stream[-capacity:] if len(stream) else stream)
    assert ring.total == len(stream)
    assert ring._data.shape == (capacity, 2)  # memory never grows


def test_ring_buffer_append_scalars() -> None:
    ring = RingBuffer(3)
    for v in range(5):
        ring.append(float(v))
    assert ring.array().tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(ValueError):
        RingBuffer(0)


@settings(max_examples=40, deadline=None)
@given(capacity=st.sampled_from([2, 4, 8, 16]), n=st.integers(0, 400))
def test_decimated_history_is_bounded_and_spans_the_run(capacity: int, n: int) -> None:
    history = DecimatedHistory(capacity, 1)
    steps = np.arange(n)
    for chunk in np.array_split(steps, 7):
        history.extend(chunk, chunk[:, None] * 10.0)
    kept = history.steps()
    assert len(kept) <= capacity and len(history) == len(kept)
    if n:
        assert kept[0] == 0  # the start of the run is never dropped
        assert n - 1 - kept[-1] < history.stride  # and the newest row is at most one stride old
        assert np.all(np.diff(kept) == history.stride)  # evenly spaced
        np.testing.assert_array_equal(history.values()[:, 0], kept * 10.0)


def test_decimated_history_rejects_odd_capacity() -> None:
    with pytest.raises(ValueError):
        DecimatedHistory(5, 1)
