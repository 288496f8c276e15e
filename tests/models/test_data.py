"""Generated data sets: exact signatures, shapes, dtypes, seeding, labels and speed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import DIGITS, GLYPH_NAMES, checkerboard, glyphs, two_spirals


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 500), noise=st.floats(0, 0.5), seed=st.integers(0, 2**31))
def test_two_spirals_shapes_balance_and_seed(n: int, noise: float, seed: int) -> None:
    X, y = two_spirals(n, noise, seed)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert abs(int((y == 1).sum()) - int((y == 0).sum())) <= 1
    X2, y2 = two_spirals(n_points=n, noise=noise, seed=seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_two_spirals_arms_are_point_reflections() -> None:
    X, y = two_spirals(400, 0.0, 0)
    assert np.abs(X).max() <= 1.0
    # Noise-free: each arm turned by half a turn lies on the other arm (same radius-angle relation).
    r = np.linalg.norm(X, axis=1)
    angle = np.arctan2(X[:, 1], X[:, 0]) - 3 * np.pi * r - np.pi * y
    assert np.allclose(np.cos(angle), 1.0, atol=1e-4)
    assert not np.array_equal(two_spirals(400, 0.1, 0)[0], two_spirals(400, 0.1, 1)[0])


def test_checkerboard_labels_match_cells() -> None:
    X, y = checkerboard(1000, 0.0, 3, cells=4)
    assert X.shape == (1000, 2) and X.dtype == np.float32 and y.dtype == np.int64
    cell = np.floor((X + 1) / 2 * 4).astype(int)
    assert np.array_equal(y, (cell[:, 0] + cell[:, 1]) % 2)
    assert 0.4 < y.mean() < 0.6
    X2, y2 = checkerboard(1000, 0.0, 3, cells=4)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_glyphs_shapes_labels_and_seed() -> None:
    X, y = glyphs(20, seed=1)
    assert X.shape == (200, 1, 16, 16) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), np.full(10, 20))
    X2, y2 = glyphs(20, seed=1)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, glyphs(20, seed=2)[0])


def test_glyph_classes_are_distinct_images() -> None:
    X, y = glyphs(1, 0, noise=0.0, max_shift=0.0, max_rotation_deg=0.0, classes=range(len(GLYPH_NAMES)))
    assert len(GLYPH_NAMES) >= 16 and len(DIGITS) == 10
    images = X[np.argsort(y), 0].reshape(len(GLYPH_NAMES), -1)
    distances = np.linalg.norm(images[:, None] - images[None], axis=-1)
    assert distances[~np.eye(len(images), dtype=bool)].min() > 2.0  # every pair differs clearly
    assert ((images > 0.5).sum(axis=1) > 10).all()  # every glyph has ink


def test_glyph_subsets_and_styles_shift_the_domain() -> None:
    _, y = glyphs(5, 0, classes=[5, 6, 7])
    assert set(np.unique(y)) == {5, 6, 7}
    plain = glyphs(30, 0, noise=0.0)[0]
    thick = glyphs(30, 0, noise=0.0, style="thick")[0]
    inverted = glyphs(30, 0, noise=0.0, style="inverted")[0]
    assert thick.mean() > 1.5 * plain.mean()
    assert inverted.mean() > 0.5 > plain.mean()
    with pytest.raises(ValueError):
        glyphs(5, 0, classes=[99])
    with pytest.raises(ValueError):
        glyphs(5, 0, style="bold")  # type: ignore[arg-type]


def test_glyph_augmentation_moves_ink() -> None:
    still = glyphs(50, 0, noise=0.0, max_shift=0.0, max_rotation_deg=0.0, classes=[1])[0]
    moved = glyphs(50, 0, noise=0.0, max_shift=2.0, max_rotation_deg=15.0, classes=[1])[0]
    spread_still = still.reshape(50, -1).std(axis=0).mean()  # only the scale jitter varies
    spread_moved = moved.reshape(50, -1).std(axis=0).mean()
    assert spread_moved > 2 * spread_still


def test_many_glyphs_come_out_whole() -> None:
    images, labels = glyphs(500, 0)
    assert len(images) == len(labels) == 500 * 10 and np.isfinite(images).all()  # 500 of each digit
