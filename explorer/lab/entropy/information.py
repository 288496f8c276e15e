"""Entropy, cross-entropy, KL divergence and the codes that realise them.

Shannon's source-coding theorem says the best lossless code for symbols drawn from ``p`` spends on
average between H(p) and H(p) + 1 bits per symbol, and Huffman's greedy merge of the two least likely
symbols achieves that optimum among prefix codes. Coding with a code built for the wrong distribution
``q`` costs H(p, q) = H(p) + KL(p || q) bits, which is why cross-entropy is the classifier's loss.

References: C. E. Shannon, "A Mathematical Theory of Communication" (1948), sections 6-9;
D. A. Huffman, "A Method for the Construction of Minimum-Redundancy Codes" (1952);
T. M. Cover and J. A. Thomas, "Elements of Information Theory", chapters 2 and 5.

Conventions: probabilities are 1-D arrays; 0 log 0 = 0; KL(p || q) and H(p, q) are infinite where
q = 0 < p; invalid input raises :class:`ValueError` with a message the Entropy tab can show.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from itertools import count, pairwise

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.lab.core import guards
from explorer.lab.core.numerics import xlogy

MIN_OUTCOMES = 2
MAX_OUTCOMES = 32
PRESET_KINDS = ("uniform", "one_hot", "zipf", "geometric", "fair_coin", "biased_coin")
SUM_TOLERANCE = 1e-6
#: the longest message sampled and Huffman-coded (decoding is a Python loop over its bits)
MAX_MESSAGE = 1_000_000


def log_base(base: float) -> float:
    """ln(base), validated: every quantity is computed in nats and divided by this once."""
    if not (guards.finite("base", base) > 0 and base != 1):
        raise ValueError(f"log base must be positive and not 1, got {base}")
    return math.log(base)


def as_distribution(p: ArrayLike, name: str = "p") -> NDArray[np.float64]:
    """Validate a probability vector: 1-D, finite, non-negative, summing to 1 within 1e-6."""
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a 1-D vector of probabilities, got {p!r:.60}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D probability vector, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative probabilities (min {arr.min():.3g})")
    with np.errstate(over="ignore"):  # a sum that overflows is as wrong as any other that is not 1
        total = float(arr.sum())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"{name} must sum to 1, sums to {total:.6g}")
    return arr


def _as_pair(p: ArrayLike, q: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pa, qa = as_distribution(p, "p"), as_distribution(q, "q")
    if pa.shape != qa.shape:
        raise ValueError(f"p and q must have the same number of outcomes, got {pa.size} and {qa.size}")
    return pa, qa


def entropy(p: ArrayLike, base: float = 2) -> float:
    """H(p) = -Σ p log p: the average surprise, in bits for base 2 (0 log 0 = 0)."""
    pa = as_distribution(p)
    # 0 − (…): a certain outcome has H = 0.0, where −(0.0) would give −0.0 and print as "-0"
    return float(0.0 - xlogy(pa, pa).sum() / log_base(base))


def cross_entropy(p: ArrayLike, q: ArrayLike, base: float = 2) -> float:
    """H(p, q) = -Σ p log q: the bits spent coding samples of p with a code built for q."""
    pa, qa = _as_pair(p, q)
    # xlogy gives 0 where p = 0 (whatever q is) and -inf where q = 0 < p.
    return float(0.0 - xlogy(pa, qa).sum() / log_base(base))


def kl(p: ArrayLike, q: ArrayLike, base: float = 2) -> float:
    """KL(p || q) = Σ p log(p / q) >= 0: the extra bits paid for believing q when the truth is p."""
    pa, qa = _as_pair(p, q)
    support = pa > 0
    if np.any(qa[support] == 0):
        return math.inf
    ps, qs = pa[support], qa[support]
    # Sum of p*(log p - log q) rather than H(p,q) - H(p): no cancellation when p is close to q.
    value = float(np.sum(ps * (np.log(ps) - np.log(qs))) / log_base(base))
    return max(value, 0.0)


@dataclass(frozen=True)
class CrossEntropyParts:
    """The stacked bar: H(p, q) = H(p) + KL(p || q)."""

    entropy: float
    kl: float
    cross_entropy: float


def cross_entropy_parts(p: ArrayLike, q: ArrayLike, base: float = 2) -> CrossEntropyParts:
    """Split the cross-entropy into the unavoidable part H(p) and the avoidable part KL(p || q)."""
    h = entropy(p, base)
    d = kl(p, q, base)
    return CrossEntropyParts(entropy=h, kl=d, cross_entropy=h + d)


def binary_entropy(p: ArrayLike, base: float = 2) -> NDArray[np.float64]:
    """H(p) of a coin with P(heads) = p, elementwise; peaks at 1 bit for the fair coin."""
    pa = np.asarray(p, dtype=np.float64)
    if not np.all(np.isfinite(pa)) or np.any((pa < 0) | (pa > 1)):
        raise ValueError("binary entropy needs probabilities in [0, 1]")
    return 0.0 - (xlogy(pa, pa) + xlogy(1 - pa, 1 - pa)) / log_base(base)  # 0.0, not −0.0, at 0 and 1


def binary_entropy_curve(num: int = 201, base: float = 2) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(p, H(p)) on an even grid over [0, 1], ready to plot."""
    num = guards.whole("num", num, 2, 10**8)
    guards.check_allocation(16.0 * num, f"a curve of {num} points")
    p = np.linspace(0.0, 1.0, num)
    return p, binary_entropy(p, base)


def max_entropy(k: int, base: float = 2) -> float:
    """log K: the entropy of the uniform distribution, the most any K-outcome source can have."""
    k = guards.whole("k", k, 1, 2**63 - 1)
    return math.log(k) / log_base(base)


@dataclass(frozen=True)
class PairSummary:
    """Every number the Entropy tab writes about a pair (p, q) over the same K outcomes; bits unless named."""

    k: int
    entropy: float  # H(p)
    entropy_nats: float
    q_entropy: float  # H(q)
    max_entropy: float  # log₂ K, the uniform distribution's
    pq: CrossEntropyParts  # H(p, q) = H(p) + KL(p || q)
    qp: CrossEntropyParts  # H(q, p) = H(q) + KL(q || p): KL is not symmetric
    cross_entropy_nats: float  # H(p, q) in nats: the classifier's loss


def summarize(p: ArrayLike, q: ArrayLike) -> PairSummary:
    """Entropies, both cross-entropies and KLs, and the maximum entropy for ``p`` against ``q``."""
    pa, qa = _as_pair(p, q)
    return PairSummary(
        k=pa.size,
        entropy=entropy(pa),
        entropy_nats=entropy(pa, math.e),
        q_entropy=entropy(qa),
        max_entropy=max_entropy(pa.size),
        pq=cross_entropy_parts(pa, qa),
        qp=cross_entropy_parts(qa, pa),
        cross_entropy_nats=cross_entropy(pa, qa, math.e),
    )


def normalize(weights: ArrayLike) -> NDArray[np.float64]:
    """Turn bar heights dragged by the mouse into a distribution (non-negative, not all zero)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 1-D array, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or infinite values")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    total = w.sum()
    if total <= 0:
        raise ValueError("weights are all zero: at least one outcome needs some probability")
    return w / total


def presets(kind: str, k: int, p: float | None = None) -> NDArray[np.float64]:
    """A named distribution over ``k`` outcomes (2 to 32) for the Entropy tab's preset menu.

    ``p`` is the shape parameter where the kind has one: P(heads) for ``biased_coin`` (default 0.8),
    the exponent s of ``zipf`` (p_i ∝ 1 / i^s, default 1), the success probability of the truncated
    ``geometric`` (p_i ∝ (1 - p)^i, default 0.5). ``one_hot`` puts all mass on outcome 0. The two coins
    always have 2 outcomes and ignore ``k``.
    """
    if kind == "fair_coin":
        return np.array([0.5, 0.5])
    if kind == "biased_coin":
        heads = 0.8 if p is None else guards.finite("p", p)
        if not 0.0 <= heads <= 1.0:
            raise ValueError(f"P(heads) must be in [0, 1], got {heads}")
        return np.array([heads, 1.0 - heads])
    if kind not in PRESET_KINDS:
        raise ValueError(f"unknown preset {kind!r}; choose from {', '.join(PRESET_KINDS)}")
    if isinstance(k, bool) or not hasattr(k, "__index__") or not MIN_OUTCOMES <= k <= MAX_OUTCOMES:
        raise ValueError(f"number of outcomes must be in [{MIN_OUTCOMES}, {MAX_OUTCOMES}], got {k!r}")
    if p is not None:
        guards.finite("p", p)
    i = np.arange(k, dtype=np.float64)
    if kind == "uniform":
        return np.full(k, 1.0 / k)
    if kind == "one_hot":
        out = np.zeros(k)
        out[0] = 1.0
        return out
    if kind == "zipf":
        s = 1.0 if p is None else float(p)
        if not (math.isfinite(s) and s >= 0):
            raise ValueError(f"Zipf exponent must be non-negative, got {s}")
        return normalize((i + 1) ** -s)
    success = 0.5 if p is None else float(p)
    if not 0.0 < success < 1.0:
        raise ValueError(f"geometric success probability must be in (0, 1), got {success}")
    # Work in logs: (1 - p)^i underflows to 0 for tiny 1 - p and large i.
    log_w = i * math.log1p(-success)
    return normalize(np.exp(log_w - log_w.max()))


# ---------------------------------------------------------------- compression: Huffman codes


def huffman_code(p: ArrayLike) -> dict[int, str]:
    """An optimal prefix code ``{symbol index: "0101"}`` for the distribution ``p``.

    Zero-probability symbols never occur, so they get no codeword (giving them one would only lengthen
    others) and are absent from the dict. If a single symbol has all the mass it gets the codeword
    "0": one bit per symbol, so a message's length can still be read off its bits. Ties are broken by
    symbol order, so the code is deterministic.
    """
    pa = as_distribution(p)
    used = [int(i) for i in np.flatnonzero(pa > 0)]
    if len(used) == 1:
        return {used[0]: "0"}
    tie = count()
    # Heap of (probability, tie-breaker, symbols in this subtree); merging prefixes one bit to each side.
    heap: list[tuple[float, int, list[int]]] = [(float(pa[i]), next(tie), [i]) for i in used]
    heapq.heapify(heap)
    codes = dict.fromkeys(used, "")
    while len(heap) > 1:
        p0, _, left = heapq.heappop(heap)
        p1, _, right = heapq.heappop(heap)
        for s in left:
            codes[s] = "0" + codes[s]
        for s in right:
            codes[s] = "1" + codes[s]
        heapq.heappush(heap, (p0 + p1, next(tie), left + right))
    return codes


def code_lengths(code: dict[int, str], k: int) -> NDArray[np.int64]:
    """Codeword length per symbol (0 for symbols without a codeword)."""
    lengths = np.zeros(k, dtype=np.int64)
    for s, word in code.items():
        lengths[s] = len(word)
    return lengths


def average_code_length(p: ArrayLike, code: dict[int, str]) -> float:
    """L = Σ p_i len(c_i): bits per symbol on average; H(p) <= L < H(p) + 1 for Huffman."""
    pa = as_distribution(p)
    missing = [i for i in np.flatnonzero(pa > 0) if int(i) not in code]
    if missing:
        raise ValueError(f"symbols {missing} have probability > 0 but no codeword")
    return float(np.dot(pa, code_lengths(code, pa.size)))


def sample_message(p: ArrayLike, n: int, seed: int) -> NDArray[np.int64]:
    """``n`` symbols drawn independently from ``p`` with a seeded generator."""
    pa = as_distribution(p)
    n = guards.whole("n", n, 0, MAX_MESSAGE)
    guards.whole("seed", seed, 0, 2**63 - 1)
    rng = np.random.default_rng(seed)
    return rng.choice(pa.size, size=n, p=pa / pa.sum()).astype(np.int64)


def encode(message: ArrayLike, code: dict[int, str]) -> str:
    """Concatenate the codewords of the message's symbols into one bit string."""
    symbols = np.asarray(message, dtype=np.int64).ravel()
    try:
        return "".join([code[int(s)] for s in symbols])
    except KeyError as err:
        raise ValueError(f"symbol {err.args[0]} has no codeword (probability 0?)") from None


def decode(bits: str, code: dict[int, str]) -> NDArray[np.int64]:
    """Read the bit string back into symbols; a prefix code needs no separators."""
    lookup = {word: s for s, word in code.items()}
    if len(lookup) != len(code):
        raise ValueError("code has repeated codewords")
    longest = max((len(w) for w in lookup), default=0)
    out: list[int] = []
    start = 0
    for end in range(1, len(bits) + 1):
        word = bits[start:end]
        if word in lookup:
            out.append(lookup[word])
            start = end
        elif end - start >= longest:
            raise ValueError(f"bits {word!r} at position {start} are not a codeword")
    if start != len(bits):
        raise ValueError(f"bit string ends inside a codeword ({bits[start:]!r})")
    return np.asarray(out, dtype=np.int64)


def is_prefix_free(code: dict[int, str]) -> bool:
    """No codeword is a prefix of another (so decoding is instantaneous)."""
    words = sorted(code.values())
    # After sorting, a word that prefixes any other prefixes its immediate successor.
    return all(not b.startswith(a) for a, b in pairwise(words))


@dataclass(frozen=True)
class Compression:
    """A message coded with the Huffman code of its source, against Shannon's bound n·H(p)."""

    message: NDArray[np.int64]  # (n,) symbol indices
    code: dict[int, str]
    bits: str  # the encoded message, '0'/'1' characters
    actual_bits: int  # len(bits): counted, not computed
    entropy_bits: float  # n · H(p), the lower bound
    expected_bits: float  # n · L, what the code spends on average
    entropy: float  # H(p) in bits per symbol
    average_length: float  # L in bits per symbol
    cumulative_bits_per_symbol: NDArray[np.float64]  # (n,) bits used / symbols sent so far
    round_trip: bool  # decode(bits) == message


def compress(p: ArrayLike, n: int, seed: int) -> Compression:
    """Sample ``n`` symbols from ``p``, Huffman-encode them, decode them back, and count the bits."""
    pa = as_distribution(p)
    code = huffman_code(pa)
    message = sample_message(pa, n, seed)
    bits = encode(message, code)
    lengths = code_lengths(code, pa.size)
    h = entropy(pa)
    avg = average_code_length(pa, code)
    cumulative = np.cumsum(lengths[message], dtype=np.float64) / np.arange(1, n + 1)
    return Compression(
        message=message,
        code=code,
        bits=bits,
        actual_bits=len(bits),
        entropy_bits=n * h,
        expected_bits=n * avg,
        entropy=h,
        average_length=avg,
        cumulative_bits_per_symbol=cumulative,
        round_trip=bool(np.array_equal(decode(bits, code), message)),
    )


# ---------------------------------------------------------------- decision trees


def label_entropy(labels: ArrayLike, base: float = 2) -> float:
    """Entropy of the empirical class distribution of ``labels`` (0 for an empty set)."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        return 0.0
    _, counts = np.unique(arr, return_counts=True)
    return entropy(counts / arr.size, base)


def information_gain(labels: ArrayLike, mask: ArrayLike, base: float = 2) -> float:
    """H(parent) - Σ (n_child / n) H(child) for the split of ``labels`` by the boolean ``mask``.

    This is how much a question ("is x_j <= t?") reduces the uncertainty about the class; a decision
    tree (ID3, C4.5) greedily asks the question with the largest gain. An empty child weighs nothing.
    """
    y = np.asarray(labels)
    m = np.asarray(mask)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {y.shape}")
    if m.dtype != np.bool_:
        raise ValueError(f"mask must be boolean, got dtype {m.dtype}")
    if m.shape != y.shape:
        raise ValueError(f"mask shape {m.shape} does not match labels shape {y.shape}")
    n = y.size
    n_left = int(m.sum())
    children = (n_left / n) * label_entropy(y[m], base) + ((n - n_left) / n) * label_entropy(y[~m], base)
    return max(label_entropy(y, base) - children, 0.0)
