"""Backward rewriting of a word-level polynomial through a compiled netlist.

The engine of :mod:`gatesim.prove`, after AMulet (Kaufmann, Biere, Kauers), RevSCA and DyPoSub
(Mahzoon, Große, Drechsler et al.); our own code. A polynomial over the integers modulo ``2**W`` in
Boolean net variables (``x**2 = x``; a monomial is a ``frozenset`` of net slots) is rewritten from
the outputs towards the inputs: each net is replaced by a polynomial of the nets it is computed
from, until only primary inputs remain. Every step keeps the polynomial's value on every input, and
a function of the inputs has exactly one multilinear polynomial, so the *remainder* is zero exactly
when the word-level claim holds for every input, and otherwise names an input where it fails.

What keeps the polynomial small (:mod:`gatesim.cuts` finds the structure):

* **Atomic adders.** Full and half adders found by function (a parity and a carry over one cut of
  at most three nets) are rewritten straight to polynomials of the cut (2c + s = a + b + cin),
  skipping the gates inside, so the nonlinear terms of s and c cancel before any input of the block
  is touched. Flat netlists (no ``full_adder`` instances) are understood the same way.
* **Equal nets** (to a constant, another net or its complement, on a common cut) are one variable.
* **Small cones in one step.** A net read only by adder blocks that depends on at most
  ``support_limit`` primary inputs (an AND-array partial product, a Booth selector output with its
  encoder) is rewritten straight to its polynomial in those inputs.
* **Vanishing monomials.** Pairs of nets whose AND is identically 0 (a half adder's sum and carry,
  a prefix group's generate and propagate) are found by random simulation and *proven* by a small
  local rewriting; a monomial holding both is dropped at once.
* **Dynamic order.** Units are rewritten only when every unit reading them is done (Kahn order on
  the reversed unit graph), nearest the outputs first; an adder block whose outputs sit in
  nonlinear monomials waits while anything else can go, and among waiting blocks the one adding
  the fewest monomials goes first. A prefix adder is nonlinear inside but linear at its
  propagate/generate cut, which is thus reached before the reduction tree below is expanded.

Everything else is rewritten gate by gate.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

from .compile import CompiledNetlist
from .cuts import Abort, CutAnalysis, tt_poly

__all__ = ["Abort", "Rewriter", "RewriteStats", "Unit"]

SIGNATURE_BITS = 2048  # random patterns used to find vanishing-pair candidates


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
        self.a = CutAnalysis(self.c)
        self.vanish: dict[int, set] = {}
        self._gate_polys: dict = {}
        self._subs: dict = {}  # id(unit) -> output -> prepared polynomial (see _prepare)

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
        roots = {x for m, _ in a.rename((frozenset((r,)), 1) for r in roots) for x in m}  # representatives
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
                                      {s: tt_poly(tt, leaves) for s, tt in members.items()}))
                u = units[block_unit[b]]
            elif sup is not None and v in read_by_adders and bin(sup[v]).count("1") <= self.support_limit:
                leaves = tuple(i for i in range(self.c.n_inputs) if (sup[v] >> i) & 1)
                u = Unit("cone", (v,), leaves, {v: tt_poly(a.cone_table(v, leaves), leaves)})
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
        """Whether an output of ``u`` occurs in a monomial of degree > 1 (drops stale index entries)."""
        for o in u.outputs:
            mons = occ.get(o)
            if not mons:
                continue
            live = {m for m in mons if m in P}
            occ[o] = live
            if any(len(m) > 1 for m in live):
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
        local = {m: P[m] for o in u.outputs for m in occ.get(o, ()) if m in P}
        before = len(local)
        for o in u.outputs:
            mons = [m for m in local if o in m]
            got = {m: local.pop(m) for m in mons}
            self._substitute(local, None, got, o, self._subs[id(u)][o], count=False)
        after = 0  # the rewritten monomials hold no output of u, so they merge only with the rest of P
        M = self.modulus
        for m, v in local.items():
            old = P.get(m)
            if old is None:
                after += 1
            elif (old + v) % M == 0:
                after -= 1
        return after - before

    def _substitute(self, P: dict, occ, mons, o: int, sub: list, count: bool = True) -> None:
        """Replace variable ``o`` by ``sub`` (its polynomial as (monomial, coefficient, vanishing
        partners) triples) in the monomials ``mons`` of ``P``; keep the index ``occ`` (unless None).
        ``mons`` may be a dict of monomials already taken out of ``P`` with their coefficients."""
        M = self.modulus
        n_inputs = self.c.n_inputs
        limit = self.max_monomials
        deadline = self.deadline
        taken = mons if isinstance(mons, dict) else None
        done = 0
        for m in mons:
            coef = taken[m] if taken is not None else P.pop(m, None)
            if coef is None:
                continue  # rewritten away already
            done += 1
            rest = m - {o}
            for tm, tc, partners in sub:
                if partners is not None and not partners.isdisjoint(rest):
                    continue  # a proven vanishing pair: the monomial is 0
                nm = rest | tm if tm else rest
                old = P.get(nm)
                v = ((old or 0) + coef * tc) % M
                if v:
                    P[nm] = v
                    if old is None and occ is not None:
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
            if (done & 4095) == 0 and time.perf_counter() > deadline:
                raise Abort("time limit reached")
        if count:
            st = self.stats
            st.rewrites += done
            if len(P) > st.peak_monomials:
                st.peak_monomials = len(P)

    def _prepare(self, u: Unit) -> dict:
        """Per output of ``u``: its polynomial without monomials holding a proven vanishing pair, each
        term with the union of its variables' vanishing partners (None when there are none)."""
        van = self.vanish
        subs = {}
        for o, poly in u.polys.items():
            terms = []
            for m, c in poly:
                partners = set()
                for t in m:
                    partners.update(van.get(t, ()))
                if partners.isdisjoint(m):
                    terms.append((m, c, frozenset(partners) if partners else None))
            subs[o] = terms
        return subs

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
            self._subs[id(u)] = self._prepare(u)
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
                    self._substitute(P, occ, mons, o, self._subs[id(u)][o])
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
        left = {v for m in P for v in m if v >= self.c.n_inputs}
        if done != len(units) or left:  # cannot happen on an acyclic netlist
            raise Abort(f"internal error: {len(units) - done} units and {len(left)} nets left unrewritten")
        return P
