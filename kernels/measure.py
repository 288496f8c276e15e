"""Measure attention methods: peak memory from the allocator's own record, time, throughput, error.

Nothing here is estimated. On CUDA the peak is the caching allocator's high-water mark above what was
allocated before the call (``reset_peak_memory_stats``; synchronize; call; synchronize;
``max_memory_allocated`` − baseline) and time is the median of ``triton.testing.do_bench``. On CPU the
peak comes from the allocation trace that ``torch.profiler`` records with ``profile_memory=True`` (the
running sum of every allocation and free, in order) and time is the median of ``time.perf_counter``.
Running out of memory is a result, not a failure: it comes back as ``Measurement(oom=True)``.
"""

from __future__ import annotations

import functools
import gc
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.profiler import ProfilerActivity, profile

from kernels.availability import flash_attention, interpreter_mode
from kernels.reference import naive, sdpa, tiled_torch

AttentionFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, bool], torch.Tensor]

METHODS: dict[str, AttentionFn] = {
    "naive": naive,
    "tiled_torch": tiled_torch,
    "flash": flash_attention,
    "sdpa": sdpa,
    "sdpa_flash": functools.partial(sdpa, backend="flash"),
}
MODES = ("fwd", "fwd_bwd")
# The backward pass runs 5 matmuls per tile against the forward's 2: fwd+bwd = 3.5x the forward FLOPs.
_FWD_BWD_FLOP_FACTOR = 3.5
# max_abs_err needs an fp32 naive run; do it only while its B·H·N² scores stay this small.
_ERR_CHECK_MAX_SCORES = {"cpu": 1 << 22, "cuda": 1 << 28}
# How allocators word running out: CUDA's and Triton's "out of memory", torch's CPU allocator
# "DefaultCPUAllocator: can't allocate memory" (older releases: "not enough memory").
_OOM_MARKERS = ("out of memory", "can't allocate memory", "not enough memory")
_INTERPRETER_NOTE = (
    "Triton interpreter: time is not representative and its numpy work buffers are not in the torch allocation trace"
)


@dataclass(frozen=True)
class Measurement:
    """One method at one size. ``peak_bytes``/``ms``/``tflops`` are None when it failed or ran out of memory."""

    method: str
    n: int
    d: int
    peak_bytes: int | None
    ms: float | None
    tflops: float | None
    oom: bool = False
    error: str | None = None
    max_abs_err: float | None = None  # forward output vs naive in fp32, where that is cheap
    device: str = "cpu"
    dtype: str = "float32"
    causal: bool = False
    batch: int = 1
    heads: int = 1
    mode: str = "fwd"
    note: str | None = None


def attention_flops(n: int, d: int, batch: int = 1, heads: int = 1, causal: bool = False, mode: str = "fwd") -> float:
    """Matmul FLOPs: Q Kᵀ and P V are 2·N²·d each, so 4·B·H·N²·d forward; causal skips half."""
    flops = 4.0 * batch * heads * n * n * d
    if causal:
        flops /= 2
    return flops * (_FWD_BWD_FLOP_FACTOR if mode == "fwd_bwd" else 1.0)


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's OutOfMemoryError, Python's MemoryError, or an allocator's RuntimeError saying so."""
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(marker in text for marker in _OOM_MARKERS)


def device_name(device: str) -> str:
    """A short human name of the device that runs the measurement."""
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    threads = torch.get_num_threads()
    return f"{model} ({threads} thread{'s' if threads != 1 else ''})"


def peak_memory_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """Bytes allocated at the high-water mark of one ``fn()`` call, above what was allocated before it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        baseline = torch.cuda.memory_allocated(device)
        result = fn()
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device) - baseline
        del result
        return peak
    gc.collect()  # garbage of earlier runs freed inside the trace would be a free of unknown size
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
    del result
    # Each "[memory]" record is one allocation (+bytes) or free (−bytes); their running sum in time
    # order is the live memory, and its maximum is the peak above the start of the trace.
    records = sorted(
        (event.start_ns(), event.nbytes())
        for event in prof.profiler.kineto_results.events()
        if event.name() == "[memory]"
    )
    live = peak = 0
    for _, nbytes in records:
        live += nbytes
        peak = max(peak, live)
    return peak


def median_ms(fn: Callable[[], object], device: torch.device, repeats: int, grad_to_none: list | None = None) -> float:
    """Median wall time of ``fn()`` in milliseconds (do_bench on CUDA, perf_counter on CPU)."""
    if device.type == "cuda":
        import triton.testing

        return float(triton.testing.do_bench(fn, grad_to_none=grad_to_none, return_mode="median"))
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure(
    method: str,
    n: int = 4096,
    d: int = 64,
    device: str = "cuda",
    dtype: torch.dtype = torch.float16,
    causal: bool = False,
    batch: int = 1,
    heads: int = 1,
    *,
    mode: str = "fwd",
    repeats: int | None = None,
    seed: int = 0,
) -> Measurement:
    """Run ``method`` on random (batch, heads, n, d) inputs and measure it; never raises for OOM.

    ``mode="fwd_bwd"`` measures forward plus backward with a random output gradient. ``repeats`` is the
    number of timed CPU runs (default 5, 1 for the interpreted Triton kernel). Any other failure
    (unsupported dtype, no CUDA) comes back in ``error``. A malformed argument (an unknown method,
    mode or device name, a size below 1) is the caller's mistake, not a measurement: ValueError.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {sorted(METHODS)}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
    _check_arguments(n, d, device, dtype, batch, heads, repeats)
    fields = {
        "method": method,
        "n": n,
        "d": d,
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
        "causal": causal,
        "batch": batch,
        "heads": heads,
        "mode": mode,
    }
    try:
        return _measure(fields, dtype, repeats, seed)
    except Exception as exc:  # a failed point is reported in the result, never raised
        oom = is_out_of_memory(exc)
        text = str(exc).strip()
        message = f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
    # Leaving the except block dropped the traceback and with it the frames holding the large tensors.
    gc.collect()
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    return Measurement(peak_bytes=None, ms=None, tflops=None, oom=oom, error=message, **fields)


def _check_arguments(
    n: int, d: int, device: str, dtype: torch.dtype, batch: int, heads: int, repeats: int | None
) -> None:
    """Refuse what cannot describe a measurement; a valid size that does not fit is measured as OOM."""
    kind, _, index = device.partition(":") if isinstance(device, str) else ("", "", "")
    if not ((kind == "cpu" and not index) or (kind == "cuda" and (not index or index.isdigit()))):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"dtype must be a torch dtype such as torch.float16, got {dtype!r}")
    sizes = {"n": n, "d": d, "batch": batch, "heads": heads, "repeats": 1 if repeats is None else repeats}
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
            raise ValueError(f"{name} must be a whole number between 1 and {2**31 - 1}, got {value!r}")


def _measure(fields: dict, dtype: torch.dtype, repeats: int | None, seed: int) -> Measurement:
    method, n, d, mode, causal = fields["method"], fields["n"], fields["d"], fields["mode"], fields["causal"]
    dev = torch.device(fields["device"])
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA is not available on this machine")
    interpreted = method == "flash" and interpreter_mode()
    if repeats is None:
        repeats = 1 if interpreted else 5
    fn = METHODS[method]
    gen = torch.Generator(device=dev).manual_seed(seed)
    shape = (fields["batch"], fields["heads"], n, d)  # (B, H, N, d)
    q, k, v = (torch.randn(shape, generator=gen, device=dev, dtype=dtype) for _ in range(3))
    inputs = [q, k, v]

    if mode == "fwd":

        def run() -> torch.Tensor:
            with torch.no_grad():
                return fn(q, k, v, causal)

    else:
        do = torch.randn(shape, generator=gen, device=dev, dtype=dtype)  # (B, H, N, d)
        for t in inputs:
            t.requires_grad_(True)

        def run() -> torch.Tensor:
            for t in inputs:
                t.grad = None  # each call allocates fresh gradients, as a training step does
            out = fn(q, k, v, causal)
            out.backward(do)
            return out.detach()

    out = run()  # warm-up (compile, autotune, first touch of the pages); its output is checked below
    err = None
    if fields["batch"] * fields["heads"] * n * n <= _ERR_CHECK_MAX_SCORES[dev.type]:
        with torch.no_grad():
            ref = naive(q.detach().float(), k.detach().float(), v.detach().float(), causal)
            err = (out.float() - ref).abs().max().item()
        del ref
    del out
    for t in inputs:
        t.grad = None
    peak = peak_memory_bytes(run, dev)
    ms = median_ms(run, dev, repeats, grad_to_none=inputs if mode == "fwd_bwd" else None)

    flops = attention_flops(n, d, fields["batch"], fields["heads"], causal, mode)
    return Measurement(
        peak_bytes=int(peak),
        ms=ms,
        tflops=flops / (ms * 1e9) if ms > 0 else None,
        max_abs_err=err,
        note=_INTERPRETER_NOTE if interpreted else None,
        **fields,
    )
