"""Bad arguments to the lab's public functions fail at the door with a ValueError naming the argument
and its bounds: not NaN results, not ZeroDivisionError or IndexError, not a 9 GB allocation."""

from __future__ import annotations

import math

import pytest
import torch

from explorer.lab.core import guards
from explorer.lab.entropy import information
from explorer.lab.label_smoothing import smoothing
from explorer.lab.natural_gradient import fisher
from explorer.lab.saddle import optim, surfaces
from explorer.lab.vanishing import gradflow
from kernels import attention

SADDLE = surfaces.get("saddle")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fisher.gaussian_fisher(0.0, math.nan), "sigma must be between"),
        (lambda: fisher.gaussian_fisher(0.0, 1e-200), "sigma must be between 1e-150"),
        (lambda: fisher.gaussian_fisher(math.inf, 1.0), "mu must be a finite number"),
        (lambda: fisher.gaussian_fisher(0.0, 1.0, "sd"), "parameterization must be one of"),
        (lambda: optim.trajectory(SADDLE, "gd", (math.nan, 0.0), 10), "start x must be a finite number"),
        (lambda: optim.trajectory(SADDLE, "gd", (0.0, 0.0), 10, lr=math.inf), "lr must be a finite number above 0"),
        (lambda: optim.trajectory(SADDLE, "gd", (0.0, 0.0), -1), "steps must be a whole number between 0 and"),
        (lambda: optim.trajectory(SADDLE, "gd", (0.0, 0.0), 10**12), "steps must be a whole number between 0 and"),
        (lambda: optim.trajectory(SADDLE, "gd", (0.0,), 10), "start must be a point"),
        (lambda: optim.trajectory(SADDLE, "lbfgs", (0.0, 0.0), 10), "name must be one of"),
        (lambda: smoothing.smooth_targets([0], 10**9, 0.1), "num_classes must be a whole number between 2 and"),
        (lambda: smoothing.make_clusters(separation=math.nan), "separation must be a finite number above 0"),
        (lambda: smoothing.make_clusters(n_train=10**12), "n_train must be a whole number"),
        (lambda: gradflow.grad_norms_at_init(depth=3, device="tpu"), "device must be 'cpu', 'cuda' or 'cuda:N'"),
        (lambda: gradflow.grad_norms_at_init(depth=0), "depth must be a whole number between 1 and"),
        (lambda: gradflow.grad_norms_at_init(depth=3, activation="swish"), "activation must be one of"),
        (lambda: information.sample_message([0.5, 0.5], 10**12, 0), "n must be a whole number between 0 and"),
        (lambda: information.entropy([0.5, 0.5], base=math.nan), "base must be a finite number"),
        (lambda: information.entropy({"a": 1}), "p must be a"),
        (lambda: information.max_entropy(math.nan), "k must be a whole number"),
    ],
)
def test_a_bad_argument_is_a_value_error_naming_it(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_smoothing_a_billion_classes_is_refused_before_any_allocation():
    before = guards.available_bytes()
    with pytest.raises(ValueError):
        smoothing.smooth_targets([0], 10**9, 0.1)
    assert guards.available_bytes() > before / 2  # nothing close to 9 GB was taken


def test_measure_refuses_a_device_it_cannot_name_and_reports_a_missing_one():
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda' or 'cuda:N', got 'tpu'"):
        attention.measure("naive", n=64, d=8, device="tpu", dtype=torch.float32)
    with pytest.raises(ValueError, match="n must be a whole number"):
        attention.measure("naive", n=0, d=8, device="cpu", dtype=torch.float32)
    if not torch.cuda.is_available():  # its docstring: a missing CUDA comes back in the record, not raised
        record = attention.measure("naive", n=64, d=8, device="cuda", dtype=torch.float32)
        assert record.error and "CUDA" in record.error and record.peak_bytes is None


def test_check_allocation_allows_small_and_refuses_a_quarter_of_memory():
    guards.check_allocation(1024, "a small array")
    with pytest.raises(ValueError, match="more than a quarter of the available memory"):
        guards.check_allocation(guards.available_bytes(), "everything")
    with pytest.raises(ValueError, match="unbounded memory"):
        guards.check_allocation(math.inf, "an infinite array")


def test_the_guards_name_the_argument_and_its_bounds():
    assert guards.finite("x", 2) == 2.0 and guards.positive("lr", 0.1) == 0.1
    assert guards.whole("n", 3, 1, 5) == 3 and guards.known("m", "a", ("a", "b")) == "a"
    assert guards.device("device", "cpu") == "cpu"
    for call, message in [
        (lambda: guards.finite("x", 10**400), "x must be a finite number"),
        (lambda: guards.finite("x", "1"), "x must be a number"),
        (lambda: guards.positive("lr", 0), "lr must be a finite number above 0, got 0"),
        (lambda: guards.in_range("p", 2, 0, 1), "p must be between 0 and 1, got 2"),
        (lambda: guards.whole("n", True, 0, 9), "n must be a whole number between 0 and 9"),
        (lambda: guards.whole("n", 3.0, 0, 9), "n must be a whole number between 0 and 9"),
        (lambda: guards.known("m", "c", ("a", "b")), "m must be one of a, b; got 'c'"),
        (lambda: guards.device("device", "cuda:x"), "device must be 'cpu', 'cuda' or 'cuda:N'"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()


def test_the_guards_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, explorer.lab.core.guards as g; g.device('d', 'cpu'); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
