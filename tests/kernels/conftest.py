"""Shared set-up for the attention kernel tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_cpu_thread() -> Iterator[None]:
    """Run torch on one CPU thread: on a busy 2-core machine OpenMP workers spin against each other
    and small tiled ops slow down a hundredfold. The tests assert values and memory, not speed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


QKV = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _random_qkv(
    batch: int,
    heads: int,
    n: int,
    d: int,
    dtype: torch.dtype = torch.float32,
    device: str = "cpu",
    seed: int = 0,
    requires_grad: bool = False,
) -> QKV:
    gen = torch.Generator(device=device).manual_seed(seed)
    q, k, v = (
        torch.randn((batch, heads, n, d), generator=gen, device=device, dtype=dtype).requires_grad_(requires_grad)
        for _ in range(3)
    )
    return q, k, v


@pytest.fixture
def make_qkv() -> Callable[..., QKV]:
    """Factory of random (B, H, N, d) q, k, v from a fixed seed: make_qkv(batch, heads, n, d, dtype=...)."""
    return _random_qkv
