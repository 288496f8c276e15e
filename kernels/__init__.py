"""Attention kernels: a Triton FlashAttention kernel, naive and torch-tiled references, measurement.

Importing the package decides how Triton runs. Without CUDA the kernel can only run under Triton's
interpreter, and the interpreter is chosen by ``TRITON_INTERPRET=1`` at the moment a kernel is
decorated, so it is set here, before any module of this package imports ``triton``. A value the
user already set is left alone.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
# the CPU memory trace uses torch.profiler, whose tracer prints "profiler_start/stop" lines on every
# measurement unless its log level is above them (read when the first trace starts, not at import)
os.environ.setdefault("KINETO_LOG_LEVEL", "6")
