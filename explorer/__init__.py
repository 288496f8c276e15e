"""Loss-landscape and gradient-flow explorer: small models train live and the ideas become pictures."""

from kernels import triton_mode as _triton_mode

# before any tab trains: torch imports Triton lazily, and Triton's mode must be chosen before that
_triton_mode.install()

__version__ = "0.1.0"
