"""VGG vs ResNet: per-layer gradient norms of a plain net and its residual twin, live and at initialization."""
