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
