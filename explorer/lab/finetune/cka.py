"""Linear centered kernel alignment (CKA): how alike two layers' representations of the same inputs are.

Kornblith et al. (2019, "Similarity of Neural Network Representations Revisited", Sec. 3-4): with X
(n x p) and Y (n x q) the two layers' activations on the same n inputs, each column centred,

    CKA(X, Y) = ||Yᵀ X||²_F / (||Xᵀ X||_F ||Yᵀ Y||_F)
              = <K, L>_F / (||K||_F ||L||_F),  K = X Xᵀ, L = Y Yᵀ (centred Gram matrices).

It is 1 for identical representations, invariant to rotations and isotropic scaling of either (so
two layers that differ only by an orthogonal change of basis score 1), and near 0 for unrelated
ones. The feature form costs n·p·q, the Gram form n²·(p + q): :func:`linear_cka` picks the cheaper;
a fixed reference (the pretrained network's layers) keeps its Gram matrix and uses
:func:`cka_from_grams`.
"""

from __future__ import annotations

import math

import torch


def _centred(x: torch.Tensor) -> torch.Tensor:
    x = x.reshape(len(x), -1)  # (n, ...) -> (n, p)
    return x - x.mean(dim=0, keepdim=True)


def centred_gram(x: torch.Tensor) -> torch.Tensor:
    """K = Xc Xcᵀ (n x n, float64) of the column-centred activations; equal to H X Xᵀ H."""
    xc = _centred(x)
    return (xc @ xc.T).double()  # the n^2 p product in the input's precision, the sums in float64


def cka_from_grams(gram_x: torch.Tensor, gram_y: torch.Tensor) -> float:
    """<K, L>_F / (||K||_F ||L||_F) of two centred Gram matrices; NaN if either is zero."""
    norm = float(torch.linalg.matrix_norm(gram_x) * torch.linalg.matrix_norm(gram_y))
    return float(torch.sum(gram_x * gram_y)) / norm if norm > 0 else math.nan


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """CKA of two representations (n, ...) of the same n inputs, by whichever form is cheaper."""
    if len(x) != len(y):
        raise ValueError(f"both representations need the same inputs, got {len(x)} and {len(y)} rows")
    xc, yc = _centred(x).double(), _centred(y).double()
    n, p, q = xc.shape[0], xc.shape[1], yc.shape[1]
    if p * q <= n * (p + q):  # feature form: three small cross-products
        cross = torch.linalg.matrix_norm(yc.T @ xc) ** 2
        norm = torch.linalg.matrix_norm(xc.T @ xc) * torch.linalg.matrix_norm(yc.T @ yc)
        return float(cross / norm) if float(norm) > 0 else math.nan
    return cka_from_grams(xc @ xc.T, yc @ yc.T)
