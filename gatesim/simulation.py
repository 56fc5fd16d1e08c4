"""Bit-parallel simulation and switching activity.

Values are non-negative integers, bit 0 the least significant bit of each port. Ports up to 64
bits travel as ``uint64`` numpy arrays; wider ports as numpy object arrays of Python ints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .compile import CompiledNetlist, compile_netlist
from .counting import priced_instances
from .errors import LibraryError, SimulationError
from .gates import GATE_NAMES
from .library import CellLibrary, load_library
from .netlist import Netlist

CHUNK_WORDS = 64  # words of 64 vectors simulated per pass over the netlist


def _as_int_array(name: str, value, width: int) -> np.ndarray:
    """Coerce one port's values to uint64 (width <= 64) or an object array of ints; check range."""
    if isinstance(value, np.ndarray) and value.dtype != object:
        if value.dtype.kind not in "iub":
            raise SimulationError(f"input {name!r} must hold integers, got dtype {value.dtype}")
        if value.dtype.kind == "i" and value.size and value.min() < 0:
            raise SimulationError(f"input {name!r} has a negative value ({int(value.min())})")
        arr = value.astype(np.uint64).ravel()
        if width < 64 and arr.size and int(arr.max()) >> width:
            raise SimulationError(f"input {name!r} value {int(arr.max())} does not fit in {width} bits")
        return arr if width <= 64 else arr.astype(object)
    arr = np.array(value, dtype=object).ravel()
    for v in arr:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise SimulationError(f"input {name!r} must hold integers, got {v!r}")
        if v < 0 or int(v) >> width:
            raise SimulationError(f"input {name!r} value {v} does not fit in {width} bits")
    if width <= 64:
        return np.array([int(v) for v in arr], dtype=np.uint64)
    return np.array([int(v) for v in arr], dtype=object)


def _limbs(arr: np.ndarray, width: int) -> list[np.ndarray]:
    """Split values into 64-bit uint64 limbs, least significant first."""
    if width <= 64:
        return [arr]
    mask = (1 << 64) - 1
    return [np.array([(int(v) >> (64 * k)) & mask for v in arr], dtype=np.uint64) for k in range((width + 63) // 64)]


def pack_inputs(c: CompiledNetlist, inputs: dict, ) -> tuple[np.ndarray, int]:
    """Bit planes ``[n_input_bits, words]`` for the compiled netlist's input slots, and the vector count."""
    unknown = [p for p in inputs if p not in c.inputs]
    if unknown:
        raise SimulationError(f"{c.name!r} has no input port {unknown[0]!r} (inputs: {', '.join(c.inputs) or 'none'})")
    missing = [p for p in c.inputs if p not in inputs]
    if missing:
        raise SimulationError(f"no value given for input port {missing[0]!r}")
    arrays = {p: _as_int_array(p, inputs[p], len(c.inputs[p])) for p in c.inputs}
    sizes = {a.size for a in arrays.values() if a.size != 1}
    if len(sizes) > 1:
        raise SimulationError(f"input ports have different numbers of vectors: {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    n_words = max(1, (n + 63) // 64)
    planes = np.zeros((c.n_inputs, n_words), dtype=np.uint64)
    for p, slots in c.inputs.items():
        a = arrays[p]
        if a.size == 1 and n != 1:
            a = np.repeat(a, n)
        width = len(slots)
        for k, limb in enumerate(_limbs(a, width)):
            bits = min(64, width - 64 * k)
            planes[slots[64 * k : 64 * k + bits]] = kernels.pack_bits(limb, bits, n_words)
    return planes, n


def unpack_outputs(c: CompiledNetlist, planes: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Port values from output planes (rows in the order of ``c.outputs``)."""
    result = {}
    row = 0
    for p, slots in c.outputs.items():
        width = len(slots)
        if width <= 64:
            result[p] = kernels.unpack_bits(planes[row : row + width], n)
        else:
            total = np.zeros(n, dtype=object)
            for k in range(0, width, 64):
                limb = kernels.unpack_bits(planes[row + k : row + min(width, k + 64)], n)
                total = total + (limb.astype(object) << k)
            result[p] = total
        row += width
    return result


def simulate(net: Netlist, /, **inputs) -> dict[str, np.ndarray]:
    """Simulate ``net`` on vectors given per input port; return output ports as integer arrays.

    Each keyword is an input port: an int, a sequence or a numpy array of non-negative ints
    (all of one length; scalars broadcast). Output ports up to 64 bits come back as ``uint64``
    arrays, wider ones as object arrays of Python ints.
    """
    c = compile_netlist(net)
    planes, n = pack_inputs(c, inputs)
    out, _ = kernels.simulate_planes(
        c.op, c.fanin, c.n_inputs, c.n_sources, c.output_slots, planes, n, CHUNK_WORDS, False
    )
    return unpack_outputs(c, out, n)


@dataclass(frozen=True)
class Activity:
    """Switching activity between consecutive vectors.

    ``toggles``: output transitions per gate type summed over the run; ``transitions``: number of
    consecutive vector pairs; ``weighted_toggles``: sum over gates of toggles x transistors of that
    gate under ``library`` (a gate inside a priced cell is weighted by the cell's transistors divided
    by its number of gates), i.e. transistor-weighted toggles; per-transition means alongside.
    """

    design: str
    library: str
    vectors: int
    toggles: dict[str, int]
    weighted_toggles: int | float

    @property
    def transitions(self) -> int:
        return max(self.vectors - 1, 0)

    @property
    def total_toggles(self) -> int:
        return sum(self.toggles.values())

    @property
    def mean_toggles(self) -> float:
        return self.total_toggles / self.transitions if self.transitions else 0.0

    @property
    def mean_weighted_toggles(self) -> float:
        """Transistor-weighted toggles per operation (per consecutive vector pair)."""
        return self.weighted_toggles / self.transitions if self.transitions else 0.0

    def to_dict(self) -> dict:
        return {
            "design": self.design,
            "library": self.library,
            "vectors": self.vectors,
            "toggles": dict(self.toggles),
            "total_toggles": self.total_toggles,
            "weighted_toggles": self.weighted_toggles,
            "mean_toggles": self.mean_toggles,
            "mean_weighted_toggles": self.mean_weighted_toggles,
        }


def slot_weights(c: CompiledNetlist, lib: CellLibrary) -> np.ndarray:
    """Transistors attributed to each slot's gate under ``lib`` (cells spread evenly over their gates)."""
    price = lib.gate_price_array()
    weights = price[c.op].astype(np.float64)
    top = priced_instances(c, lib)
    owner = np.where(c.inst >= 0, top[np.maximum(c.inst, 0)] if len(top) else -1, -1)
    owner[: c.n_sources] = -1
    inside = owner >= 0
    if inside.any():
        gates_per = np.bincount(owner[inside], minlength=len(top))
        cell_price = np.array([lib.cells.get(name, 0) for name in c.inst_cell], dtype=np.float64)
        weights[inside] = cell_price[owner[inside]] / gates_per[owner[inside]]
    bad = np.flatnonzero(weights[c.n_sources :] < 0)
    if bad.size:
        raise LibraryError(f"library {lib.name!r} has no price for gate type {GATE_NAMES[c.op[c.n_sources + bad[0]]]}")
    return weights


def switching_activity(net: Netlist, /, library: "str | CellLibrary" = "static-cmos", **inputs) -> Activity:
    """Toggles between consecutive vectors of the given inputs, per gate type and transistor-weighted."""
    lib = load_library(library)
    c = compile_netlist(net)
    planes, n = pack_inputs(c, inputs)
    _, toggles = kernels.simulate_planes(
        c.op, c.fanin, c.n_inputs, c.n_sources, c.output_slots, planes, n, CHUNK_WORDS, True
    )
    by_code = np.bincount(c.op.astype(np.int64), weights=toggles, minlength=len(GATE_NAMES))
    weighted = float(np.dot(slot_weights(c, lib), toggles))
    return Activity(
        design=net.name,
        library=lib.name,
        vectors=n,
        toggles={GATE_NAMES[k]: int(v) for k, v in enumerate(by_code) if k >= 3 and (c.op == k).any()},
        weighted_toggles=int(weighted) if weighted.is_integer() else weighted,
    )
