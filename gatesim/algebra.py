"""Polynomials of Boolean functions, for the algebraic prover (:mod:`gatesim.prove`).

Truth tables are :mod:`gatesim.logic`'s (an int whose bit ``m`` is the value when variable ``j`` is
bit ``j`` of ``m``). Over the integers with ``x**2 = x`` every Boolean function has exactly one
*multilinear polynomial*, its coefficients the Möbius transform of the table. A polynomial here is a
list of ``(variable-set bitmask, coefficient)``; the prover turns the bitmasks into sets of nets.

Gate polynomials come from the gate table (:data:`gatesim.gates.GATES`), never written out by hand,
so every gate type the engine knows is understood here too (AND: ab, OR: a + b - ab,
XOR: a + b - 2ab, NOT: 1 - a, MUX, AOI/OAI, ...).
"""
from __future__ import annotations

import functools
import itertools

from . import logic
from .gates import GATE_NAMES, GATES


def integer_polynomial(tt: int, k: int) -> list[tuple[int, int]]:
    """The multilinear integer polynomial of a ``k``-variable truth table (Möbius transform)."""
    c = [(tt >> i) & 1 for i in range(1 << k)]
    for j in range(k):
        bit = 1 << j
        for i in range(1 << k):
            if i & bit:
                c[i] -= c[i ^ bit]
    return [(m, v) for m, v in enumerate(c) if v]


@functools.cache
def gate_polynomial(code: int) -> tuple[tuple[int, int], ...]:
    """Integer polynomial of gate ``code`` over its pins (bit ``k`` of a monomial = pin ``k``)."""
    name = GATE_NAMES[code]
    return tuple(integer_polynomial(logic.truth_table(name), GATES[name].arity))


def eval_gate(code: int, args, mask: int) -> int:
    """Bit-parallel value of gate ``code`` on the ints ``args`` (``mask``: every lane set)."""
    return logic.evaluate(GATE_NAMES[code], args, mask)


@functools.cache
def projections(k: int) -> tuple[int, ...]:
    """Truth tables of the ``k`` variables themselves over ``2**k`` patterns."""
    return tuple(logic.var_table(j, k) for j in range(k))


@functools.lru_cache(maxsize=1 << 16)
def expand(tt: int, positions: tuple[int, ...], k: int) -> int:
    """Re-express a truth table over ``len(positions)`` variables as one over ``k`` variables,
    its variable ``j`` being the new variable ``positions[j]``."""
    out = 0
    for i in range(1 << k):
        sub = 0
        for j, p in enumerate(positions):
            sub |= ((i >> p) & 1) << j
        if (tt >> sub) & 1:
            out |= 1 << i
    return out


def reduce_support(tt: int, leaves: tuple) -> tuple[tuple, int]:
    """Drop the leaves a truth table does not depend on: (remaining leaves, table over them)."""
    k = len(leaves)
    keep = _support(tt, k)
    if len(keep) == k:
        return leaves, tt
    return tuple(leaves[j] for j in keep), _restrict(tt, k, keep)


@functools.lru_cache(maxsize=1 << 14)
def _support(tt: int, k: int) -> tuple[int, ...]:
    return tuple(logic.support(tt, k))


@functools.lru_cache(maxsize=1 << 14)
def _restrict(tt: int, k: int, keep: tuple[int, ...]) -> int:
    return logic.restrict(tt, k, list(keep))


def _parities(k: int) -> frozenset[int]:
    mask = (1 << (1 << k)) - 1
    x = 0
    for p in projections(k):
        x ^= p
    return frozenset({x, x ^ mask})


def _majorities() -> frozenset[int]:
    """Majority of three variables, any of them or the output inverted."""
    out = set()
    for neg in itertools.product((0, 1), repeat=3):
        tt = sum(1 << m for m in range(8) if sum(((m >> j) & 1) ^ neg[j] for j in range(3)) >= 2)
        out.update({tt, tt ^ 0xFF})
    return frozenset(out)


def _ands() -> frozenset[int]:
    """Two-variable functions true (or false) at exactly one point: AND, OR, NAND, NOR with inversions."""
    return frozenset(tt for tt in range(16) if bin(tt).count("1") in (1, 3))


PARITY = {2: _parities(2), 3: _parities(3)}  # XOR / XNOR of the cut: an adder's sum
CARRY = {2: _ands(), 3: _majorities()}  # a half adder's / full adder's carry, up to inversions
