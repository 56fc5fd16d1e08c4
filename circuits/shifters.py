"""Normalization hardware: shifters and leading-zero counters, registered so a design can swap them.

Shifters (kind ``shifter``). Ports: ``a`` (n bits), ``shift`` (k = n.bit_length() bits, unsigned)
-> ``y`` (n bits), ``sticky`` (1 bit). Parameter ``direction``: ``"right"`` (default) gives
``y = a >> shift`` and ``sticky`` = OR of the bits shifted out at the bottom (what a floating-point
alignment needs for rounding); ``"left"`` gives ``y = (a << shift) mod 2**n`` and ``sticky`` = OR of
the bits shifted out at the top. A shift of n or more moves every bit out.

* ``logarithmic-shifter`` -- k levels of 2:1 multiplexers, level j shifting by 2**j; the bits a
  level drops are ORed into the sticky bit. Area O(n log n), depth O(log n).
* ``crossbar-shifter`` -- the shift amount decoded one-hot, each output bit an AND-OR over every
  input it can come from; the sticky bit from a thermometer code of the amount. Area O(n**2),
  depth O(log n) with a small constant.

Leading-zero counters (kind ``leading-zero-counter``). Ports: ``a`` (n bits) -> ``count``
(k = n.bit_length() bits): the number of zeros above the most significant one, n when a = 0; ``zero``
(1 when a = 0).

* ``tree-leading-zero-counter`` -- a balanced tree (Oklobdzija): each node merges the (valid,
  count) pairs of its halves with one multiplexer per count bit. Area O(n log n), depth O(log n).
* ``priority-leading-zero-counter`` -- an OR chain from the top (a thermometer code), the first one
  picked out and encoded by OR trees. Area O(n log n), depth O(n).
"""
from __future__ import annotations

import numpy as np

from gatesim.errors import DesignError
from gatesim.netlist import Netlist

from .logic import Logic
from .registry import register

DIRECTIONS = ("right", "left")


def _ints(values) -> list[int]:
    return [int(x) for x in values]


def shifter_reference(width: int, direction: str = "right", **_):
    """y = a >> shift (or a << shift mod 2**n), sticky = OR of the bits shifted out."""
    mask = (1 << width) - 1

    def ref(v):
        ys, sts = [], []
        for a, s in zip(_ints(v["a"]), _ints(v["shift"])):
            s = min(s, width)
            if direction == "right":
                ys.append(a >> s)
                sts.append(int(a & ((1 << s) - 1) != 0))
            else:
                ys.append((a << s) & mask)
                sts.append(int(a >> (width - s) != 0))
        return {"y": np.array(ys, dtype=object), "sticky": np.array(sts, dtype=object)}

    return ref


def lzc_reference(width: int, **_):
    """count = leading zeros of the n-bit a (n when a = 0), zero = (a == 0)."""

    def ref(v):
        a = _ints(v["a"])
        return {"count": np.array([width - x.bit_length() for x in a], dtype=object),
                "zero": np.array([int(x == 0) for x in a], dtype=object)}

    return ref


def _check_direction(design: str, direction) -> None:
    if direction not in DIRECTIONS:
        raise DesignError(f"{design}: direction must be 'right' or 'left', got {direction!r}")


def _shifter_ports(name: str, width: int):
    net = Netlist(name=name)
    a = net.input("a", width)
    s = net.input("shift", width.bit_length())
    return net, Logic(net), a, s


@register("logarithmic-shifter", kind="shifter", reference=shifter_reference)
def logarithmic_shifter(width: int, direction: str = "right") -> Netlist:
    """Logarithmic (barrel) shifter: one level of 2:1 multiplexers per shift-amount bit, dropped bits ORed into sticky."""
    _check_direction("logarithmic-shifter", direction)
    net, lg, a, s = _shifter_ports(f"logarithmic_shifter_{direction}", width)
    x = list(a) if direction == "right" else list(a)[::-1]  # a left shift is a right shift of the reversed bits
    dropped = []
    for j, sj in enumerate(s):
        d = 1 << j
        dropped.append(lg.AND(sj, lg.or_tree(x[: min(d, width)])))
        x = [lg.MUX(sj, x[i], x[i + d] if i + d < width else lg.c0) for i in range(width)]
    net.output("y", x if direction == "right" else x[::-1])
    net.output("sticky", lg.or_tree(dropped))
    return net


def _decode(lg: Logic, bits, outputs: int) -> list:
    """One-hot decoder: line i is 1 when the unsigned bus ``bits`` equals i (i < outputs)."""
    lines = [lg.c1]
    for b in bits:
        nb = lg.NOT(b)
        lines = [lg.AND(x, nb) for x in lines] + [lg.AND(x, b) for x in lines]
    return (lines + [lg.c0] * outputs)[:outputs]


@register("crossbar-shifter", kind="shifter", reference=shifter_reference)
def crossbar_shifter(width: int, direction: str = "right") -> Netlist:
    """Crossbar shifter: the amount decoded one-hot, every output bit an AND-OR of the inputs it can come from."""
    _check_direction("crossbar-shifter", direction)
    net, lg, a, s = _shifter_ports(f"crossbar_shifter_{direction}", width)
    x = list(a) if direction == "right" else list(a)[::-1]
    hot = _decode(lg, s, width)  # hot[j]: shift by j (j < n); a larger amount selects nothing
    y = [lg.or_tree([lg.AND(hot[j], x[i + j]) for j in range(width - i)]) for i in range(width)]
    # bit i is shifted out when the amount exceeds i: thermometer t_i = NOT(amount <= i)
    below, sticky_terms = lg.c0, []
    for i in range(width):
        below = lg.OR(below, hot[i])  # amount <= i
        sticky_terms.append(lg.ANDNOT(x[i], below))
    net.output("y", y if direction == "right" else y[::-1])
    net.output("sticky", lg.or_tree(sticky_terms))
    return net


@register("tree-leading-zero-counter", kind="leading-zero-counter", reference=lzc_reference)
def tree_leading_zero_counter(width: int) -> Netlist:
    """Tree leading-zero counter: (valid, count) pairs merged pairwise, one multiplexer per count bit per merge."""
    net = Netlist(name="tree_leading_zero_counter")
    lg = Logic(net)
    a = net.input("a", width)
    k = width.bit_length()
    # MSB first, padded below with ones to 2**k > n bits: the count stops at n when a = 0
    nodes = [(bit, []) for bit in list(a)[::-1]] + [(lg.c1, [])] * ((1 << k) - width)
    while len(nodes) > 1:
        merged = []
        for (vh, ch), (vl, cl) in zip(nodes[0::2], nodes[1::2]):
            merged.append((lg.OR(vh, vl), [lg.MUX(vh, l, h) for h, l in zip(ch, cl)] + [lg.NOT(vh)]))
        nodes = merged
    net.output("count", nodes[0][1])
    net.output("zero", lg.is_zero(a))
    return net


@register("priority-leading-zero-counter", kind="leading-zero-counter", reference=lzc_reference)
def priority_leading_zero_counter(width: int) -> Netlist:
    """Priority leading-zero counter: an OR chain from the top finds the first one; OR trees encode its position."""
    net = Netlist(name="priority_leading_zero_counter")
    lg = Logic(net)
    a = net.input("a", width)
    k = width.bit_length()
    seen = lg.c0
    hits = {}  # leading-zero count -> net that is 1 exactly for that count
    for i in range(width - 1, -1, -1):
        hits[width - 1 - i] = lg.ANDNOT(a[i], seen)
        seen = lg.OR(seen, a[i])
    zero = lg.NOT(seen)
    hits[width] = zero
    net.output("count", [lg.or_tree([h for c, h in hits.items() if c >> b & 1]) for b in range(k)])
    net.output("zero", zero)
    return net
