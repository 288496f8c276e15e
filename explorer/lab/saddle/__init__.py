"""Saddle points: 2-D surfaces with their critical points, the optimizers that cross them, and the race."""
