"""Backward rewriting of a word-level polynomial through a compiled netlist.

The engine of :mod:`gatesim.prove`, after AMulet (Kaufmann, Biere, Kauers) and RevSCA (Mahzoon,
Große, Drechsler); our own code. A polynomial over the integers modulo ``2**W`` in Boolean net
variables (``x**2 = x``; a monomial is a ``frozenset`` of net slots) is rewritten from the outputs
towards the inputs: each net is replaced by a polynomial of the nets it is computed from, in
reverse topological order, until only primary inputs remain. Every step keeps the polynomial's
value on every input, and a function of the inputs has exactly one multilinear polynomial, so the
*remainder* is zero exactly when the word-level claim holds for every input, and otherwise names
an input where it fails.

What keeps the polynomial small (the multiplier-verification literature's three devices):

* **Atomic adders.** Full and half adders are found by function, not by name: cuts of at most three
  nets are enumerated with their truth tables; a parity (XOR3/XNOR3, XOR2/XNOR2) and a carry
  (majority / AND-OR up to inversions) over the *same* cut form an adder block, whose outputs are
  rewritten straight to polynomials of the cut (2c + s = a + b + cin) skipping the gates inside,
  so the nonlinear terms of s and c cancel before any input of the block is touched. Flat
  netlists (no ``full_adder`` instances) are understood the same way.
* **Small cones in one step.** A net that depends on at most ``support_limit`` primary inputs (an
  AND-array partial product, a Booth selector output with its encoder) is rewritten straight to
  its polynomial in those inputs.
* **Vanishing monomials.** Pairs of nets whose AND is identically 0 (a half adder's sum and carry,
  a prefix group's generate and propagate, a Booth digit's one and two) are found by random
  simulation and *proven* by a small local rewriting; a monomial holding both is dropped at once.

Everything else is rewritten gate by gate. Units are rewritten only when every unit reading them is
done (Kahn order on the reversed unit graph), so an adder's inputs are never expanded before both
of its outputs are gone.
"""
from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field

from . import algebra
from .compile import CompiledNetlist
from .gates import GATES

MAX_CUT = 3  # leaves of the cuts searched for adder blocks
MAX_CUTS_PER_NET = 10
SIGNATURE_BITS = 2048  # random patterns used to find vanishing-pair candidates


class Abort(Exception):
    """The rewriting stopped at a limit (time or monomials); the message says which."""


@dataclass
class Unit:
    """One rewriting step: ``outputs`` replaced by polynomials over ``leaves``."""

    kind: str  # "full_adder" | "half_adder" | "cone" | "gate"
    outputs: tuple
    leaves: tuple
    polys: dict  # output slot -> list of (frozenset of slots, coefficient)

    @property
    def position(self) -> int:
        return max(self.outputs)


@dataclass
class RewriteStats:
    units: int = 0
    full_adders: int = 0
    half_adders: int = 0
    cones: int = 0
    gates: int = 0
    vanishing_pairs: int = 0
    peak_monomials: int = 0
    rewrites: int = 0  # monomials rewritten
    seconds_analysis: float = 0.0
    seconds_rewriting: float = 0.0

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["seconds_analysis"] = round(d["seconds_analysis"], 3)
        d["seconds_rewriting"] = round(d["seconds_rewriting"], 3)
        return d


# --------------------------------------------------------------------------------------------
# netlist analysis on the compiled arrays
# --------------------------------------------------------------------------------------------
class _Analysis:
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
        seen: dict = {}  # (leaves, truth table) -> representative slot
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
    import itertools

    return itertools.product(*lists)


def _reverse_depth(deps: list, readers: list) -> list[int]:
    """Per unit: the longest path from it to a primary output, in units (0: read by none)."""
    depth = [0] * len(deps)
    left = list(readers)
    queue = [i for i, r in enumerate(left) if r == 0]
    while queue:
        i = queue.pop()
        for j in deps[i]:
            depth[j] = max(depth[j], depth[i] + 1)
            left[j] -= 1
            if left[j] == 0:
                queue.append(j)
    return depth


def _tt_poly(tt: int, leaves: tuple) -> list:
    out = []
    for m, coef in algebra.integer_polynomial(tt, len(leaves)):
        out.append((frozenset(leaves[j] for j in range(len(leaves)) if (m >> j) & 1), coef))
    return out


# --------------------------------------------------------------------------------------------
# the rewriter
# --------------------------------------------------------------------------------------------
@dataclass
class Rewriter:
    """Backward rewriting of polynomials through one compiled netlist.

    ``support_limit``: nets over at most this many primary inputs are rewritten to their input
    polynomial in one step (0 disables). ``max_monomials`` / ``deadline`` (a ``time.perf_counter``
    value) bound the work: past either, :class:`Abort` is raised.
    """

    c: CompiledNetlist
    modulus: int
    support_limit: int = 6
    max_monomials: int = 1_000_000
    deadline: float = float("inf")
    adders: bool = True
    vanishing: bool = True
    trace: object = None  # called as trace(unit, polynomial) after each unit, for diagnostics
    stats: RewriteStats = field(default_factory=RewriteStats)

    def __post_init__(self):
        self.a = _Analysis(self.c)
        self.vanish: dict[int, set] = {}
        self._gate_polys: dict = {}

    # -- units -----------------------------------------------------------------------------
    def _units(self, roots) -> list[Unit]:
        a = self.a
        t0 = time.perf_counter()
        fanouts = a.fanouts()
        cuts = a.cuts(self.deadline)  # also finds equal nets (a.rep)
        if self.adders:
            block_of, blocks = a.adder_blocks(cuts, fanouts)
        else:
            block_of, blocks = {}, []
        aliased = {r[1] for r in a.rep.values() if r[0] != "const"}
        sup = a.supports() if self.support_limit else None
        # a small cone is rewritten to its inputs in one step only where it is read by adder
        # blocks alone (a partial product): there it enters the polynomial linearly; elsewhere
        # (a prefix adder's group signals) its input expansion would multiply out
        read_by_adders = set()
        for _, leaves, _, gates in blocks:
            for x in leaves:
                if x not in aliased and all(r in gates for r in fanouts[x]):
                    read_by_adders.add(x)
        unit_of: dict = {}
        units: list[Unit] = []
        block_unit: dict = {}
        stack = [r for r in roots if not a.is_source(r)]
        while stack:
            v = stack.pop()
            if v in unit_of:
                continue
            b = block_of.get(v)
            if b is not None:
                if b not in block_unit:
                    kind, leaves, members, _ = blocks[b]
                    block_unit[b] = len(units)
                    units.append(Unit(kind, tuple(members), leaves,
                                      {s: _tt_poly(tt, leaves) for s, tt in members.items()}))
                u = units[block_unit[b]]
            elif sup is not None and v in read_by_adders and bin(sup[v]).count("1") <= self.support_limit:
                leaves = tuple(i for i in range(self.c.n_inputs) if (sup[v] >> i) & 1)
                u = Unit("cone", (v,), leaves, {v: _tt_poly(a.cone_table(v, leaves), leaves)})
                units.append(u)
            else:
                poly = a.gate_poly(v)
                leaves = tuple(sorted({x for m, _ in poly for x in m}))
                u = Unit("gate", (v,), leaves, {v: poly})
                units.append(u)
            for o in u.outputs:
                unit_of[o] = u
            stack.extend(x for x in u.leaves if not a.is_source(x) and x not in unit_of)
        st = self.stats
        st.units = len(units)
        for kind in ("full_adder", "half_adder", "cone", "gate"):
            setattr(st, kind + "s", sum(1 for u in units if u.kind == kind))
        self._unit_of = unit_of
        st.seconds_analysis += time.perf_counter() - t0
        return units

    # -- vanishing pairs ---------------------------------------------------------------------
    def _find_vanishing(self, units: list[Unit]) -> None:
        a = self.a
        t0 = time.perf_counter()
        sig = a.signatures(SIGNATURE_BITS)
        cand = set()
        unit_of = self._unit_of
        for u in units:
            # nets that meet in one monomial when this unit and the units of its leaves are
            # rewritten: its leaves and their leaves (a prefix cell's gh and ph, meeting once
            # its AND(ph, gl) is rewritten); a block's outputs among themselves
            near = set(u.leaves)
            for x in u.leaves:
                if not a.is_source(x):
                    near.update(unit_of[x].leaves)
            groups = [sorted(x for x in near if x >= a.c.n_sources or a.is_input(x))] if u.kind != "cone" else []
            if u.kind in ("full_adder", "half_adder"):
                groups.append(list(u.outputs))
            for g in groups:
                for i in range(len(g)):
                    for j in range(i + 1, len(g)):
                        x, y = g[i], g[j]
                        if a.is_source(x) and a.is_source(y):
                            continue
                        if sig[x] & sig[y] == 0:
                            cand.add((min(x, y), max(x, y)))
        for x, y in sorted(cand, key=lambda p: (p[1], p[0])):
            if time.perf_counter() > self.deadline:
                raise Abort("time limit reached while proving vanishing monomials")
            if self._proves_zero(x, y):
                self.vanish.setdefault(x, set()).add(y)
                self.vanish.setdefault(y, set()).add(x)
                self.stats.vanishing_pairs += 1
        self.stats.seconds_analysis += time.perf_counter() - t0

    def _proves_zero(self, x: int, y: int, max_steps: int = 24, max_monomials: int = 128) -> bool:
        """Prove x*y = 0 for every input by a bounded gate-level rewriting (with known pairs)."""
        a = self.a
        n_inputs = self.c.n_inputs
        poly = {frozenset((x, y)): 1}
        queued = {v for v in (x, y) if v >= n_inputs}
        heap = [-v for v in queued]
        heapq.heapify(heap)
        for _ in range(max_steps):
            if not poly:
                return True
            if not heap:
                return False  # only inputs left, and not zero
            top = -heapq.heappop(heap)
            queued.discard(top)
            gp = self._gate_poly(top)
            for m in [m for m in poly if top in m]:
                coef = poly.pop(m)
                rest = m - {top}
                for tm, tc in gp:
                    nm = rest | tm
                    if self._vanishes(nm, tm):
                        continue
                    v = poly.get(nm, 0) + coef * tc
                    if v:
                        poly[nm] = v
                        for t in tm:
                            if t >= n_inputs and t not in queued:
                                queued.add(t)
                                heapq.heappush(heap, -t)
                    else:
                        del poly[nm]
            if len(poly) > max_monomials:
                return False
        return not poly

    def _gate_poly(self, s: int) -> list:
        gp = self._gate_polys.get(s)
        if gp is None:
            gp = self._gate_polys[s] = self.a.gate_poly(s)
        return gp

    def _vanishes(self, nm, tm) -> bool:
        """Whether monomial ``nm`` holds a proven vanishing pair with a member in ``tm``."""
        van = self.vanish
        for t in tm:
            w = van.get(t)
            if w is not None and not w.isdisjoint(nm):
                return True
        return False

    @staticmethod
    def _nonlinear(u: Unit, P: dict, occ: dict) -> bool:
        """Whether an output of ``u`` occurs in a monomial of degree > 1."""
        for o in u.outputs:
            for m in occ.get(o, ()):
                if len(m) > 1 and m in P:
                    return True
        return False

    def _least_growth(self, waiting: list, units: list, P: dict, occ: dict):
        """The waiting unit to rewrite next: the first (by priority) that is no longer in a
        nonlinear monomial, else the one whose rewriting adds the fewest monomials."""
        best = None
        for item in sorted(waiting):
            u = units[item[2]]
            if not self._nonlinear(u, P, occ):
                return item
            g = self._growth(u, P, occ)
            if best is None or g < best[0]:
                best = (g, item)
        return best[1]

    def _growth(self, u: Unit, P: dict, occ: dict) -> int:
        """How many monomials rewriting ``u`` would add to ``P`` (negative: remove), without doing it."""
        M = self.modulus
        van = self.vanish
        local = {m: P[m] for o in u.outputs for m in occ.get(o, ()) if m in P}
        before = len(local)
        work = 0
        for o in u.outputs:
            sub = u.polys[o]
            for m in [m for m in local if o in m]:
                work += 1
                if (work & 4095) == 0 and time.perf_counter() > self.deadline:
                    raise Abort("time limit reached")
                if len(local) > self.max_monomials:
                    raise Abort(f"monomial limit reached ({self.max_monomials} monomials)")
                coef = local.pop(m)
                rest = m - {o}
                for tm, tc in sub:
                    nm = rest | tm if tm else rest
                    if van and tm and self._vanishes(nm, tm):
                        continue
                    v = (local.get(nm, 0) + coef * tc) % M
                    if v:
                        local[nm] = v
                    else:
                        local.pop(nm, None)
        after = 0  # the rewritten monomials hold no output of u, so they merge only with the rest of P
        for m, v in local.items():
            old = P.get(m)
            if old is None:
                after += 1
            elif (old + v) % M == 0:
                after -= 1
        return after - before

    def _substitute(self, P: dict, occ: dict, mons, o: int, sub: list) -> None:
        """Replace variable ``o`` by polynomial ``sub`` in the monomials ``mons`` of ``P``."""
        M = self.modulus
        n_inputs = self.c.n_inputs
        van = self.vanish
        st = self.stats
        limit = self.max_monomials
        for count, m in enumerate(mons):
            coef = P.pop(m, None)
            if coef is None:
                continue  # rewritten away already
            st.rewrites += 1
            rest = m - {o}
            for tm, tc in sub:
                nm = rest | tm if tm else rest
                if van and tm and self._vanishes(nm, tm):
                    continue
                old = P.get(nm)
                v = ((old or 0) + coef * tc) % M
                if v:
                    P[nm] = v
                    if old is None:
                        for x in nm:
                            if x >= n_inputs:
                                s = occ.get(x)
                                if s is None:
                                    occ[x] = {nm}
                                else:
                                    s.add(nm)
                elif old is not None:
                    del P[nm]
            if len(P) > limit:
                raise Abort(f"monomial limit reached ({limit} monomials)")
            if (count & 4095) == 4095 and time.perf_counter() > self.deadline:
                raise Abort("time limit reached")
        if len(P) > st.peak_monomials:
            st.peak_monomials = len(P)

    def _reduce_unit(self, u: Unit) -> None:
        if not self.vanish:
            return
        for o, poly in u.polys.items():
            u.polys[o] = [(m, c) for m, c in poly if not self._vanishes(m, m)]

    # -- the rewriting -----------------------------------------------------------------------
    def rewrite(self, poly: dict, progress=None) -> dict:
        """Rewrite ``poly`` (frozenset -> int) down to primary inputs; return the remainder (mod modulus)."""
        a = self.a
        M = self.modulus
        units = self._units({v for m in poly for v in m})
        poly = dict(a.rename(poly.items()))  # representatives only, as in every unit
        if self.vanishing:
            self._find_vanishing(units)
        t0 = time.perf_counter()
        # Kahn order on the reversed unit graph: a unit goes once every unit reading it is done
        index = {id(u): i for i, u in enumerate(units)}
        readers = [0] * len(units)
        deps: list = []
        for u in units:
            self._reduce_unit(u)
            d = {index[id(self._unit_of[x])] for x in u.leaves if not a.is_source(x)}
            deps.append(d)
            for i in d:
                readers[i] += 1
        depth = _reverse_depth(deps, readers)
        P = {m: c % M for m, c in poly.items() if c % M}
        occ: dict = {}
        for m in P:
            for v in m:
                if not a.is_input(v):
                    occ.setdefault(v, set()).add(m)
        # Scheduling (dynamic, after DyPoSub): among the units whose readers are all done, nearest
        # the outputs first; but an adder block whose outputs sit in nonlinear monomials waits
        # while anything else can go, and when only such blocks are left, the one whose rewriting
        # adds the fewest monomials goes first. A prefix (carry-lookahead) adder is nonlinear
        # inside and linear at its propagate/generate cut: its half adders must not be rewritten
        # (and the reduction tree below them expanded) while prefix gates remain, or terms that
        # would cancel at that cut multiply out through the tree.
        ready = [(depth[i], -u.position, i) for i, u in enumerate(units) if readers[i] == 0]
        heapq.heapify(ready)
        waiting: list = []
        done = 0
        while ready or waiting:
            if ready:
                item = heapq.heappop(ready)
                u = units[item[2]]
                if u.kind not in ("gate", "cone") and self._nonlinear(u, P, occ):
                    waiting.append(item)
                    continue
            else:
                item = self._least_growth(waiting, units, P, occ)
                waiting.remove(item)
            i = item[2]
            u = units[i]
            for o in u.outputs:
                mons = occ.pop(o, None)
                if mons:
                    self._substitute(P, occ, mons, o, u.polys[o])
            if self.trace is not None:
                self.trace(u, P)
            for j in deps[i]:
                readers[j] -= 1
                if readers[j] == 0:
                    heapq.heappush(ready, (depth[j], -units[j].position, j))
            done += 1
            if (done & 63) == 0:
                if time.perf_counter() > self.deadline:
                    raise Abort("time limit reached")
                if progress:
                    progress(done, len(units))
        if progress:
            progress(done, len(units))
        self.stats.seconds_rewriting += time.perf_counter() - t0
        if done != len(units):  # cannot happen on an acyclic netlist
            raise Abort("internal error: units left unrewritten")
        return P
