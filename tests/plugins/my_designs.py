"""A user's plugin module, as documented in the README: registers designs of its own."""
import circuits
from circuits.adders import adder_reference
from gatesim import Netlist


@circuits.register("broken-adder", kind="adder", reference=adder_reference, description="ripple adder with bit 2's carry stuck at 0")
def broken_adder(width: int) -> Netlist:
    net = circuits.ripple_carry_adder(width)
    fa2 = next(i for i, inst in enumerate(net.instances) if inst["name"] == "fa2")
    victim = next(n for n, d in net.nodes(data=True) if d["gate"] == "OR2" and d["inst"] == fa2)
    net.nodes[victim]["gate"] = "AND2"
    net.invalidate()
    return net


@circuits.register("inverter-chain", kind="misc", reference=lambda width, stages=2: (lambda v: {"y": v["a"] if stages % 2 == 0 else ((1 << width) - 1) ^ v["a"]}))
def inverter_chain(width: int, stages: int = 2) -> Netlist:
    """Each bit through `stages` inverters."""
    net = Netlist(name="inverter_chain")
    bits = net.input("a", width)
    for _ in range(stages):
        bits = [net.NOT(b) for b in bits]
    net.output("y", bits)
    return net


@circuits.register("plugin-adder", kind="adder", reference=adder_reference, description="ripple adder under another name")
def plugin_adder(width: int) -> Netlist:
    return circuits.ripple_carry_adder(width)
