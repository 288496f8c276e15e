"""VGG vs ResNet: vanishing gradients in a plain net and their absence in its residual twin.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`VanishingTab`, and the modules beside it its panels and readouts; its parameters are the
lab's (``explorer.lab.vanishing.params``).
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="vanishing", title="VGG vs ResNet", order=20, live=True, view="VanishingTab", short="VGG/ResNet")
