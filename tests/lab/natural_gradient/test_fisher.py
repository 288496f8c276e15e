"""Exact and empirical Fisher matrices against closed forms and brute-force sums."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from explorer.lab.natural_gradient import fisher


def _mlp(n_classes: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, n_classes)).double()


def _inputs(n: int, d: int = 2, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _per_label_gradient(model: nn.Module, x: torch.Tensor, label: torch.Tensor, likelihood: str) -> torch.Tensor:
    model.zero_grad()
    fisher.negative_log_likelihood(model(x[None]), label[None], likelihood).backward()
    return fisher.flat_gradient(model)


@pytest.mark.parametrize(
    ("parameterization", "expected"), [("sigma", [1 / 0.49, 2 / 0.49]), ("log_sigma", [1 / 0.49, 2.0])]
)
def test_gaussian_fisher_is_the_analytic_form(parameterization: str, expected: list[float]) -> None:
    np.testing.assert_allclose(fisher.gaussian_fisher(0.3, 0.7, parameterization), np.diag(expected), rtol=1e-12)


def test_gaussian_fisher_rejects_a_non_positive_sigma() -> None:
    with pytest.raises(ValueError, match="sigma"):
        fisher.gaussian_fisher(0.0, 0.0)


def test_exact_fisher_of_logistic_regression_is_xt_diag_p_1mp_x_over_n() -> None:
    X = _inputs(40, 3)
    model = nn.Linear(3, 1).double()
    F = fisher.exact_fisher(model, X, "bernoulli")
    design = torch.cat([X, torch.ones(40, 1, dtype=X.dtype)], dim=1)  # weight columns, then the bias
    with torch.no_grad():
        p = torch.sigmoid(model(X))[:, 0]
    expected = design.T @ (design * (p * (1 - p))[:, None]) / 40
    torch.testing.assert_close(F, expected, rtol=1e-10, atol=1e-12)


def test_true_fisher_is_the_class_sum_weighted_by_the_model_probabilities() -> None:
    model, X = _mlp(), _inputs(12)
    expected = torch.zeros(fisher.parameter_count(model), fisher.parameter_count(model), dtype=torch.float64)
    for x in X:
        with torch.no_grad():
            p = model(x[None]).softmax(dim=1)[0]
        for c in range(3):
            g = _per_label_gradient(model, x, torch.tensor(c), "categorical")
            expected += p[c] * torch.outer(g, g) / len(X)
    torch.testing.assert_close(fisher.exact_fisher(model, X), expected, rtol=1e-9, atol=1e-12)


def test_true_fisher_is_the_generalised_gauss_newton_matrix() -> None:
    model, X = _mlp(), _inputs(10)
    jac = fisher.output_jacobian(model, X)  # (n, K, P)
    with torch.no_grad():
        p = model(X).softmax(dim=1)
    hessian = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # of the cross-entropy in the logits
    expected = torch.einsum("nkp,nkl,nlq->pq", jac, hessian, jac) / len(X)
    torch.testing.assert_close(fisher.exact_fisher(model, X), expected, rtol=1e-9, atol=1e-12)


def test_empirical_fisher_is_the_mean_outer_product_of_observed_label_gradients() -> None:
    model, X = _mlp(), _inputs(15)
    y = torch.randint(0, 3, (15,), generator=torch.Generator().manual_seed(2))
    grads = torch.stack([_per_label_gradient(model, x, label, "categorical") for x, label in zip(X, y, strict=True)])
    torch.testing.assert_close(fisher.empirical_fisher(model, X, y), grads.T @ grads / 15, rtol=1e-9, atol=1e-12)


def test_empirical_fisher_differs_from_the_true_fisher_and_vanishes_at_a_perfect_fit() -> None:
    model, X = _mlp(), _inputs(20)
    y = torch.randint(0, 3, (20,), generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(fisher.empirical_fisher(model, X, y), fisher.exact_fisher(model, X), atol=1e-3)
    regression = nn.Linear(2, 1).double()
    with torch.no_grad():
        targets = regression(X)  # labels the model already predicts exactly
    assert fisher.empirical_fisher(regression, X, targets, "gaussian").abs().max() < 1e-20
    assert fisher.exact_fisher(regression, X, "gaussian").diagonal().min() > 0.1


def test_gaussian_likelihood_fisher_is_jt_j() -> None:
    model, X = _mlp(2), _inputs(8)
    jac = fisher.output_jacobian(model, X)
    expected = torch.einsum("nkp,nkq->pq", jac, jac) / 8
    torch.testing.assert_close(fisher.exact_fisher(model, X, "gaussian"), expected, rtol=1e-9, atol=1e-12)


def test_fisher_is_symmetric_positive_semidefinite() -> None:
    F = fisher.exact_fisher(_mlp(), _inputs(30))
    torch.testing.assert_close(F, F.T)
    assert torch.linalg.eigvalsh(F).min() > -1e-10


class _TanhPair(nn.Module):
    """y_hat = w2 tanh(w1 x): at w = 0 both partial derivatives vanish, so the Fisher is zero."""

    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.zeros((), dtype=torch.float64))
        self.w2 = nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2 * torch.tanh(self.w1 * x)


def test_damping_keeps_the_zero_fisher_at_the_origin_solvable() -> None:
    model, x = _TanhPair(), _inputs(16, 1)
    F = fisher.exact_fisher(model, x, "gaussian")
    assert torch.count_nonzero(F) == 0
    grad = torch.tensor([0.5, -2.0], dtype=torch.float64)
    direction = fisher.natural_gradient_direction(F, grad, damping=1e-3)
    assert torch.isfinite(direction).all()
    torch.testing.assert_close(direction, grad / 1e-3)
    np.testing.assert_allclose(fisher.natural_gradient_direction(F.numpy(), grad.numpy(), 1e-3), grad.numpy() / 1e-3)


def test_natural_gradient_direction_solves_the_damped_system() -> None:
    F = fisher.exact_fisher(_mlp(), _inputs(6))  # rank-deficient: 6 examples x 2 free classes < P
    grad = torch.linspace(-1, 1, F.shape[0], dtype=torch.float64)
    direction = fisher.natural_gradient_direction(F, grad, damping=0.1)
    torch.testing.assert_close((F + 0.1 * torch.eye(F.shape[0], dtype=F.dtype)) @ direction, grad)


def test_parameter_helpers_round_trip() -> None:
    model = _mlp()
    before = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    step = torch.arange(fisher.parameter_count(model), dtype=torch.float64)
    fisher.add_to_parameters(model, step)
    after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    torch.testing.assert_close(after - before, step)


def test_empirical_fisher_needs_labels() -> None:
    with pytest.raises(ValueError, match="labels"):
        fisher.fisher_matrix(_mlp(), _inputs(3), kind="empirical")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_exact_fisher_and_kfac_factors_on_cuda_match_cpu() -> None:
    model, X = _mlp(), _inputs(10)
    cuda_model, cuda_X = _mlp().cuda(), X.cuda()
    torch.testing.assert_close(fisher.exact_fisher(cuda_model, cuda_X).cpu(), fisher.exact_fisher(model, X))
    for (A, G), (A_c, G_c) in zip(fisher.kfac_factors(model, X), fisher.kfac_factors(cuda_model, cuda_X), strict=True):
        torch.testing.assert_close(A_c.cpu(), A)
        torch.testing.assert_close(G_c.cpu(), G)
