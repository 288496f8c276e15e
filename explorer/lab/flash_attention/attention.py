"""FlashAttention in the lab: a measured sweep, the online softmax tile by tile, and the IO model.

Attention's cost is not its FLOPs but its memory traffic: standard attention writes and reads the N x N
scores and probabilities in HBM, FlashAttention keeps each tile in SRAM and carries a running max and
denominator from tile to tile (the online softmax), so the output is exact while the N² matrices never
exist (Dao et al., "FlashAttention", NeurIPS 2022, Algorithm 1 and Theorem 2).

Everything here is Qt-free. The sweep imports torch and the kernels only when it runs, so the tab can
draw the step-through and the IO model (numpy only) before torch is loaded.
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from explorer.lab.core.protocol import Job, Progress

if TYPE_CHECKING:
    from kernels.measure import Measurement

METHODS = ("naive", "tiled_torch", "flash", "sdpa")
DTYPES = ("float16", "bfloat16", "float32")
DEVICES = ("cpu", "cuda")
# The interpreted Triton kernel takes about a second per call at N = 256 on CPU, and 4x that per doubling.
INTERPRETER_MAX_N = 256
# One A100 streaming multiprocessor has 192 KB of SRAM (paper, Section 2.1): 96 Ki fp16 elements.
A100_SRAM_ELEMENTS = 192 * 1024 // 2


# ---------------------------------------------------------------------------------------------- sweep


@dataclass(frozen=True)
class SweepConfig:
    """What to measure: every method at every sequence length N (powers of two), one head dim."""

    methods: tuple[str, ...] = METHODS
    n_values: tuple[int, ...] = (64, 128, 256, 512, 1024)
    d: int = 64
    dtype: str = "float32"
    causal: bool = False
    device: str = "cpu"
    batch: int = 1
    heads: int = 1
    mode: str = "fwd"  # "fwd" or "fwd_bwd"
    repeats: int = 3  # timed runs per CPU point (the GPU uses do_bench); the interpreted kernel runs once
    seed: int = 0  # of the random q, k, v: the same seed measures the same inputs
    #: method -> largest N to run it at (torch-tiled is a Python loop over tiles: slow at large N)
    max_n_by_method: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.methods:
            raise ValueError("Choose at least one method to measure.")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ValueError(f"methods must be a non-empty subset of {METHODS}, got {self.methods}")
        if not self.n_values or any(n < 1 or n & (n - 1) for n in self.n_values):
            raise ValueError(f"n_values must be powers of two, got {self.n_values}")
        if not 16 <= self.d <= 128:
            raise ValueError(f"d must be in [16, 128] (the Triton kernel's range), got {self.d}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")
        if self.batch < 1 or self.heads < 1 or self.repeats < 1:
            raise ValueError("batch, heads and repeats must be positive")
        if self.mode not in ("fwd", "fwd_bwd"):
            raise ValueError(f"mode must be 'fwd' or 'fwd_bwd', got {self.mode!r}")
        if any(m not in METHODS or cap < 1 for m, cap in self.max_n_by_method.items()):
            raise ValueError(f"max_n_by_method must map methods of {METHODS} to positive N, got {self.max_n_by_method}")


@dataclass(frozen=True)
class MethodCurve:
    """One method's measured points, in increasing N (float64 arrays of equal length)."""

    method: str
    n: np.ndarray
    peak_bytes: np.ndarray
    ms: np.ndarray
    tflops: np.ndarray
    max_abs_err: np.ndarray  # NaN where the fp32 reference was too large to compute
    note: str = ""  # a caveat of these numbers (the interpreted kernel's time and memory)


@dataclass(frozen=True)
class MissingPoint:
    """A (method, N) with no measurement, and why."""

    method: str
    n: int
    reason: str


@dataclass(frozen=True)
class SweepResult:
    """Everything a sweep found: one curve per method, and every point that has none, with why."""

    config: SweepConfig
    device_name: str
    interpreter: bool  # the Triton kernel ran under the interpreter
    curves: dict[str, MethodCurve]
    oom: tuple[MissingPoint, ...]  # ran out of memory
    skipped: tuple[MissingPoint, ...]  # not run, with the reason
    failed: tuple[MissingPoint, ...]  # ran and raised something other than out-of-memory
    measurements: tuple[Measurement, ...] = field(repr=False)


def sweep(cfg: SweepConfig) -> Job[SweepResult]:
    """Measure every (method, N); yields Progress after each point and returns a :class:`SweepResult`.

    Each Progress carries the result so far as ``partial``, so a view can draw points as they arrive.
    Raises ValueError at once (before any work) when the config asks for CUDA on a machine without it.
    """
    import torch

    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but this machine has no CUDA GPU")
    return _sweep(cfg)


def _sweep(cfg: SweepConfig) -> Generator[Progress, None, SweepResult]:
    import torch

    from kernels import attention

    dtype = getattr(torch, cfg.dtype)
    interpreted = attention.interpreter_mode()
    device_name = attention.device_name(cfg.device)
    points = [(n, method) for n in sorted(set(cfg.n_values)) for method in cfg.methods]
    measured: list[Measurement] = []
    oom: list[MissingPoint] = []
    skipped: list[MissingPoint] = []
    failed: list[MissingPoint] = []
    first_oom: dict[str, int] = {}
    ram = _physical_memory_bytes() if cfg.device == "cpu" else None

    def result() -> SweepResult:
        return SweepResult(
            config=cfg,
            device_name=device_name,
            interpreter=interpreted,
            curves={method: _curve(method, measured) for method in cfg.methods},
            oom=tuple(oom),
            skipped=tuple(skipped),
            failed=tuple(failed),
            measurements=tuple(measured),
        )

    for done, (n, method) in enumerate(points, start=1):
        # naive's scores and probabilities live at once: 2·B·H·N² elements
        naive_bytes = 2 * cfg.batch * cfg.heads * n * n * dtype.itemsize
        if method == "flash" and attention.TRITON_MISSING:
            reason = f"not run: {attention.TRITON_MISSING}"
        elif method in first_oom:
            reason = f"not run: out of memory already at N={first_oom[method]}"
        elif method == "flash" and interpreted and n > INTERPRETER_MAX_N:
            reason = (
                f"not run: without CUDA the Triton kernel runs under its interpreter, one program at a "
                f"time; kept to N <= {INTERPRETER_MAX_N}"
            )
        elif n > cfg.max_n_by_method.get(method, n):
            reason = f"not run: this sweep runs {method} up to N={cfg.max_n_by_method[method]}"
        elif method == "naive" and ram is not None and naive_bytes > ram // 2:
            # Past this the system may stop the whole app (Linux's OOM killer) instead of failing the allocation.
            reason = (
                f"not run: its N x N scores and probabilities need {_size(naive_bytes)}, more than half of this "
                f"machine's {_size(ram)} of RAM"
            )
        else:
            reason = ""
        if reason:
            skipped.append(MissingPoint(method, n, reason))
            message = f"{method} N={n}: skipped"
        else:
            m = attention.measure(
                method,
                n,
                cfg.d,
                cfg.device,
                dtype,
                cfg.causal,
                cfg.batch,
                cfg.heads,
                mode=cfg.mode,
                repeats=None if method == "flash" and interpreted else cfg.repeats,  # None: the kernel runs once
                seed=cfg.seed,
            )
            measured.append(m)
            if m.oom:
                oom.append(MissingPoint(method, n, m.error or "out of memory"))
                first_oom[method] = n
                message = f"{method} N={n}: out of memory"
            elif m.error is not None:
                failed.append(MissingPoint(method, n, m.error))
                message = f"{method} N={n}: failed ({m.error})"
            else:
                message = f"{method} N={n}: {m.ms:.2f} ms, peak {m.peak_bytes / 2**20:.2f} MiB"
        yield Progress(done / len(points), message, partial=result())

    return result()


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.3g} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.3g} MiB"


def _physical_memory_bytes() -> int | None:
    """This machine's RAM, where the system says (POSIX); None elsewhere."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _curve(method: str, measured: list[Measurement]) -> MethodCurve:
    ok = sorted((m for m in measured if m.method == method and m.ms is not None), key=lambda m: m.n)

    def column(values: list[float | int | None]) -> np.ndarray:
        return np.array([np.nan if x is None else x for x in values], dtype=np.float64)

    return MethodCurve(
        method=method,
        n=column([m.n for m in ok]),
        peak_bytes=column([m.peak_bytes for m in ok]),
        ms=column([m.ms for m in ok]),
        tflops=column([m.tflops for m in ok]),
        max_abs_err=column([m.max_abs_err for m in ok]),
        note=next((m.note for m in ok if m.note), ""),
    )


# ------------------------------------------------------------------------------- online softmax


@dataclass(frozen=True)
class OnlineSoftmaxState:
    """The algorithm right after folding key tile ``key_block`` into query tile ``query_block``.

    ``m``, ``l`` and ``acc`` are the running row max, denominator and unnormalized output of the query
    tile's rows; ``rescale`` = exp(m_before − m) is the factor the old ``l`` and ``acc`` were multiplied
    by in this step (1 where the max did not move). ``output`` is the whole (N, d) output as known so
    far: finished rows, ``acc / l`` for the current tile's rows, zeros for rows not reached yet.
    """

    step: int
    query_block: int
    key_block: int
    rows: tuple[int, int]  # [start, stop) of the query rows
    cols: tuple[int, int]  # [start, stop) of the key columns
    scores: np.ndarray  # (rows, cols): q kᵀ / √d, -inf where the causal mask hides a key
    m: np.ndarray  # (rows,)
    l: np.ndarray  # noqa: E741  (the paper's name for the softmax denominator); (rows,)
    rescale: np.ndarray  # (rows,)
    acc: np.ndarray  # (rows, d)
    output: np.ndarray  # (N, d)
    row_block_done: bool  # this was the query tile's last key tile: its rows are final


def example_qkv(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard-normal (N, d) float64 q, k, v: the same seed always gives the same example."""
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((3, n, d))  # (3, N, d) -> three (N, d)
    return q, k, v


def exact_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False) -> np.ndarray:
    """softmax(q kᵀ / √d) v in float64, the whole N x N matrix at once: the answer to compare with."""
    scores = q @ k.T / math.sqrt(q.shape[1])  # (N, N)
    if causal:
        scores = np.where(np.triu(np.ones(scores.shape, dtype=bool), 1), -np.inf, scores)
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)) @ v  # (N, d)


def online_softmax_steps(
    n: int = 16,
    d: int = 4,
    block_m: int = 4,
    block_n: int = 4,
    *,
    seed: int = 0,
    causal: bool = False,
) -> list[OnlineSoftmaxState]:
    """Run the online softmax on :func:`example_qkv` and return one state per (query, key) tile.

    Tiles need not divide N (the last ones are short). With ``causal`` the key tiles entirely right
    of a query tile's diagonal are never visited, as in the kernel.
    """
    if not 8 <= n <= 64:
        raise ValueError(f"n must be in [8, 64] for the step-through, got {n}")
    if not (2 <= block_m <= 16 and 2 <= block_n <= 16):
        raise ValueError(f"block sizes must be in [2, 16], got {block_m} and {block_n}")
    if not 1 <= d <= 64:
        raise ValueError(f"d must be in [1, 64], got {d}")
    q, k, v = example_qkv(n, d, seed)
    scale = 1.0 / math.sqrt(d)
    output = np.zeros((n, d))
    states: list[OnlineSoftmaxState] = []
    for qi, r0 in enumerate(range(0, n, block_m)):
        r1 = min(r0 + block_m, n)
        m = np.full(r1 - r0, -np.inf)
        l = np.zeros(r1 - r0)  # noqa: E741
        acc = np.zeros((r1 - r0, d))
        key_end = r1 if causal else n
        key_starts = list(range(0, key_end, block_n))
        for kj, c0 in enumerate(key_starts):
            c1 = min(c0 + block_n, key_end)
            s = q[r0:r1] @ k[c0:c1].T * scale  # (rows, cols)
            if causal:
                s = np.where(np.arange(c0, c1)[None, :] > np.arange(r0, r1)[:, None], -np.inf, s)
            m_new = np.maximum(m, s.max(axis=1))  # finite: key tile 0 is visible to every row
            rescale = np.exp(m - m_new)
            p = np.exp(s - m_new[:, None])  # (rows, cols)
            l = l * rescale + p.sum(axis=1)  # noqa: E741
            acc = acc * rescale[:, None] + p @ v[c0:c1]
            m = m_new
            output = output.copy()
            output[r0:r1] = acc / l[:, None]
            states.append(
                OnlineSoftmaxState(
                    step=len(states),
                    query_block=qi,
                    key_block=kj,
                    rows=(r0, r1),
                    cols=(c0, c1),
                    scores=s,
                    m=m.copy(),
                    l=l.copy(),
                    rescale=rescale,
                    acc=acc.copy(),
                    output=output,
                    row_block_done=kj == len(key_starts) - 1,
                )
            )
    return states


# -------------------------------------------------------------------------------------- IO model


def hbm_accesses_standard(n: int, d: int) -> int:
    """HBM element reads + writes of standard attention (paper, Algorithm 0): Θ(N d + N²).

    S = Q Kᵀ reads Q, K and writes S (2Nd + N²); P = softmax(S) reads S, writes P (2N²);
    O = P V reads P, V and writes O (N² + 2Nd). Total 4Nd + 4N².
    """
    return 4 * n * d + 4 * n * n


def flash_outer_steps(n: int, d: int, sram_elements: int = A100_SRAM_ELEMENTS) -> int:
    """T_c = ⌈N / B_c⌉ key tiles of B_c = ⌈M / 4d⌉ rows: how often Algorithm 1 streams Q and O through SRAM."""
    if sram_elements < 1:
        raise ValueError(f"sram_elements must be positive, got {sram_elements}")
    return math.ceil(n / math.ceil(sram_elements / (4 * d)))


def hbm_accesses_flash(n: int, d: int, sram_elements: int = A100_SRAM_ELEMENTS) -> int:
    """HBM element reads + writes of FlashAttention (paper, Algorithm 1) with an SRAM of M elements.

    Θ(N² d² / M): with key tiles of B_c = ⌈M / 4d⌉ rows there are T_c = ⌈N / B_c⌉ ≈ 4Nd / M outer
    steps, and each one streams all of Q and O (plus the row statistics ℓ, m) through SRAM. Counted
    exactly: initialize O, ℓ, m (Nd + 2N); load K, V once (2Nd); per outer step read Q, O, ℓ, m and
    write O, ℓ, m (3Nd + 4N). Total 3Nd + 2N + T_c (3Nd + 4N).
    """
    t_c = flash_outer_steps(n, d, sram_elements)
    return 3 * n * d + 2 * n + t_c * (3 * n * d + 4 * n)


@dataclass(frozen=True)
class IOModel:
    """HBM element accesses of both algorithms over a range of N, for one head dim and SRAM size."""

    n: np.ndarray  # (k,) float64
    d: int
    sram_elements: int
    standard: np.ndarray  # (k,) Θ(N d + N²)
    flash: np.ndarray  # (k,) Θ(N² d² / M)
    outer_steps: np.ndarray  # (k,) T_c of each N


def io_model(n_values: Sequence[int], d: int, sram_elements: int = A100_SRAM_ELEMENTS) -> IOModel:
    """The paper's IO counts (Theorem 2) at each N: what the measured memory curves are set against."""
    n = [int(v) for v in n_values]
    return IOModel(
        n=np.array(n, dtype=np.float64),
        d=d,
        sram_elements=sram_elements,
        standard=np.array([hbm_accesses_standard(v, d) for v in n], dtype=np.float64),
        flash=np.array([hbm_accesses_flash(v, d, sram_elements) for v in n], dtype=np.float64),
        outer_steps=np.array([flash_outer_steps(v, d, sram_elements) for v in n], dtype=np.float64),
    )
