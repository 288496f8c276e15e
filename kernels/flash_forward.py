"""FlashAttention-2 forward pass in Triton: one program per (query block, batch·head), online softmax.

Algorithm 1 of Dao, "FlashAttention-2" (2023): a program keeps a BLOCK_M x d query tile in SRAM and
walks over the keys BLOCK_N at a time. For each key tile it computes the score tile S = Q Kᵀ / √d,
updates the running row max m and denominator l, rescales the output accumulator by exp(m_old − m_new)
and adds exp(S − m_new) V. The N x N matrices S and P never exist in memory; only O and the row-wise
log-sum-exp L = m + log l are written, and the backward pass recomputes P from L.

Scores are kept in base 2 (S · log2(e), then exp2), which saves a multiply per score on the GPU;
L is stored in natural log so that it equals ``torch.logsumexp(q @ kᵀ / √d, -1)``.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from kernels.tiles import interpreter_mode, load_rows, store_rows

LOG2E = math.log2(math.e)

# Fuse multiplies and adds (FMA) in the score and rescale arithmetic. Asked for at every launch because
# Triton 3.9 warns when the default is relied on, and that default flips in 3.10.
FP_FUSION = {"enable_fp_fusion": True}

# Fixed tiles under the interpreter, whose cost is per tile step more than per element: 64 x 32 runs
# N = 256 about 6x faster than 32 x 16, and BLOCK_M != BLOCK_N still exercises the causal split.
INTERPRETER_BLOCK_M = 64
INTERPRETER_BLOCK_N = 32


@triton.jit
def _attn_fwd_inner(
    acc,
    l_i,
    m_i,
    q,
    k_base_ptr,
    v_base_ptr,
    offs_m,
    lo,
    hi,
    N,
    qk_scale,
    HEAD_DIM: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    CAUSAL_MASK: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """Fold key/value tiles [lo, hi) into the running (acc, l, m) of one query tile."""
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    for start_n in range(lo, hi, BLOCK_N):
        cols = start_n + offs_n
        k = load_rows(k_base_ptr, cols, offs_d, N, HEAD_DIM)  # (BLOCK_N, BLOCK_D)
        s = tl.dot(q, tl.trans(k), input_precision=DOT_PRECISION) * qk_scale  # (BLOCK_M, BLOCK_N), log2 units
        valid = cols[None, :] < N
        if CAUSAL_MASK:
            valid = valid & (offs_m[:, None] >= cols[None, :])
        s = tl.where(valid, s, float("-inf"))
        # Key block 0 is visible to every row, so m_new is finite from the first step on and
        # exp2(m_i - m_new) is 0 (not NaN) when m_i is still -inf.
        m_new = tl.maximum(m_i, tl.max(s, 1))
        alpha = tl.exp2(m_i - m_new)
        p = tl.exp2(s - m_new[:, None])  # (BLOCK_M, BLOCK_N)
        l_i = l_i * alpha + tl.sum(p, 1)
        v = load_rows(v_base_ptr, cols, offs_d, N, HEAD_DIM)  # (BLOCK_N, BLOCK_D)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=DOT_PRECISION)
        m_i = m_new
    return acc, l_i, m_i


@triton.jit
def _attn_fwd(
    q_ptr,
    k_ptr,
    v_ptr,
    o_ptr,
    lse_ptr,
    qk_scale,
    N,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    CAUSAL: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """O = softmax(Q Kᵀ / √d) V and L = logsumexp for one BLOCK_M query tile of one (batch, head)."""
    tl.static_assert(BLOCK_M % BLOCK_N == 0)  # the causal split below needs whole key tiles per query tile
    start_m = tl.program_id(0) * BLOCK_M
    off_bh = tl.program_id(1).to(tl.int64)
    base = off_bh * N * HEAD_DIM  # start of this (b, h) slice in every (B, H, N, d) tensor
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)

    q = load_rows(q_ptr + base, offs_m, offs_d, N, HEAD_DIM)  # (BLOCK_M, BLOCK_D), stays in SRAM
    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)

    if CAUSAL:
        # Keys left of the diagonal tile are visible to all rows: no mask. Then the diagonal tile, masked.
        acc, l_i, m_i = _attn_fwd_inner(
            acc,
            l_i,
            m_i,
            q,
            k_ptr + base,
            v_ptr + base,
            offs_m,
            0,
            start_m,
            N,
            qk_scale,
            HEAD_DIM,
            BLOCK_N,
            BLOCK_D,
            False,
            DOT_PRECISION,
        )
        acc, l_i, m_i = _attn_fwd_inner(
            acc,
            l_i,
            m_i,
            q,
            k_ptr + base,
            v_ptr + base,
            offs_m,
            start_m,
            tl.minimum(start_m + BLOCK_M, N),
            N,
            qk_scale,
            HEAD_DIM,
            BLOCK_N,
            BLOCK_D,
            True,
            DOT_PRECISION,
        )
    else:
        acc, l_i, m_i = _attn_fwd_inner(
            acc,
            l_i,
            m_i,
            q,
            k_ptr + base,
            v_ptr + base,
            offs_m,
            0,
            N,
            N,
            qk_scale,
            HEAD_DIM,
            BLOCK_N,
            BLOCK_D,
            False,
            DOT_PRECISION,
        )

    acc = acc / l_i[:, None]
    lse = (m_i + tl.log2(l_i)) * 0.6931471805599453  # back to natural log: ln 2 · log2-sum-exp
    tl.store(lse_ptr + off_bh * N + offs_m, lse, mask=offs_m < N)
    store_rows(o_ptr + base, offs_m, offs_d, acc.to(o_ptr.dtype.element_ty), N, HEAD_DIM)


def _fwd_configs() -> list[triton.Config]:
    return [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=warps, num_stages=stages)
        for bm in (64, 128)
        for bn in (32, 64, 128)
        if bm % bn == 0
        for stages in (3, 4)
        for warps in (4, 8)
    ]


_attn_fwd_tuned = triton.autotune(configs=_fwd_configs(), key=["N", "HEAD_DIM", "CAUSAL"])(_attn_fwd)


def dot_precision(dtype: torch.dtype) -> str | None:
    """fp32 dots follow torch's matmul setting (exact by default, TF32 if allowed); halves use the default."""
    if dtype == torch.float32:
        return "tf32" if torch.backends.cuda.matmul.allow_tf32 else "ieee"
    return None


def flash_forward(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool,
    sm_scale: float,
    block_m: int | None = None,
    block_n: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Launch the forward kernel on contiguous (B, H, N, d) inputs; return O (B, H, N, d) and L (B, H, N).

    With ``block_m``/``block_n`` unset the GPU autotunes the tile sizes and the interpreter uses
    small fixed ones.
    """
    batch, heads, n, head_dim = q.shape
    o = torch.empty_like(q)  # (B, H, N, d)
    lse = torch.empty((batch, heads, n), device=q.device, dtype=torch.float32)  # (B, H, N)
    meta = {
        "HEAD_DIM": head_dim,
        "BLOCK_D": triton.next_power_of_2(head_dim),
        "CAUSAL": causal,
        "DOT_PRECISION": dot_precision(q.dtype),
    }
    qk_scale = sm_scale * LOG2E
    if block_m is None and block_n is None and not interpreter_mode():

        def grid(cfg: dict) -> tuple[int, int]:
            return (triton.cdiv(n, cfg["BLOCK_M"]), batch * heads)

        _attn_fwd_tuned[grid](q, k, v, o, lse, qk_scale, n, **meta, **FP_FUSION)
    else:
        bm = block_m or INTERPRETER_BLOCK_M
        bn = block_n or INTERPRETER_BLOCK_N
        grid_fixed = (triton.cdiv(n, bm), batch * heads)
        _attn_fwd[grid_fixed](
            q, k, v, o, lse, qk_scale, n, BLOCK_M=bm, BLOCK_N=bn, num_warps=4, num_stages=2, **meta, **FP_FUSION
        )
    return o, lse
