"""Shifters and leading-zero counters (the normalization designs FP units are built of), proven by
simulation: exhaustive up to 11 bits, edge cases plus random vectors at real widths."""
import numpy as np
import pytest

import circuits
from gatesim import DesignError, count, simulate, verify

SHIFTERS = ["logarithmic-shifter", "crossbar-shifter"]
COUNTERS = ["tree-leading-zero-counter", "priority-leading-zero-counter"]


@pytest.mark.parametrize("direction", ["right", "left"])
@pytest.mark.parametrize("design", SHIFTERS)
def test_shifters_exhaustive(design, direction):
    for width in (1, 2, 3, 4, 5, 7, 8, 11):
        r = verify(circuits.build(design, width, direction=direction), circuits.reference(design, width, direction=direction))
        assert r.exhaustive and r.ok, (width, r.first_failure)


@pytest.mark.parametrize("width", [27, 53, 64])
@pytest.mark.parametrize("design", SHIFTERS)
def test_shifters_real_widths(design, width):
    for direction in ("right", "left"):
        net = circuits.build(design, width, direction=direction)
        r = verify(net, circuits.reference(design, width, direction=direction), vectors=20_000, seed=width)
        assert r.ok, r.first_failure
        # every amount, on an operand with bits everywhere
        k = width.bit_length()
        a = (1 << width) - 1 - (1 << (width // 2))
        out = simulate(net, a=np.array([a] * (1 << k), dtype=object), shift=np.arange(1 << k))
        for s, (y, st) in enumerate(zip(out["y"], out["sticky"])):
            m = min(s, width)
            if direction == "right":
                want = (a >> m, int(a & ((1 << m) - 1) != 0))
            else:
                want = ((a << m) & ((1 << width) - 1), int(a >> (width - m) != 0))
            assert (int(y), int(st)) == want, s


@pytest.mark.parametrize("design", COUNTERS)
def test_counters(design):
    for width in range(1, 17):
        r = verify(circuits.build(design, width), circuits.reference(design, width))
        assert r.exhaustive and r.ok, (width, r.first_failure)
    for width in (24, 53, 64, 106):
        net = circuits.build(design, width)
        # one vector per leading-zero count (random bits below the leading one), and zero
        rng = np.random.default_rng(width)
        vals = [0] + [(1 << i) | int(rng.integers(0, 1 << min(i, 62))) if i else 1 for i in range(width)]
        out = simulate(net, a=np.array(vals, dtype=object))
        assert [int(c) for c in out["count"]] == [width - v.bit_length() for v in vals]
        assert [int(z) for z in out["zero"]] == [int(v == 0) for v in vals]


def test_costs_differ_and_ports():
    log, xbar = (circuits.build(d, 28) for d in SHIFTERS)
    assert count(log, "yosys-cmos").transistors < count(xbar, "yosys-cmos").transistors
    assert set(log.inputs) == {"a", "shift"} and len(log.inputs["shift"]) == 5 and set(log.outputs) == {"y", "sticky"}
    tree, prio = (circuits.build(d, 53) for d in COUNTERS)
    assert count(tree).logic_depth < count(prio).logic_depth
    assert len(tree.outputs["count"]) == 6
    with pytest.raises(DesignError, match="direction must be 'right' or 'left'"):
        circuits.build("logarithmic-shifter", 8, direction="up")
