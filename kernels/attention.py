"""Attention four ways, one import: ``from kernels import attention``.

    attention.naive(q, k, v, causal=False)              # materializes the N x N scores: O(N²) memory
    attention.tiled_torch(q, k, v, causal=False, block=128)  # online softmax in torch tiles: O(N d)
    attention.flash(q, k, v, causal=False)              # the Triton FlashAttention kernel, autograd-capable
    attention.sdpa(q, k, v, causal=False)               # torch.nn.functional.scaled_dot_product_attention
    attention.measure("flash", n=4096, d=64, device="cuda", dtype=torch.float16)  # -> Measurement

q, k and v are (batch, heads, N, d) tensors; every method returns softmax(q kᵀ / √d) v of that shape.
Without Triton (macOS, Windows) ``flash`` raises and ``TRITON_MISSING`` says why; the others still run.
"""

from __future__ import annotations

from kernels.availability import TRITON_MISSING, flash_attention_with_lse, interpreter_mode
from kernels.availability import flash_attention as flash
from kernels.measure import METHODS, MODES, Measurement, attention_flops, device_name, is_out_of_memory, measure
from kernels.reference import naive, sdpa, tiled_torch

__all__ = [
    "METHODS",
    "MODES",
    "TRITON_MISSING",
    "Measurement",
    "attention_flops",
    "device_name",
    "flash",
    "flash_attention_with_lse",
    "interpreter_mode",
    "is_out_of_memory",
    "measure",
    "naive",
    "sdpa",
    "tiled_torch",
]
