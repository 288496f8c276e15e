"""Label smoothing: soft targets, calibration, penultimate-layer geometry and the twin experiment."""
