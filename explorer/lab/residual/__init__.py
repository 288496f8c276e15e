"""Residual networks: plain and residual nets trained side by side, their block ratios and landscapes."""
