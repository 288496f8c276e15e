"""Natural-gradient costs: K-FAC's step time against SGD's on the race network, and the Fisher cost curves.

Steps of all methods are interleaved on the same batches (the order rotating every iteration), so a busy
neighbour on a shared machine slows them alike; the figures are medians of one run. Step times are taken
at torch's default thread count and at one thread. The cost curves are the natural-gradient tab's default
sweep (explorer.lab.natural_gradient.fisher_cost). On a small, busy CPU a multithreaded BLAS call that
waits at a barrier for a descheduled thread can run 10-100x slower, and the curve then shows the
scheduler rather than the arithmetic: set OPENBLAS_NUM_THREADS=1 there (it is read once, when numpy
loads) - the JSON records it.
Writes benchmarks/results/natural-gradient-<machine>.json.

    OPENBLAS_NUM_THREADS=1 python benchmarks/natural_gradient.py [--steps 600] [--threads 2,1] [--skip-cost]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from machine import write

from explorer.lab.core.protocol import run_job
from explorer.lab.natural_gradient import fisher_cost, fisher_race
from explorer.lab.natural_gradient.kfac import KFAC, ExactNaturalGradient

TARGET_RATIO = 3.0

Step = Callable[[torch.Tensor, torch.Tensor], object]


def race_steppers(cfg: fisher_race.RaceConfig, device: torch.device) -> dict[str, Step]:
    """One optimizer per method on copies of the race's initial network, as fisher_race.run builds them."""
    initial = fisher_race.spiral_mlp(cfg).to(device)
    models = {name: copy.deepcopy(initial) for name in ("sgd", "adam", "kfac", "kfac_inverse_every_step")}
    sgd = torch.optim.SGD(models["sgd"].parameters(), lr=cfg.sgd_lr, momentum=cfg.sgd_momentum)
    adam = torch.optim.Adam(models["adam"].parameters(), lr=cfg.adam_lr)

    def kfac(model: torch.nn.Module, inverse_every: int) -> KFAC:
        return KFAC(
            model, cfg.ng_lr, cfg.damping, cfg.ema_decay, cfg.factor_every, inverse_every, cfg.kl_clip,
            generator=torch.Generator(device=device).manual_seed(cfg.seed + 1),
        )  # fmt: skip

    return {
        "sgd": lambda x, y: fisher_race.first_order_step(sgd, models["sgd"], x, y),
        "adam": lambda x, y: fisher_race.first_order_step(adam, models["adam"], x, y),
        "kfac": kfac(models["kfac"], cfg.inverse_every).step,
        "kfac_inverse_every_step": kfac(models["kfac_inverse_every_step"], 1).step,  # what refreshing every T buys
    }


def time_interleaved(
    steppers: dict[str, Step], batches: list[tuple[torch.Tensor, torch.Tensor]], device: torch.device
) -> dict[str, list[float]]:
    """Seconds per step for every method, methods interleaved and their order rotated every iteration."""
    names = list(steppers)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i, (x, y) in enumerate(batches):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            start = time.perf_counter()
            steppers[name](x, y)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def step_times(cfg: fisher_race.RaceConfig, n_steps: int, warmup: int, device: torch.device) -> dict[str, object]:
    """Median and mean seconds per step of every race method, and K-FAC's ratio to SGD."""
    X, y = fisher_race.two_spirals(cfg.n_points, cfg.noise, cfg.seed)
    inputs, labels = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    generator = torch.Generator().manual_seed(cfg.seed + 2)
    batch = min(cfg.batch_size, cfg.n_points)
    indices = [torch.randperm(cfg.n_points, generator=generator)[:batch].to(device) for _ in range(warmup + n_steps)]
    batches = [(inputs[i], labels[i]) for i in indices]
    times = time_interleaved(race_steppers(cfg, device), batches, device)
    exact_model = fisher_race.spiral_mlp(cfg).to(device)
    exact = ExactNaturalGradient(exact_model, cfg.ng_lr, cfg.damping, cfg.kl_clip)
    exact_batches = batches[: warmup + max(20, n_steps // 20)]  # ~50x slower: fewer steps
    times.update(time_interleaved({"exact_ng": exact.step}, exact_batches, device))
    summary = {
        name: {
            "median_s": float(np.median(t[warmup:])),
            "mean_s": float(np.mean(t[warmup:])),
            "steps": len(t) - warmup,
        }
        for name, t in times.items()
    }
    sgd = summary["sgd"]["median_s"]
    for row in summary.values():
        row["median_ratio_to_sgd"] = row["median_s"] / sgd
        row["mean_ratio_to_sgd"] = row["mean_s"] / summary["sgd"]["mean_s"]
    return {
        "network": f"2 -> {cfg.width} x {cfg.n_hidden + 1} ({cfg.activation}) -> 2, batch {batch}",
        "n_params": fisher_race.parameter_count(exact_model),
        "kfac_factor_every": cfg.factor_every,
        "kfac_inverse_every": cfg.inverse_every,
        "methods": summary,
        "kfac_to_sgd_median_ratio": summary["kfac"]["median_ratio_to_sgd"],
        "target_ratio": TARGET_RATIO,
        "meets_target": summary["kfac"]["median_ratio_to_sgd"] <= TARGET_RATIO,
    }


def cost_curves() -> dict[str, object]:
    """The tab's default cost sweep, as plain JSON values."""
    cfg = fisher_cost.CostConfig()
    start = time.perf_counter()
    result = run_job(fisher_cost.measure_cost(cfg))
    seconds = time.perf_counter() - start

    def plain(value: object) -> object:
        return value.tolist() if isinstance(value, np.ndarray) else value

    return {
        "config": dataclasses.asdict(cfg),
        "sweep_seconds": seconds,
        "exact": {k: plain(v) for k, v in dataclasses.asdict(result.exact).items()},
        "kfac": {k: plain(v) for k, v in dataclasses.asdict(result.kfac).items()},
        "extrapolation": [dataclasses.asdict(row) for row in result.extrapolation],
        "measured_flops_per_second": result.measured_flops_per_second,
        "memory_method": result.memory_method,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", default=f"{torch.get_num_threads()},1", help="torch thread counts to time")
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    default_threads = torch.get_num_threads()
    runs = []
    for threads in dict.fromkeys(int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        runs.append({"torch_threads": threads, **step_times(fisher_race.RaceConfig(), args.steps, args.warmup, device)})
        for name, row in runs[-1]["methods"].items():
            ms, ratio = row["median_s"] * 1e3, row["median_ratio_to_sgd"]
            print(f"{threads} thread(s) {name:>24}: {ms:8.3f} ms median ({ratio:.2f}x SGD)")
    torch.set_num_threads(default_threads)
    worst = max(run["kfac_to_sgd_median_ratio"] for run in runs)
    results: dict[str, object] = {
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "torch_threads_default": default_threads,
        "load_average_at_start": os.getloadavg(),
        "step_times": runs,
        "kfac_to_sgd_median_ratio_worst": worst,
        "target_ratio": TARGET_RATIO,
        "meets_target": worst <= TARGET_RATIO,
    }
    print(f"K-FAC / SGD, worst over thread counts = {worst:.2f} (target <= {TARGET_RATIO})")
    if not args.skip_cost:
        curves = results["cost_curves"] = {
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            **cost_curves(),
        }
        for method in ("exact", "kfac"):
            c = curves[method]
            slopes = f"time ~ P^{c['time_slope']:.2f}, memory ~ P^{c['memory_slope']:.2f}"
            print(f"{method}: {slopes} up to P = {c['n_params'][-1]:,.0f}")
        print(f"cost sweep took {curves['sweep_seconds']:.1f} s")
    results["load_average_at_end"] = os.getloadavg()
    print(f"wrote {write('natural-gradient', results)}")


if __name__ == "__main__":
    sys.exit(main())
