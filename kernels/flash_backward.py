"""FlashAttention-2 backward pass in Triton: recompute P tile by tile from the saved log-sum-exp.

Algorithm 2 of Dao, "FlashAttention-2" (2023). With S = Q Kᵀ / √d, P = exp(S − L) and D = rowsum(dO ∘ O):

    dV = Pᵀ dO,   dP = dO Vᵀ,   dS = P ∘ (dP − D),   dQ = dS K / √d,   dK = dSᵀ Q / √d.

P is never stored: each tile is rebuilt from Q, K and the row's L saved by the forward pass, which
costs one extra matmul per tile and saves the O(N²) memory. Two kernels avoid atomics: one program per
key tile accumulates dK and dV over all query tiles; one program per query tile accumulates dQ over all
key tiles (the split used by Triton's fused-attention tutorial).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from kernels.flash_forward import FP_FUSION, INTERPRETER_BLOCK_M, INTERPRETER_BLOCK_N, LOG2E, dot_precision
from kernels.tiles import interpreter_mode, load_rows, store_rows


@triton.jit
def _attn_bwd_delta(
    o_ptr,
    do_ptr,
    delta_ptr,
    N,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_M: tl.constexpr,
):
    """D = rowsum(dO ∘ O), the term that dS needs from the softmax Jacobian."""
    off_bh = tl.program_id(1).to(tl.int64)
    base = off_bh * N * HEAD_DIM
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    o = load_rows(o_ptr + base, rows, offs_d, N, HEAD_DIM).to(tl.float32)  # (BLOCK_M, BLOCK_D)
    do = load_rows(do_ptr + base, rows, offs_d, N, HEAD_DIM).to(tl.float32)  # (BLOCK_M, BLOCK_D)
    tl.store(delta_ptr + off_bh * N + rows, tl.sum(o * do, 1), mask=rows < N)


@triton.jit
def _attn_bwd_dkdv_inner(
    dk,
    dv,
    k,
    v,
    q_base_ptr,
    do_base_ptr,
    lse_base_ptr,
    delta_base_ptr,
    offs_n,
    lo,
    hi,
    N,
    qk_scale,
    HEAD_DIM: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_D: tl.constexpr,
    CAUSAL_MASK: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """Accumulate one key tile's dK, dV over query tiles [lo, hi), working on transposed tiles."""
    offs_d = tl.arange(0, BLOCK_D)
    for start_m in range(lo, hi, BLOCK_M):
        rows = start_m + tl.arange(0, BLOCK_M)
        in_seq = rows < N
        q = load_rows(q_base_ptr, rows, offs_d, N, HEAD_DIM)  # (BLOCK_M, BLOCK_D)
        do = load_rows(do_base_ptr, rows, offs_d, N, HEAD_DIM)  # (BLOCK_M, BLOCK_D)
        lse2 = tl.load(lse_base_ptr + rows, mask=in_seq, other=0.0) * 1.4426950408889634  # log2 units
        delta = tl.load(delta_base_ptr + rows, mask=in_seq, other=0.0)
        s_t = tl.dot(k, tl.trans(q), input_precision=DOT_PRECISION) * qk_scale  # (BLOCK_N, BLOCK_M) = Sᵀ
        valid = in_seq[None, :]
        if CAUSAL_MASK:
            valid = valid & (rows[None, :] >= offs_n[:, None])
        p_t = tl.where(valid, tl.exp2(s_t - lse2[None, :]), 0.0)  # Pᵀ, recomputed
        dv += tl.dot(p_t.to(do.dtype), do, input_precision=DOT_PRECISION)
        dp_t = tl.dot(v, tl.trans(do), input_precision=DOT_PRECISION)  # (BLOCK_N, BLOCK_M) = dPᵀ
        ds_t = p_t * (dp_t - delta[None, :])
        dk += tl.dot(ds_t.to(q.dtype), q, input_precision=DOT_PRECISION)
    return dk, dv


@triton.jit
def _attn_bwd_dkdv(
    q_ptr,
    k_ptr,
    v_ptr,
    do_ptr,
    lse_ptr,
    delta_ptr,
    dk_ptr,
    dv_ptr,
    sm_scale,
    qk_scale,
    N,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    CAUSAL: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """dK, dV for one BLOCK_N key tile of one (batch, head): its K, V stay in SRAM, queries stream past."""
    tl.static_assert(BLOCK_N % BLOCK_M == 0)  # the causal split below needs whole query tiles per key tile
    start_n = tl.program_id(0) * BLOCK_N
    off_bh = tl.program_id(1).to(tl.int64)
    base = off_bh * N * HEAD_DIM
    offs_n = start_n + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    k = load_rows(k_ptr + base, offs_n, offs_d, N, HEAD_DIM)  # (BLOCK_N, BLOCK_D)
    v = load_rows(v_ptr + base, offs_n, offs_d, N, HEAD_DIM)  # (BLOCK_N, BLOCK_D)
    dk = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_D], dtype=tl.float32)
    q_base, do_base = q_ptr + base, do_ptr + base
    lse_base, delta_base = lse_ptr + off_bh * N, delta_ptr + off_bh * N

    if CAUSAL:
        # Queries above this key tile never see it. The diagonal query tiles need the mask; below, none.
        dk, dv = _attn_bwd_dkdv_inner(
            dk,
            dv,
            k,
            v,
            q_base,
            do_base,
            lse_base,
            delta_base,
            offs_n,
            start_n,
            tl.minimum(start_n + BLOCK_N, N),
            N,
            qk_scale,
            HEAD_DIM,
            BLOCK_M,
            BLOCK_D,
            True,
            DOT_PRECISION,
        )
        dk, dv = _attn_bwd_dkdv_inner(
            dk,
            dv,
            k,
            v,
            q_base,
            do_base,
            lse_base,
            delta_base,
            offs_n,
            start_n + BLOCK_N,
            N,
            N,
            qk_scale,
            HEAD_DIM,
            BLOCK_M,
            BLOCK_D,
            False,
            DOT_PRECISION,
        )
    else:
        dk, dv = _attn_bwd_dkdv_inner(
            dk,
            dv,
            k,
            v,
            q_base,
            do_base,
            lse_base,
            delta_base,
            offs_n,
            0,
            N,
            N,
            qk_scale,
            HEAD_DIM,
            BLOCK_M,
            BLOCK_D,
            False,
            DOT_PRECISION,
        )

    store_rows(dk_ptr + base, offs_n, offs_d, (dk * sm_scale).to(dk_ptr.dtype.element_ty), N, HEAD_DIM)
    store_rows(dv_ptr + base, offs_n, offs_d, dv.to(dv_ptr.dtype.element_ty), N, HEAD_DIM)


@triton.jit
def _attn_bwd_dq_inner(
    dq,
    q,
    do,
    lse2,
    delta,
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
    """Accumulate one query tile's dQ over key tiles [lo, hi)."""
    offs_d = tl.arange(0, BLOCK_D)
    for start_n in range(lo, hi, BLOCK_N):
        cols = start_n + tl.arange(0, BLOCK_N)
        k = load_rows(k_base_ptr, cols, offs_d, N, HEAD_DIM)  # (BLOCK_N, BLOCK_D)
        v = load_rows(v_base_ptr, cols, offs_d, N, HEAD_DIM)  # (BLOCK_N, BLOCK_D)
        s = tl.dot(q, tl.trans(k), input_precision=DOT_PRECISION) * qk_scale  # (BLOCK_M, BLOCK_N)
        valid = (offs_m[:, None] < N) & (cols[None, :] < N)
        if CAUSAL_MASK:
            valid = valid & (offs_m[:, None] >= cols[None, :])
        p = tl.where(valid, tl.exp2(s - lse2[:, None]), 0.0)
        dp = tl.dot(do, tl.trans(v), input_precision=DOT_PRECISION)  # (BLOCK_M, BLOCK_N)
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k, input_precision=DOT_PRECISION)
    return dq


@triton.jit
def _attn_bwd_dq(
    q_ptr,
    k_ptr,
    v_ptr,
    do_ptr,
    lse_ptr,
    delta_ptr,
    dq_ptr,
    sm_scale,
    qk_scale,
    N,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    CAUSAL: tl.constexpr,
    DOT_PRECISION: tl.constexpr,
):
    """dQ for one BLOCK_M query tile of one (batch, head): Q, dO, L, D stay in SRAM, keys stream past."""
    tl.static_assert(BLOCK_M % BLOCK_N == 0)
    start_m = tl.program_id(0) * BLOCK_M
    off_bh = tl.program_id(1).to(tl.int64)
    base = off_bh * N * HEAD_DIM
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, BLOCK_D)
    in_seq = offs_m < N
    q = load_rows(q_ptr + base, offs_m, offs_d, N, HEAD_DIM)  # (BLOCK_M, BLOCK_D)
    do = load_rows(do_ptr + base, offs_m, offs_d, N, HEAD_DIM)  # (BLOCK_M, BLOCK_D)
    lse2 = tl.load(lse_ptr + off_bh * N + offs_m, mask=in_seq, other=0.0) * 1.4426950408889634
    delta = tl.load(delta_ptr + off_bh * N + offs_m, mask=in_seq, other=0.0)
    dq = tl.zeros([BLOCK_M, BLOCK_D], dtype=tl.float32)

    if CAUSAL:
        dq = _attn_bwd_dq_inner(
            dq,
            q,
            do,
            lse2,
            delta,
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
        dq = _attn_bwd_dq_inner(
            dq,
            q,
            do,
            lse2,
            delta,
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
        dq = _attn_bwd_dq_inner(
            dq,
            q,
            do,
            lse2,
            delta,
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

    store_rows(dq_ptr + base, offs_m, offs_d, (dq * sm_scale).to(dq_ptr.dtype.element_ty), N, HEAD_DIM)


def _bwd_configs(outer: str, inner: str) -> list[triton.Config]:
    """Tiles for a kernel whose programs own ``outer`` rows and loop over ``inner`` rows.

    A program keeps two fp32 (outer x d) accumulators in registers (dK and dV, or dQ and the Q/dO
    tiles), so the streamed side stays small; 16 configs bound the tuning time of the first call.
    """
    return [
        triton.Config({outer: bo, inner: bi}, num_warps=warps, num_stages=stages)
        for bo in (64, 128)
        for bi in (16, 32)
        for stages in (2, 3)
        for warps in (4, 8)
    ]


_BWD_KEY = ["N", "HEAD_DIM", "CAUSAL"]
_attn_bwd_dkdv_tuned = triton.autotune(configs=_bwd_configs("BLOCK_N", "BLOCK_M"), key=_BWD_KEY)(_attn_bwd_dkdv)
_attn_bwd_dq_tuned = triton.autotune(configs=_bwd_configs("BLOCK_M", "BLOCK_N"), key=_BWD_KEY)(_attn_bwd_dq)
_DELTA_BLOCK_M = 64


def flash_backward(
    do: torch.Tensor,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    o: torch.Tensor,
    lse: torch.Tensor,
    causal: bool,
    sm_scale: float,
    block_m: int | None = None,
    block_n: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dQ, dK, dV (each (B, H, N, d)) from contiguous dO, the inputs, O and L of the forward pass.

    Fixed tiles (``block_m``/``block_n``, or the interpreter's) mean: every program owns ``block_m``
    rows and loops over the other side ``block_n`` rows at a time, so the dK/dV kernel gets
    BLOCK_N = block_m keys per program and BLOCK_M = block_n queries per step.
    """
    batch, heads, n, head_dim = q.shape
    delta = torch.empty_like(lse)  # (B, H, N) fp32
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)  # (B, H, N, d) each
    meta = {
        "HEAD_DIM": head_dim,
        "BLOCK_D": triton.next_power_of_2(head_dim),
        "CAUSAL": causal,
        "DOT_PRECISION": dot_precision(q.dtype),
    }
    qk_scale = sm_scale * LOG2E
    tuned = block_m is None and block_n is None and not interpreter_mode()
    bm = block_m or INTERPRETER_BLOCK_M
    bn = block_n or INTERPRETER_BLOCK_N

    delta_block = _DELTA_BLOCK_M if tuned else bm
    _attn_bwd_delta[(triton.cdiv(n, delta_block), batch * heads)](
        o, do, delta, n, HEAD_DIM=head_dim, BLOCK_D=meta["BLOCK_D"], BLOCK_M=delta_block, **FP_FUSION
    )
    args_dkdv = (q, k, v, do, lse, delta, dk, dv, sm_scale, qk_scale, n)
    args_dq = (q, k, v, do, lse, delta, dq, sm_scale, qk_scale, n)
    if tuned:

        def grid_dkdv(cfg: dict) -> tuple[int, int]:
            return (triton.cdiv(n, cfg["BLOCK_N"]), batch * heads)

        def grid_dq(cfg: dict) -> tuple[int, int]:
            return (triton.cdiv(n, cfg["BLOCK_M"]), batch * heads)

        _attn_bwd_dkdv_tuned[grid_dkdv](*args_dkdv, **meta, **FP_FUSION)
        _attn_bwd_dq_tuned[grid_dq](*args_dq, **meta, **FP_FUSION)
    else:
        launch = {"num_warps": 4, "num_stages": 2, **meta, **FP_FUSION}
        _attn_bwd_dkdv[(triton.cdiv(n, bm), batch * heads)](*args_dkdv, BLOCK_N=bm, BLOCK_M=bn, **launch)
        _attn_bwd_dq[(triton.cdiv(n, bm), batch * heads)](*args_dq, BLOCK_M=bm, BLOCK_N=bn, **launch)
    return dq, dk, dv
