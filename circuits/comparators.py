"""Magnitude comparators. Ports: ``a``, ``b`` -> ``lt``, ``eq``, ``gt`` (unsigned, 1 bit each)."""
from __future__ import annotations


from gatesim.netlist import Netlist

from .registry import cell, register


def comparator_reference(width: int, **_):
    """lt = a < b, eq = a == b, gt = a > b (unsigned)."""

    def ref(v):
        a, b = v["a"], v["b"]
        return {"lt": (a < b).astype(int), "eq": (a == b).astype(int), "gt": (a > b).astype(int)}

    return ref


@cell
def _bit_compare() -> Netlist:
    """One bit: gt = a & ~b, eq = ~(a ^ b)."""
    net = Netlist(name="bit_compare")
    a, b = net.input("a")[0], net.input("b")[0]
    net.output("gt", net.ANDNOT(a, b))
    net.output("eq", net.XNOR(a, b))
    return net


@cell
def _compare_merge() -> Netlist:
    """Merge a more significant group (gh, eh) with a less significant one (gl, el):
    gt = gh | eh & gl, eq = eh & el."""
    net = Netlist(name="compare_merge")
    gh, eh, gl, el = (net.input(n)[0] for n in ("gh", "eh", "gl", "el"))
    net.output("gt", net.OR(gh, net.AND(eh, gl)))
    net.output("eq", net.AND(eh, el))
    return net


@register("magnitude-comparator", kind="comparator", reference=comparator_reference)
def magnitude_comparator(width: int) -> Netlist:
    """Tree magnitude comparator: per-bit (gt, eq), merged pairwise in a balanced tree (depth O(log n));
    lt = ~gt & ~eq."""
    net = Netlist(name="magnitude_comparator")
    a, b = net.input("a", width), net.input("b", width)
    bit, merge = _bit_compare(), _compare_merge()
    groups = []  # (gt, eq), least significant first
    for i in range(width):
        o = net.instance(bit, f"bit{i}", a=a[i], b=b[i])
        groups.append((o["gt"][0], o["eq"][0]))
    level = 0
    while len(groups) > 1:
        merged = []
        for k in range(0, len(groups) - 1, 2):
            (gl, el), (gh, eh) = groups[k], groups[k + 1]
            o = net.instance(merge, f"merge{level}_{k // 2}", gh=gh, eh=eh, gl=gl, el=el)
            merged.append((o["gt"][0], o["eq"][0]))
        if len(groups) % 2:
            merged.append(groups[-1])
        groups = merged
        level += 1
    gt, eq = groups[0]
    net.output("lt", net.NOR(gt, eq))
    net.output("eq", eq)
    net.output("gt", gt)
    return net
