"""The Fisher information of small models, computed exactly, and the natural gradient it defines.

Idea: the Fisher F = E_x E_{y~p(y|x,θ)}[∇θ log p(y|x,θ) ∇θ log p(y|x,θ)ᵀ] is the metric of the space of
predictive distributions (the Hessian of the KL divergence between nearby models). The natural gradient
(F + λI)⁻¹∇L is steepest descent measured in that metric, so it does not depend on how the model is
parameterised (Amari 1998, "Natural gradient works efficiently in learning").

True versus empirical Fisher (Kunstner, Balles & Hennig 2019, "Limitations of the empirical Fisher
approximation"): the *true* Fisher draws y from the model's own predictive distribution; for a
classifier that expectation is a finite sum over classes weighted by p(y|x), computed here exactly.
The *empirical* Fisher puts the observed labels in its place. It is the uncentred covariance of
per-example gradients, not a curvature: at a perfect fit it vanishes while the true Fisher does not,
and far from a fit it can point a preconditioned step in poor directions.

Both are built from per-example output Jacobians J (K outputs x P parameters) and a factorisation of
the output-space Fisher Λ(x) = Σ_c w_c r_c r_cᵀ, so F = mean_x Σ_c w_c (Jᵀr_c)(Jᵀr_c)ᵀ. The same
factorisation gives the K-FAC factors of each Linear layer (Martens & Grosse 2015, "Optimizing neural
networks with Kronecker-factored approximate curvature"), A = E[a aᵀ] and G = E[g gᵀ].

Caution:
- Exact Fisher matrices are P x P: meant for models with a few thousand parameters at most.
- K-FAC statistics assume each nn.Linear is applied once per example (an MLP), not shared.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F_nn
from torch import nn
from torch.func import functional_call, jacrev, vmap

from explorer.lab.core import guards

Likelihood = Literal["categorical", "bernoulli", "gaussian"]
#: "true": exact expectation over y ~ p(y|x); "sampled": one y per x drawn from the model (K-FAC's
#: Monte Carlo estimate); "empirical": the observed labels.
FisherKind = Literal["true", "sampled", "empirical"]
Parameterization = Literal["sigma", "log_sigma"]
ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def trainable_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters a Fisher is taken over, in ``named_parameters`` order (the flat order)."""
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


def parameter_count(model: nn.Module) -> int:
    """P, the side of the Fisher matrix."""
    return sum(p.numel() for _, p in trainable_parameters(model))


def flat_gradient(model: nn.Module) -> torch.Tensor:
    """The ``.grad`` fields concatenated in the flat order (zeros where a gradient is missing)."""
    return torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for _, p in trainable_parameters(model)]
    )


def add_to_parameters(model: nn.Module, flat_step: torch.Tensor) -> None:
    """θ ← θ + step, with ``flat_step`` in the flat order."""
    offset = 0
    with torch.no_grad():
        for _, p in trainable_parameters(model):
            p.add_(flat_step[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


def negative_log_likelihood(outputs: torch.Tensor, labels: torch.Tensor, likelihood: Likelihood) -> torch.Tensor:
    """Mean −log p(y|x) per example; the Gaussian has unit variance and drops its constant."""
    n = outputs.shape[0]
    if likelihood == "categorical":
        return F_nn.cross_entropy(outputs, labels)
    if likelihood == "bernoulli":
        return F_nn.binary_cross_entropy_with_logits(outputs.reshape(n), labels.reshape(n).to(outputs.dtype))
    if likelihood == "gaussian":
        residual = outputs.reshape(n, -1) - labels.reshape(n, -1).to(outputs.dtype)
        return 0.5 * residual.pow(2).sum(dim=1).mean()
    raise ValueError(f"unknown likelihood {likelihood!r}")


def output_fisher_factors(
    outputs: torch.Tensor,
    likelihood: Likelihood,
    kind: FisherKind = "true",
    labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Residuals r (n, C, K) and weights w (n, C) with Σ_c w_c r_c r_cᵀ = the output-space Fisher.

    r_c = ∂(−log p(y_c|x))/∂outputs for label y_c, so Jᵀr_c is the score of one label. For "true" the
    labels run over every class with weight p(y_c|x) (the exact expectation, no sampling); a unit
    Gaussian has E[(y−f)(y−f)ᵀ] = I, written as the K unit vectors. "sampled" and "empirical" use one
    label per example with weight 1.
    """
    if kind == "empirical" and labels is None:
        raise ValueError("the empirical Fisher needs the observed labels")
    f = outputs.detach().reshape(outputs.shape[0], -1)  # (n, K)
    n, k = f.shape
    ones = torch.ones(n, 1, dtype=f.dtype, device=f.device)
    if likelihood == "categorical":
        p = f.softmax(dim=1)  # (n, K)
        if kind == "true":
            eye = torch.eye(k, dtype=f.dtype, device=f.device)
            return p[:, None, :] - eye[None], p  # r_c = p − e_c, weighted by p_c
        if kind == "sampled":  # inverse-CDF draw: cheaper than torch.multinomial for a few classes
            u = torch.rand(n, 1, generator=generator, dtype=f.dtype, device=f.device)
            y = (u > p.cumsum(dim=1)).sum(dim=1).clamp_(max=k - 1)
        else:
            y = labels
        return (p - F_nn.one_hot(y.reshape(n), k).to(f.dtype))[:, None, :], ones
    if likelihood == "bernoulli":
        q = f.sigmoid()  # (n, 1), p(y=1|x)
        if kind == "true":
            return torch.stack([q - 1.0, q], dim=1), torch.cat([q, 1.0 - q], dim=1)  # y = 1, y = 0
        y = torch.bernoulli(q, generator=generator) if kind == "sampled" else labels.reshape(n, 1).to(f.dtype)
        return (q - y)[:, None, :], ones
    if likelihood == "gaussian":
        if kind == "true":
            eye = torch.eye(k, dtype=f.dtype, device=f.device)
            return eye.expand(n, k, k), torch.ones(n, k, dtype=f.dtype, device=f.device)
        if kind == "sampled":
            noise = torch.randn(f.shape, generator=generator, dtype=f.dtype, device=f.device)
            return -noise[:, None, :], ones  # f − y with y = f + ε
        return (f - labels.reshape(n, k).to(f.dtype))[:, None, :], ones
    raise ValueError(f"unknown likelihood {likelihood!r}")


def output_jacobian(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Per-example Jacobians of the outputs with respect to all trainable parameters, (n, K, P)."""
    named = trainable_parameters(model)
    params = {name: p.detach() for name, p in named}

    def outputs_of_one(theta: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, theta, (x.unsqueeze(0),)).reshape(-1)  # (K,)

    jac = vmap(jacrev(outputs_of_one), in_dims=(None, 0))(params, inputs)  # name -> (n, K, *shape)
    n = inputs.shape[0]
    return torch.cat([jac[name].reshape(n, jac[name].shape[1], -1) for name, _ in named], dim=2)


def fisher_matrix(
    model: nn.Module,
    inputs: torch.Tensor,
    likelihood: Likelihood = "categorical",
    kind: FisherKind = "true",
    labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """F = mean_x Σ_c w_c s_c s_cᵀ with scores s_c = Jᵀ r_c, a (P, P) tensor on the model's device."""
    jac = output_jacobian(model, inputs)  # (n, K, P)
    with torch.no_grad():
        outputs = model(inputs)
    r, w = output_fisher_factors(outputs, likelihood, kind, labels, generator)
    scores = torch.einsum("nck,nkp->ncp", r, jac) * w.sqrt()[..., None]  # (n, C, P)
    scores = scores.reshape(-1, scores.shape[-1])  # (n*C, P)
    return scores.T @ scores / inputs.shape[0]


def exact_fisher(model: nn.Module, inputs: torch.Tensor, likelihood: Likelihood = "categorical") -> torch.Tensor:
    """The true Fisher, (P, P): labels summed over classes with weights p(y|x), never sampled.

    For a classifier this equals the generalised Gauss-Newton matrix Jᵀ(diag p − p pᵀ)J averaged over
    the inputs; it is positive semi-definite and depends on the inputs only, not on any labels.
    """
    return fisher_matrix(model, inputs, likelihood, "true")


def empirical_fisher(
    model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, likelihood: Likelihood = "categorical"
) -> torch.Tensor:
    """The empirical Fisher, (P, P): mean outer product of the observed-label gradients.

    Cheaper to think about but not a curvature (Kunstner et al. 2019): it shrinks to zero as the model
    fits its labels, so a step preconditioned by it grows without bound near a fit.
    """
    return fisher_matrix(model, inputs, likelihood, "empirical", labels)


#: the σ for which the Gaussian's Fisher diag(1/σ², 2/σ²) is a finite, non-zero float
SIGMA_RANGE = (1e-150, 1e150)


def gaussian_fisher(mu: float, sigma: float, parameterization: Parameterization = "sigma") -> np.ndarray:
    """Fisher of N(mu, sigma²) per observation, 2 x 2, in (mu, sigma) or (mu, log sigma).

    Derived in (mu, sigma) as diag(1/σ², 2/σ²) and pulled back through the reparameterisation's
    Jacobian, F' = Jᵀ F J: the transformation rule that makes the natural gradient invariant.
    """
    guards.finite("mu", mu)
    # 1/σ² must be a finite float: σ below ~1e-154 overflows it (and σ² underflows to 0)
    sigma = guards.in_range("sigma", sigma, SIGMA_RANGE[0], SIGMA_RANGE[1])
    guards.known("parameterization", parameterization, ("sigma", "log_sigma"))
    fisher_mu_sigma = np.diag([1.0 / sigma**2, 2.0 / sigma**2])
    if parameterization == "sigma":
        return fisher_mu_sigma
    if parameterization == "log_sigma":
        jac = np.diag([1.0, sigma])  # ∂(mu, sigma)/∂(mu, log sigma)
        return jac.T @ fisher_mu_sigma @ jac
    raise ValueError(f"parameterization must be 'sigma' or 'log_sigma', got {parameterization!r}")


def natural_gradient_direction(fisher: ArrayT, grad: ArrayT, damping: float) -> ArrayT:
    """d solving (F + λI) d = ∇L by Cholesky; the step is θ ← θ − η d.

    Damping λ > 0 makes a singular Fisher (flat directions, dead units, too few examples) solvable and
    bounds the step by |∇L|/λ. Falls back to an LU solve if F + λI is not numerically positive definite.
    """
    if isinstance(fisher, np.ndarray):
        system = fisher + damping * np.eye(fisher.shape[0], dtype=fisher.dtype)
        try:
            return scipy.linalg.cho_solve(scipy.linalg.cho_factor(system, lower=True), grad)
        except np.linalg.LinAlgError:
            return np.linalg.solve(system, grad)
    system = fisher + damping * torch.eye(fisher.shape[0], dtype=fisher.dtype, device=fisher.device)
    chol, info = torch.linalg.cholesky_ex(system)
    if int(info) == 0:
        return torch.cholesky_solve(grad.reshape(-1, 1), chol).reshape(grad.shape)
    return torch.linalg.solve(system, grad)


@dataclass(frozen=True)
class LinearRecord:
    """One nn.Linear call seen in a forward pass: its input and its (graph-attached) pre-activation."""

    module: nn.Linear
    inputs: torch.Tensor  # (n, d_in), detached
    preactivations: torch.Tensor  # (n, d_out), still in the autograd graph


@contextmanager
def capture_linear(model: nn.Module, layers: list[nn.Linear] | None = None) -> Iterator[list[LinearRecord]]:
    """Record every call of ``layers`` (default: all nn.Linear in ``model``) inside the block."""
    records: list[LinearRecord] = []

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        records.append(LinearRecord(module, args[0].detach(), output))  # type: ignore[arg-type]

    if layers is None:
        layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()


def with_bias_column(inputs: torch.Tensor, module: nn.Linear) -> torch.Tensor:
    """[a, 1] when the layer has a bias, so the bias is the last column of one weight matrix."""
    if module.bias is None:
        return inputs
    return torch.cat([inputs, torch.ones_like(inputs[:, :1])], dim=1)


def layer_statistics(
    model: nn.Module,
    inputs: torch.Tensor,
    likelihood: Likelihood = "categorical",
    kind: FisherKind = "true",
    labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """Per Linear layer: inputs a (n, d_in[+1]) and backpropagated g (n, C, d_out); weights w (n, C).

    g[:, c] is the gradient of −log p(y_c|x) with respect to the layer's pre-activation, one backward
    pass per label; the per-example gradient of the layer's weights is the outer product g aᵀ.
    """
    with torch.enable_grad(), capture_linear(model) as records:
        outputs = model(inputs)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(records) != len(linears):
        raise ValueError("K-FAC needs each nn.Linear applied exactly once per forward pass")
    r, w = output_fisher_factors(outputs, likelihood, kind, labels, generator)
    flat_outputs = outputs.reshape(outputs.shape[0], -1)  # (n, K)
    preactivations = [rec.preactivations for rec in records]
    per_label = [
        torch.autograd.grad(flat_outputs, preactivations, grad_outputs=r[:, c], retain_graph=c < r.shape[1] - 1)
        for c in range(r.shape[1])
    ]
    backprops = [torch.stack([grads[i] for grads in per_label], dim=1) for i in range(len(records))]
    activations = [with_bias_column(rec.inputs, rec.module) for rec in records]
    return activations, backprops, w


def kfac_factors(
    model: nn.Module,
    inputs: torch.Tensor,
    likelihood: Likelihood = "categorical",
    kind: FisherKind = "true",
    labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """K-FAC's (A, G) for every nn.Linear in module order: A = E[a aᵀ], G = E[g gᵀ].

    The layer's Fisher block E[(g aᵀ)(g aᵀ)ᵀ] = E[g gᵀ ⊗ a aᵀ] is approximated by G ⊗ A, which is
    exact when a and g are independent (Martens & Grosse 2015, §3). The default "true" kind sums over
    labels exactly; the optimizer samples one label per example instead.
    """
    activations, backprops, w = layer_statistics(model, inputs, likelihood, kind, labels, generator)
    n = inputs.shape[0]
    return [
        (a.T @ a / n, torch.einsum("nc,nci,ncj->ij", w, g, g) / n) for a, g in zip(activations, backprops, strict=True)
    ]


def kfac_block(A: torch.Tensor, G: torch.Tensor, has_bias: bool = True) -> torch.Tensor:
    """G ⊗ A reordered to the flat parameter order of one Linear layer (weight row-major, then bias).

    With W' = [W, b] of shape (d_out, d_in+1), vec_row(g a'ᵀ) = g ⊗ a', so kron(G, A) indexes W' row-major.
    """
    block = torch.kron(G, A)
    d_out, d_cols = G.shape[0], A.shape[0]
    index = torch.arange(d_out * d_cols, device=A.device).reshape(d_out, d_cols)
    order = torch.cat([index[:, :-1].reshape(-1), index[:, -1]]) if has_bias else index.reshape(-1)
    return block[order][:, order]
