"""K-FAC factors against the exact Fisher where the Kronecker product is exact, and the optimizer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.lab.natural_gradient import fisher, kfac


def _inputs(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_kfac_is_the_exact_fisher_for_gaussian_linear_regression() -> None:
    # g = f(x) − y with y ~ N(f(x), I) is independent of the input a, so E[ggᵀ ⊗ aaᵀ] = G ⊗ A
    torch.manual_seed(0)
    model = nn.Linear(3, 2).double()
    X = _inputs(50, 3)
    [(A, G)] = fisher.kfac_factors(model, X, "gaussian")
    torch.testing.assert_close(G, torch.eye(2, dtype=torch.float64))
    torch.testing.assert_close(
        fisher.kfac_block(A, G), fisher.exact_fisher(model, X, "gaussian"), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("bias", [True, False])
def test_kfac_is_the_exact_fisher_for_one_linear_layer_and_one_example(bias: bool) -> None:
    torch.manual_seed(1)
    model = nn.Linear(4, 3, bias=bias).double()
    x = _inputs(1, 4)
    [(A, G)] = fisher.kfac_factors(model, x)
    assert A.shape == ((5, 5) if bias else (4, 4))
    exact = fisher.exact_fisher(model, x)
    torch.testing.assert_close(fisher.kfac_block(A, G, has_bias=bias), exact, rtol=1e-10, atol=1e-12)


def test_kfac_factors_cover_every_linear_layer_and_approximate_the_blocks() -> None:
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3)).double()
    X = _inputs(64, 2)
    factors = fisher.kfac_factors(model, X)
    assert [(A.shape[0], G.shape[0]) for A, G in factors] == [(3, 6), (7, 3)]
    exact = fisher.exact_fisher(model, X)
    last = exact[-(7 * 3) :, -(7 * 3) :]  # the output layer's block
    approx = fisher.kfac_block(*factors[1])
    assert torch.linalg.norm(approx - last) < 0.5 * torch.linalg.norm(last)  # an approximation, not a copy


def test_sampled_factors_converge_to_the_exact_expectation() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    X = _inputs(4000, 2)
    exact = fisher.kfac_factors(model, X)
    sampled = fisher.kfac_factors(model, X, kind="sampled", generator=torch.Generator().manual_seed(0))
    for (A, G), (A_s, G_s) in zip(exact, sampled, strict=True):
        torch.testing.assert_close(A_s, A)  # inputs do not depend on the labels
        assert torch.linalg.norm(G_s - G) < 0.1 * torch.linalg.norm(G)


def test_kfac_preconditioning_equals_solving_with_the_damped_kronecker_product() -> None:
    torch.manual_seed(4)
    model = nn.Linear(3, 2).double()
    X = _inputs(20, 3)
    [(A, G)] = fisher.kfac_factors(model, X)
    damping = 1e-2
    a_inv, g_inv = kfac.damped_inverses(A, G, damping)
    damp_a, damp_g = kfac.factored_damping(float(A.diagonal().mean()), float(G.diagonal().mean()), damping)
    assert damp_a * damp_g == pytest.approx(damping)
    grad = torch.randn(2, 4, dtype=torch.float64)  # [∇W, ∇b]
    damped = torch.kron(G + damp_g * torch.eye(2, dtype=A.dtype), A + damp_a * torch.eye(4, dtype=A.dtype))
    expected = torch.linalg.solve(damped, grad.reshape(-1)).reshape(2, 4)
    torch.testing.assert_close(kfac.kfac_precondition(a_inv, g_inv, grad), expected)


def test_kfac_rejects_a_layer_applied_twice() -> None:
    layer = nn.Linear(2, 2)
    shared = nn.Sequential(layer, nn.Tanh(), layer)
    with pytest.raises(ValueError, match="exactly once"):
        fisher.kfac_factors(shared, torch.randn(3, 2))


def _spirals_like(n: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    X = _inputs(n, 2, seed=5).float()
    return X, (X[:, 0] * X[:, 1] > 0).long()


@pytest.mark.parametrize("optimizer", ["kfac", "exact"])
def test_natural_gradient_optimizers_reduce_the_loss(optimizer: str) -> None:
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    X, y = _spirals_like()
    opt = (
        kfac.KFAC(model, lr=0.5, damping=1e-2, inverse_every=5, generator=torch.Generator().manual_seed(0))
        if optimizer == "kfac"
        else kfac.ExactNaturalGradient(model, lr=0.5, damping=1e-2)
    )
    losses = [float(opt.step(X, y)) for _ in range(60)]
    assert losses[-1] < 0.6 * losses[0]


def test_kfac_refreshes_inverses_only_every_t_steps() -> None:
    torch.manual_seed(7)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    X, y = _spirals_like(32)
    opt = kfac.KFAC(model, inverse_every=3, generator=torch.Generator().manual_seed(0))
    seen = []
    for _ in range(7):
        opt.step(X, y)
        seen.append(opt.inverses[0][0])
    refreshed = [i for i in range(1, 7) if seen[i] is not seen[i - 1]]
    assert refreshed == [3, 6]
