"""Tests run offscreen, and with one BLAS / torch thread per process.

On a 2-core CI machine, torch's default two intra-op threads make every tiny op wait for a
descheduled thread (an SGD step on a small MLP: 28 ms instead of 0.4 ms); the models here are small.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

# before any test trains a model: torch imports Triton lazily, and Triton's mode is chosen on that import
from kernels import triton_mode  # noqa: E402

triton_mode.install()

# property-based tests: the same quick examples on every run (a failure in CI is one anyone can rerun), and
# a deeper random search on demand (HYPOTHESIS_PROFILE=slow)
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("slow", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
