"""Proof by simulation of the significand dividers (issue 3) against Python integers.

q = floor(A * 2**(n+1) / B), sticky = remainder != 0, with A = a | 2**(n-1), B = b | 2**(n-1)
(the top bit is a hidden bit). Exhaustive for widths 2..8 (every input, normalized or not);
at 11, 24, 53 and 64 bits edge cases plus 100k random vectors for every design; explicitly
normalized vectors with the divisor at both ends of [1, 2), a = b and random normalized pairs.
"""
import numpy as np
import pytest

import circuits
from gatesim import DesignError, count, simulate, verify

DIVIDERS = ["srt-divider", "restoring-divider", "nonrestoring-divider"]


def expected(n, a, b):
    top = 1 << (n - 1)
    A, B = a | top, b | top
    num = A << (n + 1)
    return num // B, int(num % B != 0)


@pytest.mark.parametrize("design", DIVIDERS)
def test_exhaustive_small_widths(design):
    for width in range(2, 9):
        r = verify(circuits.build(design, width), circuits.reference(design, width))
        assert r.exhaustive and r.vectors == 1 << (2 * width)
        assert r.ok, (width, r.first_failure)


@pytest.mark.parametrize("width", [11, 24, 53, 64])
@pytest.mark.parametrize("design", DIVIDERS)
def test_real_widths(design, width):
    vectors = 100_000
    r = verify(circuits.build(design, width), circuits.reference(design, width), vectors=vectors, seed=width)
    assert r.ok, r.first_failure
    assert r.exhaustive or r.vectors >= vectors


def normalized_vectors(n, count_random=20_000, seed=0):
    """Normalized operands (top bit set): both ends of [1, 2) for the divisor, a = b, powers of two
    above the hidden bit, all-ones fractions, and random normalized pairs."""
    top, m = 1 << (n - 1), (1 << n) - 1
    special = {top, top + 1, m, m - 1, top | (top >> 1), top | ((top >> 1) - 1), (top | 0x5555555555555555) & m,
               (top | 0xAAAAAAAAAAAAAAAA) & m}
    special.update(top | (1 << i) for i in range(n - 1))
    special.update(m ^ (1 << i) for i in range(n - 1))
    special = sorted(special)
    pairs = [(x, y) for x in special for y in special]
    rng = np.random.default_rng(seed)
    for _ in range(count_random):
        x = top | int(rng.integers(0, top)) if n > 1 else top
        y = top | int(rng.integers(0, top)) if n > 1 else top
        pairs.append((x, y))
        pairs.append((x, x))
    return pairs


@pytest.mark.parametrize("width", [11, 24, 53])
@pytest.mark.parametrize("design", DIVIDERS)
def test_normalized_edge_cases(design, width):
    net = circuits.build(design, width)
    pairs = normalized_vectors(width, 5_000, seed=width)
    a = np.array([p[0] for p in pairs], dtype=object)
    b = np.array([p[1] for p in pairs], dtype=object)
    out = simulate(net, a=a, b=b)
    for x, y, q, s in zip(a, b, out["q"], out["sticky"]):
        assert (int(q), int(s)) == expected(width, x, y), (x, y)


@pytest.mark.parametrize("design", DIVIDERS)
def test_hidden_bit_and_quotient_range(design):
    n = 24
    net = circuits.build(design, n)
    top = 1 << (n - 1)
    rng = np.random.default_rng(3)
    a = rng.integers(top, 1 << n, size=2000, dtype=np.uint64)
    b = rng.integers(top, 1 << n, size=2000, dtype=np.uint64)
    with_top = simulate(net, a=a, b=b)
    without = simulate(net, a=a - np.uint64(top), b=b - np.uint64(top))
    assert (with_top["q"] == without["q"]).all() and (with_top["sticky"] == without["sticky"]).all()
    q = with_top["q"].astype(object)
    assert all((1 << n) < int(v) < (1 << (n + 2)) for v in q)
    # a = b: q = 2**(n+1) exactly, no remainder; divisor 1.0: q = a * 2**(n+1) / 2**(n-1), exact
    out = simulate(net, a=[top, top + 5, (1 << n) - 1], b=[top, top + 5, (1 << n) - 1])
    assert [int(v) for v in out["q"]] == [1 << (n + 1)] * 3 and not out["sticky"].any()
    out = simulate(net, a=[top + 7], b=[top])
    assert int(out["q"][0]) == (top + 7) << 2 and int(out["sticky"][0]) == 0


def test_srt_structure_and_depth():
    n = 24
    srt = count(circuits.build("srt-divider", n), "static-cmos")
    rest = count(circuits.build("restoring-divider", n), "static-cmos")
    # carry-save stages: the SRT divider is far shallower than a chain of carry-propagate subtractions
    assert srt.logic_depth * 2 < rest.logic_depth
    net = circuits.build("srt-divider", n)
    names = {i["name"] for i in net.instances}
    assert {"remainder_adder", "quotient_adder"} <= names
    k = circuits.build("srt-divider", n, adder="kogge-stone-adder")
    assert verify(k, circuits.reference("srt-divider", n, adder="kogge-stone-adder"), vectors=5_000).ok
    assert count(k).logic_depth < srt.logic_depth


@pytest.mark.parametrize("design", ["restoring-divider", "nonrestoring-divider"])
def test_adder_by_name(design):
    net = circuits.build(design, 16, adder="carry-lookahead-adder")
    assert verify(net, circuits.reference(design, 16, adder="carry-lookahead-adder"), vectors=5_000).ok


def test_parameter_errors():
    with pytest.raises(DesignError, match="width 1 is out of range"):
        circuits.build("srt-divider", 1)
    with pytest.raises(DesignError, match="srt-divider: adder 'nope'"):
        circuits.build("srt-divider", 8, adder="nope")
    with pytest.raises(DesignError, match="is not a registered adder"):
        circuits.build("restoring-divider", 8, adder="booth-wallace-multiplier")
    with pytest.raises(DesignError, match="unknown parameter"):
        circuits.build("nonrestoring-divider", 8, final_adder="ripple-carry-adder")  # the old name is gone


@pytest.mark.yosys
def test_srt_24_matches_yosys(yosys_transistors):
    net = circuits.build("srt-divider", 24)
    assert yosys_transistors(net) == count(net, "yosys-cmos").transistors
