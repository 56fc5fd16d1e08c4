"""Polynomials of Boolean functions, for the algebraic prover (:mod:`gatesim.prove`).

A Boolean function of ``k`` variables is a truth table: an int whose bit ``i`` is the value at
the assignment whose variable ``j`` is bit ``j`` of ``i``. Over the integers with ``x**2 = x`` every
such function has exactly one *multilinear polynomial* (coefficients from the Möbius transform of
the table); over GF(2) exactly one XOR-of-ANDs form (ANF). A polynomial here is a list of
``(variable-set bitmask, coefficient)``; the prover turns the bitmasks into sets of net ids.

Gate polynomials are derived from the one-bit functions in :data:`gatesim.gates.GATES`, never
written out by hand, so every gate type the engine knows is understood here too
(AND: ab, OR: a + b - ab, XOR: a + b - 2ab, NOT: 1 - a, MUX, AOI/OAI, ...).
"""
from __future__ import annotations

import functools
import itertools

from .gates import GATES, SOURCE_GATES


def truth_table(function, arity: int) -> int:
    """Truth table of a one-bit ``function`` of ``arity`` arguments (argument ``j`` = bit ``j``)."""
    tt = 0
    for i in range(1 << arity):
        if function(*((i >> j) & 1 for j in range(arity))) & 1:
            tt |= 1 << i
    return tt


def integer_polynomial(tt: int, k: int) -> list[tuple[int, int]]:
    """The multilinear integer polynomial of a ``k``-variable truth table (Möbius transform)."""
    c = [(tt >> i) & 1 for i in range(1 << k)]
    for j in range(k):
        bit = 1 << j
        for i in range(1 << k):
            if i & bit:
                c[i] -= c[i ^ bit]
    return [(m, v) for m, v in enumerate(c) if v]


def anf(tt: int, k: int) -> tuple[int, ...]:
    """The XOR-of-ANDs form of a ``k``-variable truth table: the variable sets (bitmasks) XORed."""
    c = [(tt >> i) & 1 for i in range(1 << k)]
    for j in range(k):
        bit = 1 << j
        for i in range(1 << k):
            if i & bit:
                c[i] ^= c[i ^ bit]
    return tuple(m for m, v in enumerate(c) if v)


@functools.lru_cache(maxsize=None)
def gate_polynomial(code: int) -> tuple[tuple[int, int], ...]:
    """Integer polynomial of gate ``code`` over its pins (bit ``k`` of a monomial = pin ``k``)."""
    g = _by_code()[code]
    return tuple(integer_polynomial(truth_table(g.function, g.arity), g.arity))


@functools.lru_cache(maxsize=None)
def gate_anf(code: int) -> tuple[int, ...]:
    """XOR-of-ANDs form of gate ``code`` over its pins, for bit-parallel evaluation."""
    g = _by_code()[code]
    return anf(truth_table(g.function, g.arity), g.arity)


@functools.lru_cache(maxsize=None)
def _by_code() -> dict:
    return {g.code: g for g in GATES.values() if g.name not in SOURCE_GATES}


def eval_gate(code: int, args, mask: int) -> int:
    """Bit-parallel value of gate ``code`` on the ints ``args`` (one bit per pattern, ``mask`` = all ones)."""
    out = 0
    for m in gate_anf(code):
        term = mask
        k = 0
        while m:
            if m & 1:
                term &= args[k]
            m >>= 1
            k += 1
        out ^= term
    return out


def projections(k: int) -> list[int]:
    """Truth tables of the ``k`` variables themselves over ``2**k`` patterns."""
    return [sum(1 << i for i in range(1 << k) if (i >> j) & 1) for j in range(k)]


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
    keep = _depends_on(tt, k)
    if len(keep) == k:
        return leaves, tt
    return tuple(leaves[j] for j in keep), _project(tt, keep, k)


@functools.lru_cache(maxsize=1 << 14)
def _depends_on(tt: int, k: int) -> tuple[int, ...]:
    keep = []
    for j in range(k):
        if any(((tt >> i) ^ (tt >> (i | (1 << j)))) & 1 for i in range(1 << k) if not (i >> j) & 1):
            keep.append(j)
    return tuple(keep)


@functools.lru_cache(maxsize=1 << 14)
def _project(tt: int, keep: tuple, k: int) -> int:
    out = 0
    for i in range(1 << len(keep)):
        full = 0
        for j, p in enumerate(keep):
            full |= ((i >> j) & 1) << p
        if (tt >> full) & 1:
            out |= 1 << i
    return out


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
        tt = truth_table(lambda a, b, c, n=neg: int((a ^ n[0]) + (b ^ n[1]) + (c ^ n[2]) >= 2), 3)
        out.update({tt, tt ^ 0xFF})
    return frozenset(out)


def _ands() -> frozenset[int]:
    """Two-variable functions true (or false) at exactly one point: AND, OR, NAND, NOR with inversions."""
    return frozenset(tt for tt in range(16) if bin(tt).count("1") in (1, 3))


PARITY = {2: _parities(2), 3: _parities(3)}  # XOR / XNOR of the cut: an adder's sum
CARRY = {2: _ands(), 3: _majorities()}  # a half adder's / full adder's carry, up to inversions
