"""Adders and subtractors. Ports: ``a``, ``b``, ``cin`` -> ``sum``, ``cout`` (LSB first).

Each adder is built from named sub-netlists (``full_adder``, ``half_adder``, prefix cells) so a
cell library can price those as cells.
"""
from __future__ import annotations


from gatesim.netlist import Netlist

from .registry import cell, register


def _mask(width: int) -> int:
    return (1 << width) - 1


def adder_reference(width: int, **_):
    """sum = (a + b + cin) mod 2**width, cout = carry out."""

    def ref(v):
        s = v["a"] + v["b"] + v["cin"]
        return {"sum": s & _mask(width), "cout": s >> width}

    return ref


def subtractor_reference(width: int, **_):
    """diff = (a - b - bin) mod 2**width, bout = 1 when a < b + bin."""

    def ref(v):
        d = v["a"] - v["b"] - v["bin"]
        return {"diff": d & _mask(width), "bout": (d < 0).astype(object) if hasattr(d, "astype") else int(d < 0)}

    return ref


def _build_half_adder() -> Netlist:
    net = Netlist(name="half_adder")
    a, b = net.input("a")[0], net.input("b")[0]
    net.output("sum", net.XOR(a, b))
    net.output("cout", net.AND(a, b))
    return net


def _build_full_adder() -> Netlist:
    net = Netlist(name="full_adder")
    a, b, cin = net.input("a")[0], net.input("b")[0], net.input("cin")[0]
    p = net.XOR(a, b)
    net.output("sum", net.XOR(p, cin))
    net.output("cout", net.OR(net.AND(a, b), net.AND(p, cin)))
    return net


@cell
def half_adder() -> Netlist:
    """1-bit half adder cell: ``a``, ``b`` -> ``sum`` = a XOR b, ``cout`` = a AND b (1 XOR2, 1 AND2).

    One shared, frozen netlist: instantiate it, don't edit it.
    """
    return _build_half_adder()


@cell
def full_adder() -> Netlist:
    """1-bit full adder cell: ``a``, ``b``, ``cin`` -> ``sum``, ``cout`` (2 XOR2, 2 AND2, 1 OR2).

    One shared, frozen netlist: instantiate it, don't edit it.
    """
    return _build_full_adder()


@register("half-adder", kind="adder", min_width=1, max_width=1,
          reference=lambda width: lambda v: {"sum": v["a"] ^ v["b"], "cout": v["a"] & v["b"]})
def _half_adder_design(width: int = 1) -> Netlist:
    """1-bit half adder (XOR2 + AND2), no carry in."""
    return _build_half_adder()


@register("full-adder", kind="adder", min_width=1, max_width=1, reference=adder_reference)
def _full_adder_design(width: int = 1) -> Netlist:
    """1-bit full adder (2 XOR2, 2 AND2, 1 OR2)."""
    return _build_full_adder()


@register("ripple-carry-adder", kind="adder", reference=adder_reference)
def ripple_carry_adder(width: int) -> Netlist:
    """Ripple-carry adder: ``width`` full adders in a chain (area O(n), depth O(n))."""
    net = Netlist(name="ripple_carry_adder")
    a, b, carry = net.input("a", width), net.input("b", width), net.input("cin")[0]
    fa = full_adder()
    total = []
    for i in range(width):
        o = net.instance(fa, f"fa{i}", a=a[i], b=b[i], cin=carry)
        total.append(o["sum"][0])
        carry = o["cout"][0]
    net.output("sum", total)
    net.output("cout", carry)
    return net


@register("subtractor", kind="subtractor", reference=subtractor_reference)
def subtractor(width: int) -> Netlist:
    """Two's-complement subtractor: a + NOT(b) + NOT(bin) on a ripple-carry adder.

    Ports ``a``, ``b``, ``bin`` (borrow in) -> ``diff`` = a - b - bin mod 2**width, ``bout`` (borrow out).
    """
    net = Netlist(name="subtractor")
    a, b, bin_ = net.input("a", width), net.input("b", width), net.input("bin")[0]
    nb = [net.NOT(x) for x in b]
    o = net.instance(ripple_carry_adder(width), "adder", a=a, b=nb, cin=net.NOT(bin_))
    net.output("diff", o["sum"])
    net.output("bout", net.NOT(o["cout"][0]))
    return net


@cell
def _pg_cell() -> Netlist:
    """Bit propagate/generate: p = a XOR b, g = a AND b (a half adder by another name)."""
    net = Netlist(name="pg_cell")
    a, b = net.input("a")[0], net.input("b")[0]
    net.output("p", net.XOR(a, b))
    net.output("g", net.AND(a, b))
    return net


@cell
def _black_cell() -> Netlist:
    """Prefix operator: (G, P) = (gh | ph & gl, ph & pl)."""
    net = Netlist(name="black_cell")
    gh, ph, gl, pl = (net.input(n)[0] for n in ("gh", "ph", "gl", "pl"))
    net.output("g", net.OR(gh, net.AND(ph, gl)))
    net.output("p", net.AND(ph, pl))
    return net


@cell
def _gray_cell() -> Netlist:
    """Prefix operator, generate only: G = gh | ph & gl."""
    net = Netlist(name="gray_cell")
    gh, ph, gl = (net.input(n)[0] for n in ("gh", "ph", "gl"))
    net.output("g", net.OR(gh, net.AND(ph, gl)))
    return net


@register("kogge-stone-adder", kind="adder", reference=adder_reference)
def kogge_stone_adder(width: int) -> Netlist:
    """Kogge-Stone parallel-prefix adder: log2(n) prefix levels, fan-out 2 (area O(n log n), depth O(log n)).

    The carry in enters as generate bit -1, so carry into bit i is the group generate of bits -1..i-1.
    """
    net = Netlist(name="kogge_stone_adder")
    a, b, cin = net.input("a", width), net.input("b", width), net.input("cin")[0]
    pg = _pg_cell()
    p, g = [], []
    for i in range(width):
        o = net.instance(pg, f"pg{i}", a=a[i], b=b[i])
        p.append(o["p"][0])
        g.append(o["g"][0])
    # position 0 of the prefix is the carry in (g = cin, p = 0); positions 1..n are bits 0..n-1
    G, P = [cin] + list(g), [None] + list(p)
    black, gray = _black_cell(), _gray_cell()
    dist = 1
    while dist <= width:
        newG, newP = list(G), list(P)
        for i in range(dist, width + 1):
            j = i - dist
            if P[j] is None:  # group reaches the carry in: generate only
                newG[i] = net.instance(gray, f"gray{dist}_{i}", gh=G[i], ph=P[i], gl=G[j])["g"][0]
                newP[i] = None
            else:
                o = net.instance(black, f"black{dist}_{i}", gh=G[i], ph=P[i], gl=G[j], pl=P[j])
                newG[i], newP[i] = o["g"][0], o["p"][0]
        G, P = newG, newP
        dist *= 2
    net.output("sum", [net.XOR(p[i], G[i]) for i in range(width)])
    net.output("cout", G[width])
    return net


@register("carry-lookahead-adder", kind="adder", reference=adder_reference)
def carry_lookahead_adder(width: int, block: int = 4) -> Netlist:
    """Carry-lookahead adder: ``block``-bit lookahead groups (two-level AND-OR carry logic), carries rippling between groups."""
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        from gatesim.errors import DesignError

        raise DesignError(f"carry-lookahead-adder: block must be a positive integer, got {block!r}")
    net = Netlist(name="carry_lookahead_adder")
    a, b, carry = net.input("a", width), net.input("b", width), net.input("cin")[0]
    pg = _pg_cell()
    total = []
    for lo in range(0, width, block):
        hi = min(width, lo + block)
        n = hi - lo
        cla = _lookahead_block(n)
        ps, gs = [], []
        for i in range(lo, hi):
            o = net.instance(pg, f"pg{i}", a=a[i], b=b[i])
            ps.append(o["p"][0])
            gs.append(o["g"][0])
        o = net.instance(cla, f"cla{lo // block}", p=ps, g=gs, cin=carry)
        total.extend(net.XOR(ps[k], o["c"][k]) for k in range(n))
        carry = o["cout"][0]
    net.output("sum", total)
    net.output("cout", carry)
    return net


@cell
def _lookahead_block(n: int) -> Netlist:
    """Carry lookahead unit: c[i] = g[i-1] | p[i-1] g[i-2] | ... | p[i-1]..p[0] cin, each as one AND-OR sum of products."""
    net = Netlist(name=f"lookahead_unit{n}")
    p, g, cin = net.input("p", n), net.input("g", n), net.input("cin")[0]

    def and_all(xs):
        acc = xs[0]
        for x in xs[1:]:
            acc = net.AND(acc, x)
        return acc

    carries = [cin]
    for i in range(1, n + 1):
        terms = [g[i - 1]]
        for j in range(i - 2, -2, -1):  # term: p[i-1]..p[j+1] & (g[j] or cin)
            src = g[j] if j >= 0 else cin
            terms.append(and_all(p[j + 1 : i] + [src]))
        acc = terms[0]
        for t in terms[1:]:
            acc = net.OR(acc, t)
        carries.append(acc)
    net.output("c", carries[:n])
    net.output("cout", carries[n])
    return net
