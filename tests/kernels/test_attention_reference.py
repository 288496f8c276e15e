"""The torch references agree with each other: tiled online softmax and SDPA against naive attention."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import attention


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("n", "block"), [(1, 128), (37, 16), (128, 128), (200, 64), (257, 128)])
def test_tiled_torch_matches_naive(make_qkv, n: int, block: int, causal: bool) -> None:
    q, k, v = make_qkv(2, 3, n, 32)
    torch.testing.assert_close(
        attention.tiled_torch(q, k, v, causal, block=block), attention.naive(q, k, v, causal), atol=1e-5, rtol=0
    )


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 80),
    d=st.integers(1, 24),
    block=st.integers(1, 40),
    causal=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_tiled_torch_matches_naive_for_any_tiling(n: int, d: int, block: int, causal: bool, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    q, k, v = (3 * torch.randn((1, 2, n, d), generator=gen) for _ in range(3))  # spread scores: max moves
    # fp32 with up to 80 rescalings of the running sums (block 1), values of v up to about 12: rounding alone
    # reaches 1.3e-5 (n=73, d=18, block=1, seed=2905); a tiling mistake is off by a whole value
    torch.testing.assert_close(
        attention.tiled_torch(q, k, v, causal, block=block), attention.naive(q, k, v, causal), atol=1e-4, rtol=1e-4
    )


def test_tiled_torch_in_fp16_accumulates_in_fp32(make_qkv) -> None:
    q, k, v = make_qkv(1, 2, 300, 64, dtype=torch.float16)
    out = attention.tiled_torch(q, k, v, causal=True, block=64)
    assert out.dtype == torch.float16
    want = attention.naive(q.float(), k.float(), v.float(), causal=True)
    assert (out.float() - want).abs().max().item() < 2e-3


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_matches_naive(make_qkv, causal: bool) -> None:
    q, k, v = make_qkv(2, 2, 70, 16)
    torch.testing.assert_close(attention.sdpa(q, k, v, causal), attention.naive(q, k, v, causal), atol=1e-5, rtol=0)


def test_naive_causal_first_row_sees_only_the_first_key(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 10, 16)
    out = attention.naive(q, k, v, causal=True)
    torch.testing.assert_close(out[..., 0, :], v[..., 0, :])
    assert not torch.allclose(out[..., 1, :], v[..., 1, :])


def test_naive_rows_are_convex_combinations_of_values(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 30, 16)
    out = attention.naive(q, k, v)
    assert torch.all(out <= v.amax(dim=-2, keepdim=True) + 1e-6)
    assert torch.all(out >= v.amin(dim=-2, keepdim=True) - 1e-6)


def test_bad_arguments_are_refused(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 8, 16)
    with pytest.raises(ValueError, match="block must be positive"):
        attention.tiled_torch(q, k, v, block=0)
    with pytest.raises(ValueError, match="unknown SDPA backend"):
        attention.sdpa(q, k, v, backend="cudnn-magic")


def test_sdpa_pinned_to_math_backend_matches_naive(make_qkv) -> None:
    q, k, v = make_qkv(1, 2, 40, 16)
    torch.testing.assert_close(attention.sdpa(q, k, v, backend="math"), attention.naive(q, k, v), atol=1e-5, rtol=0)
