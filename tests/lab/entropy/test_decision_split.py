"""The decision-tree split scan: vectorised gains agree with the direct formula and find known cuts."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.lab.entropy import decision_split, information


def test_blobs_are_seeded_and_labelled() -> None:
    points, labels = decision_split.make_blobs(n_per_class=20, num_classes=3, seed=1)
    again, _ = decision_split.make_blobs(n_per_class=20, num_classes=3, seed=1)
    assert points.shape == (60, 2) and points.dtype == np.float64
    np.testing.assert_array_equal(np.bincount(labels), [20, 20, 20])
    np.testing.assert_array_equal(points, again)
    with pytest.raises(ValueError):
        decision_split.make_blobs(num_classes=4)
    with pytest.raises(ValueError, match="spread"):
        decision_split.Blobs(spread=0.0)


def test_the_point_set_config_draws_what_make_blobs_draws() -> None:
    blobs = decision_split.Blobs(n_per_class=20, num_classes=2, seed=3, spread=0.5)
    for drawn, made in zip(blobs.draw(), decision_split.make_blobs(20, 2, 3, 0.5), strict=True):
        np.testing.assert_array_equal(drawn, made)


def test_scan_finds_a_known_threshold() -> None:
    # Class 0 at x in {0, 1, 2}, class 1 at x in {5, 6}: the only perfect cut is between 2 and 5.
    points = np.array([[0.0, 9.0], [1.0, 3.0], [2.0, 7.0], [5.0, 1.0], [6.0, 8.0]])
    labels = np.array([0, 0, 0, 1, 1])
    scan = decision_split.scan_thresholds(points, labels, feature=0)
    np.testing.assert_allclose(scan.thresholds, [0.5, 1.5, 3.5, 5.5])
    assert scan.best_threshold == pytest.approx(3.5)
    assert scan.best_gain == pytest.approx(information.label_entropy(labels))
    best = decision_split.best_split(points, labels)
    assert best.feature == 0 and best.threshold == pytest.approx(3.5)
    assert len(best.scans) == 2 and best.scans[1].best_gain < best.gain


def test_scan_gains_match_information_gain_at_every_threshold() -> None:
    points, labels = decision_split.make_blobs(n_per_class=15, num_classes=3, seed=4, spread=1.5)
    for feature in (0, 1):
        scan = decision_split.scan_thresholds(points, labels, feature)
        assert scan.thresholds.shape == scan.gains.shape
        assert np.all(np.diff(scan.thresholds) > 0)
        direct = [information.information_gain(labels, points[:, feature] <= t) for t in scan.thresholds]
        np.testing.assert_allclose(scan.gains, direct, atol=1e-12)
        assert scan.best_gain == pytest.approx(max(direct))


def test_split_entropies_describe_both_children() -> None:
    points, labels = decision_split.make_blobs(n_per_class=30, num_classes=2, seed=0, spread=0.5)
    split = decision_split.split_entropies(points, labels, feature=0, threshold=0.0)
    assert split.left_count + split.right_count == 60
    assert split.parent_entropy == pytest.approx(1.0)
    weighted = (split.left_count * split.left_entropy + split.right_count * split.right_entropy) / 60
    assert split.gain == pytest.approx(split.parent_entropy - weighted)
    # The two blobs sit at x = -2 and x = +2 with a small spread: x <= 0 separates them.
    assert split.gain == pytest.approx(1.0)


def test_tied_values_never_get_split_apart() -> None:
    points = np.array([[1.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    labels = np.array([0, 1, 1])
    scan = decision_split.scan_thresholds(points, labels, feature=0)
    np.testing.assert_allclose(scan.thresholds, [1.5])
    flat = decision_split.scan_thresholds(points, labels, feature=1)
    assert flat.thresholds.size == 0 and flat.best_gain == 0.0


def test_scan_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError, match="does not match"):
        decision_split.scan_thresholds(np.zeros((3, 2)), np.zeros(4, dtype=int), 0)
    with pytest.raises(ValueError, match="feature"):
        decision_split.scan_thresholds(np.zeros((3, 2)), np.zeros(3, dtype=int), 2)
