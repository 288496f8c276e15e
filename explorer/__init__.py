"""Loss-landscape and gradient-flow explorer: small models train live and the ideas become pictures."""

__version__ = "0.1.0"
