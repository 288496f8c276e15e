"""The Triton FlashAttention kernel against the naive reference: values, gradients, log-sum-exp, limits.

Without CUDA these run under Triton's interpreter on small grids; with CUDA the same tests run the
compiled kernel, and the GPU-only tests add realistic sizes, fp16/bf16 and the autotuned tiles.
"""

from __future__ import annotations

import math

import pytest
import torch

from kernels import attention
from kernels.flash_triton import flash_attention, flash_attention_with_lse

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def forward_and_grads(fn, q, k, v, causal: bool, do: torch.Tensor, **kwargs) -> list[torch.Tensor]:
    """[out, dq, dk, dv] of ``fn`` at fresh leaf copies of q, k, v, in fp32 for comparison."""
    leaves = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    out = fn(*leaves, causal, **kwargs)
    return [t.float() for t in (out, *torch.autograd.grad(out, leaves, do.to(out.dtype)))]


def assert_matches_naive(q, k, v, causal: bool, atol: float, **blocks: int) -> None:
    """Output and all three gradients of the kernel equal naive attention computed in fp32.

    In half precision the bar is the naive code's own error in that precision: the kernel may be at
    most twice as far from the fp32 answer as naive attention run in fp16/bf16 is (plus ``atol``).
    """
    do = torch.randn(q.shape, device=q.device, generator=torch.Generator(q.device).manual_seed(99))
    got = forward_and_grads(attention.flash, q, k, v, causal, do, **blocks)
    want = forward_and_grads(attention.naive, q.float(), k.float(), v.float(), causal, do)
    if q.dtype == torch.float32:
        own_error = [0.0] * 4
    else:
        low = forward_and_grads(attention.naive, q, k, v, causal, do)
        own_error = [(a - b).abs().max().item() for a, b in zip(low, want, strict=True)]
    for name, g, w, e in zip(("out", "dq", "dk", "dv"), got, want, own_error, strict=True):
        err = (g - w).abs().max().item()
        assert err <= 2 * e + atol, f"{name}: max error {err:.3g}, naive in {q.dtype} is off by {e:.3g}"


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [37, 50])
def test_matches_naive_when_n_is_not_a_multiple_of_the_tiles(make_qkv, n: int, causal: bool) -> None:
    # 32 x 16 tiles: several query and key tiles, a ragged last tile, and the causal diagonal split.
    q, k, v = make_qkv(1, 2, n, 16, device=DEVICE)
    assert_matches_naive(q, k, v, causal, atol=1e-5, block_m=32, block_n=16)


def test_matches_naive_with_default_tiles(make_qkv) -> None:
    q, k, v = make_qkv(2, 1, 100, 16, device=DEVICE, seed=1)
    assert_matches_naive(q, k, v, causal=True, atol=1e-5)


def test_matches_naive_with_equal_tiles_and_a_single_row(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 1, 16, device=DEVICE)
    assert_matches_naive(q, k, v, causal=True, atol=1e-5, block_m=16, block_n=16)


def test_head_dim_that_is_not_a_power_of_two(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 33, 24, device=DEVICE, seed=2)
    assert_matches_naive(q, k, v, causal=True, atol=1e-5, block_m=16, block_n=16)


def test_fp16_matches_fp32_naive_to_half_precision(make_qkv) -> None:
    q, k, v = make_qkv(1, 2, 50, 32, dtype=torch.float16, device=DEVICE, seed=3)
    assert flash_attention(q, k, v, causal=True).dtype == torch.float16
    assert_matches_naive(q, k, v, causal=True, atol=1e-3)


def test_saved_log_sum_exp_is_the_row_logsumexp_of_the_scores(make_qkv) -> None:
    q, k, v = make_qkv(1, 2, 45, 16, device=DEVICE, seed=4)
    out, lse = flash_attention_with_lse(q, k, v, causal=True)
    scores = q @ k.transpose(-2, -1) / math.sqrt(16)  # (B, H, N, N)
    scores = scores.masked_fill(torch.ones(45, 45, dtype=torch.bool, device=DEVICE).triu(1), float("-inf"))
    assert lse.shape == (1, 2, 45) and lse.dtype == torch.float32
    torch.testing.assert_close(lse, torch.logsumexp(scores, dim=-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(out, attention.naive(q, k, v, causal=True), atol=1e-5, rtol=0)


def test_custom_softmax_scale(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 20, 16, device=DEVICE, seed=5)
    out = flash_attention(q, k, v, sm_scale=0.3)
    want = torch.softmax(0.3 * q @ k.transpose(-2, -1), dim=-1) @ v
    torch.testing.assert_close(out, want, atol=1e-5, rtol=0)


def test_non_contiguous_inputs(make_qkv) -> None:
    q, k, v = make_qkv(1, 20, 2, 16, device=DEVICE, seed=6)  # (B, N, H, d) as a model stores them
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, N, d) views, not contiguous
    assert not q.is_contiguous()
    torch.testing.assert_close(flash_attention(q, k, v), attention.naive(q, k, v), atol=1e-5, rtol=0)


@pytest.mark.skipif(not attention.interpreter_mode(), reason="only the interpreter refuses bf16")
def test_bf16_is_refused_under_the_interpreter(make_qkv) -> None:
    q, k, v = make_qkv(1, 1, 16, 16, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="bf16 is refused under the Triton interpreter"):
        attention.flash(q, k, v)


def test_interpreter_mode_follows_cuda_availability() -> None:
    # kernels/__init__ picks the interpreter exactly when there is no GPU (unless the user chose).
    assert attention.interpreter_mode() == (not torch.cuda.is_available())


@pytest.mark.parametrize(
    ("shapes", "match"),
    [
        (((1, 1, 8, 8),) * 3, "head dim must be in"),
        (((1, 1, 8, 256),) * 3, "head dim must be in"),
        (((1, 1, 8, 16), (1, 1, 9, 16), (1, 1, 8, 16)), "share one"),
        (((8, 16),) * 3, "share one"),
    ],
)
def test_rejects_unsupported_shapes(shapes, match: str) -> None:
    q, k, v = (torch.zeros(s, device=DEVICE) for s in shapes)
    with pytest.raises(ValueError, match=match):
        flash_attention(q, k, v)


@pytest.mark.parametrize(("block_m", "block_n"), [(8, 8), (48, 16), (16, 32)])
def test_rejects_tiles_tl_dot_cannot_use(make_qkv, block_m: int, block_n: int) -> None:
    q, k, v = make_qkv(1, 1, 16, 16, device=DEVICE)
    with pytest.raises(ValueError, match="block_m"):
        flash_attention(q, k, v, block_m=block_m, block_n=block_n)


# ------------------------------------------------------------------------------------------ GPU


@pytest.mark.gpu
@requires_cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [1000, 1024])
def test_gpu_autotuned_matches_naive(make_qkv, n: int, causal: bool, d: int, dtype: torch.dtype) -> None:
    q, k, v = make_qkv(2, 4, n, d, dtype=dtype, device="cuda", seed=7)
    assert_matches_naive(q, k, v, causal, atol=1e-3)


@pytest.mark.gpu
@requires_cuda
def test_gpu_fp32_is_exact_by_default(make_qkv) -> None:
    q, k, v = make_qkv(1, 2, 300, 64, device="cuda", seed=8)
    assert_matches_naive(q, k, v, causal=True, atol=1e-4)


@pytest.mark.gpu
@requires_cuda
def test_gpu_forward_never_holds_an_n_by_n_matrix(make_qkv) -> None:
    n, d = 8192, 64
    q, k, v = make_qkv(1, 1, n, d, dtype=torch.float16, device="cuda")
    flash_attention(q, k, v)  # autotune first: its benchmarking allocates scratch memory
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    baseline = torch.cuda.memory_allocated()
    out = flash_attention(q, k, v)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - baseline
    # O (N·d fp16) plus L (N fp32), nowhere near one N x N fp16 matrix (128 MiB).
    assert peak <= out.numel() * 2 + n * 4 + (1 << 20)
