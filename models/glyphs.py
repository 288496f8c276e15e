"""Procedural 16x16 glyph images: ten stroke-drawn digits and six geometric shapes, drawn with numpy.

Each class is a set of pen strokes (polylines) in a [-1, 1]^2 canvas. An image is the stroke set
under a random rotation, scale and shift, rendered by distance to the nearest stroke with a one-pixel
soft edge, plus Gaussian pixel noise: an MNIST-sized task that needs no download. ``style`` changes
the rendering (thicker pen, inverted contrast) without changing the classes, the kind of domain shift
fine-tuning is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

SIZE = 16
GlyphStyle = Literal["plain", "thick", "inverted"]
STYLES: tuple[str, ...] = get_args(GlyphStyle)
# Stroke half-width in canvas units (one pixel is 2/16 = 0.125).
_HALF_WIDTH = {"plain": 0.07, "thick": 0.17, "inverted": 0.07}
_EDGE = 0.125  # one pixel of anti-aliasing


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 10) -> np.ndarray:
    """Points along an elliptic arc from angle a0 to a1 (degrees, counter-clockwise positive)."""
    a = np.deg2rad(np.linspace(a0, a1, n + 1))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)  # (n + 1, 2)


def _line(*points: tuple[float, float]) -> np.ndarray:
    return np.asarray(points, dtype=np.float64)


# Strokes per class; y points up, the glyph body spans about [-0.45, 0.45] x [-0.7, 0.7].
_STROKES: dict[str, list[np.ndarray]] = {
    "0": [_arc(0, 0, 0.42, 0.68, 0, 360, 14)],
    "1": [_line((-0.22, 0.45), (0.02, 0.7), (0.02, -0.7)), _line((-0.22, -0.7), (0.26, -0.7))],
    "2": [_arc(0, 0.33, 0.38, 0.36, 160, -35, 8), _line((0.31, 0.12), (-0.42, -0.7), (0.44, -0.7))],
    "3": [_arc(0, 0.36, 0.34, 0.33, 150, -90, 8), _arc(0, -0.33, 0.4, 0.37, 90, -160, 8)],
    "4": [_line((0.2, -0.72), (0.2, 0.72), (-0.44, -0.22), (0.44, -0.22))],
    "5": [_line((0.4, 0.7), (-0.32, 0.7), (-0.38, 0.08)), _arc(0, -0.28, 0.4, 0.42, 125, -155, 9)],
    "6": [_arc(0, -0.3, 0.38, 0.4, 0, 360, 10), _line((-0.37, -0.2), (-0.2, 0.35), (0.25, 0.72))],
    "7": [_line((-0.44, 0.7), (0.44, 0.7), (-0.08, -0.72))],
    "8": [_arc(0, 0.38, 0.3, 0.3, 0, 360, 10), _arc(0, -0.32, 0.38, 0.38, 0, 360, 10)],
    "9": [_arc(0, 0.3, 0.38, 0.4, 0, 360, 10), _line((0.37, 0.2), (0.2, -0.35), (-0.25, -0.72))],
    "plus": [_line((0, -0.7), (0, 0.7)), _line((-0.6, 0), (0.6, 0))],
    "times": [_line((-0.5, -0.6), (0.5, 0.6)), _line((-0.5, 0.6), (0.5, -0.6))],
    "triangle": [_line((0, 0.65), (-0.6, -0.55), (0.6, -0.55), (0, 0.65))],
    "square": [_line((-0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.5, -0.5), (-0.5, -0.5))],
    "diamond": [_line((0, 0.72), (-0.55, 0), (0, -0.72), (0.55, 0), (0, 0.72))],
    "hourglass": [_line((-0.5, 0.65), (0.5, 0.65), (-0.5, -0.65), (0.5, -0.65), (-0.5, 0.65))],
}
GLYPH_NAMES: tuple[str, ...] = tuple(_STROKES)
DIGITS: tuple[int, ...] = tuple(range(10))


def _segments(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Start points and direction vectors of every straight piece of a glyph's strokes."""
    starts = np.concatenate([s[:-1] for s in _STROKES[name]])  # (S, 2)
    ends = np.concatenate([s[1:] for s in _STROKES[name]])  # (S, 2)
    return starts, ends - starts


# Pixel centres in canvas coordinates, row 0 at the top.
_centres = (np.arange(SIZE) + 0.5) / SIZE * 2.0 - 1.0
_PIXELS = np.stack(np.meshgrid(_centres, -_centres, indexing="xy"), axis=-1).reshape(-1, 2)  # (256, 2)


def render(name: str, angle: np.ndarray, scale: np.ndarray, shift: np.ndarray, half_width: float) -> np.ndarray:
    """Ink in [0, 1] of ``len(angle)`` copies of glyph ``name``, each under its own similarity transform.

    Rather than moving the strokes, every pixel centre is mapped back into the glyph's frame
    (inverse rotation and scale) and its distance to the nearest stroke decides its ink.
    """
    starts, dirs = _segments(name)
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]  # (n, 1)
    px = (_PIXELS[None, :, 0] - shift[:, :1]) / scale[:, None]  # (n, 256)
    py = (_PIXELS[None, :, 1] - shift[:, 1:]) / scale[:, None]
    # Rotate by -angle; float32 halves the memory traffic of the loop below.
    qx = (cos * px + sin * py).astype(np.float32)  # (n, 256)
    qy = (-sin * px + cos * py).astype(np.float32)
    dist2 = np.full(qx.shape, np.inf, dtype=np.float32)
    # Distance to each segment: project onto it, clamp to its ends; one segment at a time keeps
    # the (n, 256) temporaries in cache.
    for (ax, ay), (vx, vy) in zip(starts.astype(np.float32), dirs.astype(np.float32), strict=True):
        rx, ry = qx - ax, qy - ay
        t = np.clip((rx * vx + ry * vy) * (1.0 / (vx * vx + vy * vy)), 0.0, 1.0)
        np.minimum(dist2, (rx - t * vx) ** 2 + (ry - t * vy) ** 2, out=dist2)
    ink = np.clip(1.0 - (np.sqrt(dist2) - half_width) / _EDGE, 0.0, 1.0)
    return ink.reshape(-1, SIZE, SIZE)  # (n, 16, 16)


def glyphs(
    n_per_class: int,
    seed: int,
    noise: float = 0.1,
    max_shift: float = 2.0,
    max_rotation_deg: float = 15.0,
    style: GlyphStyle = "plain",
    classes: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A shuffled, labelled set of 16x16 glyph images.

    ``classes`` picks indices into GLYPH_NAMES (default: the ten digits); labels keep those indices, so
    a subset of classes trains a head of ``max(classes) + 1`` outputs or is remapped by the caller.
    Shifts are uniform in +-``max_shift`` pixels, rotations in +-``max_rotation_deg``, scales in
    [0.85, 1.1]; ``noise`` is the std of Gaussian pixel noise. Returns X float32 (n, 1, 16, 16) and
    y int64 (n,) with n = n_per_class * len(classes).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    chosen = list(DIGITS if classes is None else classes)
    if not chosen or min(chosen) < 0 or max(chosen) >= len(GLYPH_NAMES):
        raise ValueError(f"classes must index GLYPH_NAMES (0..{len(GLYPH_NAMES) - 1}), got {chosen}")
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be positive, got {n_per_class}")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c in chosen:
        angle = np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg, n_per_class))
        scale = rng.uniform(0.85, 1.1, n_per_class)
        shift = rng.uniform(-max_shift, max_shift, (n_per_class, 2)) * (2.0 / SIZE)  # pixels -> canvas
        images.append(render(GLYPH_NAMES[c], angle, scale, shift, _HALF_WIDTH[style]))
        labels.append(np.full(n_per_class, c, dtype=np.int64))
    X = np.concatenate(images)[:, None]  # (n, 1, 16, 16)
    if style == "inverted":
        X = 1.0 - X
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(X))
    return X[order].astype(np.float32), np.concatenate(labels)[order]
