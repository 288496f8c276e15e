"""Label smoothing: one-hot against smoothed targets, in theory and in two twin networks trained live.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`LabelSmoothingTab`, and the modules beside it its panels, parameters and readouts.
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(
    name="label_smoothing", title="Label smoothing", order=80, live=True, view="LabelSmoothingTab", short="Smoothing"
)
