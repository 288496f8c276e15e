"""FlashAttention: measured memory and time as N grows, the paper's IO model, and the online softmax tile by tile.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`FlashAttentionTab`, and the modules beside it its pages and readouts; its parameters are
the lab's (``explorer.lab.flash_attention.params``).
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(
    name="flash_attention", title="FlashAttention", order=30, live=True, view="FlashAttentionTab", short="Flash attn."
)
