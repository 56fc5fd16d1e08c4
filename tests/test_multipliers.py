"""Proof by simulation of the multipliers (issue 3) against Python integers.

Exhaustive for widths 2..8 (unsigned and signed); at 11, 24, 53 and 64 bits the edge cases of
:func:`gatesim.verify.edge_vectors` (0, 1, max, powers of two, alternating bits, a = b via the
product of per-port edge values) plus 100k random vectors, for every design, unsigned and signed.
"""
from collections import Counter

import numpy as np
import pytest

import circuits
from gatesim import DesignError, count, simulate, verify

MULTIPLIERS = ["booth-wallace-multiplier", "array-multiplier", "wallace-multiplier", "dadda-multiplier"]
REAL_WIDTHS = [11, 24, 53, 64]


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("design", MULTIPLIERS)
def test_exhaustive_small_widths(design, signed):
    for width in range(2, 9):
        r = verify(circuits.build(design, width, signed=signed), circuits.reference(design, width, signed=signed))
        assert r.exhaustive and r.vectors == 1 << (2 * width)
        assert r.ok, (width, r.first_failure)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("width", REAL_WIDTHS)
def test_booth_wallace_real_widths(width, signed):
    d = "booth-wallace-multiplier"
    r = verify(circuits.build(d, width, signed=signed), circuits.reference(d, width, signed=signed),
               vectors=100_000, seed=width)
    assert not r.exhaustive and r.vectors >= 100_000
    assert r.ok, r.first_failure


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("width", REAL_WIDTHS)
@pytest.mark.parametrize("design", MULTIPLIERS[1:])
def test_alternatives_real_widths(design, width, signed):
    r = verify(circuits.build(design, width, signed=signed), circuits.reference(design, width, signed=signed),
               vectors=100_000, seed=width)
    assert not r.exhaustive and r.vectors >= 100_000
    assert r.ok, r.first_failure


def _edge_operands(n: int) -> list[int]:
    m = (1 << n) - 1
    vals = {0, 1, m, m - 1, 1 << (n - 1), (1 << (n - 1)) - 1, (1 << (n - 1)) + 1}
    vals.update(1 << i for i in range(n))
    return sorted(vals)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("design", MULTIPLIERS)
def test_named_edge_cases(design, signed):
    """0, 1, max, powers of two, the most negative value, a = b, by hand against Python."""
    n = 53
    net = circuits.build(design, n, signed=signed)
    vals = _edge_operands(n)
    pairs = [(x, y) for x in vals for y in vals] + [(x, x) for x in range(0, 1 << 12, 37)]
    a = np.array([p[0] for p in pairs], dtype=object)
    b = np.array([p[1] for p in pairs], dtype=object)
    got = simulate(net, a=a, b=b)["p"]
    half, mask = 1 << (n - 1), (1 << (2 * n)) - 1
    for x, y, p in zip(a, b, got):
        if signed:
            x, y = (x ^ half) - half, (y ^ half) - half
        assert int(p) == (x * y) & mask, (x, y)


@pytest.mark.parametrize("adder", ["kogge-stone-adder", "carry-lookahead-adder"])
def test_adder_by_name(adder):
    d = "booth-wallace-multiplier"
    net = circuits.build(d, 24, adder=adder)
    r = verify(net, circuits.reference(d, 24, adder=adder), vectors=20_000)
    assert r.ok, r.first_failure
    ripple = circuits.build(d, 24)
    assert count(net).logic_depth < count(ripple).logic_depth
    assert count(net).transistors != count(ripple).transistors
    assert "final_adder" in {i["name"] for i in net.instances}


def test_structure():
    n = 24
    bw_net = circuits.build("booth-wallace-multiplier", n)
    bw = count(bw_net, "static-cmos")
    cells = Counter(i["cell"] for i in bw_net.instances)
    # unsigned: (n + 2) // 2 digits; the first (b[-1] = 0) and last (zero sign bits) fold to plain gates
    assert cells["booth_encoder"] == n // 2 - 1
    assert cells["booth_selector"] > 0 and cells["half_adder"] > 0
    assert cells["full_adder"] == bw.cells["full_adder"]  # static-cmos prices the full adder as a cell
    assert cells["ripple_carry_adder"] == 1
    wal = count(circuits.build("wallace-multiplier", n), "static-cmos")
    assert wal.gates["AND2"] >= n * n  # one AND per partial-product bit (more inside half adders)
    # Booth halves the partial products: fewer full adders than the AND-array Wallace tree
    assert bw.cells["full_adder"] < wal.cells["full_adder"]
    assert bw.transistors < wal.transistors
    # trees are shallower than the array (same ripple final adder)
    arr = count(circuits.build("array-multiplier", n), "static-cmos")
    dad = count(circuits.build("dadda-multiplier", n), "static-cmos")
    assert wal.logic_depth < arr.logic_depth and dad.logic_depth < arr.logic_depth
    # Dadda uses no more adders than Wallace
    assert dad.cells["full_adder"] + dad.cells.get("half_adder", 0) <= wal.cells["full_adder"] + wal.cells.get("half_adder", 0)
    # the paper library prices a full adder at 10 transistors
    assert count(circuits.build("booth-wallace-multiplier", n), "paper").transistors < bw.transistors


def test_parameter_errors():
    with pytest.raises(DesignError, match="width 1 is out of range"):
        circuits.build("booth-wallace-multiplier", 1)
    with pytest.raises(DesignError, match="width 65 is out of range"):
        circuits.build("booth-wallace-multiplier", 65)
    with pytest.raises(DesignError, match="booth-wallace-multiplier: adder 'no-such-adder': unknown design"):
        circuits.build("booth-wallace-multiplier", 8, adder="no-such-adder")
    with pytest.raises(DesignError, match="did you mean 'kogge-stone-adder'"):
        circuits.build("booth-wallace-multiplier", 8, adder="kogge-stone-adde")
    with pytest.raises(DesignError, match="is not a registered adder"):
        circuits.build("booth-wallace-multiplier", 8, adder="subtractor")
    with pytest.raises(DesignError, match="cannot be built at 16 bits"):
        circuits.build("dadda-multiplier", 8, adder="full-adder")
    with pytest.raises(DesignError, match="signed must be True or False"):
        circuits.build("array-multiplier", 8, signed="yes")
    with pytest.raises(DesignError, match="unknown parameter 'radix'"):
        circuits.build("booth-wallace-multiplier", 8, radix=8)
    with pytest.raises(DesignError) as err:
        circuits.build("wallace-multiplier", 8, adder="nope")
    assert "\n" not in str(err.value)  # one-line messages


@pytest.mark.yosys
def test_booth_wallace_24_matches_yosys(yosys_transistors):
    net = circuits.build("booth-wallace-multiplier", 24)
    assert yosys_transistors(net) == count(net, "yosys-cmos").transistors
