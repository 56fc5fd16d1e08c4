"""Gate and transistor counts of a netlist under a cell library."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import kernels
from .compile import CompiledNetlist, compile_netlist
from .errors import LibraryError
from .gates import GATE_NAMES
from .library import CellLibrary, load_library
from .netlist import Netlist


@dataclass(frozen=True)
class Counts:
    """What a netlist costs under one library.

    ``gates``: gates per type (all gates, also those inside priced cells); ``cells``: instances
    priced as a cell, by cell name; ``transistors``: total under ``library`` (cell prices replace
    the gates inside them; a netlist named like a library cell is priced as that one cell); ``logic_depth``: longest input-to-output path in gates.
    """

    design: str
    library: str
    gates: dict[str, int]
    gate_count: int
    cells: dict[str, int]
    transistors: int
    logic_depth: int
    inputs: dict[str, int]
    outputs: dict[str, int]

    def to_dict(self) -> dict:
        return {
            "design": self.design,
            "library": self.library,
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs),
            "gate_count": self.gate_count,
            "gates": dict(self.gates),
            "cells": dict(self.cells),
            "transistors": self.transistors,
            "logic_depth": self.logic_depth,
        }


def top_cell(c: CompiledNetlist, lib: CellLibrary) -> str | None:
    """The library cell the whole netlist is, when the library prices one by the netlist's name (a ``full_adder``
    counted on its own costs what every full adder instance inside an adder costs)."""
    return c.name if c.name in lib.cells and c.n_gates else None


def priced_instances(c: CompiledNetlist, lib: CellLibrary) -> np.ndarray:
    """For each instance, the outermost instance at or above it priced as a cell (-1: none)."""
    n = len(c.inst_cell)
    top = np.full(n, -1, dtype=np.int32)
    for i in range(n):  # parents are always listed before their children
        p = c.inst_parent[i]
        if p >= 0 and top[p] >= 0:
            top[i] = top[p]
        elif c.inst_cell[i] in lib.cells:
            top[i] = i
    return top


def _check_total(counts: np.ndarray, lib: CellLibrary, name: str) -> None:
    """The kernel sums gate prices in int64 (cells are summed in Python ints): refuse, rather than wrap, when the
    gates at their prices could exceed it."""
    prices = lib.gate_price_array()
    bound = sum(int(n) * max(int(p), 0) for n, p in zip(counts, prices))
    if bound >= 2**63:
        raise LibraryError(f"{name!r} under library {lib.name!r}: the transistor total may exceed 2^63; "
                           "the prices are too large for this netlist")


def count(net: Netlist, library: "str | CellLibrary" = "static-cmos") -> Counts:
    """Gates by type, transistors under ``library`` (honouring its cells) and logic depth."""
    lib = load_library(library)
    c = compile_netlist(net)
    top = priced_instances(c, lib)
    counts, transistors, used, unpriced = kernels.count_gates(
        c.op, len(GATE_NAMES), c.n_sources, c.inst, top, lib.gate_price_array()
    )
    if unpriced >= 0:
        raise LibraryError(f"library {lib.name!r} has no price for gate type {GATE_NAMES[c.op[unpriced]]} (used in {net.name!r})")
    _check_total(counts, lib, net.name)
    cells = Counter(c.inst_cell[i] for i in np.flatnonzero(used))
    transistors = int(transistors) + sum(lib.cells[name] * k for name, k in cells.items())
    whole = top_cell(c, lib)
    if whole is not None:
        cells, transistors = Counter({whole: 1}), lib.cells[whole]
    gates = {GATE_NAMES[k]: int(v) for k, v in enumerate(counts) if v and k >= 3}
    return Counts(
        design=net.name,
        library=lib.name,
        gates=gates,
        gate_count=c.n_gates,
        cells=dict(sorted(cells.items())),
        transistors=transistors,
        logic_depth=c.depth,
        inputs={p: len(b) for p, b in net.inputs.items()},
        outputs={p: len(b) for p, b in net.outputs.items()},
    )
