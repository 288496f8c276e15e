"""Entropy: surprise, cross-entropy and KL, Huffman compression, and a decision-tree split.

``view`` is the registered tab; the panels, the draggable bars and the number formatting sit beside it.
"""

from explorer.ui.tabs.entropy.view import EntropyTab

__all__ = ["EntropyTab"]
