"""Entropy, cross-entropy, KL and Huffman coding: exact values, the source-coding bounds, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.lab.entropy import information

# derandomize: the same examples on every run, so a failure is reproducible and never flaky.
FEW_EXAMPLES = settings(max_examples=50, deadline=None, database=None, derandomize=True)


@st.composite
def distributions(
    draw: st.DrawFn, min_size: int = 2, max_size: int = 10, min_support: int = 1, min_weight: float = 0.0
) -> np.ndarray:
    """Random probability vectors (zeros allowed unless ``min_weight`` > 0), ``min_support`` entries > 0."""
    size = draw(st.integers(min_size, max_size))
    # Positive weights stay above 1e-6 so that H(p) is not lost to rounding next to 1 (L < H + 1 is strict).
    weight = st.floats(max(min_weight, 1e-6), 1.0)
    if min_weight == 0.0:
        weight = st.one_of(st.just(0.0), weight)
    weights = draw(st.lists(weight, min_size=size, max_size=size))
    w = np.asarray(weights)
    if np.count_nonzero(w) < min_support:
        w[:min_support] = 0.5
    return w / w.sum()


# ---------------------------------------------------------------- entropy and friends


def test_entropy_of_uniform_over_8_is_3_bits() -> None:
    assert information.entropy(np.full(8, 1 / 8)) == pytest.approx(3.0, abs=1e-12)


def test_entropy_of_dyadic_distribution_is_1_75_bits() -> None:
    assert information.entropy([0.5, 0.25, 0.125, 0.125]) == pytest.approx(1.75, abs=1e-12)


def test_entropy_bases_and_zero_terms() -> None:
    assert information.entropy([0.5, 0.5, 0.0], base=math.e) == pytest.approx(math.log(2))
    assert information.entropy([1.0, 0.0, 0.0]) == 0.0
    assert information.max_entropy(16) == pytest.approx(4.0)


def test_a_certain_outcome_has_zero_entropy_not_minus_zero() -> None:
    """−0.0 == 0.0, so compare signs: a −0.0 prints as "-0" in every readout and CSV."""
    certain = [0.0, 1.0, 0.0]
    for value in (
        information.entropy(certain),
        information.entropy(certain, base=math.e),
        information.cross_entropy(certain, certain),
        information.cross_entropy_parts(certain, certain).entropy,
        information.label_entropy([2, 2, 2]),
    ):
        assert value == 0.0 and math.copysign(1.0, value) == 1.0 and f"{value}" == "0.0"
    assert np.all(np.signbit(information.binary_entropy([0.0, 1.0])) == [False, False])


@pytest.mark.parametrize(
    "bad",
    [[0.5, -0.1, 0.6], [0.5, 0.4], [], [[0.5, 0.5]], [0.5, math.nan], [2.0, -1.0]],
)
def test_bad_distributions_raise_value_error(bad: list) -> None:
    with pytest.raises(ValueError):
        information.entropy(bad)


def test_bad_pairs_and_bases_raise_value_error() -> None:
    with pytest.raises(ValueError, match="same number"):
        information.kl([0.5, 0.5], [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="base"):
        information.entropy([0.5, 0.5], base=1)
    with pytest.raises(ValueError, match="sum to 1"):
        information.cross_entropy([0.5, 0.5], [0.7, 0.7])


def test_kl_is_infinite_where_q_is_zero_but_p_is_not() -> None:
    assert information.kl([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert information.cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    # The other way round only the support of p counts: KL = log2(1/0.5) = 1 bit.
    assert information.kl([1.0, 0.0], [0.5, 0.5]) == pytest.approx(1.0)


@FEW_EXAMPLES
@given(distributions(max_size=8), distributions(max_size=8))
def test_kl_is_non_negative_and_zero_only_at_equality(p: np.ndarray, q: np.ndarray) -> None:
    q = q[: p.size] if q.size >= p.size else np.pad(q, (0, p.size - q.size))
    q = q / q.sum() if q.sum() > 0 else np.full(p.size, 1 / p.size)
    d = information.kl(p, q)
    assert d >= 0
    assert information.kl(p, p) == pytest.approx(0.0, abs=1e-12)
    if np.max(np.abs(p - q)) > 1e-3:
        assert d > 0


@FEW_EXAMPLES
@given(distributions(max_size=8), st.floats(0.01, 1.0))
def test_cross_entropy_is_entropy_plus_kl(p: np.ndarray, mix: float) -> None:
    q = (1 - mix) * p + mix * np.full(p.size, 1 / p.size)  # full support, so every term is finite
    parts = information.cross_entropy_parts(p, q)
    assert parts.cross_entropy == pytest.approx(information.cross_entropy(p, q), abs=1e-9)
    assert parts.cross_entropy == pytest.approx(parts.entropy + parts.kl, abs=1e-12)
    assert parts.entropy == pytest.approx(information.entropy(p), abs=1e-12)


def test_binary_entropy_curve_peaks_at_one_bit_for_a_fair_coin() -> None:
    p, h = information.binary_entropy_curve(201)
    assert p[0] == 0.0 and p[-1] == 1.0
    assert h[0] == 0.0 and h[-1] == 0.0
    assert p[np.argmax(h)] == pytest.approx(0.5)
    assert h.max() == pytest.approx(1.0)
    assert information.binary_entropy(0.11)[()] == pytest.approx(information.entropy([0.11, 0.89]))
    with pytest.raises(ValueError):
        information.binary_entropy([0.5, 1.5])


# ---------------------------------------------------------------- presets and dragged bars


@pytest.mark.parametrize("kind", ["uniform", "one_hot", "zipf", "geometric"])
@pytest.mark.parametrize("k", [2, 7, 32])
def test_presets_are_distributions_of_the_requested_size(kind: str, k: int) -> None:
    p = information.presets(kind, k)
    assert p.shape == (k,)
    assert p.dtype == np.float64
    assert p.sum() == pytest.approx(1.0)
    assert np.all(p >= 0)


def test_preset_shapes() -> None:
    assert information.entropy(information.presets("uniform", 32)) == pytest.approx(5.0)
    assert information.entropy(information.presets("one_hot", 10)) == 0.0
    zipf = information.presets("zipf", 4, p=1.0)
    np.testing.assert_allclose(zipf, np.array([1, 1 / 2, 1 / 3, 1 / 4]) / (25 / 12))
    geometric = information.presets("geometric", 5, p=0.5)
    np.testing.assert_allclose(geometric[1:] / geometric[:-1], 0.5)
    np.testing.assert_allclose(information.presets("fair_coin", 9), [0.5, 0.5])
    np.testing.assert_allclose(information.presets("biased_coin", 2, p=0.9), [0.9, 0.1])
    steep = information.presets("geometric", 32, p=0.999)
    assert steep[0] == pytest.approx(0.999) and steep.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kind", "k", "p"),
    [
        ("uniform", 1, None),
        ("uniform", 33, None),
        ("gaussian", 4, None),
        ("biased_coin", 2, 1.5),
        ("geometric", 4, 1.0),
    ],
)
def test_bad_presets_raise_value_error(kind: str, k: int, p: float | None) -> None:
    with pytest.raises(ValueError):
        information.presets(kind, k, p)


def test_normalize_turns_dragged_bars_into_probabilities() -> None:
    np.testing.assert_allclose(information.normalize([2, 1, 1, 0]), [0.5, 0.25, 0.25, 0.0])
    with pytest.raises(ValueError, match="all zero"):
        information.normalize([0, 0, 0])
    with pytest.raises(ValueError, match="non-negative"):
        information.normalize([1, -1, 2])


# ---------------------------------------------------------------- Huffman coding


def brute_force_min_length(p: np.ndarray) -> float:
    """Smallest Σ p_i l_i over all length assignments that satisfy Kraft's inequality Σ 2^-l_i <= 1.

    By Kraft-McMillan these are exactly the lengths of prefix codes, so this is the optimum over all
    prefix codes (lengths above n - 1 are never needed: some optimal code is a full binary tree).
    """
    n = p.size
    lengths = np.array(list(itertools.product(range(1, n), repeat=n)), dtype=np.float64)  # (n-1)^n rows
    kraft = np.sum(2.0**-lengths, axis=1) <= 1 + 1e-12
    return float(np.min(lengths[kraft] @ p))


@FEW_EXAMPLES
@given(distributions(min_size=2, max_size=6, min_weight=1e-3))
def test_huffman_is_optimal_against_brute_force(p: np.ndarray) -> None:
    code = information.huffman_code(p)
    assert information.is_prefix_free(code)
    assert information.average_code_length(p, code) == pytest.approx(brute_force_min_length(p), abs=1e-9)


@FEW_EXAMPLES
@given(distributions(min_size=2, max_size=32, min_support=2))
def test_huffman_meets_the_source_coding_bounds(p: np.ndarray) -> None:
    code = information.huffman_code(p)
    h = information.entropy(p)
    length = information.average_code_length(p, code)
    assert information.is_prefix_free(code)
    assert h - 1e-9 <= length < h + 1
    assert set(code) == {int(i) for i in np.flatnonzero(p > 0)}


def test_huffman_on_dyadic_probabilities_reaches_the_entropy() -> None:
    p = [0.5, 0.25, 0.125, 0.125]
    code = information.huffman_code(p)
    assert [len(code[i]) for i in range(4)] == [1, 2, 3, 3]
    assert information.average_code_length(p, code) == pytest.approx(information.entropy(p))


def test_huffman_single_symbol_and_zero_probability_symbols() -> None:
    assert information.huffman_code([0.0, 1.0, 0.0]) == {1: "0"}
    code = information.huffman_code([0.5, 0.0, 0.5])
    assert sorted(code) == [0, 2]
    with pytest.raises(ValueError, match="no codeword"):
        information.encode([1], code)


def test_compression_round_trips_and_approaches_the_entropy() -> None:
    p = information.presets("zipf", 8, p=1.2)
    result = information.compress(p, n=5000, seed=3)
    assert result.round_trip
    assert result.actual_bits == len(result.bits)
    np.testing.assert_array_equal(information.decode(result.bits, result.code), result.message)
    # Counted bits are close to n·L and can never beat n·H by more than sampling noise.
    assert result.actual_bits == pytest.approx(result.expected_bits, rel=0.03)
    assert result.actual_bits > 0.97 * result.entropy_bits
    assert result.cumulative_bits_per_symbol[-1] == pytest.approx(result.actual_bits / 5000)
    again = information.compress(p, n=5000, seed=3)
    assert again.bits == result.bits


def test_decode_rejects_bits_that_are_not_a_message() -> None:
    code = {0: "0", 1: "10", 2: "11"}
    np.testing.assert_array_equal(information.decode("01011", code), [0, 1, 2])
    with pytest.raises(ValueError, match="ends inside"):
        information.decode("0101", code)
    with pytest.raises(ValueError, match="not a codeword"):
        information.decode("0100", {0: "0", 1: "11"})


# ---------------------------------------------------------------- information gain


def test_information_gain_of_a_perfect_split_is_the_parent_entropy() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    mask = labels == 0
    assert information.information_gain(labels, mask) == pytest.approx(information.label_entropy(labels))
    assert information.label_entropy(labels) == pytest.approx(information.entropy([3 / 8, 5 / 8]))


def test_information_gain_of_an_uninformative_split_is_zero() -> None:
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    mask = np.array([True, True, False, False, True, True, False, False])
    assert information.information_gain(labels, mask) == pytest.approx(0.0, abs=1e-12)
    assert information.information_gain(labels, np.ones(8, dtype=bool)) == pytest.approx(0.0, abs=1e-12)


def test_information_gain_rejects_bad_masks() -> None:
    with pytest.raises(ValueError, match="boolean"):
        information.information_gain([0, 1, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="does not match"):
        information.information_gain([0, 1, 1], np.array([True, False]))


def test_the_pair_summary_holds_every_number_the_tab_writes():
    p, q = [0.5, 0.25, 0.125, 0.125], [0.25, 0.25, 0.25, 0.25]
    s = information.summarize(p, q)
    assert s.k == 4 and s.entropy == 1.75 and s.q_entropy == 2.0 and s.max_entropy == 2.0
    assert s.entropy_nats == pytest.approx(1.75 * math.log(2))
    assert s.pq == information.cross_entropy_parts(p, q) and s.pq.cross_entropy == 2.0  # 2 bits: q's code
    assert s.qp == information.cross_entropy_parts(q, p) and s.qp.kl != s.pq.kl
    assert s.cross_entropy_nats == pytest.approx(2.0 * math.log(2))
    with pytest.raises(ValueError, match="same number of outcomes"):
        information.summarize(p, [0.5, 0.5])
