"""Known cells by function: what a cell instance that lost inputs to constants may still be called.

A *cell* is a named sub-netlist (``full_adder``, ``half_adder``, ...) that circuits instantiate and cell
libraries may price as one. :func:`register_cell` makes one known by its Boolean function; circuit
packages register their cells (``circuits`` registers every argument-free ``@cell`` builder), so
:func:`gatesim.optimize` can re-tag a full adder whose carry in is 0 as a ``half_adder``: its reduced
function, compared with every registered cell of the same number of inputs, under every order of the
inputs.

A cell's function is the set of its *non-trivial* outputs (not constant, not a copy of one input,
duplicates counted once) over the inputs they depend on; cells of more than :data:`MAX_CELL_INPUTS`
such inputs are not matched.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import permutations

from .errors import NetlistError
from .logic import evaluate, permute, restrict, support, var_table
from .netlist import Netlist

MAX_CELL_INPUTS = 6
"""Cells (and instances) with more inputs than this are not compared by truth table (6! input orders)."""

CellSource = Netlist | Callable[[], Netlist]
_REGISTERED: list[CellSource] = []


def register_cell(cell: CellSource) -> CellSource:
    """Make ``cell`` (a netlist, or a function building it, called when first needed) a known cell,
    under the netlist's name. Returns ``cell``, so it works as a decorator."""
    if not isinstance(cell, Netlist) and not callable(cell):
        raise NetlistError(f"register_cell takes a Netlist or a function returning one, got {type(cell).__name__}")
    _REGISTERED.append(cell)
    return cell


def registered_cells() -> dict[str, Netlist]:
    """Every registered cell: name -> netlist (a later registration of a name replaces an earlier one)."""
    cells: dict[str, Netlist] = {}
    for src in _REGISTERED:
        net = src if isinstance(src, Netlist) else src()
        if not isinstance(net, Netlist):
            raise NetlistError(f"registered cell builder {src!r} returned {type(net).__name__}, not a Netlist")
        cells[net.name] = net
    return cells


def _trivial(tt: int, n: int) -> bool:
    return tt == 0 or tt == (1 << (1 << n)) - 1 or any(tt == var_table(j, n) for j in range(n))


def output_function(tts: Iterable[int], n: int) -> tuple[int, tuple[int, ...]]:
    """Canonical function of outputs ``tts`` over ``n`` variables: (inputs they depend on, the
    non-trivial outputs over those inputs, sorted, duplicates dropped)."""
    tts = sorted({t for t in tts if not _trivial(t, n)})
    used = sorted({v for t in tts for v in support(t, n)})
    return len(used), tuple(sorted({restrict(t, n, used) for t in tts}))


def output_tables(net: Netlist) -> tuple[int, list[int]]:
    """(n, the truth table of every output bit, in port order, over the netlist's n input bits)."""
    from .compile import compile_netlist

    c = compile_netlist(net)
    n = c.n_inputs
    mask = (1 << (1 << n)) - 1
    val = [0] * c.n_slots
    for j in range(n):
        val[j] = var_table(j, n)
    val[c.const1_slot] = mask
    for slot, kind, fanin, _ in c.gate_template():
        val[slot] = evaluate(kind, [val[f] for f in fanin], mask)
    return n, [val[int(s)] for s in c.output_slots]


def netlist_function(net: Netlist) -> tuple[int, tuple[int, ...]] | None:
    """:func:`output_function` of a netlist's output bits over its input bits (``None`` when it has more
    than :data:`MAX_CELL_INPUTS` input bits)."""
    if sum(len(b) for b in net.inputs.values()) > MAX_CELL_INPUTS:
        return None
    n, tables = output_tables(net)
    return output_function(tables, n)


@dataclass(frozen=True)
class CellMatcher:
    """Look-up of registered cells by function, under every order of their inputs."""

    exact: dict  # (n_inputs, sorted output tables) -> cell names
    orders: dict  # cell name -> (n_inputs, [set of output tables under each input order])

    @classmethod
    def build(cls, cells: dict[str, Netlist] | Iterable[Netlist]) -> CellMatcher:
        nets = cells.values() if isinstance(cells, dict) else cells
        exact: dict = {}
        orders: dict = {}
        for net in nets:
            fn = netlist_function(net)
            if fn is None or fn[0] == 0:
                continue
            n, tts = fn
            sets = []
            for p in permutations(range(n)):
                outs = tuple(sorted(permute(t, p, n) for t in tts))
                sets.append(frozenset(outs))
                names = exact.setdefault((n, outs), [])
                if net.name not in names:
                    names.append(net.name)
            orders[net.name] = (n, sets)
        return cls(exact, orders)

    def match(self, n: int, tts: tuple[int, ...], prefer: str | None = None) -> str | None:
        """The registered cell computing exactly these outputs (``prefer`` if it does, else the first
        by name); ``tts`` as :func:`output_function` gives them."""
        names = self.exact.get((n, tuple(sorted(tts))))
        if not names:
            return None
        return prefer if prefer in names else min(names)

    def within(self, name: str, n: int, tts: tuple[int, ...]) -> bool:
        """Whether cell ``name`` with all its ``n`` inputs computes these outputs among others (the cell
        with unused outputs)."""
        entry = self.orders.get(name)
        if entry is None or entry[0] != n:
            return False
        want = set(tts)
        return any(want <= s for s in entry[1])


_MATCHERS: dict = {}


def cell_matcher(cells: dict[str, Netlist] | None = None) -> CellMatcher:
    """The matcher of ``cells`` (default: the registered cells), memoized on the cells' identities."""
    cells = registered_cells() if cells is None else cells
    key = tuple(sorted((name, id(net), net.number_of_nodes()) for name, net in cells.items()))
    hit = _MATCHERS.get(key)
    if hit is None:  # the netlists are kept with their matcher, so their ids stay theirs
        hit = _MATCHERS[key] = (CellMatcher.build(cells), list(cells.values()))
    return hit[0]
