"""Word-level references by name, bound to any netlist's ports: what ``gatesim verify --reference`` checks an
imported design against.

================  =====================================================================================
name              result (of the operands a, b; inputs zero- or, for the ``s``-names, sign-extended)
================  =====================================================================================
``add``           a + b (+ carry in)                 ``sadd``  the same, signed operands
``sub``           a - b (- borrow in)                ``ssub``  the same, signed operands
``mul``           a * b                              ``smul``  the same, signed (two's complement)
``and/or/xor``    a & b, a | b, a ^ b
``neg``, ``not``  -a, ~a                             ``sqrt``  floor(sqrt(a))
``cmp``           outputs named ``lt``, ``le``, ``eq``, ``ne``, ``ge``, ``gt`` (unsigned; ``scmp`` signed)
================  =====================================================================================

Binding: the operands are the input ports named ``a`` and ``b`` when there are such, else the first input
ports in declaration order; a third, 1-bit input (``cin``, ``bin`` or whatever its name) is the carry or
borrow in. The output ports, concatenated LSB first in declaration order — except a 1-bit carry or borrow
out (``cout``, ``co``, ``carry``, ``bout``, ``borrow``), which goes on top — must equal the result modulo
2^(their total width): so ``sum[n]`` + ``cout`` is the full n+1-bit sum, ``p[2n]`` the full product and
``diff`` + ``bout`` the two's-complement difference whose top bit is the borrow.
"""
from __future__ import annotations

from collections.abc import Callable
from math import isqrt

import numpy as np

from .errors import DesignError
from .netlist import Netlist

_CARRY_OUT = ("cout", "co", "c_out", "carry", "carry_out", "bout", "bo", "b_out", "borrow", "borrow_out")
_COMPARE = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
            "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b}

# name -> (operands, takes a carry/borrow in, function of (operands, carry in))
_WORD: dict[str, tuple[int, bool, Callable]] = {
    "add": (2, True, lambda x, c: x[0] + x[1] + c),
    "sub": (2, True, lambda x, c: x[0] - x[1] - c),
    "mul": (2, False, lambda x, c: x[0] * x[1]),
    "and": (2, False, lambda x, c: x[0] & x[1]),
    "or": (2, False, lambda x, c: x[0] | x[1]),
    "xor": (2, False, lambda x, c: x[0] ^ x[1]),
    "neg": (1, False, lambda x, c: -x[0]),
    "not": (1, False, lambda x, c: ~x[0]),
    "sqrt": (1, False, lambda x, c: isqrt(x[0]) if x[0] >= 0 else 0),
}
SIGNED = {"sadd": "add", "ssub": "sub", "smul": "mul"}
REFERENCES = tuple(_WORD) + tuple(SIGNED) + ("cmp", "scmp")


def _operands(net: Netlist, count: int, name: str) -> tuple[list[str], str | None]:
    ins = list(net.inputs)
    named = [p for p in ("a", "b")[:count] if p in net.inputs]
    ops = named if len(named) == count else ins[:count]
    if len(ops) < count:
        raise DesignError(f"reference {name!r} needs {count} operand inputs; {net.name!r} has {len(ins)}")
    rest = [p for p in ins if p not in ops]
    carry = rest[0] if len(rest) == 1 and len(net.inputs[rest[0]]) == 1 else None
    if rest and carry is None:
        raise DesignError(f"reference {name!r}: input port(s) {', '.join(rest)} of {net.name!r} are neither "
                          f"operands nor a 1-bit carry in")
    return ops, carry


def _signed(v: int, w: int) -> int:
    return v - (1 << w) if v >> (w - 1) & 1 else v


def named_reference(name: str, net: Netlist) -> Callable[[dict], dict]:
    """The reference function of ``name`` (see the module docstring) for ``net``'s ports: input port ->
    array of ints in, output port -> array of ints out, like a registered design's reference."""
    if name in ("cmp", "scmp"):
        return _compare(name, net)
    base = SIGNED.get(name, name)
    if base not in _WORD:
        raise DesignError(f"unknown reference {name!r} (references: {', '.join(REFERENCES)}, or a registered design)")
    count, takes_carry, fn = _WORD[base]
    ops, carry = _operands(net, count, name)
    if carry is not None and not takes_carry:
        raise DesignError(f"reference {name!r} takes no carry in, but {net.name!r} has input {carry!r}")
    outs = list(net.outputs)
    tops = [p for p in outs if p in _CARRY_OUT and len(net.outputs[p]) == 1]
    order = [p for p in outs if p not in tops] + tops
    widths = {p: len(b) for p, b in net.inputs.items()}
    total = sum(len(net.outputs[p]) for p in order)
    signed = name in SIGNED

    def ref(v: dict) -> dict:
        n = len(next(iter(v.values())))
        cols = [[int(x) for x in v[p]] for p in ops]
        cin = [int(x) for x in v[carry]] if carry else [0] * n
        res = []
        for i in range(n):
            x = [_signed(c[i], widths[p]) if signed else c[i] for c, p in zip(cols, ops)]
            res.append(fn(x, cin[i]) % (1 << total))
        out, shift = {}, 0
        for p in order:
            w = len(net.outputs[p])
            out[p] = np.array([(r >> shift) & ((1 << w) - 1) for r in res], dtype=object)
            shift += w
        return out

    return ref


def _compare(name: str, net: Netlist):
    ops, carry = _operands(net, 2, name)
    if carry is not None:
        raise DesignError(f"reference {name!r} takes two operands, but {net.name!r} has input {carry!r}")
    bad = [p for p in net.outputs if p not in _COMPARE or len(net.outputs[p]) != 1]
    if bad:
        raise DesignError(f"reference {name!r} knows 1-bit outputs {', '.join(_COMPARE)}; {net.name!r} has {bad[0]!r}")
    widths = {p: len(net.inputs[p]) for p in ops}
    signed = name == "scmp"

    def ref(v: dict) -> dict:
        a = [_signed(int(x), widths[ops[0]]) if signed else int(x) for x in v[ops[0]]]
        b = [_signed(int(x), widths[ops[1]]) if signed else int(x) for x in v[ops[1]]]
        return {p: np.array([int(_COMPARE[p](x, y)) for x, y in zip(a, b)], dtype=object) for p in net.outputs}

    return ref
