"""Cross-check against Yosys: our Verilog export, read by Yosys, priced by `stat -tech cmos`."""
import pytest

import circuits
from gatesim import Netlist, count
from gatesim.gates import GATES, LOGIC_GATES

pytestmark = pytest.mark.yosys

def every_gate_netlist() -> Netlist:
    net = Netlist(name="every_gate")
    ins = [net.input(p)[0] for p in "abcd"]
    outs = [net.gate(g, *ins[: GATES[g].arity]) for g in LOGIC_GATES]
    outs.append(net.XOR(net.const(1), ins[0]))
    outs.append(net.AND(net.const(0), ins[1]))
    net.output("y", outs)
    return net


def test_every_gate_type_prices_like_yosys(yosys_transistors):
    net = every_gate_netlist()
    assert yosys_transistors(net) == count(net, "yosys-cmos").transistors


@pytest.mark.parametrize(
    "design, width, top",
    [
        ("ripple-carry-adder", 24, "ripple_carry_adder"),
        ("kogge-stone-adder", 53, "kogge_stone_adder"),
        ("carry-lookahead-adder", 24, "carry_lookahead_adder"),
        ("subtractor", 11, "subtractor"),
    ],
)
def test_adders_match_yosys(yosys_transistors, design, width, top):
    net = circuits.build(design, width)
    assert net.name == top
    assert yosys_transistors(net) == count(net, "yosys-cmos").transistors
