import networkx as nx
import numpy as np
import pytest

import circuits
from gatesim import Netlist, NetlistError, compile_netlist, count, from_json, simulate, to_json, validate


def _tiny():
    net = Netlist(name="tiny")
    a, b = net.input("a")[0], net.input("b")[0]
    net.output("y", net.NAND(a, b))
    return net


def test_is_a_networkx_digraph_with_little_endian_ports():
    net = circuits.build("ripple-carry-adder", 4)
    assert isinstance(net, nx.DiGraph)
    assert [net.nodes[b]["bit"] for b in net.inputs["a"]] == [0, 1, 2, 3]
    assert len(net.outputs["sum"]) == 4 and len(net.outputs["cout"]) == 1
    # bit 0 of sum depends on bit 0 of a, never on bit 3
    assert nx.has_path(net, net.inputs["a"][0], net.outputs["sum"][0])
    assert not nx.has_path(net, net.inputs["a"][3], net.outputs["sum"][0])


def test_hierarchy_is_kept_for_counting_and_flattened_for_simulation():
    net = circuits.build("ripple-carry-adder", 8)
    assert [i["cell"] for i in net.instances] == ["full_adder"] * 8
    assert all(net.nodes[n]["inst"] >= 0 for n, d in net.nodes(data=True) if d["gate"] not in ("INPUT",))
    sub = circuits.build("subtractor", 8)
    cells = [i["cell"] for i in sub.instances]
    assert cells[0] == "ripple_carry_adder" and cells[1:] == ["full_adder"] * 8
    assert all(i["parent"] == 0 for i in sub.instances[1:])
    assert simulate(sub, a=5, b=7, bin=0)["diff"][0] == (5 - 7) % 256


def test_same_net_on_two_pins():
    net = Netlist(name="sq")
    a = net.input("a")[0]
    net.output("y", net.XOR(a, a))
    net.output("z", net.AND(a, a))
    out = simulate(net, a=[0, 1])
    assert list(out["y"]) == [0, 0] and list(out["z"]) == [0, 1]
    assert simulate(from_json(to_json(net)), a=[0, 1])["z"].tolist() == [0, 1]


def test_compiled_once_and_invalidated_on_change():
    net = _tiny()
    c1 = compile_netlist(net)
    assert compile_netlist(net) is c1
    count(net, "static-cmos")
    simulate(net, a=1, b=1)
    assert compile_netlist(net) is c1  # counting and simulation share it
    y = net.NOT(net.outputs["y"][0])
    net.graph["outputs"]["y"] = [y]
    net.invalidate()
    c2 = compile_netlist(net)
    assert c2 is not c1 and c2.n_gates == 2


def test_levelized_order():
    c = compile_netlist(circuits.build("kogge-stone-adder", 16))
    lv = c.level[c.n_sources:]
    assert np.all(np.diff(lv) >= 0)
    for s in range(c.n_sources, c.n_slots):
        assert all(c.level[f] < c.level[s] for f in c.fanin[s] if f >= 0)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda n: n.add_edge(n.outputs["y"][0], n.inputs["a"][0], pins=(0,)), "is a INPUT but is driven"),
        (lambda n: n.add_node(99, gate="FOO", inst=-1), "unknown gate type 'FOO'"),
        (lambda n: n.add_node(98, gate="AND2", inst=-1), "pin A is undriven"),
        (lambda n: (n.add_node(97, gate="NOT", inst=-1), n.add_edge(n.inputs["a"][0], 97, pins=(0,)),
                    n.add_edge(n.inputs["b"][0], 97, pins=(0,))), "driven 2 times"),
        (lambda n: (n.add_node(96, gate="NOT", inst=-1), n.add_edge(n.inputs["a"][0], 96, pins=(0, 1))), "wrong arity"),
        (lambda n: n.graph["outputs"].update(z=[12345]), r"output port z\[0\] is undriven"),
    ],
)
def test_validation_names_the_node(mutate, message):
    net = _tiny()
    mutate(net)
    with pytest.raises(NetlistError, match=message):
        validate(net)


def test_combinational_loop_is_named():
    net = Netlist(name="loop")
    a = net.input("a")[0]
    net.add_node(10, gate="AND2", inst=-1)
    net.add_node(11, gate="NOT", inst=-1)
    net.add_edge(a, 10, pins=(0,))
    net.add_edge(11, 10, pins=(1,))
    net.add_edge(10, 11, pins=(0,))
    net.output("y", 10)
    with pytest.raises(NetlistError, match=r"combinational loop through node (10|11)"):
        compile_netlist(net)


def test_builder_errors():
    net = _tiny()
    with pytest.raises(NetlistError, match="takes 2 inputs"):
        net.gate("AND2", net.inputs["a"][0])
    with pytest.raises(NetlistError, match="unknown gate type"):
        net.gate("MAJ9", 0, 1)
    with pytest.raises(NetlistError, match="already exists"):
        net.input("a")
    fa = circuits.full_adder()
    with pytest.raises(NetlistError, match="unconnected"):
        net.instance(fa, a=net.inputs["a"][0], b=net.inputs["b"][0])
    with pytest.raises(NetlistError, match="1 bits wide, connected to 2"):
        net.instance(fa, a=net.inputs["a"] + net.inputs["b"], b=net.inputs["b"][0], cin=net.inputs["a"][0])


def test_json_round_trip_preserves_behaviour_and_counts():
    net = circuits.build("carry-lookahead-adder", 9)
    back = from_json(to_json(net))
    assert count(back, "static-cmos") == count(net, "static-cmos")
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 512, 500), rng.integers(0, 512, 500)
    assert (simulate(back, a=a, b=b, cin=1)["sum"] == simulate(net, a=a, b=b, cin=1)["sum"]).all()


def test_json_errors():
    with pytest.raises(NetlistError, match="not a gatesim netlist"):
        from_json('{"format": "x"}')
    with pytest.raises(NetlistError, match="malformed"):
        from_json('{"format": "gatesim-netlist/1"}')
