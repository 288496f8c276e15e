"""K-FAC, and the exact natural gradient it approximates, as optimizers for an MLP.

Idea: each nn.Linear's Fisher block is approximated by a Kronecker product G ⊗ A of two small matrices,
A = E[a aᵀ] over the layer's inputs (with a bias column) and G = E[g gᵀ] over the gradients at its
pre-activations, with labels sampled from the model so that G estimates the *true* Fisher. Then
(G ⊗ A)⁻¹ vec(∇W) = vec(G⁻¹ ∇W A⁻¹): two d x d inverses replace one P x P solve (Martens & Grosse 2015,
"Optimizing neural networks with Kronecker-factored approximate curvature", §3-§6).

Factors are running averages refreshed every ``factor_every`` steps, and their damped inverses every
``inverse_every`` steps: an inverse is reused that many times, so two matrix products per step beat two
triangular solves. Damping is factored Tikhonov (M&G §6.3): with γ = √λ and
π = √((tr A / dim A) / (tr G / dim G)), invert A + πγI and G + (γ/π)I, whose Kronecker product is
G ⊗ A + λI plus two cross terms. Steps are scaled down when their predicted KL change η²∇ᵀd exceeds
``kl_clip`` (Ba, Grosse & Martens 2017), which keeps early steps, when the Fisher is tiny, from exploding.

Caution:
- Only nn.Linear layers are preconditioned; any other trainable parameter takes a plain gradient step.
- The exact natural gradient builds the full P x P Fisher every step; keep P to a few thousand.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from explorer.lab.natural_gradient.fisher import (
    Likelihood,
    LinearRecord,
    add_to_parameters,
    capture_linear,
    exact_fisher,
    flat_gradient,
    natural_gradient_direction,
    negative_log_likelihood,
    output_fisher_factors,
    with_bias_column,
)


def factored_damping(mean_diag_a: float, mean_diag_g: float, damping: float) -> tuple[float, float]:
    """(πγ, γ/π): what to add to A's and G's diagonals, γ = √λ, π = √(mean diag A / mean diag G).

    π splits the damping in proportion to the factors' scales, so neither factor is swamped (M&G §6.3).
    """
    gamma = math.sqrt(damping)
    pi = math.sqrt(mean_diag_a / mean_diag_g) if mean_diag_a > 0 and mean_diag_g > 0 else 1.0
    return pi * gamma, gamma / pi


def damped_inverses(A: torch.Tensor, G: torch.Tensor, damping: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(A + πγI)⁻¹ and (G + γ/π I)⁻¹ by Cholesky (factored Tikhonov damping)."""
    damp_a, damp_g = factored_damping(float(torch.diagonal(A).mean()), float(torch.diagonal(G).mean()), damping)
    eye_a = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    eye_g = torch.eye(G.shape[0], dtype=G.dtype, device=G.device)
    a_inv = torch.cholesky_inverse(torch.linalg.cholesky(A + damp_a * eye_a))
    g_inv = torch.cholesky_inverse(torch.linalg.cholesky(G + damp_g * eye_g))
    return a_inv, g_inv


def kfac_precondition(a_inv: torch.Tensor, g_inv: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """G⁻¹ ∇W' A⁻¹ for W' = [W, b] of shape (d_out, d_in+1): the K-FAC direction of one layer."""
    return g_inv @ grad @ a_inv


def weight_gradient(module: nn.Linear) -> torch.Tensor:
    """∇W' = [∇W, ∇b], (d_out, d_in[+1]), matching the bias column of the layer's A factor."""
    if module.bias is None:
        return module.weight.grad
    return torch.cat([module.weight.grad, module.bias.grad[:, None]], dim=1)


def clip_scale(lr: float, directions: list[torch.Tensor], grads: list[torch.Tensor], kl_clip: float | None) -> float:
    """ν = min(1, √(c / (η² Σ dᵀ∇))): the fraction of the step that keeps the predicted KL below c."""
    if kl_clip is None:
        return 1.0
    predicted = lr**2 * float(sum((d * g).sum() for d, g in zip(directions, grads, strict=True)))
    return min(1.0, math.sqrt(kl_clip / predicted)) if predicted > 0 else 1.0


class KFAC:
    """K-FAC for the nn.Linear layers of ``model``; ``step(inputs, labels)`` returns the loss before it."""

    def __init__(
        self,
        model: nn.Module,
        lr: float = 0.1,
        damping: float = 1e-2,
        ema_decay: float = 0.95,
        factor_every: int = 1,
        inverse_every: int = 10,
        kl_clip: float | None = 1e-2,
        likelihood: Likelihood = "categorical",
        generator: torch.Generator | None = None,
    ) -> None:
        if factor_every < 1 or inverse_every < 1:
            raise ValueError("factor_every and inverse_every must be at least 1")
        self.model = model
        self.lr, self.damping, self.ema_decay, self.kl_clip = lr, damping, ema_decay, kl_clip
        self.factor_every, self.inverse_every = factor_every, inverse_every
        self.likelihood = likelihood
        self.generator = generator
        self.layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
        in_layers = {id(p) for m in self.layers for p in m.parameters()}
        self.other_parameters = [p for p in model.parameters() if p.requires_grad and id(p) not in in_layers]
        self.factors: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.inverses: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.steps_taken = 0

    def _update_factors(self, records: list[LinearRecord], outputs: torch.Tensor) -> None:
        """Fold this batch's A and G (labels sampled from the model) into the running averages."""
        n = outputs.shape[0]
        r, _ = output_fisher_factors(outputs, self.likelihood, "sampled", generator=self.generator)
        preactivations = [rec.preactivations for rec in records]
        backprops = torch.autograd.grad(
            outputs.reshape(n, -1), preactivations, grad_outputs=r[:, 0], retain_graph=True
        )  # per-example ∂(−log p(ŷ|x))/∂s, (n, d_out) each
        activations = [with_bias_column(rec.inputs, rec.module) for rec in records]
        if not self.factors:
            self.factors = [(a.T @ a / n, g.T @ g / n) for a, g in zip(activations, backprops, strict=True)]
            return
        rho = self.ema_decay
        for (A, G), a, g in zip(self.factors, activations, backprops, strict=True):
            A.mul_(rho).addmm_(a.T, a, alpha=(1 - rho) / n)  # A ← ρA + (1−ρ) aᵀa/n, in place
            G.mul_(rho).addmm_(g.T, g, alpha=(1 - rho) / n)

    def step(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """One K-FAC step on a batch: θ ← θ − η ν G⁻¹∇W'A⁻¹ per layer."""
        update_factors = self.steps_taken % self.factor_every == 0
        self.model.zero_grad(set_to_none=True)
        if update_factors:
            with capture_linear(self.model, self.layers) as records:
                outputs = self.model(inputs)
            if len(records) != len(self.layers):
                raise ValueError("K-FAC needs each nn.Linear applied exactly once per forward pass")
        else:
            outputs = self.model(inputs)
        loss = negative_log_likelihood(outputs, labels, self.likelihood)
        if update_factors:
            self._update_factors(records, outputs)
        loss.backward()
        if not self.inverses or self.steps_taken % self.inverse_every == 0:
            self.inverses = [damped_inverses(A, G, self.damping) for A, G in self.factors]
        grads = [weight_gradient(m) for m in self.layers]
        directions = [
            kfac_precondition(a_inv, g_inv, g) for (a_inv, g_inv), g in zip(self.inverses, grads, strict=True)
        ]
        scale = self.lr * clip_scale(self.lr, directions, grads, self.kl_clip)
        with torch.no_grad():
            for module, direction in zip(self.layers, directions, strict=True):
                if module.bias is None:
                    module.weight.sub_(scale * direction)
                else:
                    module.weight.sub_(scale * direction[:, :-1])
                    module.bias.sub_(scale * direction[:, -1])
            for p in self.other_parameters:
                if p.grad is not None:
                    p.sub_(self.lr * p.grad)
        self.steps_taken += 1
        return loss.detach()


class ExactNaturalGradient:
    """θ ← θ − η ν (F + λI)⁻¹∇L with the exact true Fisher of the batch, rebuilt every step."""

    def __init__(
        self,
        model: nn.Module,
        lr: float = 0.1,
        damping: float = 1e-2,
        kl_clip: float | None = 1e-2,
        likelihood: Likelihood = "categorical",
    ) -> None:
        self.model = model
        self.lr, self.damping, self.kl_clip = lr, damping, kl_clip
        self.likelihood = likelihood

    def step(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """One exact natural-gradient step on a batch; returns the loss before it."""
        self.model.zero_grad(set_to_none=True)
        loss = negative_log_likelihood(self.model(inputs), labels, self.likelihood)
        loss.backward()
        grad = flat_gradient(self.model)
        fisher = exact_fisher(self.model, inputs, self.likelihood)
        direction = natural_gradient_direction(fisher, grad, self.damping)
        scale = self.lr * clip_scale(self.lr, [direction], [grad], self.kl_clip)
        add_to_parameters(self.model, -scale * direction)
        return loss.detach()
