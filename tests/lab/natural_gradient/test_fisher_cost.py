"""The cost job: its numpy Fisher is the exact one, it completes, it stops at any yield."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from explorer.lab.core.protocol import Progress, run_job
from explorer.lab.natural_gradient import fisher, fisher_cost

SMALL = fisher_cost.CostConfig(exact_widths=(4, 8, 16, 24), kfac_widths=(8, 16, 32, 64), n_examples=64, repeats=1)


def _torch_mlp(weights: list[np.ndarray]) -> nn.Module:
    layers: list[nn.Module] = []
    for i, w in enumerate(weights):
        linear = nn.Linear(w.shape[1] - 1, w.shape[0]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w[:, :-1]))
            linear.bias.copy_(torch.from_numpy(w[:, -1]))
        layers += [linear, nn.Tanh()] if i < len(weights) - 1 else [linear]
    return nn.Sequential(*layers)


def _problem(width: int = 5, n: int = 24) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    weights = fisher_cost.mlp_weights(fisher_cost.layer_widths(width, SMALL), seed=0)
    rng = np.random.default_rng(1)
    return weights, rng.standard_normal((n, 2)).astype(np.float32), rng.integers(0, 2, n)


def test_numpy_dense_fisher_and_gradient_match_the_torch_exact_fisher() -> None:
    weights, X, y = _problem()
    stats = fisher_cost.mlp_statistics(weights, X, y)
    model, inputs = _torch_mlp(weights), torch.from_numpy(X).double()
    expected = fisher.exact_fisher(model, inputs).numpy()
    assert fisher_cost.mlp_parameter_count(fisher_cost.layer_widths(5, SMALL)) == expected.shape[0]
    np.testing.assert_allclose(fisher_cost.dense_fisher(stats), expected, atol=2e-6)
    fisher.negative_log_likelihood(model(inputs), torch.from_numpy(y), "categorical").backward()
    np.testing.assert_allclose(fisher_cost.flat_mlp_gradient(stats), fisher.flat_gradient(model).numpy(), atol=1e-6)


def test_numpy_kfac_direction_matches_the_torch_kfac_preconditioner() -> None:
    from explorer.lab.natural_gradient import kfac

    weights, X, y = _problem()
    directions = fisher_cost.kfac_natural_gradient(weights, X, y, damping=1e-2)
    model = _torch_mlp(weights)
    factors = fisher.kfac_factors(model, torch.from_numpy(X).double())
    stats = fisher_cost.mlp_statistics(weights, X, y)
    for (A, G), grad, direction in zip(factors, stats.gradients, directions, strict=True):
        a_inv, g_inv = kfac.damped_inverses(A, G, 1e-2)
        expected = kfac.kfac_precondition(a_inv, g_inv, torch.from_numpy(grad).double()).numpy()
        np.testing.assert_allclose(direction, expected, rtol=1e-3, atol=1e-5)


def test_exact_natural_gradient_solves_the_damped_system() -> None:
    weights, X, y = _problem()
    stats = fisher_cost.mlp_statistics(weights, X, y)
    F = fisher_cost.dense_fisher(stats).astype(np.float64)
    d = fisher_cost.exact_natural_gradient(weights, X, y, damping=1e-2)
    np.testing.assert_allclose((F + 1e-2 * np.eye(len(F))) @ d, fisher_cost.flat_mlp_gradient(stats), atol=1e-4)


def test_cost_job_completes_with_progress_and_slopes() -> None:
    job = fisher_cost.measure_cost(SMALL)
    reports: list[Progress] = []
    while True:
        try:
            reports.append(next(job))
        except StopIteration as stop:
            result = stop.value
            break
    assert len(reports) == 4 + 4 + 1
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for curve in (result.exact, result.kfac):
        assert len(curve.n_params) == 4 and np.all(np.diff(curve.n_params) > 0)
        assert np.all(curve.seconds > 0) and np.all(curve.peak_bytes > 0)
        assert np.isfinite(curve.memory_slope) and np.isfinite(curve.time_slope)
    # the dense Fisher alone is 4 P² bytes, so the traced peak must be at least that
    assert np.all(result.exact.peak_bytes >= 4 * result.exact.n_params**2)
    assert result.exact.memory_slope > result.kfac.memory_slope


def test_cost_job_can_be_stopped_after_the_first_progress() -> None:
    job = fisher_cost.measure_cost(fisher_cost.CostConfig())
    first = next(job)
    assert isinstance(first, Progress) and 0 < first.fraction < 1
    job.close()
    with pytest.raises(StopIteration):
        next(job)


def test_exact_sweep_stops_at_the_memory_limit() -> None:
    cfg = fisher_cost.CostConfig(exact_widths=(4, 8, 400), kfac_widths=(8, 16), n_examples=16, max_fisher_bytes=1e8)
    result = run_job(fisher_cost.measure_cost(cfg))
    assert list(result.exact.widths) == [4, 8]
    assert "GiB" in result.exact.stopped_reason


def test_extrapolation_is_labelled_a_formula() -> None:
    rows = fisher_cost.extrapolate(flops_per_second=1e10)
    assert [r.name for r in rows] == ["ResNet-50", "BERT-base", "GPT-2 XL"]
    resnet = rows[0]
    assert resnet.fisher_entries == pytest.approx(25.6e6**2)
    assert resnet.fisher_bytes_fp32 == pytest.approx(4 * 25.6e6**2)  # 2.6 PB
    assert resnet.cholesky_flops == pytest.approx(25.6e6**3 / 3)
    assert resnet.seconds_at_measured_rate == pytest.approx(25.6e6**3 / 3 / 1e10)
    assert all(r.source == "formula, not measured" for r in rows)


def test_log_log_slope_recovers_a_power_law() -> None:
    p = np.array([10.0, 100.0, 1000.0, 10000.0])
    assert fisher_cost.log_log_slope(p, 3 * p**2) == pytest.approx(2.0)
    values = p**3 + 1e9  # only the two largest points count: a line through them
    expected = np.log(values[3] / values[2]) / np.log(10.0)
    assert fisher_cost.log_log_slope(p, values, min_params=1000.0) == pytest.approx(expected)
