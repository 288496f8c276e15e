from collections import Counter

import numpy as np
import pytest

from explorer.lab.saddle import surfaces


def kinds(name: str) -> Counter:
    return Counter(c.kind for c in surfaces.critical_points(surfaces.get(name)))


def test_himmelblau_has_four_minima_one_maximum_four_saddles():
    assert kinds("himmelblau") == Counter(minimum=4, maximum=1, saddle=4)
    minima = [c for c in surfaces.critical_points(surfaces.get("himmelblau")) if c.kind == "minimum"]
    assert any(abs(c.x - 3) < 1e-6 and abs(c.y - 2) < 1e-6 for c in minima)
    assert all(abs(c.value) < 1e-9 for c in minima)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("saddle", Counter(saddle=1)),
        ("monkey_saddle", Counter(degenerate=1)),
        ("rosenbrock", Counter(minimum=1)),
        ("six_hump_camel", Counter(minimum=6, maximum=2, saddle=7)),
        ("two_param_net", Counter(saddle=1)),
        ("logistic_2d", Counter(minimum=1)),
    ],
)
def test_critical_points_and_their_kinds(name, expected):
    assert kinds(name) == expected


def test_saddle_at_origin_has_eigenvalues_of_both_signs():
    (point,) = surfaces.critical_points(surfaces.get("two_param_net"))
    assert (point.x, point.y) == (0.0, 0.0)
    assert point.eigenvalues[0] < 0 < point.eigenvalues[1]


@pytest.mark.parametrize("name", surfaces.NAMES)
def test_gradient_and_hessian_match_finite_differences(name):
    s = surfaces.get(name)
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = s.bounds
    x, y = rng.uniform(x0, x1, 5), rng.uniform(y0, y1, 5)
    h = 1e-6
    fd_grad = np.stack(
        [(s.value(x + h, y) - s.value(x - h, y)) / (2 * h), (s.value(x, y + h) - s.value(x, y - h)) / (2 * h)], -1
    )
    np.testing.assert_allclose(s.grad(x, y), fd_grad, rtol=1e-5, atol=1e-5)
    fd_hess = np.stack(
        [(s.grad(x + h, y) - s.grad(x - h, y)) / (2 * h), (s.grad(x, y + h) - s.grad(x, y - h)) / (2 * h)], -2
    )
    np.testing.assert_allclose(s.hessian(x, y), fd_hess, rtol=1e-4, atol=1e-4)


def test_vectorised_over_grids():
    s = surfaces.get("two_param_net")
    gx, gy = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 5))
    assert s.value(gx, gy).shape == (5, 7)
    assert s.grad(gx, gy).shape == (5, 7, 2)
    assert s.hessian(gx, gy).shape == (5, 7, 2, 2)


def test_fisher_only_on_models():
    with pytest.raises(surfaces.NotAModelError):
        surfaces.get("himmelblau").fisher(0.0, 0.0)
    logistic = surfaces.get("logistic_2d")
    np.testing.assert_allclose(logistic.fisher(0.3, -0.2), logistic.hessian(0.3, -0.2))
    net = surfaces.get("two_param_net")
    np.testing.assert_allclose(net.fisher(0.0, 0.0), np.zeros((2, 2)))  # singular at the symmetric saddle
    f = net.fisher(0.7, 1.3)
    assert np.all(np.linalg.eigvalsh(f) >= -1e-12)


def test_unknown_surface_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown surface"):
        surfaces.get("banana")
