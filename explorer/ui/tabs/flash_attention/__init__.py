"""FlashAttention: measured memory and time as N grows, the paper's IO model, and the online softmax tile by tile."""

from explorer.ui.tabs.flash_attention.tab import FlashAttentionTab

__all__ = ["FlashAttentionTab"]
