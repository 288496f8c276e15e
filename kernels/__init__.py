"""Attention kernels: a Triton FlashAttention kernel, naive and torch-tiled references, measurement.

Importing the package makes sure Triton will run in a mode that works here, compiled with CUDA and
under its interpreter without (:mod:`kernels.triton_mode`; the app installs it at start-up, before
anything can import Triton).
"""

import os

from kernels import triton_mode

triton_mode.install()
# the CPU memory trace uses torch.profiler, whose tracer prints "profiler_start/stop" lines on every
# measurement unless its log level is above them (read when the first trace starts, not at import)
os.environ.setdefault("KINETO_LOG_LEVEL", "6")
