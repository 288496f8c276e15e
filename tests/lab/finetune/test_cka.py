"""Linear CKA: 1 for a representation and itself, blind to rotations and scale, both forms agree."""

from __future__ import annotations

import pytest
import torch

from explorer.lab.finetune.cka import centred_gram, cka_from_grams, linear_cka


def _data(seed: int = 0) -> torch.Tensor:
    return torch.randn(50, 4, 3, 3, generator=torch.Generator().manual_seed(seed))  # (n, C, H, W)


def test_cka_of_a_representation_with_itself_is_one():
    x = _data()
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert cka_from_grams(centred_gram(x), centred_gram(x)) == pytest.approx(1.0, abs=1e-6)


def test_cka_ignores_rotations_isotropic_scale_and_shifts():
    x = _data().reshape(50, -1)
    q, _ = torch.linalg.qr(torch.randn(36, 36, generator=torch.Generator().manual_seed(1)))
    assert linear_cka(x, 3.0 * x @ q + 5.0) == pytest.approx(1.0, abs=1e-6)
    stretched = x * torch.linspace(0.1, 3.0, 36)  # not isotropic: CKA notices
    assert linear_cka(x, stretched) < 0.99


def test_feature_and_gram_forms_agree_and_unrelated_data_scores_low():
    x, y = _data(0), _data(2)
    wide = torch.randn(10, 200, generator=torch.Generator().manual_seed(3))  # p > n: the Gram form
    narrow = torch.randn(10, 3, generator=torch.Generator().manual_seed(4))  # p q < n (p + q): features
    by_grams = cka_from_grams(centred_gram(wide.double()), centred_gram(narrow.double()))
    assert linear_cka(wide, narrow) == pytest.approx(by_grams, rel=1e-9)
    assert linear_cka(x, y) == pytest.approx(cka_from_grams(centred_gram(x), centred_gram(y)), rel=1e-5)
    assert linear_cka(x, y) < 0.7
    with pytest.raises(ValueError, match="same inputs"):
        linear_cka(x, x[:10])
