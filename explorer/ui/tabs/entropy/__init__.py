"""Entropy: surprise, cross-entropy and KL, Huffman compression, and a decision-tree split.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`EntropyTab`, and the modules beside it its panels, parameters and readouts.
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="entropy", title="Entropy", order=70, live=False, view="EntropyTab")
