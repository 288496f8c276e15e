"""Natural gradient: the Fisher (exact, empirical, K-FAC), the Gaussian fit, the race and the cost sweep."""
