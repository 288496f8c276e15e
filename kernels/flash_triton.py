"""FlashAttention as a differentiable torch op: the Triton forward and backward kernels behind autograd.

softmax(Q Kᵀ / √d) V computed in tiles with the online softmax, so memory grows as O(N d) instead of
O(N²) and the N x N scores never travel to HBM (Dao et al., "FlashAttention", 2022, Algorithm 1;
"FlashAttention-2", 2023, Algorithms 1 and 2). The forward saves only O and the row log-sum-exp L; the
backward recomputes each probability tile from L.

Caution:
    - Inputs are (batch, heads, N, d) with the same N for queries and keys; no padding masks, dropout,
      attention bias or grouped-query heads.
    - Non-contiguous inputs are copied to contiguous ones first (extra memory for that copy).
    - Head dims that are not a power of two (e.g. 80) run in the next power-of-two tile with masked
      columns, so they cost the work of the larger tile.
    - fp32 runs the dots exactly unless ``torch.backends.cuda.matmul.allow_tf32`` is set, which is
      slow on tensor-core GPUs, and its largest autotune tiles exceed an H100's shared memory (the
      autotuner skips them); fp16 and bf16 accumulate in fp32 and round the output once.
    - Under Triton's interpreter (no CUDA) the kernel is for correctness only: it runs one program at
      a time, hundreds of times slower than torch, and bf16 is refused because the interpreter
      computes it wrongly without an error.
    - Autotuning runs on the first call for each (N, head dim, causal, dtype); time that call apart.
    - batch·heads is a grid axis and must stay below 65536.
"""

from __future__ import annotations

import math

import torch

from kernels.flash_backward import flash_backward
from kernels.flash_forward import flash_forward
from kernels.tiles import interpreter_mode, library_interpreted

SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32)
MIN_HEAD_DIM, MAX_HEAD_DIM = 16, 128
MAX_BATCH_HEADS = 65535


class FlashAttention(torch.autograd.Function):
    """Autograd wrapper: forward saves (q, k, v, O, L); backward recomputes P tile by tile."""

    @staticmethod
    def forward(
        ctx: torch.autograd.function.FunctionCtx,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        causal: bool,
        sm_scale: float,
        block_m: int | None,
        block_n: int | None,
    ) -> torch.Tensor:
        o, lse = flash_forward(q, k, v, causal, sm_scale, block_m, block_n)
        ctx.save_for_backward(q, k, v, o, lse)
        ctx.causal, ctx.sm_scale, ctx.block_m, ctx.block_n = causal, sm_scale, block_m, block_n
        return o

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, do: torch.Tensor) -> tuple:
        q, k, v, o, lse = ctx.saved_tensors
        dq, dk, dv = flash_backward(
            do.contiguous(), q, k, v, o, lse, ctx.causal, ctx.sm_scale, ctx.block_m, ctx.block_n
        )
        return dq, dk, dv, None, None, None, None


def _check_inputs(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.dim() != 4 or q.shape != k.shape or q.shape != v.shape:
        raise ValueError(
            f"q, k, v must share one (batch, heads, N, d) shape, got {tuple(q.shape)}, "
            f"{tuple(k.shape)}, {tuple(v.shape)}"
        )
    if not (q.dtype == k.dtype == v.dtype) or q.dtype not in SUPPORTED_DTYPES:
        raise ValueError(f"q, k, v must share one dtype of fp16, bf16, fp32; got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError(f"q, k, v must be on one device, got {q.device}, {k.device}, {v.device}")
    batch, heads, n, head_dim = q.shape
    if not MIN_HEAD_DIM <= head_dim <= MAX_HEAD_DIM:
        raise ValueError(f"head dim must be in [{MIN_HEAD_DIM}, {MAX_HEAD_DIM}], got {head_dim}")
    if n < 1 or batch * heads < 1:
        raise ValueError(f"empty attention input of shape {tuple(q.shape)}")
    if batch * heads > MAX_BATCH_HEADS:
        raise ValueError(f"batch·heads = {batch * heads} exceeds the grid limit {MAX_BATCH_HEADS}")
    if interpreter_mode():
        if not library_interpreted():
            raise RuntimeError(
                "Triton was imported before its interpreter was chosen, so its library cannot run here "
                "without CUDA. Import kernels (or explorer) before anything imports triton, or start "
                "Python with TRITON_INTERPRET=1."
            )
        if q.dtype == torch.bfloat16:
            raise ValueError(
                "bf16 is refused under the Triton interpreter (TRITON_INTERPRET=1): it returns wrong "
                "values without an error. Use float16 or float32 here, or run on a CUDA GPU."
            )
    elif q.device.type != "cuda":
        raise ValueError(
            f"the compiled Triton kernel needs CUDA tensors, got device {q.device} (without CUDA it runs "
            "under Triton's interpreter, chosen before triton is first imported: import kernels first, "
            "or set TRITON_INTERPRET=1)"
        )


def _check_blocks(block_m: int | None, block_n: int | None) -> None:
    for name, block in (("block_m", block_m), ("block_n", block_n)):
        if block is not None and (block < 16 or block & (block - 1)):
            raise ValueError(f"{name} must be a power of two >= 16 (tl.dot's minimum), got {block}")
    if block_m is not None and block_n is not None and block_m % block_n:
        raise ValueError(f"block_m must be a multiple of block_n, got {block_m} and {block_n}")


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    sm_scale: float | None = None,
    *,
    block_m: int | None = None,
    block_n: int | None = None,
) -> torch.Tensor:
    """softmax(q kᵀ · sm_scale) v for (B, H, N, d) tensors, differentiable in q, k and v.

    ``sm_scale`` defaults to 1/√d. ``block_m``/``block_n`` fix the tile sizes (powers of two >= 16,
    block_m a multiple of block_n) instead of autotuning; tests use them to force many tiles.
    """
    _check_inputs(q, k, v)
    _check_blocks(block_m, block_n)
    scale = 1.0 / math.sqrt(q.shape[-1]) if sm_scale is None else float(sm_scale)
    return FlashAttention.apply(q.contiguous(), k.contiguous(), v.contiguous(), causal, scale, block_m, block_n)


def flash_attention_with_lse(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    causal: bool = False,
    sm_scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward only: O (B, H, N, d) and the row log-sum-exp L (B, H, N, fp32) the backward pass reuses."""
    _check_inputs(q, k, v)
    scale = 1.0 / math.sqrt(q.shape[-1]) if sm_scale is None else float(sm_scale)
    return flash_forward(q.contiguous(), k.contiguous(), v.contiguous(), causal, scale)
