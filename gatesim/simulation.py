"""Bit-parallel simulation and switching activity.

Values are non-negative integers, bit 0 the least significant bit of each port. Ports up to 64
bits travel as ``uint64`` numpy arrays; wider ports as numpy object arrays of Python ints.

The kernels (:mod:`gatesim.kernels`) pack values into bit planes block by block as they simulate,
and several threads each take a range of blocks (:func:`set_threads`, ``$GATESIM_THREADS``).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from . import bitpack, kernels
from .compile import CompiledNetlist, compile_netlist
from .counting import priced_instances, top_cell
from .errors import LibraryError, SimulationError
from .gates import GATE_NAMES, GATES
from .library import CellLibrary, load_library
from .netlist import Netlist

GATE_ARITY = np.array([GATES[name].arity for name in GATE_NAMES], dtype=np.int64)

MAX_BLOCK_WORDS = 512  # words of 64 vectors per block, at most
MIN_BLOCK_WORDS = 64  # one plane tile (gatesim.kernels.TILE); fewer words per gate and the gate loops lose SIMD
CACHE_BUDGET = 1 << 20  # bytes of register file per thread: the block size keeps it in a core's L2 cache
MIN_WORK_PER_THREAD = 1 << 18  # gate-words: below this a second thread costs more than it saves

_threads: int | None = None
_pool = None
_pool_lock = threading.Lock()


def default_threads() -> int:
    """Threads a simulation uses: ``set_threads``, else ``$GATESIM_THREADS``, else the usable CPUs."""
    if _threads is not None:
        return _threads
    env = os.environ.get("GATESIM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise SimulationError(f"GATESIM_THREADS must be a positive integer, got {env!r}") from None
        if n < 1:
            raise SimulationError(f"GATESIM_THREADS must be a positive integer, got {env!r}")
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_threads(n: int | None) -> int | None:
    """Use ``n`` threads per simulation from now on (None: back to the default); returns the old setting."""
    global _threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise SimulationError(f"threads must be a positive integer, got {n!r}")
    old, _threads = _threads, n
    return old


def _executor(n: int):
    """The shared thread pool (grown on demand); the kernels release the GIL, so threads run in parallel."""
    global _pool
    from concurrent.futures import ThreadPoolExecutor

    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="gatesim-sim")
        return _pool


@dataclass(frozen=True)
class Program:
    """The simulation program of a compiled netlist (see :func:`gatesim.kernels.schedule`), cached on it.

    ``prog[k]``: (gate code, destination register, operand registers) of step ``k``; ``step_slot[k]``:
    the slot step ``k`` computes; ``slot_reg[s]``: register of slot ``s`` (-1: never read);
    ``const_regs``: registers of CONST0 and CONST1 (-1 when unused); ``in_regs`` / ``out_regs``:
    registers per port, ``[columns, 64]`` (-1 past the port's width), one column per 64 bits.
    """

    prog: np.ndarray
    step_slot: np.ndarray
    n_regs: int
    slot_reg: np.ndarray
    const_regs: np.ndarray
    in_regs: dict[str, np.ndarray]
    out_regs: dict[str, np.ndarray]

    @property
    def n_steps(self) -> int:
        return int(self.prog.shape[0])


def _columns_of(slots: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[slots]`` split in columns of 64 bits, padded with -1: shape ``[ceil(width/64), 64]``."""
    width = len(slots)
    cols = np.full((max(1, (width + 63) // 64), 64), -1, dtype=np.int32)
    cols.reshape(-1)[:width] = table[slots]
    return cols


def program(c: CompiledNetlist) -> Program:
    """The register-allocated evaluation program of ``c`` (computed once, cached on ``c``)."""
    p = c._cache.get("program")
    if p is None:
        arity = GATE_ARITY[c.op]
        prog, step_slot, reg, n_regs = kernels.schedule(c.op, c.fanin, arity, c.n_sources, c.output_slots)
        reg = reg.astype(np.int32)
        p = Program(
            prog=prog, step_slot=step_slot, n_regs=max(int(n_regs), 1), slot_reg=reg,
            const_regs=reg[[c.const0_slot, c.const1_slot]].copy(),
            in_regs={name: _columns_of(slots, reg) for name, slots in c.inputs.items()},
            out_regs={name: _columns_of(slots, reg) for name, slots in c.outputs.items()},
        )
        c._cache["program"] = p
    return p


def _block_words(n_regs: int, words: int) -> int:
    """Words per block: the largest power of two keeping the register file in ``CACHE_BUDGET``, within
    ``MIN_BLOCK_WORDS..MAX_BLOCK_WORDS``, and no more than the run needs."""
    b = MIN_BLOCK_WORDS
    while b < MAX_BLOCK_WORDS and 2 * b * 8 * n_regs <= CACHE_BUDGET:
        b *= 2
    return max(1, min(b, words))


def _split(words: int, block: int, work_per_word: int, threads: int | None) -> list[tuple[int, int]]:
    """Word ranges, one per thread, each a whole number of blocks (but the last)."""
    n = default_threads() if threads is None else threads
    blocks = -(-words // block)
    n = max(1, min(n, blocks, (work_per_word * words) // max(MIN_WORK_PER_THREAD, 1)))
    per = -(-blocks // n)
    bounds = [min(words, i * per * block) for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n) if bounds[i] < bounds[i + 1]]


def _run_ranges(job, ranges) -> None:
    if len(ranges) == 1:
        job(0, *ranges[0])
        return
    pool = _executor(len(ranges))
    for f in [pool.submit(job, t, a, b) for t, (a, b) in enumerate(ranges)]:
        f.result()


def _toggle_totals(toggles, prev, first, p: Program, n_slots: int) -> np.ndarray:
    """Per-slot toggles from per-range counts, adding each range's first transition (range boundary)."""
    total = toggles.sum(axis=0)
    for t in range(1, toggles.shape[0]):
        total += ((first[t] ^ prev[t - 1]) & np.uint64(1)).astype(np.int64)
    per_slot = np.zeros(n_slots, dtype=np.int64)
    per_slot[p.step_slot] = total
    return per_slot


def _check_names(c: CompiledNetlist, inputs: dict) -> None:
    unknown = [p for p in inputs if p not in c.inputs]
    if unknown:
        raise SimulationError(f"{c.name!r} has no input port {unknown[0]!r} (inputs: {', '.join(c.inputs) or 'none'})")
    missing = [p for p in c.inputs if p not in inputs]
    if missing:
        raise SimulationError(f"no value given for input port {missing[0]!r}")


def _not_integers(name: str, got) -> SimulationError:
    return SimulationError(f"input {name!r} must hold integers, got {got}")


def _port_columns(name: str, value, width: int) -> tuple[list[np.ndarray], bool]:
    """One port's values as uint64 columns of 64 bits each (LSB column first), and whether they came
    from a signed integer array (whose negative values the kernel reports as too wide).

    numpy integer arrays pass without a copy when already uint64 (or int64, reinterpreted); Python
    ints are converted once; wider-than-64-bit ports split into limbs (Python ints only there).
    """
    n_cols = max(1, (width + 63) // 64)
    zero = np.zeros(1, dtype=np.uint64)
    if isinstance(value, np.ndarray) and value.ndim == 2 and n_cols > 1:  # limbs [vectors, k], LSB limb first
        if value.dtype != np.uint64 or value.shape[1] != n_cols:
            raise SimulationError(f"input {name!r}: limbs must be a uint64 array of shape (vectors, {n_cols}), "
                                  f"got {value.dtype} {value.shape}")
        return [np.ascontiguousarray(value[:, k]) for k in range(n_cols)], False
    if isinstance(value, (list, tuple)):
        arr = np.asarray(value)
        if arr.dtype.kind in "iu" and bool not in map(type, value) and arr.ndim == 1:
            value = arr  # plain Python ints that numpy holds exactly
    if isinstance(value, np.ndarray) and value.dtype != object:
        kind = value.dtype.kind
        if kind not in "iub":
            raise _not_integers(name, f"dtype {value.dtype}")
        arr = value.ravel()
        signed = kind == "i"
        if arr.dtype == np.uint64 or arr.dtype == np.int64:
            arr = np.ascontiguousarray(arr).view(np.uint64)
        else:
            arr = arr.astype(np.uint64)
            signed = signed and arr.size and value.min() < 0
        if signed and width >= 64 and arr.size and value.min() < 0:
            raise SimulationError(f"input {name!r} has a negative value ({int(value.min())})")
        return [arr] + [zero] * (n_cols - 1), bool(signed)
    if isinstance(value, (bool, np.bool_)):
        raise _not_integers(name, repr(value))
    if isinstance(value, (int, np.integer)):
        arr = np.array([value], dtype=object)
    else:
        arr = np.array(value, dtype=object).ravel()
    for v in arr:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise _not_integers(name, repr(v))
        if v < 0 or int(v) >> width:
            raise SimulationError(f"input {name!r} value {v} does not fit in {width} bits")
    if n_cols == 1:
        return [arr.astype(np.uint64) if arr.size else np.zeros(0, dtype=np.uint64)], False
    mask = (1 << 64) - 1
    return [np.array([(int(v) >> (64 * k)) & mask for v in arr], dtype=np.uint64) for k in range(n_cols)], False


def _too_wide_error(name: str, col: np.ndarray, width: int, signed: bool) -> SimulationError:
    bad = col[(col >> np.uint64(width)) != 0] if width < 64 else col
    v = int(bad[0])
    if signed and v >> 63:
        return SimulationError(f"input {name!r} has a negative value ({v - (1 << 64)})")
    return SimulationError(f"input {name!r} value {v} does not fit in {width} bits")


@dataclass
class _Inputs:
    """Input ports as kernel columns: values, registers, widths (and what a too-wide column means)."""

    cols: list
    regs: np.ndarray
    widths: np.ndarray
    owners: list  # (port name, column values, width, signed) per column
    n: int


def _input_columns(c: CompiledNetlist, inputs: dict, reg_of: dict[str, np.ndarray]) -> _Inputs:
    _check_names(c, inputs)
    cols, regs, widths, owners = [], [], [], []
    sizes = set()
    for name, slots in c.inputs.items():
        width = len(slots)
        parts, signed = _port_columns(name, inputs[name], width)
        for k, col in enumerate(parts):
            if col.size != 1:
                sizes.add(col.size)
            w = min(64, width - 64 * k)
            cols.append(col)
            regs.append(reg_of[name][k])
            widths.append(w)
            owners.append((name, col, w, signed))
    if len(sizes) > 1:
        raise SimulationError(f"input ports have different numbers of vectors: {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    regs_arr = np.stack(regs) if regs else np.zeros((0, 64), dtype=np.int32)
    return _Inputs(cols, regs_arr, np.array(widths, dtype=np.int32), owners, n)


def _typed_list(arrays):
    from numba import types
    from numba.typed import List

    lst = List.empty_list(types.Array(types.uint64, 1, "C"))
    for a in arrays:
        lst.append(a)
    return lst


def _raise_too_wide(ins: _Inputs, too_wide: np.ndarray) -> None:
    hit = np.flatnonzero(too_wide.any(axis=0))
    if hit.size:
        name, col, width, signed = ins.owners[hit[0]]
        raise _too_wide_error(name, col, width, signed)


def _output_ports(c: CompiledNetlist, out: np.ndarray, limbs: bool = False) -> dict[str, np.ndarray]:
    """Output ports from output columns: uint64 arrays up to 64 bits; above, object arrays of ints, or
    with ``limbs`` uint64 arrays ``[vectors, k]`` (limb ``k`` = bits ``64k..64k+63``)."""
    result, row = {}, 0
    for name, slots in c.outputs.items():
        k = max(1, (len(slots) + 63) // 64)
        if k == 1:
            result[name] = out[row]
        elif limbs:
            result[name] = out[row : row + k].T
        else:
            total = out[row].astype(object)
            for j in range(1, k):
                total = total + (out[row + j].astype(object) << (64 * j))
            result[name] = total
        row += k
    return result


def _simulate(c: CompiledNetlist, inputs: dict, want_toggles: bool, threads: int | None = None, limbs: bool = False,
              outputs: bool = True):
    """Outputs per port (none unless ``outputs``), toggles per slot (None unless ``want_toggles``) and the
    number of vectors."""
    p = program(c)
    ins = _input_columns(c, inputs, p.in_regs)
    n = ins.n
    if outputs and p.out_regs:
        out_regs = np.concatenate(list(p.out_regs.values()))
        out_widths = np.array([min(64, len(s) - 64 * k) for s in c.outputs.values() for k in range(max(1, (len(s) + 63) // 64))],
                              dtype=np.int32)
    else:
        out_regs, out_widths = np.zeros((0, 64), dtype=np.int32), np.zeros(0, dtype=np.int32)
    out = np.empty((out_regs.shape[0], n), dtype=np.uint64)
    words = (n + 63) // 64
    if words == 0:
        return (_output_ports(c, out, limbs) if outputs else {}), np.zeros(c.n_slots, dtype=np.int64), n
    block = _block_words(p.n_regs, words)
    ranges = _split(words, block, p.n_steps + 64 * len(ins.cols) + 64 * out.shape[0], threads)
    parts = len(ranges)
    shape = (parts, p.n_steps if want_toggles else 0)
    toggles, prev, first = np.zeros(shape, np.int64), np.zeros(shape, np.uint64), np.zeros(shape, np.uint64)
    too_wide = np.zeros((parts, len(ins.cols)), dtype=np.bool_)
    cols = _typed_list(ins.cols)

    def job(t, w_start, w_stop):
        kernels.run_values(p.prog, p.n_regs, p.const_regs, cols, ins.regs, ins.widths, out, out_regs, out_widths, n,
                           w_start, w_stop, block, want_toggles, toggles[t], prev[t], first[t], too_wide[t])

    _run_ranges(job, ranges)
    _raise_too_wide(ins, too_wide)
    per_slot = _toggle_totals(toggles, prev, first, p, c.n_slots) if want_toggles else None
    return (_output_ports(c, out, limbs) if outputs else {}), per_slot, n


def plane_tiles(words: int) -> int:
    """Tiles of :data:`gatesim.kernels.TILE` words that hold ``words`` words of bit planes."""
    return -(-words // kernels.TILE)


def pack_inputs(c: CompiledNetlist, inputs: dict) -> tuple[np.ndarray, int]:
    """Tiled input bit planes and the vector count: word ``w`` of input bit ``i`` (slot order) is
    ``planes[w // TILE, i, w % TILE]``; bit ``j`` of a word is vector ``64*w + j``. (``planes_as_rows``
    gives the plain ``[bit, word]`` view.)"""
    rows = {name: _columns_of(slots, np.arange(c.n_inputs, dtype=np.int32)) for name, slots in c.inputs.items()}
    ins = _input_columns(c, inputs, rows)
    words = max(1, (ins.n + 63) // 64)
    planes = np.zeros((plane_tiles(words), c.n_inputs, kernels.TILE), dtype=np.uint64)
    too_wide = np.zeros((1, len(ins.cols)), dtype=np.bool_)
    if ins.n:
        bitpack.pack_columns(_typed_list(ins.cols), ins.regs, ins.widths, ins.n, planes, too_wide[0])
    _raise_too_wide(ins, too_wide)
    return planes, ins.n


def planes_as_rows(planes: np.ndarray, words: int | None = None) -> np.ndarray:
    """Tiled planes ``[tile, bit, word]`` as rows ``[bit, word]`` (a copy), ``words`` words long."""
    rows = planes.transpose(1, 0, 2).reshape(planes.shape[1], -1)
    return np.ascontiguousarray(rows[:, :words] if words is not None else rows)


def unpack_outputs(c: CompiledNetlist, planes: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Port values from tiled output planes (bits in the order of ``c.outputs``, as :func:`simulate_planes` gives)."""
    rows = np.arange(planes.shape[1], dtype=np.int32)
    regs, widths, start = [], [], 0
    for slots in c.outputs.values():
        regs.append(_columns_of(np.arange(start, start + len(slots)), rows))
        widths += [min(64, len(slots) - 64 * k) for k in range(regs[-1].shape[0])]
        start += len(slots)
    regs = np.concatenate(regs) if regs else np.zeros((0, 64), dtype=np.int32)
    out = np.empty((regs.shape[0], n), dtype=np.uint64)
    if n:
        bitpack.unpack_columns(planes, regs, np.array(widths, dtype=np.int32), n, out)
    return _output_ports(c, out)


def simulate_planes(c: CompiledNetlist, planes: np.ndarray, n: int, toggles: bool = False, threads: int | None = None):
    """The kernel alone: tiled input bit planes (from :func:`pack_inputs`) -> tiled output planes
    ``[tile, output bit, word]`` (bits in the order of ``c.outputs``) and toggles per slot (None unless asked)."""
    p = program(c)
    words = max(1, (n + 63) // 64)
    if planes.ndim != 3 or planes.shape[1:] != (c.n_inputs, kernels.TILE) or planes.shape[0] < plane_tiles(words):
        raise SimulationError(f"input planes must have shape ({plane_tiles(words)}, {c.n_inputs}, {kernels.TILE}) "
                              f"for {n} vectors, got {planes.shape}")
    in_regs = p.slot_reg[: c.n_inputs].astype(np.int32)
    out_regs = np.concatenate([p.slot_reg[s] for s in c.outputs.values()]).astype(np.int32) if c.outputs else np.zeros(0, np.int32)
    out = np.zeros((plane_tiles(words), out_regs.shape[0], kernels.TILE), dtype=np.uint64)
    block = _block_words(p.n_regs, words)
    ranges = _split(words, block, p.n_steps, threads)
    shape = (len(ranges), p.n_steps if toggles else 0)
    tog, prev, first = np.zeros(shape, np.int64), np.zeros(shape, np.uint64), np.zeros(shape, np.uint64)
    planes = np.ascontiguousarray(planes, dtype=np.uint64)

    def job(t, w_start, w_stop):
        kernels.run_planes(p.prog, p.n_regs, in_regs, p.const_regs, out_regs, planes, out, n, w_start, w_stop, block,
                           toggles, tog[t], prev[t], first[t])

    if n:
        _run_ranges(job, ranges)
    return out, (_toggle_totals(tog, prev, first, p, c.n_slots) if toggles else None)


def simulate(net: Netlist, /, **inputs) -> dict[str, np.ndarray]:
    """Simulate ``net`` on vectors given per input port; return output ports as integer arrays.

    Each keyword is an input port: an int, a sequence or a numpy array of non-negative ints
    (all of one length; scalars broadcast). Output ports up to 64 bits come back as ``uint64``
    arrays, wider ones as object arrays of Python ints. Runs on :func:`default_threads` threads.
    """
    outputs, _, _ = _simulate(compile_netlist(net), inputs, want_toggles=False)
    return outputs


def simulate_limbs(net: Netlist, inputs: dict, threads: int | None = None) -> dict[str, np.ndarray]:
    """:func:`simulate` with ports wider than 64 bits as uint64 limbs instead of Python ints, both ways:
    an input may be ``[vectors, k]`` (limb ``k`` = bits ``64k..64k+63``), such an output comes back so
    (no Python int is made: as fast as the narrow ports). ``threads``: None for :func:`default_threads`."""
    outputs, _, _ = _simulate(compile_netlist(net), inputs, want_toggles=False, threads=threads, limbs=True)
    return outputs


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
    """Transistors attributed to each slot's gate under ``lib`` (a cell's price spread evenly over its gates,
    also when the whole netlist is a cell)."""
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
    whole = top_cell(c, lib)
    if whole is not None:
        weights[c.n_sources :] = lib.cells[whole] / c.n_gates
    bad = np.flatnonzero(weights[c.n_sources :] < 0)
    if bad.size:
        raise LibraryError(f"library {lib.name!r} has no price for gate type {GATE_NAMES[c.op[c.n_sources + bad[0]]]}")
    return weights


def switching_activity(net: Netlist, /, library: "str | CellLibrary" = "static-cmos", **inputs) -> Activity:
    """Toggles between consecutive vectors of the given inputs, per gate type and transistor-weighted."""
    lib = load_library(library)
    c = compile_netlist(net)
    _, toggles, n = _simulate(c, inputs, want_toggles=True, outputs=False)
    by_code = np.bincount(c.op.astype(np.int64), weights=toggles, minlength=len(GATE_NAMES))
    weighted = float(np.dot(slot_weights(c, lib), toggles))
    return Activity(
        design=net.name,
        library=lib.name,
        vectors=n,
        toggles={GATE_NAMES[k]: int(v) for k, v in enumerate(by_code) if k >= 3 and (c.op == k).any()},
        weighted_toggles=int(weighted) if weighted.is_integer() else weighted,
    )
