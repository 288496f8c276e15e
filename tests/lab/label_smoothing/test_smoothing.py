"""Label smoothing maths, calibration measures and the template-plane projection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_softmax

from explorer.lab.label_smoothing import penultimate, smoothing

# ---------------------------------------------------------------- smoothed targets


def test_smoothed_target_example_from_the_issue() -> None:
    np.testing.assert_allclose(smoothing.smooth_targets(2, 4, 0.08), [0.02, 0.02, 0.94, 0.02], atol=1e-15)


def test_smoothed_targets_rows_are_distributions() -> None:
    labels = np.array([[0, 3], [2, 1]])
    targets = smoothing.smooth_targets(labels, 5, 0.1)
    assert targets.shape == (2, 2, 5) and targets.dtype == np.float64
    np.testing.assert_allclose(targets.sum(axis=-1), 1.0)
    assert targets[0, 1, 3] == pytest.approx(0.92) and targets[0, 1, 0] == pytest.approx(0.02)
    np.testing.assert_array_equal(smoothing.smooth_targets([1, 0], 3, 0.0), [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize(
    ("labels", "k", "eps", "message"),
    [
        ([0, 1], 3, 1.0, "eps"),
        ([0, 1], 3, -0.1, "eps"),
        ([0, 1], 3, math.nan, "eps"),
        ([0], 1, 0.1, "between 2 and"),
        ([0, 3], 3, 0.1, r"in \[0, 3\)"),
        ([0.0, 1.0], 3, 0.1, "integers"),
    ],
)
def test_bad_smoothing_input_raises_value_error(labels: list, k: int, eps: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        smoothing.smooth_targets(labels, k, eps)


# ---------------------------------------------------------------- the loss and its optimum


def test_one_hot_loss_is_minus_log_q_and_keeps_falling() -> None:
    q = np.linspace(0.05, 1.0, 96)
    loss = smoothing.loss_vs_true_prob(q, 10, 0.0)
    np.testing.assert_allclose(loss, -np.log(q), atol=1e-12)
    assert np.all(np.diff(loss) < 0) and loss[-1] == 0.0


@pytest.mark.parametrize(("k", "eps"), [(10, 0.1), (4, 0.08), (2, 0.3)])
def test_smoothed_loss_has_a_finite_optimum_below_one(k: int, eps: float) -> None:
    q = np.linspace(1e-3, 1 - 1e-9, 200_001)
    loss = smoothing.loss_vs_true_prob(q, k, eps)
    assert q[np.argmin(loss)] == pytest.approx(smoothing.optimal_true_prob(k, eps), abs=1e-4)
    assert smoothing.loss_vs_true_prob(1.0, k, eps) == math.inf
    # At the optimum the prediction equals the target, so the loss is the target's entropy.
    t = smoothing.smooth_targets(0, k, eps)
    entropy_nats = -np.sum(t * np.log(t))
    assert smoothing.loss_vs_true_prob(t[0], k, eps) == pytest.approx(entropy_nats)


@pytest.mark.parametrize(("k", "eps"), [(10, 0.1), (4, 0.08), (3, 0.5), (5, 0.01)])
def test_optimal_logit_gap_matches_direct_minimisation(k: int, eps: float) -> None:
    target = smoothing.smooth_targets(1, k, eps)

    def loss_and_grad(z: np.ndarray) -> tuple[float, np.ndarray]:
        log_q = log_softmax(z)
        return float(-target @ log_q), np.exp(log_q) - target

    found = minimize(loss_and_grad, np.zeros(k), jac=True, method="BFGS", options={"gtol": 1e-12})
    wrong = np.delete(found.x, 1)
    np.testing.assert_allclose(wrong, wrong.mean(), atol=1e-5)  # all wrong logits tie at the optimum
    assert found.x[1] - wrong.mean() == pytest.approx(smoothing.optimal_logit_gap(k, eps), abs=1e-4)


def test_optimal_logit_gap_is_infinite_without_smoothing_and_shrinks_with_eps() -> None:
    assert smoothing.optimal_logit_gap(10, 0.0) == math.inf
    gaps = [smoothing.optimal_logit_gap(10, e) for e in (0.01, 0.05, 0.1, 0.3)]
    assert all(math.isfinite(g) for g in gaps) and gaps == sorted(gaps, reverse=True)
    assert smoothing.optimal_logit_gap(10, 0.1) == pytest.approx(math.log(0.91 / 0.01))


# ---------------------------------------------------------------- calibration


def synthetic_predictions(
    rng: np.random.Generator, n: int, k: int, overconfidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Confidences c ~ U(1/k + 0.05, 1) on a random class that is right with probability c - overconfidence."""
    c = rng.uniform(1 / k + 0.05, 1.0, n)
    predicted = rng.integers(0, k, n)
    probs = np.repeat(((1 - c) / (k - 1))[:, None], k, axis=1)
    probs[np.arange(n), predicted] = c
    right = rng.random(n) < c - overconfidence
    wrong_label = (predicted + rng.integers(1, k, n)) % k
    return probs, np.where(right, predicted, wrong_label)


def test_ece_of_calibrated_predictions_is_near_zero() -> None:
    probs, labels = synthetic_predictions(np.random.default_rng(0), 50_000, 5, 0.0)
    assert smoothing.expected_calibration_error(probs, labels) < 0.01


def test_ece_of_overconfident_predictions_is_clearly_positive() -> None:
    probs, labels = synthetic_predictions(np.random.default_rng(0), 50_000, 5, 0.25)
    ece = smoothing.expected_calibration_error(probs, labels)
    assert ece == pytest.approx(0.25, abs=0.03)
    diagram = smoothing.reliability_diagram(probs, labels, bins=10)
    full = diagram.counts > 0
    assert np.all(diagram.confidence[full] > diagram.accuracy[full])


def test_reliability_diagram_by_hand() -> None:
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.95, 0.05]])
    labels = np.array([0, 0, 0])
    diagram = smoothing.reliability_diagram(probs, labels, bins=10)
    np.testing.assert_allclose(diagram.edges, np.linspace(0, 1, 11))
    np.testing.assert_array_equal(diagram.counts, [0, 0, 0, 0, 0, 1, 0, 0, 1, 1])
    np.testing.assert_allclose(diagram.confidence[[5, 8, 9]], [0.6, 0.9, 0.95])
    np.testing.assert_allclose(diagram.accuracy[[5, 8, 9]], [0.0, 1.0, 1.0])
    assert diagram.ece == pytest.approx((0.6 + 0.1 + 0.05) / 3)
    edges, counts = smoothing.confidence_histogram(probs, bins=4)
    np.testing.assert_array_equal(counts, [0, 0, 1, 2])
    assert edges.shape == (5,)


@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        ([[0.5, 0.5]], [0, 1], "does not match"),
        ([[0.7, 0.7]], [0], "sum to 1"),
        ([[1.2, -0.2]], [0], "negative"),
        ([[0.5, 0.5]], [2], r"in \[0, 2\)"),
        ([0.5, 0.5], [0], r"\(N, K\)"),
    ],
)
def test_bad_calibration_input_raises_value_error(probs: list, labels: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        smoothing.expected_calibration_error(probs, labels)


# ---------------------------------------------------------------- the template plane


def test_template_plane_is_orthonormal_and_contains_the_templates() -> None:
    rng = np.random.default_rng(2)
    templates = rng.standard_normal((3, 16))
    basis = penultimate.template_plane(templates)
    np.testing.assert_allclose(basis.T @ basis, np.eye(2), atol=1e-12)
    projected = penultimate.project_onto_template_plane(templates, templates)
    # The plane contains the templates, so distances between them survive the projection.
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert np.linalg.norm(projected[a] - projected[b]) == pytest.approx(np.linalg.norm(templates[a] - templates[b]))
    assert projected[1, 0] > projected[0, 0] and projected[1, 1] == pytest.approx(projected[0, 1])
    assert projected[2, 1] > projected[0, 1]


def test_template_plane_rejects_collinear_templates() -> None:
    line = np.outer([0.0, 1.0, 2.0], np.ones(4))
    with pytest.raises(ValueError, match="collinear"):
        penultimate.template_plane(line)


def test_cluster_geometry_measures_tightness_and_evenness() -> None:
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2]])
    offsets = np.array([[0.01, 0.0], [-0.01, 0.0]])
    points = (corners[:, None, :] + offsets[None]).reshape(-1, 2)
    labels = np.repeat([0, 1, 2], 2)
    tight = penultimate.cluster_geometry(points, labels)
    assert tight.spread == pytest.approx(0.01) and tight.spacing_cv == pytest.approx(0.0, abs=1e-12)
    stretched = penultimate.cluster_geometry(points * [3.0, 1.0], labels)
    assert stretched.spacing_cv > 0.1
