"""Measurements measure: a real CPU allocation trace, sane timings and errors, OOM as a result."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from kernels import attention, measure

F32 = 4  # bytes


def test_cpu_peak_comes_from_the_allocation_trace() -> None:
    def fn() -> torch.Tensor:
        a = torch.empty(2**18)  # 1 MiB
        b = torch.empty(2**19)  # 2 MiB while a is alive: 3 MiB live
        del a
        c = torch.empty(2**18)  # 1 MiB in a's place: 3 MiB again, not 4
        del b
        return c

    peak = measure.peak_memory_bytes(fn, torch.device("cpu"))
    assert 3 * 2**20 <= peak < 3 * 2**20 + 2**16


@pytest.mark.parametrize("n", [1024, 4096])
def test_tiled_torch_peak_is_far_below_naive_on_cpu(n: int) -> None:
    naive = attention.measure("naive", n=n, d=64, device="cpu", dtype=torch.float32, repeats=1)
    tiled = attention.measure("tiled_torch", n=n, d=64, device="cpu", dtype=torch.float32, repeats=1)
    assert naive.error is None and tiled.error is None
    # naive holds the scores and the probabilities at once; the tiled loop never holds even one N x N.
    assert naive.peak_bytes >= 2 * n * n * F32
    assert tiled.peak_bytes < n * n * F32
    assert tiled.peak_bytes <= naive.peak_bytes / 8


def test_measurement_fields_are_consistent(make_qkv) -> None:
    m = attention.measure("sdpa", n=128, d=32, device="cpu", dtype=torch.float32, causal=True, batch=2, heads=3)
    assert (m.method, m.n, m.d, m.batch, m.heads, m.causal, m.dtype, m.device) == (
        "sdpa",
        128,
        32,
        2,
        3,
        True,
        "float32",
        "cpu",
    )
    assert not m.oom and m.error is None
    assert m.peak_bytes >= 2 * 3 * 128 * 32 * F32  # at least the output
    assert m.ms > 0
    assert m.tflops == pytest.approx(attention.attention_flops(128, 32, 2, 3, causal=True) / (m.ms * 1e9))
    assert m.max_abs_err < 1e-5
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.ms = 0.0  # type: ignore[misc]


def test_forward_and_backward_mode_measures_gradients() -> None:
    fwd = attention.measure("naive", n=256, d=32, device="cpu", dtype=torch.float32, repeats=1)
    both = attention.measure("naive", n=256, d=32, device="cpu", dtype=torch.float32, mode="fwd_bwd", repeats=1)
    assert both.error is None and both.mode == "fwd_bwd"
    assert both.peak_bytes > fwd.peak_bytes  # three gradients and the saved probabilities on top
    assert both.max_abs_err == 0.0


def test_flash_is_measured_and_checked_against_naive(make_qkv) -> None:
    m = attention.measure(
        "flash", n=64, d=16, device="cpu" if attention.interpreter_mode() else "cuda", dtype=torch.float32, causal=True
    )
    assert m.error is None, m.error
    assert m.max_abs_err < 1e-5
    if attention.interpreter_mode():
        assert m.note is not None and "interpreter" in m.note


@pytest.mark.skipif(not attention.interpreter_mode(), reason="only the interpreter refuses bf16")
def test_bf16_flash_under_the_interpreter_is_reported_not_raised() -> None:
    m = attention.measure("flash", n=32, d=16, device="cpu", dtype=torch.bfloat16)
    assert not m.oom and m.peak_bytes is None and m.ms is None
    assert "bf16" in m.error


@pytest.mark.parametrize(
    "exc",
    [
        torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB"),
        MemoryError(),
        RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes"),
    ],
    ids=["cuda", "python", "cpu-allocator"],
)
def test_out_of_memory_is_reported_not_raised(monkeypatch, exc: BaseException) -> None:
    def exhausted(q, k, v, causal):
        raise exc

    monkeypatch.setitem(measure.METHODS, "naive", exhausted)
    m = attention.measure("naive", n=64, d=16, device="cpu", dtype=torch.float32)
    assert m.oom
    assert m.peak_bytes is None and m.ms is None and m.tflops is None
    assert m.error.startswith(type(exc).__name__)


@pytest.mark.skipif(
    not Path("/proc/sys/vm/overcommit_memory").exists()
    or Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1",
    reason="needs a kernel that refuses impossible allocations (overcommit mode 0 or 2)",
)
def test_a_real_cpu_out_of_memory_is_reported() -> None:
    # naive attention at N = 2^20 asks for 4 TiB of scores at once; the allocator refuses it.
    m = attention.measure("naive", n=2**20, d=16, device="cpu", dtype=torch.float32)
    assert m.oom, m.error


def test_other_failures_come_back_as_errors(monkeypatch) -> None:
    def broken(q, k, v, causal):
        raise RuntimeError("shape mismatch in the kernel")

    monkeypatch.setitem(measure.METHODS, "sdpa", broken)
    m = attention.measure("sdpa", n=64, d=16, device="cpu", dtype=torch.float32)
    assert not m.oom
    assert m.error == "RuntimeError: shape mismatch in the kernel"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_is_an_error_not_a_crash() -> None:
    m = attention.measure("sdpa", n=64, d=16, device="cuda")
    assert not m.oom and "CUDA is not available" in m.error


def test_unknown_method_or_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        attention.measure("fast", n=64, d=16, device="cpu")
    with pytest.raises(ValueError, match="unknown mode"):
        attention.measure("naive", n=64, d=16, device="cpu", mode="bwd")


def test_flop_count() -> None:
    assert attention.attention_flops(1024, 64) == 4 * 1024**2 * 64
    assert attention.attention_flops(1024, 64, batch=2, heads=8, causal=True) == 2 * 2 * 8 * 1024**2 * 64
    assert attention.attention_flops(1024, 64, mode="fwd_bwd") == 3.5 * 4 * 1024**2 * 64


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_flash_peak_is_far_below_naive() -> None:
    kw = {"n": 4096, "d": 64, "device": "cuda", "dtype": torch.float16, "batch": 2, "heads": 4}
    flash, naive = attention.measure("flash", **kw), attention.measure("naive", **kw)
    assert flash.error is None and naive.error is None
    assert flash.peak_bytes * 10 <= naive.peak_bytes
    assert flash.max_abs_err < 1e-2
