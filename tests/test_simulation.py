import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import circuits
from gatesim import Netlist, SimulationError, compile_netlist, simulate, switching_activity
from gatesim.gates import GATES, LOGIC_GATES
from gatesim.simulation import slot_weights
from gatesim.library import load_library


def python_eval(net, vector: dict[str, int]) -> dict[int, int]:
    """Reference evaluator: one vector, gate by gate with the GateType functions, in Python."""
    c = compile_netlist(net)
    val = {}
    for p, slots in c.inputs.items():
        for i, s in enumerate(slots):
            val[int(s)] = (vector[p] >> i) & 1
    val[c.const0_slot], val[c.const1_slot] = 0, 1
    for s in range(c.n_sources, c.n_slots):
        gt = GATES[c.op_names[s]]
        val[s] = gt.function(*(val[int(c.fanin[s, k])] for k in range(gt.arity)))
    return val


@pytest.mark.parametrize("kind", LOGIC_GATES)
def test_every_gate_truth_table(kind):
    gt = GATES[kind]
    net = Netlist(name=kind)
    pins = [net.input(p)[0] for p in gt.pins]
    net.output("y", net.gate(kind, *pins))
    rows = list(itertools.product([0, 1], repeat=gt.arity))
    out = simulate(net, **{p: [r[k] for r in rows] for k, p in enumerate(gt.pins)})["y"]
    assert out.tolist() == [gt.function(*r) for r in rows]


@st.composite
def random_netlists(draw):
    net = Netlist(name="random")
    nets = []
    for p in ("a", "b"):
        nets += net.input(p, draw(st.integers(1, 5)))
    if draw(st.booleans()):
        nets.append(net.const(draw(st.integers(0, 1))))
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(LOGIC_GATES))
        fanin = [draw(st.sampled_from(nets)) for _ in range(GATES[kind].arity)]
        nets.append(net.gate(kind, *fanin))
    outs = draw(st.lists(st.sampled_from(nets), min_size=1, max_size=6))
    net.output("y", outs)
    return net


@settings(max_examples=60, deadline=None)
@given(random_netlists(), st.integers(0, 2**32))
def test_bit_parallel_matches_python_evaluator(net, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    vecs = {p: rng.integers(0, 1 << len(b), n) for p, b in net.inputs.items()}
    got = simulate(net, **vecs)["y"]
    out_bits = net.outputs["y"]
    c = compile_netlist(net)
    out_slots = c.outputs["y"]
    for v in range(0, n, 17):
        val = python_eval(net, {p: int(x[v]) for p, x in vecs.items()})
        want = sum(val[int(s)] << i for i, s in enumerate(out_slots))
        assert int(got[v]) == want
    assert len(out_bits) == len(out_slots)


@settings(max_examples=30, deadline=None)
@given(random_netlists(), st.integers(0, 2**32))
def test_toggles_match_python_count(net, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 150))
    vecs = {p: rng.integers(0, 1 << len(b), n) for p, b in net.inputs.items()}
    act = switching_activity(net, library="yosys-cmos", **vecs)
    c = compile_netlist(net)
    vals = [python_eval(net, {p: int(x[v]) for p, x in vecs.items()}) for v in range(n)]
    per_slot = np.array([sum(vals[v][s] != vals[v - 1][s] for v in range(1, n)) for s in range(c.n_slots)])
    per_slot[: c.n_sources] = 0
    want = {}
    for s in range(c.n_sources, c.n_slots):
        want[c.op_names[s]] = want.get(c.op_names[s], 0) + int(per_slot[s])
    assert act.toggles == want
    assert act.weighted_toggles == pytest.approx(float(slot_weights(c, load_library("yosys-cmos")) @ per_slot))
    assert act.transitions == n - 1


def test_wide_ports_beyond_64_bits():
    net = circuits.build("ripple-carry-adder", 100)
    rng = np.random.default_rng(0)
    a = [int(x) for x in rng.integers(0, 2**62, 300)]
    a = [x << 38 | x for x in a]
    b = [(1 << 100) - 1 - x for x in a]
    out = simulate(net, a=a, b=b, cin=1)
    assert out["sum"].dtype == object
    assert all(int(s) == 0 for s in out["sum"]) and all(int(c) == 1 for c in out["cout"])
    sums = simulate(net, a=a, b=a, cin=0)["sum"]
    assert [int(s) for s in sums] == [(2 * x) % (1 << 100) for x in a]


def test_many_words_and_partial_last_word():
    net = circuits.build("ripple-carry-adder", 16)
    rng = np.random.default_rng(1)
    n = 64 * 200 + 13
    a, b = rng.integers(0, 1 << 16, n, dtype=np.uint64), rng.integers(0, 1 << 16, n, dtype=np.uint64)
    out = simulate(net, a=a, b=b, cin=0)
    assert out["sum"].dtype == np.uint64
    assert np.array_equal(out["sum"], (a + b) & np.uint64(0xFFFF))
    assert np.array_equal(out["cout"], (a + b) >> np.uint64(16))


def test_scalar_broadcast_and_errors():
    net = circuits.build("ripple-carry-adder", 8)
    assert simulate(net, a=[1, 2, 3], b=10, cin=0)["sum"].tolist() == [11, 12, 13]
    with pytest.raises(SimulationError, match="no value given for input port 'cin'"):
        simulate(net, a=1, b=2)
    with pytest.raises(SimulationError, match="has no input port 'c'"):
        simulate(net, a=1, b=2, cin=0, c=1)
    with pytest.raises(SimulationError, match="does not fit in 8 bits"):
        simulate(net, a=256, b=2, cin=0)
    with pytest.raises(SimulationError, match="negative"):
        simulate(net, a=np.array([-1]), b=2, cin=0)
    with pytest.raises(SimulationError, match="different numbers of vectors"):
        simulate(net, a=[1, 2], b=[1, 2, 3], cin=0)


def test_constant_toggle_and_single_vector():
    net = circuits.build("ripple-carry-adder", 8)
    act = switching_activity(net, a=[5, 5, 5], b=[7, 7, 7], cin=0)
    assert act.total_toggles == 0 and act.mean_weighted_toggles == 0
    assert switching_activity(net, a=1, b=1, cin=1).transitions == 0


def test_ripple_carry_worst_case_toggles():
    # 0 + 0 then all-ones + 1: every carry in the chain rises, every sum bit stays 0
    w = 16
    net = circuits.build("ripple-carry-adder", w)
    act = switching_activity(net, library="yosys-cmos", a=[0, (1 << w) - 1], b=[0, 1], cin=0)
    assert act.toggles["OR2"] == w  # all carries
    assert act.toggles["XOR2"] == w - 1  # propagate bits 1..w-1 rise; bit 0's p and every sum stay 0
    assert act.toggles["AND2"] == w  # generate of bit 0, and p & carry of bits 1..w-1
    assert act.weighted_toggles == 6 * w + 6 * w + 12 * (w - 1)
