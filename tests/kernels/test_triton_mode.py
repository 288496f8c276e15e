"""Triton's interpreter is chosen when Triton is first imported, whoever imports it (here: torch's Adam)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_TRAIN_THEN_FLASH = """
import sys
{first}
import torch
model = torch.nn.Linear(3, 3)
opt = torch.optim.Adam(model.parameters())
model(torch.randn(2, 3)).sum().backward()
opt.step()  # torch._dynamo imports triton here
assert "triton" in sys.modules
from kernels import attention
q = torch.randn(1, 1, 40, 16)
try:
    error = (attention.flash(q, q, q) - attention.naive(q, q, q)).abs().max().item()
    print("ok", error)
except Exception as exc:
    print("refused", exc)
"""


def _run(first: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    code = _TRAIN_THEN_FLASH.format(first=first)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.slow  # ~5 s: a training step, then the interpreted kernel
@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="with CUDA the kernel compiles")
def test_training_first_still_leaves_the_kernel_exact_when_the_app_installed_the_hook() -> None:
    verdict, value = _run("import explorer").split(maxsplit=1)
    assert verdict == "ok" and float(value) < 1e-5


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="with CUDA the kernel compiles")
def test_without_the_hook_the_refusal_says_why() -> None:
    out = _run("")
    assert out.startswith("refused") and "TRITON_INTERPRET=1" in out
