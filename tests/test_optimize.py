"""gatesim.optimize: every rewrite preserves the function (simulation before/after, and Yosys's SAT proof of
equivalence, gatesim.equivalent, at small widths); dangling gates go as with Yosys ``opt_clean``; cell
instances are re-tagged by what they still compute."""
import itertools
import re

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import circuits
from circuits.adders import full_adder, half_adder
from gatesim import (
    CellLibrary,
    Netlist,
    count,
    equivalent,
    load_library,
    optimize,
    remove_unused,
    simulate,
    to_json,
    to_verilog,
    validate,
    verify,
)
from gatesim.cells import CellMatcher, netlist_function, output_function
from gatesim.gates import GATES, LOGIC_GATES
from gatesim.hdl import run_yosys
from gatesim.logic import (
    evaluate,
    permute,
    pin_symmetries,
    reduce_gate,
    truth_table,
    var_table,
)

LIB_YOSYS = load_library("yosys-cmos")


def same_function(raw: Netlist, opt: Netlist, vectors: int = 3000, seed: int = 0):
    """Simulate both netlists on the same vectors (every combination up to 2**16 of them)."""
    assert {p: len(b) for p, b in raw.inputs.items()} == {p: len(b) for p, b in opt.inputs.items()}
    assert {p: len(b) for p, b in raw.outputs.items()} == {p: len(b) for p, b in opt.outputs.items()}
    r = verify(opt, lambda v: simulate(raw, **v), vectors=vectors, seed=seed, exhaustive_limit=1 << 16)
    assert r.ok, r.first_failure
    return r


def unreachable_gates(net: Netlist) -> set:
    """Gates from which no output port can be reached."""
    useful = set()
    for bits in net.outputs.values():
        for b in bits:
            useful.add(b)
            useful |= nx.ancestors(net, b)
    return {n for n, d in net.nodes(data=True) if d["gate"] in GATES and GATES[d["gate"]].arity and n not in useful}


# -- the Boolean rules ---------------------------------------------------------------------------------

def _patterns(arity):
    """Every way of tying a gate's pins to 0, 1 or variables (numbered by first appearance)."""
    for pat in itertools.product(range(-2, arity), repeat=arity):
        seen = []
        for p in pat:
            if p >= 0 and p not in seen:
                seen.append(p)
        if seen == list(range(len(seen))) and all(p < 0 or p in seen for p in pat):
            yield pat


@pytest.mark.parametrize("kind", LOGIC_GATES)
def test_every_reduction_of_every_gate_is_exact(kind):
    """reduce_gate's answer computes what the gate computes, for every tie of its pins."""
    tt_ok = 0
    for pat in _patterns(GATES[kind].arity):
        nv = 1 + max((p for p in pat if p >= 0), default=-1)
        mask = (1 << (1 << nv)) - 1
        args = [mask if p == -2 else 0 if p == -1 else var_table(p, nv) for p in pat]
        want = evaluate(kind, args, mask)
        r = reduce_gate(kind, pat)
        if r is None:
            assert -1 not in pat and -2 not in pat and len(set(pat)) == len(pat)  # only the gate itself
            continue
        if r[0] == "const":
            got = mask * r[1]
        elif r[0] == "wire":
            got = var_table(r[1], nv)
        else:
            got = evaluate(r[1], [var_table(j, nv) for j in r[2]], mask)
            assert GATES[r[1]].arity < GATES[kind].arity or len(set(pat)) == len(pat)
        assert got == want, (kind, pat, r)
        tt_ok += 1
    assert tt_ok > 0


def test_rules_the_issue_names():
    assert reduce_gate("AND2", (0, 0)) == ("wire", 0)  # x AND x
    assert reduce_gate("XOR2", (0, 0)) == ("const", 0)  # x XOR x
    assert reduce_gate("XNOR2", (0, 0)) == ("const", 1)
    assert reduce_gate("MUX2", (0, 1, -1)) == ("wire", 0)  # constant select
    assert reduce_gate("MUX2", (0, 1, -2)) == ("wire", 1)
    assert reduce_gate("MUX2", (0, 0, 1)) == ("wire", 0)  # equal data inputs
    assert reduce_gate("XOR2", (0, -2)) == ("gate", "NOT", (0,))
    assert reduce_gate("AOI22", (0, 1, 2, -2)) == ("gate", "AOI21", (0, 1, 2))
    assert reduce_gate("OAI22", (0, 1, 2, -1)) == ("gate", "OAI21", (0, 1, 2))
    assert reduce_gate("AND2", (0, -1)) == ("const", 0)


def test_pin_symmetries_come_from_the_truth_tables():
    assert pin_symmetries("AND2") == ((0, 1), (1, 0))
    assert pin_symmetries("ANDNOT2") == ((0, 1),)
    assert pin_symmetries("MUX2") == ((0, 1, 2),)
    assert len(pin_symmetries("AOI22")) == 8 and (2, 3, 0, 1) in pin_symmetries("AOI22")
    assert truth_table("NAND2") == 0b0111


# -- gate-level rewrites on netlists ----------------------------------------------------------------------

def test_every_gate_type_with_constants_and_tied_pins():
    """One gate per gate type and per tie of its pins (0, 1, shared nets): all fold to the same function."""
    net = Netlist(name="ties")
    x = net.input("x", 4)
    outs = []
    for kind in LOGIC_GATES:
        for pat in _patterns(GATES[kind].arity):
            outs.append(net.gate(kind, *[net.const(1) if p == -2 else net.const(0) if p == -1 else x[p] for p in pat]))
    net.output("y", outs)
    opt = optimize(net)
    same_function(net, opt)
    assert count(opt, "yosys-cmos").transistors < count(net, "yosys-cmos").transistors
    assert not any(opt.nodes[u]["gate"].startswith("CONST") for u, v in opt.edges)


def test_simplifications_leave_the_expected_gates():
    net = Netlist(name="s")
    a, b, s = net.input("a")[0], net.input("b")[0], net.input("s")[0]
    ys = [
        net.AND(a, a),                      # a
        net.XOR(b, b),                      # 0
        net.MUX(net.const(1), a, b),        # b
        net.MUX(s, a, a),                   # a
        net.NOT(net.NOT(b)),                # b
        net.XOR(a, net.const(1)),           # NOT a
        net.XNOR(net.NOT(net.NOT(a)), net.const(0)),  # NOT a as well: merged with the one above
    ]
    net.output("y", ys)
    opt = optimize(net)
    same_function(net, opt)
    assert count(opt, "yosys-cmos").gates == {"NOT": 1}
    y = opt.outputs["y"]
    assert y[0] == a and y[2] == b and y[3] == a and y[4] == b and y[5] == y[6]
    assert opt.nodes[y[1]]["gate"] == "CONST0"


def test_structural_hashing_normalizes_commutative_pins():
    net = Netlist(name="h")
    a, b, c, d = (net.input(p)[0] for p in "abcd")
    ys = [net.AND(a, b), net.AND(b, a), net.AOI22(a, b, c, d), net.AOI22(d, c, b, a), net.ANDNOT(a, b), net.ANDNOT(b, a)]
    ys.append(net.XOR(ys[0], ys[2]))
    ys.append(net.XOR(ys[3], ys[1]))  # equal once its inputs are merged
    net.output("y", ys)
    opt = optimize(net)
    same_function(net, opt)
    assert count(opt, "yosys-cmos").gates == {"AND2": 1, "ANDNOT2": 2, "XOR2": 1, "AOI22": 1}
    assert optimize(net, merge=False).number_of_nodes() == net.number_of_nodes()


def test_gates_of_different_instances_are_not_merged():
    """Two full adders sharing a and b share nothing after optimize: a cell never loses part of itself."""
    net = Netlist(name="two_fa")
    a, b, c, d = (net.input(p)[0] for p in "abcd")
    o1 = net.instance(full_adder(), "fa1", a=a, b=b, cin=c)
    o2 = net.instance(full_adder(), "fa2", a=a, b=b, cin=d)
    net.output("y", o1["sum"] + o1["cout"] + o2["sum"] + o2["cout"])
    opt = optimize(net)
    assert opt.number_of_nodes() == net.number_of_nodes()
    assert count(opt, "paper").cells == {"full_adder": 2}


def test_the_input_netlist_is_untouched_and_ports_and_ids_are_kept():
    net = circuits.build("booth-wallace-multiplier", 8)
    before = to_json(net)
    opt = optimize(net)
    assert to_json(net) == before
    assert opt is not net and opt.name == net.name and opt.params == net.params and opt.graph["optimized"]
    assert opt.inputs == net.inputs
    assert list(opt.outputs) == list(net.outputs) and [len(b) for b in opt.outputs.values()] == [16]
    kept = [n for n, d in opt.nodes(data=True) if d["gate"] not in ("CONST0", "CONST1")]
    assert set(kept) <= set(net)  # what remains keeps its node id
    validate(opt)
    opt.params["width"] = 99  # the copy's parameters are its own
    assert net.params["width"] == 8


def test_booth_wallace_24_dangling_gates_go():
    """The 26 gates (76 transistors) of the 24-bit Booth-Wallace multiplier that drive nothing."""
    net = circuits.build("booth-wallace-multiplier", 24)
    dead = unreachable_gates(net)
    assert len(dead) == 26
    assert sum(LIB_YOSYS.gates[net.nodes[n]["gate"]] for n in dead) == 76
    clean = remove_unused(net)
    gone = set(net) - set(clean)
    assert not unreachable_gates(clean) and {n for n in gone if GATES[net.nodes[n]["gate"]].arity} == dead
    raw_c, clean_c = count(net, "yosys-cmos"), count(clean, "yosys-cmos")
    assert (raw_c.gate_count - clean_c.gate_count, raw_c.transistors - clean_c.transistors) == (26, 76)
    full = optimize(net)
    assert not unreachable_gates(full)
    same_function(net, full, vectors=20_000)


# -- cells ----------------------------------------------------------------------------------------------

def _adder_with_carry_in(width, cin):
    net = Netlist(name="fp_significand_add")
    a, b = net.input("a", width), net.input("b", width)
    o = net.instance(circuits.build("ripple-carry-adder", width), "add", a=a, b=b, cin=net.const(cin))
    net.output("sum", o["sum"] + o["cout"])
    return net


def test_full_adder_with_carry_in_zero_is_a_half_adder():
    """The paper's fp32 add: 23 full adders + 1 half adder = 23 x 10 + 18 = 248 transistors."""
    net = _adder_with_carry_in(24, 0)
    opt = optimize(net)
    same_function(net, opt, vectors=20_000)
    cells = [i["cell"] for i in opt.instances]
    assert cells.count("full_adder") == 23 and cells.count("half_adder") == 1
    # the adder tied to a carry in of 0 is no ripple-carry adder any more: its cells are handed up
    assert opt.instances[0] == {"name": "fa0", "cell": "half_adder", "parent": -1, "const_pins": 0}
    assert count(net, "paper").transistors == 240 and count(opt, "paper").transistors == 248
    assert count(opt, "paper").cells == {"full_adder": 23}
    priced = CellLibrary("ha", gates=dict(LIB_YOSYS.gates), cells={"full_adder": 10, "half_adder": 7})
    assert count(opt, priced).transistors == 23 * 10 + 7 and count(opt, priced).cells == {"full_adder": 23, "half_adder": 1}


def test_cells_that_lose_their_function_are_dissolved_or_removed():
    for ties, left in [({"cin": 1}, set()), ({"b": 0, "cin": 0}, None), ({"b": "a"}, None)]:
        net = Netlist(name="t")
        pins = {p: net.input(p)[0] for p in ("a", "b", "cin")}
        for p, v in ties.items():
            pins[p] = pins[v] if isinstance(v, str) else net.const(v)
        o = net.instance(full_adder(), "fa", **pins)
        net.output("s", o["sum"])
        net.output("c", o["cout"])
        opt = optimize(net)
        same_function(net, opt)
        assert opt.instances == []  # XNOR + OR is no registered cell; the others keep no gate at all
        if left is None:
            assert count(opt, "yosys-cmos").gate_count == 0


def test_a_cell_with_an_unused_output_keeps_its_name():
    net = Netlist(name="t")
    a, b, c = (net.input(p)[0] for p in "abc")
    o = net.instance(full_adder(), "fa", a=a, b=b, cin=c)
    h = net.instance(half_adder(), "ha", a=o["sum"][0], b=c)
    net.output("s", h["sum"])  # fa.cout and ha.cout unused
    opt = optimize(net)
    same_function(net, opt)
    assert [i["cell"] for i in opt.instances] == ["full_adder", "half_adder"]
    assert count(opt, "yosys-cmos").gates == {"XOR2": 3}
    assert count(opt, "paper").transistors == 10 + 12  # the full adder cell, the half adder's XOR


def test_tied_blocks_are_dissolved_and_their_children_handed_up():
    net = _adder_with_carry_in(4, 1)  # bit 0: a full adder with carry in 1, which is no registered cell
    opt = optimize(net)
    same_function(net, opt)
    assert [(i["name"], i["cell"], i["parent"]) for i in opt.instances] == [(f"fa{k}", "full_adder", -1) for k in (1, 2, 3)]
    # a block tied inside its own definition keeps its name; the adder it tied does not
    nested = Netlist(name="outer")
    x = nested.input("x", 4)
    inner = nested.instance(_adder_with_carry_in(2, 0), "inner", a=x[:2], b=x[2:])
    nested.output("y", inner["sum"][:2])  # the adder's carry out is unused
    assert nested.instances[0]["const_pins"] == 2 and nested.instances[1]["const_pins"] == 0
    opt = optimize(nested)
    same_function(nested, opt)
    assert [(i["name"], i["cell"], i["parent"]) for i in opt.instances] == [
        ("inner", "fp_significand_add", -1), ("fa0", "half_adder", 0), ("fa1", "full_adder", 0)]


def test_cells_to_match_come_from_the_argument():
    # with no known cells, the carry-in-0 full adder cannot become a half adder: it is dissolved
    opt = optimize(_adder_with_carry_in(4, 0), cells={})
    assert [i["cell"] for i in opt.instances] == ["full_adder"] * 3
    opt = optimize(_adder_with_carry_in(4, 0), cells={"half_adder": half_adder()})
    assert [i["cell"] for i in opt.instances] == ["half_adder"] + ["full_adder"] * 3
    matcher = CellMatcher.build([half_adder(), full_adder()])
    assert matcher.match(*netlist_function(half_adder())) == "half_adder"
    assert matcher.match(*netlist_function(full_adder())) == "full_adder"
    assert matcher.within("full_adder", *netlist_function(half_adder())) is False


# -- every registered design -----------------------------------------------------------------------------

def _widths(d):
    lo, hi = max(d.min_width, 2), d.max_width or 64
    return sorted({min(max(lo, 4), hi), min(max(lo, 11), hi)})


def _sizes(d):
    """Keyword sizes to build at: two widths, or two number formats for a floating-point unit."""
    if d.sized_by == "format":
        return [{"format": "fp8-e5m2"}, {"format": "fp16"}]
    return [{"width": w} for w in _widths(d)]


@pytest.mark.parametrize("design", [d.name for d in circuits.designs()])
def test_every_design_keeps_its_function_and_never_grows_under_gate_prices(design):
    d = circuits.get(design)
    for seed, size in enumerate(_sizes(d)):
        net = circuits.build(design, **size)
        opt = optimize(net)
        assert verify(opt, circuits.reference(design, **size), vectors=3000, seed=seed,
                      stimulus=circuits.stimulus(design, **size)).ok
        same_function(net, opt, vectors=2000, seed=seed)
        assert count(opt, "yosys-cmos").transistors <= count(net, "yosys-cmos").transistors
        assert count(opt, "static-cmos").transistors <= count(net, "static-cmos").transistors
        assert not unreachable_gates(opt)
        assert_tags_hold(opt)
        again = optimize(opt)  # a fixed point
        assert again.number_of_nodes() == opt.number_of_nodes() and again.instances == opt.instances


# -- random netlists ------------------------------------------------------------------------------------

@st.composite
def random_netlists(draw, depth=0):
    n_in = draw(st.integers(1, 5))
    net = Netlist(name=f"rand{depth}")
    pool = [net.input(f"i{k}")[0] for k in range(n_in)] + [net.const(0), net.const(1)]
    pick = st.sampled_from(pool)
    for _ in range(draw(st.integers(1, 20))):
        what = draw(st.sampled_from(LOGIC_GATES + ("full_adder", "half_adder", "block")))
        if what in ("full_adder", "half_adder"):
            cell = full_adder() if what == "full_adder" else half_adder()
            o = net.instance(cell, None, **{p: draw(pick) for p in cell.inputs})
            pool += o["sum"] + o["cout"]
        elif what == "block":
            if depth:
                continue
            sub = draw(random_netlists(depth=1))
            o = net.instance(sub, None, **{p: draw(pick) for p in sub.inputs})
            pool += [b for bits in o.values() for b in bits]
        else:
            pool.append(net.gate(what, *[draw(pick) for _ in range(GATES[what].arity)]))
        pick = st.sampled_from(pool)
    net.output("y", draw(st.lists(pick, min_size=1, max_size=6)))
    return net


KNOWN = {"full_adder": netlist_function(full_adder()), "half_adder": netlist_function(half_adder())}


def assert_tags_hold(net: Netlist):
    """Every full_adder / half_adder instance computes its cell's function (all outputs, or some of them
    with every input still in use): an oracle apart from the optimizer's own bookkeeping."""
    mask_of = lambda n: (1 << (1 << n)) - 1
    by_instance: dict = {}
    for n in nx.topological_sort(net):
        by_instance.setdefault(net.nodes[n].get("inst", -1), []).append(n)
    for idx, inst in enumerate(net.instances):
        if inst["cell"] not in KNOWN:
            continue
        members = by_instance.get(idx, [])
        inside = set(members)
        inputs = list(dict.fromkeys(u for n in members for u in net.pred[n] if u not in inside
                                    and not net.nodes[u]["gate"].startswith("CONST")))
        ports = {b for bits in net.outputs.values() for b in bits}
        outs = [n for n in members if n in ports or any(v not in inside for v in net.succ[n])]
        k = len(inputs)
        val = {u: var_table(j, k) for j, u in enumerate(inputs)}
        for n in members:
            args = [0] * GATES[net.nodes[n]["gate"]].arity
            for u, d in net.pred[n].items():
                for pin in d["pins"]:
                    g = net.nodes[u]["gate"]
                    args[pin] = 0 if g == "CONST0" else mask_of(k) if g == "CONST1" else val[u]
            val[n] = evaluate(net.nodes[n]["gate"], args, mask_of(k))
        n_in, tts = output_function((val[n] for n in outs), k)
        want = KNOWN[inst["cell"]]
        assert n_in == want[0] and any(set(tts) <= set(order) for order in _orders(*want)), inst


def _orders(n, tts):
    return [tuple(permute(t, p, n) for t in tts) for p in itertools.permutations(range(n))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_netlists())
def test_random_netlists_with_constants_keep_their_function(net):
    opt = optimize(net)
    validate(opt)
    assert_tags_hold(opt)
    again = optimize(opt)
    assert again.number_of_nodes() == opt.number_of_nodes() and again.instances == opt.instances
    widths = {p: len(b) for p, b in net.inputs.items()}
    vec = {p: np.array([(k >> j) & 1 for k in range(1 << len(widths))], dtype=np.uint64)
           for j, p in enumerate(widths)}
    assert (simulate(net, **vec)["y"] == simulate(opt, **vec)["y"]).all()
    assert count(opt, "yosys-cmos").transistors <= count(net, "yosys-cmos").transistors
    assert not unreachable_gates(opt)


# -- against Yosys --------------------------------------------------------------------------------------

def _sat_equivalent(gold: Netlist, gate: Netlist) -> bool:
    """Yosys's SAT proof of the miter (no simulation first: the proof is what is tested)."""
    r = equivalent(gold, gate, method="sat", vectors=0, timeout=120)
    assert r.equal is not None, r.detail
    return r.equal


@pytest.mark.yosys
@pytest.mark.parametrize("design, width", [
    ("booth-wallace-multiplier", 6), ("dadda-multiplier", 5), ("srt-divider", 6), ("newton-raphson-sqrt", 6),
    ("kogge-stone-adder", 16), ("nonrestoring-divider", 5), ("digit-recurrence-sqrt", 8),
])
def test_yosys_proves_optimized_equal(design, width):
    net = circuits.build(design, width)
    assert _sat_equivalent(net, optimize(net))


@pytest.mark.yosys
def test_yosys_proves_the_half_adder_retag_and_catches_a_broken_gate():
    net = _adder_with_carry_in(12, 0)
    opt = optimize(net)
    assert _sat_equivalent(net, opt)
    broken = optimize(net)
    xor = next(n for n, d in broken.nodes(data=True) if d["gate"] == "XOR2")
    broken.nodes[xor]["gate"] = "XNOR2"
    broken.invalidate()
    assert not _sat_equivalent(net, broken)


@pytest.mark.yosys
def test_remove_unused_counts_like_yosys_opt_clean():
    net = circuits.build("booth-wallace-multiplier", 24)
    run = run_yosys("read_verilog -icells m.v; hierarchy -top m; opt_clean; tee -q -o stat.txt stat -tech cmos",
                    {"m.v": to_verilog(net, module="m", style="yosys")}, outputs=("stat.txt",))
    yosys = int(re.search(r"Estimated number of transistors:\s+(\d+)", run.outputs["stat.txt"]).group(1))
    assert yosys == 21052 - 76
    assert count(remove_unused(net), "yosys-cmos").transistors == yosys
    assert count(optimize(net), "yosys-cmos").transistors <= yosys
