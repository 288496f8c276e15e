"""The lab's public API (the README's "From Python" calls and those the tabs make) under edge values.

The only exception allowed is ValueError; finite input gives finite output where the result is promised
finite (a diverging optimizer path ends in NaN rows by design: everything before is finite).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.lab.entropy import information
from explorer.lab.label_smoothing import smoothing
from explorer.lab.natural_gradient import fisher
from explorer.lab.saddle import optim, surfaces

EDGE_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e-200, 5e-324, 1e300, -1e300, math.nan, math.inf, -math.inf]),
    st.integers(min_value=-(10**400), max_value=10**400),
)
EDGE_INTS = st.one_of(
    st.integers(min_value=-5, max_value=40),
    st.sampled_from([-1, 0, 10**9, 10**12, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


def _cap(n: object, limit: int) -> object:
    """A whole number above ``limit`` becomes ``limit`` (the values matter here, not the length); others stay."""
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        return n
    if isinstance(n, float) and not (math.isfinite(n) and n.is_integer()):
        return n
    return limit if n > limit else n


def _refused_or(call, check=None) -> None:
    try:
        result = call()
    except ValueError:
        return
    if check is not None:
        verdict = check(result)  # a check asserts, or returns whether the result is sane
        assert verdict is None or verdict, result


@given(mu=EDGE_FLOATS, sigma=EDGE_FLOATS, parameterization=st.sampled_from(["sigma", "log_sigma", "sd", ""]))
def test_gaussian_fisher(mu, sigma, parameterization):
    def finite_if_finite_input(f: np.ndarray) -> None:
        assert np.all(np.isfinite(f)) and f.shape == (2, 2)

    _refused_or(lambda: fisher.gaussian_fisher(mu, sigma, parameterization), finite_if_finite_input)


@given(
    surface=st.sampled_from(surfaces.NAMES),
    name=st.sampled_from([*optim.NAMES, "lbfgs"]),
    x=EDGE_FLOATS,
    y=EDGE_FLOATS,
    steps=EDGE_INTS,
    lr=st.one_of(st.none(), EDGE_FLOATS),
)
def test_trajectory(surface, name, x, y, steps, lr):
    s = surfaces.get(surface)

    def sane(path: np.ndarray) -> None:
        assert path.shape == (int(steps) + 1, 2)
        end = optim.divergence_step(path)
        assert np.all(np.isfinite(path[: end if end is not None else len(path)]))
        if end is not None:
            assert np.all(np.isnan(path[end:]))

    steps = _cap(steps, 60)
    _refused_or(lambda: optim.trajectory(s, name, (x, y), steps, lr=lr, seed=0), sane)


@given(labels=st.lists(st.integers(-3, 30), max_size=8), k=EDGE_INTS, eps=EDGE_FLOATS)
def test_smooth_targets(labels, k, eps):
    def rows_sum_to_one(t: np.ndarray) -> None:
        assert np.all(np.isfinite(t)) and t.shape == (len(labels), int(k))
        np.testing.assert_allclose(t.sum(axis=-1), 1.0)

    _refused_or(lambda: smoothing.smooth_targets(labels, k, eps), rows_sum_to_one)
    _refused_or(lambda: smoothing.optimal_true_prob(k, eps), lambda q: 0 < q <= 1)


@given(k=st.integers(2, 12), separation=EDGE_FLOATS, n=EDGE_INTS, dim=st.integers(-1, 8))
def test_make_clusters(k, separation, n, dim):
    n = _cap(n, 200)

    def finite(data: tuple) -> None:
        assert all(np.all(np.isfinite(a)) for a in data)

    _refused_or(lambda: smoothing.make_clusters(k, n, n, dim, separation, seed=0), finite)


@given(p=st.lists(EDGE_FLOATS, max_size=6), base=EDGE_FLOATS)
def test_entropy_and_huffman(p, base):
    _refused_or(lambda: information.entropy(p, base), lambda h: math.isfinite(h) and h >= 0)
    _refused_or(lambda: information.huffman_code(p), lambda code: information.is_prefix_free(code))


@given(kind=st.sampled_from([*information.PRESET_KINDS, "bogus"]), k=EDGE_INTS, shape=st.one_of(st.none(), EDGE_FLOATS))
def test_presets(kind, k, shape):
    def distribution(p: np.ndarray) -> None:
        assert np.all(np.isfinite(p)) and abs(p.sum() - 1) < 1e-9

    _refused_or(lambda: information.presets(kind, k, shape), distribution)


@given(p=st.sampled_from([[0.5, 0.5], [0.9, 0.05, 0.05]]), n=EDGE_INTS, seed=EDGE_INTS)
def test_compress(p, n, seed):
    n = _cap(n, 500)
    _refused_or(lambda: information.compress(p, n, seed), lambda c: c.round_trip)


@pytest.mark.slow
@given(depth=EDGE_INTS, device=st.sampled_from(["cpu", "tpu", "cuda:x", "", "CPU"]))
def test_grad_norms_at_init(depth, device):
    from explorer.lab.vanishing import gradflow

    depth = _cap(depth, 6)
    _refused_or(
        lambda: gradflow.grad_norms_at_init(depth=depth, n_points=32, width=4, device=device),
        lambda g: np.all(np.isfinite(g)),
    )
