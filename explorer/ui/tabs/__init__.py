"""One module per topic; each registers its view with ``explorer.ui.topic.register``."""
