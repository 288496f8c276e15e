"""Masked tile loads and stores shared by the forward and backward FlashAttention kernels.

Every tensor the kernels touch is a contiguous (B, H, N, d) array, so one (batch, head) slice is an
(N, d) row-major matrix starting at ``(b * H + h) * N * d``. A tile is a block of its rows; rows past
the sequence length N and columns past the head dim are masked, which is what lets the kernels take
any N and any head dim in [16, 128] while ``tl.arange`` and ``tl.dot`` need power-of-two blocks.
"""

from __future__ import annotations

import triton
import triton.language as tl
from triton.runtime.interpreter import InterpretedFunction


@triton.jit
def load_rows(base_ptr, rows, offs_d, N, HEAD_DIM: tl.constexpr):
    """Load rows ``rows`` of an (N, HEAD_DIM) matrix as a (len(rows), BLOCK_D) tile; padding reads 0."""
    mask = (rows[:, None] < N) & (offs_d[None, :] < HEAD_DIM)
    return tl.load(base_ptr + rows[:, None] * HEAD_DIM + offs_d[None, :], mask=mask, other=0.0)


@triton.jit
def store_rows(base_ptr, rows, offs_d, tile, N, HEAD_DIM: tl.constexpr):
    """Store a (len(rows), BLOCK_D) tile into rows ``rows`` of an (N, HEAD_DIM) matrix; padding is dropped."""
    mask = (rows[:, None] < N) & (offs_d[None, :] < HEAD_DIM)
    tl.store(base_ptr + rows[:, None] * HEAD_DIM + offs_d[None, :], tile, mask=mask)


def library_interpreted() -> bool:
    """True when Triton's own library (tl.max, tl.sum...) was decorated for the interpreter, which
    happens only when TRITON_INTERPRET=1 was set before ``triton`` was first imported."""
    import triton.language.standard as standard

    return isinstance(standard.sum, InterpretedFunction)


def interpreter_mode() -> bool:
    """True when the kernels in this package run under Triton's interpreter (TRITON_INTERPRET=1)."""
    return isinstance(load_rows, InterpretedFunction)
