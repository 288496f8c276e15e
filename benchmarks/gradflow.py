"""What gradient-flow instrumentation and loss landscapes cost, measured on this machine.

1. Training step: a bare step (forward, loss, backward, optimizer step) against the same step with
   ``GradFlowProbe`` recording every layer's weight- and activation-gradient norms, loss and accuracy
   (and draining to the host once per frame of 10 steps). Target: instrumented <= 1.15x bare. The two
   are timed in many short alternating rounds so that load from other processes hits both alike.
2. Landscape: a 51x51 grid (Li et al. 2018) for a depth-20, width-64 MLP on 2,000 points, the
   batched evaluation against a naive per-point loop (``landscape.loss_at`` at every grid point).

Medians over repetitions; CUDA timings synchronise before reading the clock. On the CPU the step
timings are taken with one torch thread and with torch's default count, the landscape with the first
of ``--threads``: on a small shared machine a second intra-op thread mostly waits for a core another
process holds, which times the neighbours rather than the code. The load average is recorded.
Writes benchmarks/results/gradflow-<device>.json.

    python benchmarks/gradflow.py [--device auto|cpu|cuda] [--threads 1,2] [--reps N] [--landscape-reps N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.lab import landscape
from explorer.lab.core.protocol import run_job
from explorer.lab.core.training import load_task, resolve_device
from explorer.lab.gradprobe import Trainee
from models import BlockNet, CNNConfig, MLPConfig, build_net

FRAME = 10  # steps between two drains of the probe, as in a live tab


def machine(device: torch.device) -> dict[str, object]:
    """CPU model, core count, torch version and, on CUDA, the GPU."""
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    info: dict[str, object] = {
        "cpu": cpu,
        "cpu_cores": os.cpu_count(),
        "torch_threads_landscape": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _bare_step(net: BlockNet, X: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(net(X), y).backward()
        optimizer.step()

    return step


def _instrumented_step(net: BlockNet, X: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    trainee = Trainee("net", net, "adam", 1e-3, FRAME)
    count = [0]

    def step() -> None:
        trainee.backward(X, y)
        trainee.update()
        count[0] += 1
        if count[0] % FRAME == 0:
            trainee.drain(count[0])

    return step


def step_times(
    config: MLPConfig | CNNConfig, dataset: str, batch: int, device: torch.device, reps: int, steps: int = FRAME
) -> dict[str, object]:
    """Median ms per step, bare and instrumented, and the median of per-round-pair ratios.

    Rounds alternate (bare, instrumented), then (instrumented, bare), ...; a pair runs back to back,
    so a burst of load from another process usually hits both halves of it, and the median of the
    pairs' ratios ignores the bursts that do not. That median is the figure held to the target.
    """
    X, y, _ = load_task(dataset, 10 * batch, 0, device)
    X, y = X[:batch], y[:batch]
    runs = {
        "bare": _bare_step(build_net(config, 0, device), X, y),
        "instrumented": _instrumented_step(build_net(config, 0, device), X, y),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(2):  # warm-up: allocator, optimizer state
        for fn in runs.values():
            for _ in range(FRAME):
                fn()
    for rep in range(reps):
        for name in ("bare", "instrumented")[:: 1 if rep % 2 == 0 else -1]:
            _sync(device)
            start = time.perf_counter()
            for _ in range(steps):
                runs[name]()
            _sync(device)
            times[name].append((time.perf_counter() - start) / steps * 1e3)
    bare, inst = statistics.median(times["bare"]), statistics.median(times["instrumented"])
    paired = statistics.median(i / b for i, b in zip(times["instrumented"], times["bare"], strict=True))
    quartiles = {f"{name}_ms_quartiles": statistics.quantiles(t, n=4)[::2] for name, t in times.items()}
    return {
        "bare_ms": bare,
        "instrumented_ms": inst,
        "ratio": paired,
        "ratio_of_medians": inst / bare,
        "target": 1.15,
        "rounds": reps,
        "steps_per_round": steps,
        **quartiles,
    }


def landscape_times(device: torch.device, reps: int) -> dict[str, float]:
    """Seconds for the 51x51 grid, batched and naive, on a briefly trained depth-20 width-64 MLP."""
    X, y, _ = load_task("spirals", 2000, 0, device)
    net = build_net(MLPConfig(20, 64, "relu", init="he"), 0, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(100):
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
    cfg = landscape.LandscapeConfig(resolution=51, span=1.0, seed=0)
    batched, naive = [], []
    d1, d2 = landscape.filter_normalized_directions(net, cfg.seed)
    coords = np.linspace(-cfg.span, cfg.span, cfg.resolution)
    for _ in range(reps):
        _sync(device)
        start = time.perf_counter()
        result = run_job(landscape.landscape(net, X, y, cfg))
        _sync(device)
        batched.append(time.perf_counter() - start)
        start = time.perf_counter()
        grid = [[landscape.loss_at(net, X, y, d1, d2, a, b) for a in coords] for b in coords]
        naive.append(time.perf_counter() - start)
    deviation = float(np.nanmax(np.abs(result.losses - np.asarray(grid)) / np.abs(np.asarray(grid))))
    b, n = statistics.median(batched), statistics.median(naive)
    return {
        "grid": cfg.resolution,
        "n_points": len(X),
        "batched_s": b,
        "naive_s": n,
        "speedup_vs_naive": statistics.median(nv / bt for nv, bt in zip(naive, batched, strict=True)),
        "max_relative_deviation": deviation,
        "repetitions": reps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", default=f"1,{torch.get_num_threads()}", help="CPU thread counts to time")
    parser.add_argument("--reps", type=int, default=40, help="alternating rounds of a few steps each")
    parser.add_argument("--landscape-reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    device = resolve_device(args.device)
    threads = list(dict.fromkeys(int(t) for t in args.threads.split(","))) if device.type == "cpu" else [0]
    load_before = os.getloadavg()
    train_step: dict[str, dict[str, object]] = {}
    for n in threads:
        if n:
            torch.set_num_threads(n)
        suffix = f", {n} thread{'s' if n > 1 else ''}" if n else ""
        train_step[f"mlp depth 20 width 64, batch 256, spirals{suffix}"] = step_times(
            MLPConfig(20, 64, "relu"), "spirals", 256, device, args.reps, steps=FRAME
        )
        train_step[f"cnn 6 blocks width 16, batch 128, glyphs{suffix}"] = step_times(
            CNNConfig(6, 16, "relu", n_classes=10), "glyphs", 128, device, args.reps, steps=FRAME
        )
    if threads[0]:
        torch.set_num_threads(threads[0])
    result = {
        "machine": machine(device),
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "train_step": train_step,
        "landscape_51x51": landscape_times(device, args.landscape_reps),
    }
    result["load_average_1min"]["after"] = os.getloadavg()[0]
    name = "cuda-" + str(result["machine"]["gpu"]) if device.type == "cuda" else "cpu-" + str(result["machine"]["cpu"])
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"gradflow-{slug}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
