"""What the algebraic prover (:mod:`gatesim.rewriting`) knows of a compiled netlist's function.

:class:`CutAnalysis` works on :class:`~gatesim.compile.CompiledNetlist` arrays: gate polynomials over
fanin nets; *cuts* of at most three nets with their truth tables (on the way, nets equal to a
constant, to another net or to its complement on a common cut are merged: a proof by truth table);
full and half adders found by function (a parity and a carry over one cut, atomic: nothing inside
read from outside); primary-input supports and truth tables of small cones; random-simulation
signatures.
"""
from __future__ import annotations

import itertools
import random
import time

from . import algebra
from .compile import CompiledNetlist
from .gates import GATES

MAX_CUT = 3  # leaves of the cuts searched for adder blocks
MAX_CUTS_PER_NET = 10


class Abort(Exception):
    """The work stopped at a limit (time or monomials); the message says which."""


class CutAnalysis:
    """Function analysis of one compiled netlist (see the module docstring)."""

    def __init__(self, c: CompiledNetlist):
        self.c = c
        self.op = [int(x) for x in c.op]
        arity = {g.code: g.arity for g in GATES.values()}
        self.fanins = [tuple(int(f) for f in c.fanin[s, : arity[self.op[s]]]) for s in range(c.n_slots)]
        self.c0, self.c1 = c.const0_slot, c.const1_slot
        self.rep: dict = {}  # filled by cuts(): slot -> ("const", v) | ("eq", x) | ("not", x)

    def is_source(self, s: int) -> bool:
        return s < self.c.n_sources

    def is_input(self, s: int) -> bool:
        return s < self.c.n_inputs

    # -- gate polynomials ----------------------------------------------------------------
    def gate_poly(self, s: int) -> list:
        """Polynomial of gate ``s`` over its fanin nets (constants folded, ``x*x = x``)."""
        fan = self.fanins[s]
        out: dict = {}
        for pins, coef in algebra.gate_polynomial(self.op[s]):
            mon = []
            k = 0
            zero = False
            while pins:
                if pins & 1:
                    f = fan[k]
                    if f == self.c0:
                        zero = True
                        break
                    if f != self.c1:
                        mon.append(f)
                pins >>= 1
                k += 1
            if not zero:
                key = frozenset(mon)
                out[key] = out.get(key, 0) + coef
        return self.rename((m, v) for m, v in out.items() if v)

    # -- cuts, equivalent nets and adder blocks -------------------------------------------
    def cuts(self, deadline: float) -> list:
        """Per slot: list of (sorted leaf tuple, truth table over those leaves), at most MAX_CUT
        leaves, each table reduced to the leaves it depends on.

        On the way, nets equal to a constant, to an earlier net or to its complement *on a common
        cut* (a proof by truth table) are recorded in ``self.rep`` (slot -> ("const", 0|1) |
        ("eq", x) | ("not", x)); such a net takes over its representative's cuts, so leaves are
        always representatives."""
        c = self.c
        cuts: list = [None] * c.n_slots
        for s in range(c.n_inputs):
            cuts[s] = [((s,), 0b10)]
        cuts[self.c0] = [((), 0)]
        cuts[self.c1] = [((), 1)]
        seen: dict = {((s,), 0b10): s for s in range(c.n_inputs)}  # (leaves, table) -> representative
        rep = self.rep
        for s in range(c.n_sources, c.n_slots):
            if (s & 1023) == 0 and time.perf_counter() > deadline:
                raise Abort("time limit reached while searching for adders")
            code = self.op[s]
            found: dict = {}
            for combo in _product([cuts[f] for f in self.fanins[s]]):
                leaves = set()
                for lv, _ in combo:
                    leaves.update(lv)
                if len(leaves) > MAX_CUT:
                    continue
                lv_all = tuple(sorted(leaves))
                if lv_all in found:
                    continue
                k = len(lv_all)
                args = [algebra.expand(tt, tuple(lv_all.index(x) for x in lv), k) for lv, tt in combo]
                found[lv_all] = algebra.eval_gate(code, args, (1 << (1 << k)) - 1)
            reduced: dict = {}
            for lv, tt in found.items():
                lv, tt = algebra.reduce_support(tt, lv)
                reduced.setdefault(lv, tt)
            best = sorted(reduced.items(), key=lambda kv: len(kv[0]))[: MAX_CUTS_PER_NET - 1]
            same = None
            for lv, tt in best:
                if not lv:
                    same = ("const", tt & 1)
                    break
                x = seen.get((lv, tt))
                if x is not None:
                    same = ("eq", x)
                    break
                x = seen.get((lv, tt ^ ((1 << (1 << len(lv))) - 1)))
                if x is not None:
                    same = ("not", x)
                    break
            if same is None:
                for lv, tt in best:
                    seen.setdefault((lv, tt), s)
                seen[((s,), 0b10)] = s  # a buffer or inverter of s is s or 1 - s
                cuts[s] = best + [((s,), 0b10)]
                continue
            rep[s] = same
            if same[0] == "const":
                cuts[s] = [((), same[1])]
            elif same[0] == "eq":
                cuts[s] = cuts[same[1]]
            else:
                cuts[s] = [(lv, tt ^ ((1 << (1 << len(lv))) - 1)) for lv, tt in cuts[same[1]]]
        return cuts

    def rename(self, poly) -> list:
        """``poly`` with every net replaced by its representative (constant, net or 1 - net)."""
        rep = self.rep
        if not rep:
            return list(poly)
        out: dict = {}
        for m, coef in poly:
            if rep.keys().isdisjoint(m):
                out[m] = out.get(m, 0) + coef
                continue
            terms = [(frozenset(), coef)]
            for v in m:
                r = rep.get(v)
                if r is None:
                    terms = [(t | {v}, tc) for t, tc in terms]
                elif r[0] == "eq":
                    terms = [(t | {r[1]}, tc) for t, tc in terms]
                elif r[0] == "not":
                    terms = [x for t, tc in terms for x in ((t, tc), (t | {r[1]}, -tc))]
                elif r[1] == 0:
                    terms = []
                    break
            for t, tc in terms:
                out[t] = out.get(t, 0) + tc
        return [(m, v) for m, v in out.items() if v]

    def fanouts(self) -> list[list[int]]:
        """Per slot: the gates reading it."""
        out: list = [[] for _ in range(self.c.n_slots)]
        for s in range(self.c.n_sources, self.c.n_slots):
            for f in set(self.fanins[s]):
                out[f].append(s)
        return out

    def inside(self, members, leaves) -> set:
        """The gates between ``leaves`` and ``members`` (members included)."""
        stop = set(leaves)
        seen = set()
        stack = list(members)
        while stack:
            x = stack.pop()
            if x in seen or x in stop or self.is_source(x):
                continue
            seen.add(x)
            stack.extend(self.fanins[x])
        return seen

    def adder_blocks(self, cuts, fanouts) -> tuple[dict, list]:
        """Full adders (parity + majority over one 3-cut) first, then half adders (parity + AND-like
        over one 2-cut) among the nets left. A block is atomic: no gate inside it but its outputs
        is read from outside (else its internal nets are variables elsewhere, and rewriting past
        them would mix two representations that never cancel). Returns (slot -> block index,
        blocks), a block being (kind, leaves, {slot: truth table}, gates inside)."""
        by_cut: dict = {}
        for s in range(self.c.n_sources, self.c.n_slots):
            if s in self.rep:
                continue  # equal to another net: the representative stands for both
            for leaves, tt in cuts[s]:
                k = len(leaves)
                if k < 2 or s in leaves:
                    continue
                if tt in algebra.PARITY[k]:
                    by_cut.setdefault(leaves, ([], []))[0].append((s, tt))
                elif tt in algebra.CARRY[k]:
                    by_cut.setdefault(leaves, ([], []))[1].append((s, tt))
        block_of: dict = {}
        blocks: list = []
        for k, kind in ((3, "full_adder"), (2, "half_adder")):
            for leaves, (sums, carries) in by_cut.items():
                if len(leaves) != k:
                    continue
                sums = [(s, tt) for s, tt in sums if s not in block_of]
                carries = [(s, tt) for s, tt in carries if s not in block_of]
                if not (sums and carries):
                    continue
                members = dict(sums + carries)
                gates = self.inside(members, leaves)
                if any(g not in members and any(r not in gates for r in fanouts[g]) for g in gates):
                    continue
                for s in members:
                    block_of[s] = len(blocks)
                blocks.append((kind, leaves, members, gates))
        return block_of, blocks

    # -- input supports and small cones --------------------------------------------------
    def supports(self) -> list[int]:
        """Per slot: bitmask of the primary-input slots it depends on."""
        sup = [0] * self.c.n_slots
        for s in range(self.c.n_inputs):
            sup[s] = 1 << s
        for s in range(self.c.n_sources, self.c.n_slots):
            m = 0
            for f in self.fanins[s]:
                m |= sup[f]
            sup[s] = m
        return sup

    def cone_table(self, s: int, leaves: tuple) -> int:
        """Truth table of slot ``s`` over ``leaves`` (which must cut every path from the inputs)."""
        k = len(leaves)
        mask = (1 << (1 << k)) - 1
        val = dict(zip(leaves, algebra.projections(k)))
        val[self.c0] = 0
        val[self.c1] = mask
        stack = [s]
        while stack:
            x = stack[-1]
            if x in val:
                stack.pop()
                continue
            pending = [f for f in self.fanins[x] if f not in val]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            val[x] = algebra.eval_gate(self.op[x], [val[f] for f in self.fanins[x]], mask)
        return val[s]

    def signatures(self, bits: int, seed: int = 1) -> list[int]:
        """Bit-parallel values of every slot under ``bits`` random input patterns (Python ints)."""
        rng = random.Random(seed)
        mask = (1 << bits) - 1
        sig = [0] * self.c.n_slots
        for s in range(self.c.n_inputs):
            sig[s] = rng.getrandbits(bits)
        sig[self.c1] = mask
        for s in range(self.c.n_sources, self.c.n_slots):
            sig[s] = algebra.eval_gate(self.op[s], [sig[f] for f in self.fanins[s]], mask)
        return sig


def _product(lists):
    if len(lists) == 1:
        return ((x,) for x in lists[0])
    return itertools.product(*lists)


def tt_poly(tt: int, leaves: tuple) -> list:
    """The polynomial of a truth table over ``leaves``, monomials as frozensets of leaves."""
    out = []
    for m, coef in algebra.integer_polynomial(tt, len(leaves)):
        out.append((frozenset(leaves[j] for j in range(len(leaves)) if (m >> j) & 1), coef))
    return out
