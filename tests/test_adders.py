"""Proof by simulation of every adder design against Python integers."""
import pytest

import circuits
from gatesim import count, simulate, verify
from gatesim.verify import edge_vectors

ADDERS = ["ripple-carry-adder", "carry-lookahead-adder", "kogge-stone-adder", "subtractor"]


@pytest.mark.parametrize("design", ADDERS)
@pytest.mark.parametrize("width", range(1, 9))
def test_exhaustive_small_widths(design, width):
    r = verify(circuits.build(design, width), circuits.reference(design, width))
    assert r.exhaustive and r.vectors == 1 << (2 * width + 1)
    assert r.ok, r.first_failure


@pytest.mark.parametrize("design", ADDERS)
@pytest.mark.parametrize("width", [11, 24, 53, 64])
def test_random_and_edge_cases_real_widths(design, width):
    r = verify(circuits.build(design, width), circuits.reference(design, width), vectors=100_000, seed=width)
    assert not r.exhaustive and r.vectors >= 100_000
    assert r.ok, r.first_failure


def test_one_bit_cells():
    assert verify(circuits.build("full-adder", 1), circuits.reference("full-adder", 1)).ok
    assert verify(circuits.build("half-adder", 1), circuits.reference("half-adder", 1)).ok


@pytest.mark.parametrize("block", [1, 2, 3, 5, 8])
def test_lookahead_block_sizes(block):
    r = verify(circuits.build("carry-lookahead-adder", 13, block=block),
               circuits.reference("carry-lookahead-adder", 13, block=block), vectors=20_000)
    assert r.ok, r.first_failure


def test_edge_cases_cover_carry_chains():
    v = edge_vectors({"a": 24, "b": 24, "cin": 1})
    m = (1 << 24) - 1
    pairs = set(zip(v["a"].tolist(), v["b"].tolist()))
    assert (m, 1) in pairs and (0, 0) in pairs and (m, m) in pairs and (0x555555, 0xAAAAAA) in pairs
    net = circuits.build("kogge-stone-adder", 24)
    out = simulate(net, a=[m], b=[1], cin=0)
    assert int(out["sum"][0]) == 0 and int(out["cout"][0]) == 1


def test_verify_catches_a_wrong_circuit():
    net = circuits.build("ripple-carry-adder", 12)
    # break one carry: OR -> AND inside bit 7's full adder
    victim = next(n for n, d in net.nodes(data=True) if d["gate"] == "OR2" and net.instances[d["inst"]]["name"] == "fa7")
    net.nodes[victim]["gate"] = "AND2"
    net.invalidate()
    r = verify(net, circuits.reference("ripple-carry-adder", 12), vectors=5_000)
    assert not r.ok and r.mismatches > 0
    f = r.first_failure
    s = f["inputs"]["a"] + f["inputs"]["b"] + f["inputs"]["cin"]
    assert f["expected"] == {"sum": s % 4096, "cout": s >> 12} != f["got"]


@pytest.mark.parametrize("width", [1, 8, 24, 53, 64])
def test_structure_formulas(width):
    rca = count(circuits.build("ripple-carry-adder", width), "yosys-cmos")
    assert rca.gate_count == 5 * width and rca.logic_depth == 2 * width + 1
    ks = count(circuits.build("kogge-stone-adder", width), "yosys-cmos")
    levels = (width).bit_length()  # prefix levels over width+1 positions (carry in included)
    assert levels + 2 <= ks.logic_depth <= 2 * levels + 2  # pg, two gates per prefix level at most, sum XOR
    assert ks.gates["XOR2"] == 2 * width
    sub = count(circuits.build("subtractor", width), "yosys-cmos")
    assert sub.transistors == rca.transistors + 2 * (width + 2)


def test_parameter_errors():
    from gatesim import DesignError

    with pytest.raises(DesignError, match="width 0 is out of range"):
        circuits.build("ripple-carry-adder", 0)
    with pytest.raises(DesignError, match="unknown parameter 'depth'"):
        circuits.build("ripple-carry-adder", 4, depth=2)
    with pytest.raises(DesignError, match="block must be a positive integer"):
        circuits.build("carry-lookahead-adder", 4, block=0)
    with pytest.raises(DesignError, match="did you mean 'kogge-stone-adder'"):
        circuits.build("kogge-stone-adde", 4)
    with pytest.raises(DesignError, match="out of range"):
        circuits.build("full-adder", 2)
