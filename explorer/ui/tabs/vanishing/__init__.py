"""VGG vs ResNet: vanishing gradients in a plain net and their absence in its residual twin.

``view`` is the registered tab; the shared-scale heatmaps, the depth-sweep panel, the parameters and
the readout texts sit beside it.
"""

from explorer.ui.tabs.vanishing.view import VanishingTab

__all__ = ["VanishingTab"]
