"""Boolean functions of the primitive gates as truth tables: evaluation, reduction, pin symmetries.

A truth table over ``n`` variables is a Python int of ``2**n`` bits: bit ``m`` is the function's value
when variable ``j`` equals bit ``j`` of ``m`` (variable 0 = the gate's first pin). Everything here is
derived from :data:`gatesim.gates.GATES` (their ``function``), so a new gate type needs no new code.
Used by :mod:`gatesim.optimize` (constant folding, commutative pins) and :mod:`gatesim.cells` (cell
functions).
"""
from __future__ import annotations

from functools import cache
from itertools import permutations

from .gates import GATES, LOGIC_GATES


@cache
def truth_table(kind: str) -> int:
    """Truth table of gate type ``kind`` over its pins (pin k = variable k)."""
    gt = GATES[kind]
    tt = 0
    for m in range(1 << gt.arity):
        if gt.function(*((m >> k) & 1 for k in range(gt.arity))) & 1:
            tt |= 1 << m
    return tt


@cache
def var_table(j: int, n: int) -> int:
    """Truth table of variable ``j`` alone, over ``n`` variables."""
    return sum(1 << m for m in range(1 << n) if (m >> j) & 1)


@cache
def _minterms(kind: str) -> tuple[int, ...]:
    tt = truth_table(kind)
    return tuple(m for m in range(1 << GATES[kind].arity) if (tt >> m) & 1)


def evaluate(kind: str, args, mask: int) -> int:
    """Output of gate ``kind`` on bit-parallel operands (Python ints; ``mask`` has every lane set)."""
    out = 0
    for m in _minterms(kind):
        t = mask
        for k, x in enumerate(args):
            t &= x if (m >> k) & 1 else ~x
        out |= t
    return out


def permute(tt: int, perm, n: int) -> int:
    """Truth table of ``g(y) = f(x)`` with ``x[perm[j]] = y[j]``: variable j of g is variable perm[j] of f."""
    out = 0
    for m in range(1 << n):
        x = 0
        for j, p in enumerate(perm):
            x |= ((m >> j) & 1) << p
        out |= ((tt >> x) & 1) << m
    return out


def support(tt: int, n: int) -> list[int]:
    """The variables ``tt`` (over ``n`` variables) depends on, in increasing order."""
    return [j for j in range(n) if any(((tt >> m) ^ (tt >> (m ^ (1 << j)))) & 1 for m in range(1 << n))]


def restrict(tt: int, n: int, keep: list[int]) -> int:
    """``tt`` (over ``n`` variables) as a function of the variables ``keep`` only (others at 0)."""
    out = 0
    for m in range(1 << len(keep)):
        x = 0
        for j, v in enumerate(keep):
            x |= ((m >> j) & 1) << v
        out |= ((tt >> x) & 1) << m
    return out


@cache
def pin_symmetries(kind: str) -> tuple[tuple[int, ...], ...]:
    """Pin permutations that leave gate ``kind`` unchanged (commutative pins), identity first."""
    n = GATES[kind].arity
    tt = truth_table(kind)
    perms = [p for p in permutations(range(n)) if permute(tt, p, n) == tt]
    return tuple(sorted(perms))


@cache
def _realizations(n: int) -> dict[int, tuple[str, tuple[int, ...]]]:
    """Truth table over n variables -> (gate type, variable per pin), for every single-gate function of
    n variables that depends on all of them (first gate in GATES order, first pin order wins)."""
    found: dict[int, tuple[str, tuple[int, ...]]] = {}
    for kind in LOGIC_GATES:
        if GATES[kind].arity != n or kind == "BUF":
            continue
        tt = truth_table(kind)
        for p in permutations(range(n)):
            # pin k reads variable p[k]: the function of y is f(x) with x[k] = y[p[k]]
            inv = [0] * n
            for k, v in enumerate(p):
                inv[v] = k
            found.setdefault(permute(tt, inv, n), (kind, p))
    return found


@cache
def reduce_gate(kind: str, pattern: tuple[int, ...]):
    """Simplest form of gate ``kind`` whose pins are tied as ``pattern`` says.

    ``pattern[k]`` is ``-1`` (pin k tied to 0), ``-2`` (tied to 1) or ``j >= 0`` (variable j; variables
    numbered by first appearance, so a repeated j means two pins on one net). Returns ``("const", v)``,
    ``("wire", j)`` (the output is variable j), ``("gate", kind2, (j, ...))`` (one gate of fewer inputs,
    pin k reading variable j_k), or ``None`` when no single gate computes the reduced function.
    """
    tt = truth_table(kind)
    nv = 1 + max((p for p in pattern if p >= 0), default=-1)
    red = 0
    for a in range(1 << nv):
        m = 0
        for k, p in enumerate(pattern):
            bit = (p == -2) if p < 0 else (a >> p) & 1
            m |= bit << k
        red |= ((tt >> m) & 1) << a
    keep = support(red, nv)
    red = restrict(red, nv, keep)
    if not keep:
        return ("const", red & 1)
    if len(keep) == 1 and red == 0b10:
        return ("wire", keep[0])
    hit = _realizations(len(keep)).get(red)
    if hit is None:
        return None
    kind2, pins = hit
    return ("gate", kind2, tuple(keep[j] for j in pins))
