"""Whether Triton is here. Its wheels are built for Linux alone: on macOS and Windows the package is
absent, the FlashAttention kernel cannot run, and every torch reference (naive, tiled, SDPA) still does.

Import ``flash_attention`` and ``interpreter_mode`` from here rather than from the kernel modules: without
Triton they are stand-ins that say why (a measurement of ``flash`` then comes back with that reason).
"""

from __future__ import annotations

from typing import Any

try:
    import triton  # noqa: F401  (imported once here; kernels.triton_mode has chosen its mode already)

    TRITON_MISSING: str | None = None
except ImportError as exc:  # no wheel for this platform, or a broken install
    TRITON_MISSING = (
        f"Triton is not installed ({exc}); it ships for Linux only, so the FlashAttention kernel is "
        "skipped here and the torch references (naive, tiled, SDPA) show the memory story"
    )

if TRITON_MISSING is None:
    from kernels.flash_triton import flash_attention, flash_attention_with_lse
    from kernels.tiles import interpreter_mode
else:

    def flash_attention(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(TRITON_MISSING)

    flash_attention_with_lse = flash_attention

    def interpreter_mode() -> bool:
        return False


__all__ = ["TRITON_MISSING", "flash_attention", "flash_attention_with_lse", "interpreter_mode"]
