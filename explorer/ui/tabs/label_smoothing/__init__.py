"""Label smoothing: one-hot against smoothed targets, in theory and in two twin networks trained live.

``view`` is the registered tab; one module per row of panels, the summary table and the export beside it.
"""

from explorer.ui.tabs.label_smoothing.view import LabelSmoothingTab

__all__ = ["LabelSmoothingTab"]
