"""Cell libraries: transistors per primitive gate and, optionally, per named cell.

A library is data. The built-ins live as TOML files in ``gatesim/libraries/``; users load
their own from a TOML or JSON file with the same layout::

    name = "my-lib"
    description = "what the numbers are"
    [gates]            # transistors per primitive gate type
    NOT = 2
    NAND2 = 4
    [cells]            # optional: transistors per sub-netlist instance, by the sub-netlist's name
    full_adder = 28

A cell price replaces the sum of the gates inside every instance of that cell (the outermost
priced instance wins when cells nest).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .datafile import read_data_file
from .errors import LibraryError
from .gates import GATE_NAMES, LOGIC_GATES


@dataclass(frozen=True)
class CellLibrary:
    """Transistor counts per gate type and per cell name (units: transistors)."""

    name: str
    gates: dict[str, int]
    cells: dict[str, int] = field(default_factory=dict)
    description: str = ""
    source: str = ""

    def __post_init__(self):
        for g, v in self.gates.items():
            if g not in LOGIC_GATES:
                raise LibraryError(f"library {self.name!r} prices unknown gate type {g!r} (known: {', '.join(LOGIC_GATES)})")
            _check_count(self.name, g, v)
        for c, v in self.cells.items():
            _check_count(self.name, c, v)

    def gate_price_array(self) -> np.ndarray:
        """Transistors per gate code (-1 where the library has no price)."""
        arr = np.full(len(GATE_NAMES), -1, dtype=np.int64)
        arr[:3] = 0  # inputs and constants cost nothing
        for g, v in self.gates.items():
            arr[GATE_NAMES.index(g)] = v
        return arr

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "gates": dict(self.gates), "cells": dict(self.cells)}


MAX_PRICE = 2**32  # transistors: the most any gate or cell may cost (keeps every netlist's total far below 2^63)


def _check_count(lib: str, key: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_PRICE:
        raise LibraryError(f"library {lib!r}: price of {key!r} must be a non-negative integer of at most "
                           f"{MAX_PRICE:,} transistors, got {v!r}")


def builtin_libraries() -> list[str]:
    """Names of the libraries shipped with gatesim."""
    files = resources.files("gatesim").joinpath("libraries")
    return sorted(p.name[: -len(".toml")] for p in files.iterdir() if p.name.endswith(".toml"))


def _from_mapping(data, source: str, default_name: str) -> CellLibrary:
    if not isinstance(data, dict):
        raise LibraryError(f"library file {source}: expected a table at top level")
    unknown = set(data) - {"name", "description", "gates", "cells"}
    if unknown:
        raise LibraryError(f"library file {source}: unknown key {sorted(unknown)[0]!r} (expected name, description, gates, cells)")
    gates, cells = data.get("gates", {}), data.get("cells", {})
    if not isinstance(gates, dict) or not isinstance(cells, dict):
        raise LibraryError(f"library file {source}: 'gates' and 'cells' must be tables of name = transistors")
    return CellLibrary(
        name=str(data.get("name", default_name)),
        gates=dict(gates),
        cells=dict(cells),
        description=str(data.get("description", "")),
        source=source,
    )


def load_library(spec: "str | Path | CellLibrary") -> CellLibrary:
    """A library by built-in name (``static-cmos``, ``yosys-cmos``, ``paper``) or TOML/JSON file path."""
    if isinstance(spec, CellLibrary):
        return spec
    text_spec = str(spec)
    path = Path(text_spec)
    if text_spec in builtin_libraries() and not path.suffix:
        res = resources.files("gatesim").joinpath("libraries", f"{text_spec}.toml")
        return _from_mapping(read_data_file(res, "library file", LibraryError), f"built-in {text_spec}", text_spec)
    if not path.suffix and not path.exists():
        raise LibraryError(f"unknown cell library {text_spec!r} (built-in: {', '.join(builtin_libraries())}; or a .toml/.json file)")
    data = read_data_file(path, "library file", LibraryError)
    return _from_mapping(data, text_spec, path.stem)
