"""Benchmark attention: naive, torch-tiled, the Triton FlashAttention kernel and PyTorch SDPA.

Every number is measured with ``kernels.measure`` (CUDA allocator peaks and do_bench medians on a GPU; a
torch.profiler allocation trace and perf_counter medians on CPU) and written to one JSON file together
with the machine, the library versions and the checks of the performance targets:

    GPU (fp16, batch·heads = 32, d in {64, 128}):
        forward time      flash <= SDPA-flash / 0.8 at N >= 4096   (>= 0.8x its throughput)
        fwd+bwd time      flash <= SDPA-flash / 0.6 at N >= 4096   (>= 0.6x its throughput)
        peak memory       flash <= 1.1x SDPA-flash and >= 10x below naive at N = 8192
    CPU:
        peak memory       torch-tiled <= 1/8 of naive at N = 4096

    python benchmarks/attention.py --device cuda
    python benchmarks/attention.py --device cpu --threads 1
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import sys
from pathlib import Path
from typing import Any

import torch

from explorer.lab.flash_attention.attention import INTERPRETER_MAX_N
from kernels import attention

RESULTS = Path(__file__).resolve().parent / "results"
GPU_DEFAULTS = {
    "n": [1024, 2048, 4096, 8192, 16384],
    "d": [64, 128],
    "dtype": "float16",
    "batch": 4,
    "heads": 8,
    "methods": ["naive", "tiled_torch", "flash", "sdpa", "sdpa_flash"],
    "modes": ["fwd", "fwd_bwd"],
}
CPU_DEFAULTS = {
    "n": [256, 512, 1024, 2048, 4096],
    "d": [64],
    "dtype": "float32",
    "batch": 1,
    "heads": 1,
    "methods": ["naive", "tiled_torch", "flash", "sdpa"],
    "modes": ["fwd"],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--n", type=int, nargs="+", help="sequence lengths (default depends on the device)")
    p.add_argument("--d", type=int, nargs="+", help="head dims (GPU default: 64 128; CPU: 64)")
    p.add_argument("--dtype", choices=["float16", "bfloat16", "float32"])
    p.add_argument("--causal", action="store_true")
    p.add_argument("--batch", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--methods", nargs="+", choices=sorted(attention.METHODS))
    p.add_argument("--modes", nargs="+", choices=list(attention.MODES))
    p.add_argument("--repeats", type=int, default=5, help="timed runs per point on CPU (GPU: do_bench)")
    p.add_argument("--threads", type=int, help="torch CPU threads (a busy machine measures best with 1)")
    p.add_argument("--out", type=Path, help="JSON path (default: benchmarks/results/attention-<device>-<machine>.json)")
    p.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    args = p.parse_args(argv)
    for key, value in (GPU_DEFAULTS if args.device == "cuda" else CPU_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def machine_slug(device: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'nvidia-h100-80gb-hbm3'; a CPU gets its model and core count."""
    if device == "cuda":
        name = torch.cuda.get_device_name()
    else:
        name = re.sub(r"\((R|TM)\)|\bCPU\b|\bProcessor\b|@.*|\(\d+ threads\)", " ", attention.device_name("cpu"))
        name = f"{name} {os.cpu_count()}core"
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def skip_reason(method: str, mode: str, n: int) -> str | None:
    """Why a point is not measured, or None."""
    if method == "flash" and attention.interpreter_mode() and n > INTERPRETER_MAX_N:
        return f"Triton interpreter runs one program at a time: kept to N <= {INTERPRETER_MAX_N}"
    if method == "tiled_torch" and mode == "fwd_bwd":
        return "the torch-tiled reference is a forward-pass illustration; autograd would keep every tile"
    return None


def run(args: argparse.Namespace) -> tuple[list[attention.Measurement], list[dict[str, Any]]]:
    dtype = getattr(torch, args.dtype)
    results, skipped = [], []
    for mode in args.modes:
        for d in args.d:
            for n in args.n:
                for method in args.methods:
                    reason = skip_reason(method, mode, n)
                    if reason:
                        skipped.append({"method": method, "mode": mode, "d": d, "n": n, "reason": reason})
                        continue
                    m = attention.measure(
                        method,
                        n,
                        d,
                        args.device,
                        dtype,
                        args.causal,
                        args.batch,
                        args.heads,
                        mode=mode,
                        repeats=args.repeats,
                    )
                    results.append(m)
                    print(_row(m), flush=True)
    return results, skipped


def _row(m: attention.Measurement) -> str:
    if m.oom or m.error:
        status = "out of memory" if m.oom else f"error: {m.error}"
        return f"{m.mode:8s} d={m.d:<4d} N={m.n:<6d} {m.method:12s} {status}"
    err = "" if m.max_abs_err is None else f"  max|err| {m.max_abs_err:.1e}"
    return (
        f"{m.mode:8s} d={m.d:<4d} N={m.n:<6d} {m.method:12s} {m.ms:10.3f} ms  {m.tflops:8.3f} TFLOP/s"
        f"  peak {m.peak_bytes / 2**20:10.2f} MiB{err}"
    )


def checks(results: list[attention.Measurement], device: str) -> list[dict[str, Any]]:
    """The targets above, each with the measured value; a point that did not run is not checked."""
    ok = {(m.method, m.mode, m.d, m.n): m for m in results if m.ms is not None}
    out: list[dict[str, Any]] = []

    def check(name: str, value: float, target: str, passed: bool, **where: Any) -> None:
        out.append({"check": name, **where, "value": round(value, 4), "target": target, "passed": passed})

    if device == "cpu":
        for (method, mode, d, n), tiled in ok.items():
            naive = ok.get(("naive", mode, d, n))
            if method == "tiled_torch" and n == 4096 and naive:
                ratio = tiled.peak_bytes / naive.peak_bytes
                check("tiled_torch peak / naive peak", ratio, "<= 0.125", ratio <= 0.125, mode=mode, d=d, n=n)
        return out

    speed_target = {"fwd": 0.8, "fwd_bwd": 0.6}
    for (method, mode, d, n), flash in ok.items():
        if method != "flash" or flash.dtype != "float16" or flash.batch * flash.heads != 32:
            continue
        ref = ok.get(("sdpa_flash", mode, d, n))
        if ref and n >= 4096 and d in (64, 128):
            speed = ref.ms / flash.ms
            target = speed_target[mode]
            check("flash throughput / SDPA flash", speed, f">= {target}", speed >= target, mode=mode, d=d, n=n)
        if n == 8192:
            if ref:
                ratio = flash.peak_bytes / ref.peak_bytes
                check("flash peak / SDPA flash peak", ratio, "<= 1.1", ratio <= 1.1, mode=mode, d=d, n=n)
            naive = next((m for m in results if (m.method, m.mode, m.d, m.n) == ("naive", mode, d, n)), None)
            if naive and naive.oom:
                check("naive peak / flash peak", float("inf"), ">= 10", True, mode=mode, d=d, n=n)
            elif naive and naive.peak_bytes:
                ratio = naive.peak_bytes / flash.peak_bytes
                check("naive peak / flash peak", ratio, ">= 10", ratio >= 10, mode=mode, d=d, n=n)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU on this machine; use --device cpu", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    import triton

    print(
        f"{attention.device_name(args.device)}: torch {torch.__version__}, triton {triton.__version__}, "
        f"interpreter {attention.interpreter_mode()}",
        flush=True,
    )
    results, skipped = run(args)
    found = checks(results, args.device)
    median_ms: dict[str, dict[str, float]] = {}
    for m in results:
        if m.ms is not None:
            median_ms.setdefault(f"{m.method}/{m.mode}/d{m.d}", {})[str(m.n)] = round(m.ms, 4)
    report = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "device": args.device,
        "device_name": attention.device_name(args.device),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "cuda": torch.version.cuda,
        "triton_interpreter": attention.interpreter_mode(),
        "config": {
            k: getattr(args, k) for k in ("n", "d", "dtype", "causal", "batch", "heads", "methods", "modes", "repeats")
        },
        "median_ms": median_ms,
        "checks": found,
        "skipped": skipped,
        "results": [dataclasses.asdict(m) for m in results],
    }
    out = args.out or RESULTS / f"attention-{args.device}-{machine_slug(args.device)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for c in found:
        print(
            f"{'PASS' if c['passed'] else 'MISS'}  {c['check']} = {c['value']} ({c['target']})"
            f"  mode={c['mode']} d={c['d']} N={c['n']}"
        )
    print(f"wrote {out}")
    return 1 if args.strict and not all(c["passed"] for c in found) else 0


if __name__ == "__main__":
    sys.exit(main())
