"""A plugin registering a floating-point unit with one wrong gate, verified against the real unit's reference."""
import circuits
from circuits.floating.reference import unit_decoder, unit_reference
from circuits.floating.stimulus import unit_vectors


@circuits.register("broken-fp-adder", kind="float", sized_by="format", reference=unit_reference("add"),
                   vectors=unit_vectors("add"), decode=unit_decoder("add"),
                   description="fp-adder with one gate of its significand adder flipped")
def broken_fp_adder(format, rounding: str = "rne"):
    net = circuits.build("fp-adder", format=format, rounding=rounding)
    inst = next(i for i, d in enumerate(net.instances) if d["name"] == "significand_adder")
    victim = next(n for n, d in net.nodes(data=True) if d["inst"] > inst and d["gate"] == "OR2")
    net.nodes[victim]["gate"] = "AND2"
    net.invalidate()
    return net
