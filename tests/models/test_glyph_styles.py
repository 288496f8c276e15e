"""Glyph pen styles: the domain shift of the fine-tuning target keeps the shape and changes the rendering."""

from __future__ import annotations

import numpy as np

from models import glyphs

SHAPES = range(10, 16)


def test_thick_and_inverted_pens_draw_the_same_glyphs_differently():
    clean = {"noise": 0.0}
    plain, y = glyphs(20, 5, style="plain", classes=SHAPES, **clean)
    thick, y_thick = glyphs(20, 5, style="thick", classes=SHAPES, **clean)
    inverted, y_inv = glyphs(20, 5, style="inverted", classes=SHAPES, **clean)
    assert np.array_equal(y, y_thick) and np.array_equal(y, y_inv)  # same draws, same order
    assert set(y.tolist()) == set(SHAPES)
    np.testing.assert_allclose(inverted, 1.0 - plain, atol=1e-6)
    assert np.all(thick >= plain - 1e-6)  # a wider pen inks every pixel the thin one does
    assert thick.mean() > 1.5 * plain.mean()
