"""gatesim.hdl without Yosys: the writers' names and covers, and round trips through BLIF and Yosys JSON read
directly (same ports, same function by simulation, same transistors under every library, same cells)."""
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import circuits
from gatesim import HdlError, Netlist, compile_netlist, count, optimize, simulate
from gatesim.gates import GATES, LOGIC_GATES
from gatesim.hdl import (
    netlist_from_blif,
    netlist_from_yosys_json,
    to_blif,
    to_verilog,
    to_yosys_json,
)
from gatesim.hdl.blif import _cover_table
from gatesim.hdl.names import Scope, verilog_ident
from gatesim.hdl.writers import cover
from gatesim.logic import truth_table
from gatesim.verify import random_vectors

LIBRARIES = ("static-cmos", "paper", "yosys-cmos")


def odd_names_netlist() -> Netlist:
    """Ports whose names clash with internal names, with each other once sanitized, or with keywords."""
    net = Netlist(name="module")
    n6 = net.input("n6", 3)
    x_dash = net.input("x-1", 2)
    x_us = net.input("x_1", 2)
    mod = net.input("module", 1)[0]
    wire = net.input("wire", 1)[0]
    blank = net.input("a b", 2)
    uml = net.input("ü", 1)[0]
    net.output("g6", [net.XOR(n6[0], x_dash[0]), net.AND(x_us[1], mod)])
    net.output("n7", [net.MUX(wire, x_dash[1], x_us[0]), net.AOI22(n6[1], n6[2], blank[0], blank[1])])
    net.output("a_b", [net.NOT(uml), net.const(1), x_dash[1]])
    net.output("y[1]", [net.OAI21(mod, wire, uml)])
    net.output("int", [net.XNOR(blank[1], n6[2])])
    return net


def designs():
    return [
        circuits.build("dadda-multiplier", 5),  # full/half adder cells (priced as one by some libraries)
        optimize(circuits.build("booth-wallace-multiplier", 6)),  # re-tagged cells, nested instances
        circuits.build("booth-wallace-multiplier", 4),  # as built: dangling gates, constants
        circuits.build("carry-lookahead-adder", 9),
        odd_names_netlist(),
    ]


def assert_same_design(a: Netlist, b: Netlist, vectors: int = 2000):
    assert list(a.inputs) == list(b.inputs) and list(a.outputs) == list(b.outputs)
    assert {p: len(x) for p, x in a.inputs.items()} == {p: len(x) for p, x in b.inputs.items()}
    assert {p: len(x) for p, x in a.outputs.items()} == {p: len(x) for p, x in b.outputs.items()}
    vec = random_vectors({p: len(x) for p, x in a.inputs.items()}, vectors, np.random.default_rng(3))
    ya, yb = simulate(a, **vec), simulate(b, **vec)
    for p in a.outputs:
        assert [int(v) for v in ya[p]] == [int(v) for v in yb[p]], p
    for lib in LIBRARIES:
        ca, cb = count(a, lib), count(b, lib)
        assert (ca.transistors, ca.gates, ca.cells) == (cb.transistors, cb.gates, cb.cells), lib
    keys = ("name", "cell", "parent", "const_pins")
    assert [{k: i[k] for k in keys} for i in a.instances] == [{k: i[k] for k in keys} for i in b.instances]


@pytest.mark.parametrize("fmt", ["blif", "yosys-json"])
@pytest.mark.parametrize("k", range(5))
def test_round_trip_without_yosys(fmt, k):
    net = designs()[k]
    if fmt == "blif":
        back = netlist_from_blif(to_blif(net))
    else:
        back = netlist_from_yosys_json(json.loads(to_yosys_json(net)))
    assert_same_design(net, back)
    assert back.graph["source"]["notes"] == []


@st.composite
def random_netlists(draw):
    net = Netlist(name=draw(st.sampled_from(["m", "wire", "x-y", "n3"])))
    names = draw(st.lists(st.sampled_from(["a", "b", "n1", "g2", "x-1", "x_1", "end", "c d", "q[0]"]),
                          min_size=1, max_size=4, unique=True))
    nodes = [b for nm in names for b in net.input(nm, draw(st.integers(1, 3)))]
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(LOGIC_GATES))
        pool = nodes + [net.const(0), net.const(1)]
        fanin = [draw(st.sampled_from(pool)) for _ in range(GATES[kind].arity)]
        nodes.append(net.gate(kind, *fanin))
    outs = draw(st.lists(st.sampled_from(["y", "n9", "out-1", "out_1", "p p"]), min_size=1, max_size=3, unique=True))
    for o in outs:
        net.output(o, [draw(st.sampled_from(nodes + [net.const(0)])) for _ in range(draw(st.integers(1, 3)))])
    return net


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_netlists())
def test_random_netlists_round_trip(net):
    """Every gate type, constants on pins, input and constant bits driving outputs, odd port names."""
    for back in (netlist_from_blif(to_blif(net)), netlist_from_yosys_json(json.loads(to_yosys_json(net)))):
        assert_same_design(net, back, vectors=256)


def test_every_gate_cover_is_its_function():
    for kind in LOGIC_GATES:
        rows = cover(kind)
        assert _cover_table(list(GATES[kind].pins), rows, kind) == truth_table(kind), kind
    assert cover("AND2") == ["11 1"] and sorted(cover("OR2")) == ["-1 1", "1- 1"]


def test_verilog_names_are_escaped_and_never_clash():
    text = to_verilog(odd_names_netlist())
    assert "input [2:0] n6" in text and "input [1:0] \\x-1 " in text and "input [1:0] x_1" in text
    assert "input \\module " in text and "input \\wire " in text and "output \\int " in text
    assert "output \\y[1] " in text
    # names Verilog cannot spell are sanitized, kept unique and recorded for the way back
    assert '(* gatesim_name = "\\"a b\\"" *) input [1:0] a_b_2' in text and "output [2:0] a_b" in text
    # internal wires and instances avoid the ports' names: a port is n6, another g6
    assert " n6;" not in text.split(");", 1)[1] and "wire n_" in text and " g_" in text
    assert text.startswith("// structural Verilog") and "module module_2 (" in text
    assert text == to_verilog(odd_names_netlist())  # deterministic


def test_identifier_helpers():
    assert verilog_ident("a") == "a" and verilog_ident("x-1") == "\\x-1 " and verilog_ident("logic") == "\\logic "
    s = Scope(["n1", "a"])
    assert s.claim("a") == "a_2" and s.claim("a") == "a_3" and s.free_prefix("n") == "n_"


def test_gate_module_names_are_reserved():
    net = Netlist(name="gatesim_AND2")
    a = net.input("a", 2)
    net.output("y", net.AND(a[0], a[1]))
    text = to_verilog(net)
    assert "module gatesim_AND2_2 (" in text and "module gatesim_AND2 (input A" in text


def test_blif_reader_takes_any_cover_hierarchy_and_buses():
    text = """
# a majority function as a cover, its complement as an OFF-set cover, a sub-model, bus bits
.model top
.inputs a[0] a[1] a[2] s q[0] q[2]
.outputs y[0] y[1] z[0] z[1] k one
.names a[0] a[1] a[2] y[0]
11- 1
1-1 1
-11 1
.names a[0] a[1] a[2] y[1]
11- 0
1-1 0
-11 0
.subckt inv x=s o=z[0]
.conn q[0] z[1]
.names q[2] s k
1- 1
-1 1
.names one
1
.end
.model inv
.inputs x
.outputs o
.names x o
0 1
.end
"""
    net = netlist_from_blif(text)
    assert {p: len(b) for p, b in net.inputs.items()} == {"a": 3, "s": 1, "q[0]": 1, "q[2]": 1}
    assert list(net.outputs) == ["y", "z", "k", "one"]
    assert net.instances[0]["cell"] == "inv"
    vec = {"a": np.arange(8), "s": np.arange(8) & 1, "q[0]": np.arange(8) >> 1 & 1, "q[2]": np.arange(8) >> 2 & 1}
    out = simulate(net, **vec)
    for k in range(8):
        maj = int(k.bit_count() >= 2)
        assert out["y"][k] == maj | (1 - maj) << 1
        assert out["z"][k] == (1 - (k & 1)) | ((k >> 1) & 1) << 1
        assert out["k"][k] == ((k >> 2) & 1 | k & 1)
    assert set(out["one"]) == {1}
    # the majority cover as given (three AND terms, ORed), its OFF-set cover inverted, k recognized as OR2
    assert count(net, "yosys-cmos").gates == {"NOT": 2, "AND2": 6, "OR2": 5}


@pytest.mark.parametrize("text, message", [
    (".model m\n.inputs c d\n.outputs q\n.latch d q re c 0\n.end\n", "sequential"),
    (".model m\n.inputs a\n.outputs y\n.gate and2 A=a Y=y\n.end\n", ".gate is not supported"),
    (".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.names a y\n0 1\n.end\n", "driven twice"),
    (".model m\n.inputs a\n.outputs y\n.names a t y\n11 1\n.names y t\n1 1\n.end\n", "combinational loop"),
    (".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n0 0\n.end\n", "mixes output values"),
])
def test_blif_reader_refuses_with_one_line(text, message):
    with pytest.raises(HdlError, match=message):
        netlist_from_blif(text)


def test_blif_undriven_nets_read_as_zero_and_are_noted():
    net = netlist_from_blif(".model m\n.inputs a\n.outputs y z\n.names a u y\n11 1\n.end\n")
    assert net.graph["source"]["notes"] == ["undriven net 'u' of 'm' read as constant 0",
                                            "undriven net 'z' of 'm' read as constant 0"]
    assert set(simulate(net, a=[0, 1])["y"]) == {0}


def _cell(kind, **conns):
    gt = GATES[kind]
    return {"type": gt.yosys, "connections": {p: [conns[p]] for p in (*gt.pins, "Y")}}


@pytest.mark.parametrize("cells, ports, message", [
    ({"f": {"type": "$_DFF_P_", "connections": {"C": [2], "D": [3], "Q": [4]}}}, {}, "sequential"),
    ({"f": {"type": "$add", "connections": {}}}, {}, r"cannot read directly \(\$add\)"),
    ({"g": _cell("AND2", A=2, B=5, Y=5)}, {}, "combinational loop"),
    ({"g": _cell("AND2", A=2, B=3, Y=4), "h": _cell("OR2", A=2, B=3, Y=4)}, {}, "driven twice"),
    ({}, {"io": {"direction": "inout", "bits": [9]}}, "inout"),
])
def test_yosys_json_reader_refuses_with_one_line(cells, ports, message):
    doc = {"modules": {"m": {"ports": {"a": {"direction": "input", "bits": [2, 3]},
                                       "y": {"direction": "output", "bits": [4]}, **ports}, "cells": cells}}}
    with pytest.raises(HdlError, match=message):
        netlist_from_yosys_json(doc)


def test_yosys_json_x_bits_and_port_to_port_wires():
    doc = {"modules": {"m": {"attributes": {"top": "00000000000000000000000000000001"},
                             "ports": {"a": {"direction": "input", "bits": [2, 3]},
                                       "y": {"direction": "output", "bits": [3, "x", "1", 4]}},
                             "cells": {"g": _cell("XOR2", A=2, B=3, Y=4)}}}}
    net = netlist_from_yosys_json(doc)
    assert net.graph["source"]["notes"] == ["'x' bit in 'm' read as constant 0"]
    assert [int(v) for v in simulate(net, a=[0, 1, 2, 3])["y"]] == [4, 12, 13, 5]


def test_op_names_is_computed_once():
    c = compile_netlist(circuits.build("ripple-carry-adder", 8))
    assert c.op_names is c.op_names and c.op_names[c.n_sources] in GATES
