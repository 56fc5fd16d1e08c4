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


# -- the blocked, threaded kernels -----------------------------------------------------------------
from gatesim import bitpack  # noqa: E402
from gatesim.gates import BITWISE  # noqa: E402
from gatesim import simulation as sim  # noqa: E402



def numpy_reference(net, vecs: dict) -> tuple[dict, np.ndarray]:
    """Every slot's value per vector (numpy bool arrays, slot by slot): outputs and toggles per slot."""
    c = compile_netlist(net)
    n = len(next(iter(vecs.values())))
    val = np.zeros((c.n_slots, n), dtype=bool)
    for p, slots in c.inputs.items():
        v = [int(x) for x in vecs[p]]
        for i, s in enumerate(slots):
            val[s] = [(x >> i) & 1 for x in v]
    val[c.const1_slot] = True
    for s in range(c.n_sources, c.n_slots):
        name = c.op_names[s]
        val[s] = BITWISE[name](*(val[int(c.fanin[s, k])] for k in range(GATES[name].arity)))
    outs = {p: [sum(int(val[s, v]) << i for i, s in enumerate(slots)) for v in range(n)] for p, slots in c.outputs.items()}
    toggles = (val[:, 1:] != val[:, :-1]).sum(axis=1)
    toggles[: c.n_sources] = 0
    return outs, toggles


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of ``words`` words and no minimum work per thread, so a few hundred vectors cross many
    block and thread boundaries."""

    def set_block(words: int):
        monkeypatch.setattr(sim, "MIN_BLOCK_WORDS", words)
        monkeypatch.setattr(sim, "MAX_BLOCK_WORDS", words)
        monkeypatch.setattr(sim, "MIN_WORK_PER_THREAD", 0)

    return set_block


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 127, 200, 64 * 9 + 5])
@pytest.mark.parametrize("threads,block", [(1, 1), (2, 1), (3, 2), (2, 512)])
def test_outputs_and_toggles_across_blocks_and_threads(tiny_blocks, n, threads, block):
    tiny_blocks(block)
    net = circuits.build("booth-wallace-multiplier", 5, signed=True)
    rng = np.random.default_rng(n)
    vecs = {"a": rng.integers(0, 32, n, dtype=np.uint64), "b": rng.integers(0, 32, n, dtype=np.uint64)}
    want, want_toggles = numpy_reference(net, vecs)
    c = compile_netlist(net)
    outputs, toggles, count = sim._simulate(c, vecs, want_toggles=True, threads=threads)
    assert count == n
    assert outputs["p"].tolist() == want["p"]
    assert np.array_equal(toggles, want_toggles)
    planes, _ = sim.pack_inputs(c, vecs)
    out_planes, plane_toggles = sim.simulate_planes(c, planes, n, toggles=True, threads=threads)
    assert sim.unpack_outputs(c, out_planes, n)["p"].tolist() == want["p"]
    assert np.array_equal(plane_toggles, want_toggles)


def test_switching_activity_is_the_same_on_any_number_of_threads(tiny_blocks):
    tiny_blocks(2)
    net = circuits.build("kogge-stone-adder", 16)
    rng = np.random.default_rng(3)
    vecs = {"a": rng.integers(0, 1 << 16, 3001), "b": rng.integers(0, 1 << 16, 3001), "cin": rng.integers(0, 2, 3001)}
    acts = []
    for threads in (1, 2, 4):
        old = sim.set_threads(threads)
        try:
            acts.append(switching_activity(net, library="yosys-cmos", **vecs).to_dict())
        finally:
            sim.set_threads(old)
    assert acts[0] == acts[1] == acts[2]
    _, want = numpy_reference(net, vecs)
    assert acts[0]["total_toggles"] == int(want.sum())


def test_wide_ports_on_threads(tiny_blocks):
    tiny_blocks(1)
    net = circuits.build("ripple-carry-adder", 130)
    rng = np.random.default_rng(5)
    a = [int(x) << 66 | int(y) for x, y in zip(rng.integers(0, 1 << 63, 700), rng.integers(0, 1 << 63, 700))]
    b = [(1 << 130) - 1 - x for x in a[::-1]]
    old = sim.set_threads(3)
    try:
        out = simulate(net, a=a, b=b, cin=1)
    finally:
        sim.set_threads(old)
    s = [x + y + 1 for x, y in zip(a, b)]
    assert [int(v) for v in out["sum"]] == [v % (1 << 130) for v in s]
    assert out["cout"].tolist() == [v >> 130 for v in s]


@pytest.mark.parametrize("width", [1, 2, 3, 7, 8, 13, 16, 24, 31, 32, 33, 53, 63, 64])
@pytest.mark.parametrize("tile", [3, 64])
def test_bit_transposes_round_trip(width, tile):
    rng = np.random.default_rng(width)
    n = 64 * bitpack.TB + 77  # a full transpose tile and a partial one with a partial last word
    col = rng.integers(0, 1 << 62, n, dtype=np.uint64) * np.uint64(4) + rng.integers(0, 4, n, dtype=np.uint64)
    if width < 64:
        col &= np.uint64((1 << width) - 1)
    words = (n + 63) // 64
    planes = np.zeros((-(-words // tile), width, tile), dtype=np.uint64)
    rows = np.arange(64, dtype=np.int32)
    rows[width:] = -1
    too_wide = np.zeros(1, dtype=bool)
    bitpack.pack_columns(sim._typed_list([col]), rows[None, :], np.array([width], np.int32), n, planes, too_wide)
    assert not too_wide[0]
    bits = (col[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)  # [n, width]
    padded = np.concatenate([bits, np.repeat(bits[-1:], 64 * words - n, axis=0)])  # lanes past n repeat the last
    want = (padded.reshape(words, 64, width) << np.arange(64, dtype=np.uint64)[None, :, None]).sum(axis=1, dtype=np.uint64)
    assert np.array_equal(sim.planes_as_rows(planes, words), want.T)
    back = np.zeros((1, n), dtype=np.uint64)
    bitpack.unpack_columns(planes, rows[None, :], np.array([width], np.int32), n, back)
    assert np.array_equal(back[0], col)
    if width < 64:  # a value one bit too wide is reported
        col[n // 2] |= np.uint64(1) << np.uint64(width)
        bitpack.pack_columns(sim._typed_list([col]), rows[None, :], np.array([width], np.int32), n, planes, too_wide)
        assert too_wide[0]


def test_program_registers_are_few_and_never_alias_operands():
    net = circuits.build("booth-wallace-multiplier", 16)
    c = compile_netlist(net)
    p = sim.program(c)
    assert p.n_regs < c.n_slots // 5  # depth-first order and register reuse
    prog = p.prog
    arity = sim.GATE_ARITY[prog[:, 0]]
    for k in range(4):
        has = arity > k
        assert not np.any(prog[has, 1] == prog[has, 2 + k])
    assert sorted(p.step_slot.tolist()) == list(range(c.n_sources, c.n_slots))
    assert sim.program(c) is p  # cached on the compiled netlist


def test_input_types_and_range_checks():
    net = circuits.build("ripple-carry-adder", 8)
    assert simulate(net, a=np.array([1, 2], dtype=np.uint8), b=np.array([3, 4], dtype=np.int16), cin=1)["sum"].tolist() == [5, 7]
    assert simulate(net, a=np.array([250], dtype=np.int64), b=[5], cin=[1])["cout"].tolist() == [1]
    with pytest.raises(SimulationError, match="negative value \\(-3\\)"):
        simulate(net, a=np.array([1, -3], dtype=np.int64), b=1, cin=0)
    with pytest.raises(SimulationError, match="value 256 does not fit in 8 bits"):
        simulate(net, a=np.array([1, 256], dtype=np.uint64), b=1, cin=0)
    with pytest.raises(SimulationError, match="value 2 does not fit in 1 bits"):
        simulate(net, a=1, b=1, cin=np.array([0, 2]))
    with pytest.raises(SimulationError, match="must hold integers"):
        simulate(net, a=[1, True], b=1, cin=0)
    with pytest.raises(SimulationError, match="must hold integers"):
        simulate(net, a=1, b=1, cin=True)
    with pytest.raises(SimulationError, match="must hold integers"):
        simulate(net, a=np.array([1.5]), b=1, cin=0)
    with pytest.raises(SimulationError, match="must hold integers"):
        simulate(net, a=[1, 2.5], b=1, cin=0)
    wide = circuits.build("ripple-carry-adder", 64)
    with pytest.raises(SimulationError, match="negative"):
        simulate(wide, a=np.array([-1]), b=1, cin=0)
    assert simulate(wide, a=np.array([2**64 - 1], dtype=np.uint64), b=1, cin=0)["cout"].tolist() == [1]
    assert simulate(net, a=np.zeros(0, dtype=np.uint64), b=1, cin=0)["sum"].shape == (0,)


def test_thread_settings(monkeypatch):
    with pytest.raises(SimulationError, match="positive integer"):
        sim.set_threads(0)
    old = sim.set_threads(None)
    try:
        monkeypatch.setenv("GATESIM_THREADS", "3")
        assert sim.default_threads() == 3
        monkeypatch.setenv("GATESIM_THREADS", "many")
        with pytest.raises(SimulationError, match="GATESIM_THREADS"):
            sim.default_threads()
        sim.set_threads(2)
        assert sim.default_threads() == 2
    finally:
        sim.set_threads(old)


def test_limbs_for_wide_ports_and_plane_shapes():
    net = circuits.build("ripple-carry-adder", 100)
    rng = np.random.default_rng(7)
    a = [int(x) << 40 | int(y) for x, y in zip(rng.integers(0, 1 << 60, 300), rng.integers(0, 1 << 40, 300))]
    b = [int(x) for x in rng.integers(0, 1 << 63, 300)]
    mask = (1 << 64) - 1
    a_limbs = np.array([[x & mask, x >> 64] for x in a], dtype=np.uint64)
    out = sim.simulate_limbs(net, {"a": a_limbs, "b": np.array(b, dtype=np.uint64), "cin": 1}, threads=2)
    assert out["sum"].shape == (300, 2) and out["sum"].dtype == np.uint64
    got = [int(lo) | int(hi) << 64 for lo, hi in out["sum"]]
    assert got == [(x + y + 1) % (1 << 100) for x, y in zip(a, b)]
    assert [int(v) for v in simulate(net, a=a, b=b, cin=1)["sum"]] == got
    with pytest.raises(SimulationError, match="does not fit in 36 bits"):  # the top limb holds bits 64..99
        sim.simulate_limbs(net, {"a": np.array([[0, 1 << 36]], dtype=np.uint64), "b": 0, "cin": 0})
    with pytest.raises(SimulationError, match=r"shape \(vectors, 2\)"):
        sim.simulate_limbs(net, {"a": np.zeros((3, 3), dtype=np.uint64), "b": 0, "cin": 0})
    c = compile_netlist(net)
    with pytest.raises(SimulationError, match="input planes must have shape"):
        sim.simulate_planes(c, np.zeros((c.n_inputs, 4), dtype=np.uint64), 256)


def test_bitwise_gate_functions_match_the_truth_tables():
    for kind in LOGIC_GATES:
        gt = GATES[kind]
        rows = list(itertools.product([False, True], repeat=gt.arity))
        cols = [np.array([r[k] for r in rows]) for k in range(gt.arity)]
        assert BITWISE[kind](*cols).tolist() == [bool(gt.function(*map(int, r))) for r in rows], kind
