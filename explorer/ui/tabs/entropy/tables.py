"""What the entropy tab's plots show, as column tables for CSV and JSON export."""

from __future__ import annotations

import numpy as np

from explorer.lab.entropy import information
from explorer.lab.entropy.params import FEATURES
from explorer.ui.tabs.entropy.split_panels import SplitPanels
from explorer.ui.topic import Table


def entropy_tables(
    p: np.ndarray, q: np.ndarray, info: information.PairSummary, c: information.Compression
) -> dict[str, Table]:
    """p and q outcome by outcome, every quantity with its unit and formula, the curve, the message."""
    pq, qp = info.pq, info.qp
    with np.errstate(divide="ignore", invalid="ignore"):
        surprise = -np.log2(p)
        kl_terms = np.where(p > 0, p * (np.log2(np.where(p > 0, p, 1.0)) - np.log2(q)), 0.0)
    quantities = {
        "H(p)": (info.entropy, "bits", "-sum p log2 p"),
        "H(p) in nats": (info.entropy_nats, "nats", "-sum p ln p"),
        "log2 K": (info.max_entropy, "bits", "entropy of the uniform distribution"),
        "H(q)": (info.q_entropy, "bits", "-sum q log2 q"),
        "H(p,q)": (pq.cross_entropy, "bits", "-sum p log2 q = H(p) + KL(p||q)"),
        "KL(p||q)": (pq.kl, "bits", "sum p log2(p/q)"),
        "H(q,p)": (qp.cross_entropy, "bits", "-sum q log2 p = H(q) + KL(q||p)"),
        "KL(q||p)": (qp.kl, "bits", "sum q log2(q/p)"),
        "L": (c.average_length, "bits per symbol", "sum p_i len(c_i), Huffman"),
        "message bits": (float(c.actual_bits), "bits", "length of the encoded message"),
        "n H(p)": (c.entropy_bits, "bits", "Shannon's bound for the message"),
        "n L": (c.expected_bits, "bits", "what the code spends on average"),
    }
    return {
        "distributions": {
            "outcome": list(range(p.size)),
            "p": p,
            "q": q,
            "surprise_bits": surprise,
            "kl_term_bits": kl_terms,
            "codeword": [c.code.get(i, "") for i in range(p.size)],
            "code_length": information.code_lengths(c.code, p.size),
        },
        "quantities": {
            "quantity": list(quantities),
            "value": [v[0] for v in quantities.values()],
            "unit": [v[1] for v in quantities.values()],
            "formula": [v[2] for v in quantities.values()],
        },
        "binary_entropy": dict(zip(("x", "H2_bits"), information.binary_entropy_curve(201), strict=True)),
        "message": {
            "m": np.arange(1, c.message.size + 1),
            "symbol": c.message,
            "bits_per_symbol_so_far": c.cumulative_bits_per_symbol,
        },
    }


def split_tables(plots: SplitPanels) -> dict[str, Table]:
    """The point set, the gain of every threshold on the chosen feature, and the split shown."""
    points, labels, best, split = plots.points, plots.labels, plots.best, plots.split
    if points is None or labels is None or best is None or split is None:
        return {}
    j = plots.feature
    scan = best.scans[j]
    return {
        "split_points": {"x1": points[:, 0], "x2": points[:, 1], "class": labels},
        "split_gain": {"threshold": scan.thresholds, "gain_bits": scan.gains},
        "split": {
            "feature": [FEATURES[j]], "threshold": [split.threshold], "parent_entropy": [split.parent_entropy],
            "left_count": [split.left_count], "left_entropy": [split.left_entropy],
            "right_count": [split.right_count], "right_entropy": [split.right_entropy], "gain": [split.gain],
            "best_threshold": [scan.best_threshold], "best_gain": [scan.best_gain],
        },
    }  # fmt: skip
