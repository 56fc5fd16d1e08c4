"""Proof by simulation: compare a netlist with a Python-integer reference on many vectors."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .compile import compile_netlist
from .errors import SimulationError
from .netlist import Netlist
from .simulation import simulate

EXHAUSTIVE_LIMIT = 1 << 20  # every input combination is simulated when there are at most this many
BATCH = 1 << 16
MAX_VECTORS = 10**9  # random vectors one verify may run (hours for a wide design): a typo must not run for days


class Stimulus(Protocol):
    """A design's own test vectors (port -> array of ints), used instead of the generic ones when the
    input space is too large to enumerate: ``edges()`` once, then ``random(n, rng)`` batches."""

    def edges(self) -> dict: ...

    def random(self, n: int, rng: np.random.Generator) -> dict: ...


@dataclass
class VerifyResult:
    """Outcome of :func:`verify`: how many vectors, whether exhaustive, and the first mismatch."""

    design: str
    vectors: int
    exhaustive: bool
    mismatches: int = 0
    first_failure: dict | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def to_dict(self) -> dict:
        return {
            "design": self.design,
            "vectors": self.vectors,
            "exhaustive": self.exhaustive,
            "mismatches": self.mismatches,
            "ok": self.ok,
            "first_failure": self.first_failure,
            "seconds": round(self.seconds, 3),
        }


def edge_values(width: int) -> list[int]:
    """Edge cases for one port: 0, 1, all ones, alternating bits, single bits, low and high masks."""
    m = (1 << width) - 1
    alt = int("01" * width, 2) & m
    vals = {0, 1, m, alt, m ^ alt, m - 1, m >> 1, (m >> 1) + 1}
    for i in range(width):
        vals.update({1 << i, (1 << i) - 1, m ^ (1 << i), m ^ ((1 << i) - 1)})
    return sorted(v & m for v in vals)


def edge_vectors(widths: dict[str, int], limit: int = 40_000, seed: int = 1) -> dict[str, np.ndarray]:
    """Edge-case vectors: the product of per-port edge values (sampled when larger than ``limit``),
    plus carry-chain pairs (b = ~a, b = ~a + 1) for the first two ports when they are equally wide."""
    ports = list(widths)
    per_port = [edge_values(widths[p]) for p in ports]
    total = 1
    for v in per_port:
        total *= len(v)
    if total <= limit:
        rows = list(itertools.product(*per_port))
    else:
        rng = np.random.default_rng(seed)
        rows = [tuple(v[int(rng.integers(len(v)))] for v in per_port) for _ in range(limit)]
    cols = {p: [r[k] for r in rows] for k, p in enumerate(ports)}
    if len(ports) >= 2 and widths[ports[0]] == widths[ports[1]]:
        m = (1 << widths[ports[0]]) - 1
        a_vals = edge_values(widths[ports[0]])
        for a in a_vals:
            for b in ((m ^ a), ((m ^ a) + 1) & m):
                cols[ports[0]].append(a)
                cols[ports[1]].append(b)
                for p in ports[2:]:
                    cols[p].append((1 << widths[p]) - 1 if (a & 1) else 0)
    return {p: np.array(v, dtype=object) for p, v in cols.items()}


def random_vectors(widths: dict[str, int], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` uniformly random values per port, as Python ints."""
    out = {}
    for p, w in widths.items():
        words = rng.integers(0, 1 << 32, size=(n, (w + 31) // 32), dtype=np.uint64)
        vals = np.zeros(n, dtype=object)
        for k in range(words.shape[1]):
            vals = vals + (words[:, k].astype(object) << (32 * k))
        out[p] = vals & ((1 << w) - 1)
    return out


def exhaustive_vectors(widths: dict[str, int], start: int, stop: int) -> dict[str, np.ndarray]:
    """Vectors ``start..stop-1`` of the enumeration of every input combination (first port lowest bits)."""
    idx = np.arange(start, stop, dtype=np.int64)
    out, shift = {}, 0
    for p, w in widths.items():
        out[p] = ((idx >> shift) & ((1 << w) - 1)).astype(object)
        shift += w
    return out


def _ints(x) -> np.ndarray:
    return np.array([int(v) for v in np.asarray(x, dtype=object).ravel()], dtype=object)


def _check(net, ref, vecs, result: VerifyResult, describe=None) -> None:
    got = simulate(net, **vecs)
    want = ref({p: v.copy() for p, v in vecs.items()})
    n = len(next(iter(vecs.values())))
    bad = np.zeros(n, dtype=bool)
    for port in net.outputs:
        if port not in want:
            from .errors import DesignError

            raise DesignError(f"the reference model of {net.name!r} gives no value for output port {port!r}")
        w = _ints(want[port])
        if w.size == 1 and n != 1:
            w = np.repeat(w, n)
        bad |= _ints(got[port]) != w
    k = int(bad.sum())
    if k and result.first_failure is None:
        i = int(np.flatnonzero(bad)[0])
        result.first_failure = {
            "inputs": {p: int(v[i]) for p, v in vecs.items()},
            "expected": {p: int(_ints(want[p])[i if _ints(want[p]).size > 1 else 0]) for p in net.outputs},
            "got": {p: int(got[p][i]) for p in net.outputs},
        }
        if describe is not None:
            result.first_failure["decoded"] = {
                side: {p: describe(p, v) for p, v in result.first_failure[side].items()}
                for side in ("inputs", "expected", "got")}
    result.mismatches += k
    result.vectors += n


def verify(
    net: Netlist,
    reference: Callable[[dict], dict],
    vectors: int = 100_000,
    seed: int = 0,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
    progress: Callable[[int], None] | None = None,
    stimulus: Stimulus | None = None,
    describe: Callable[[str, int], str] | None = None,
) -> VerifyResult:
    """Simulate ``net`` against ``reference`` (port -> object array of ints, in and out).

    Every input combination when there are at most ``exhaustive_limit``; otherwise the edge cases
    of :func:`edge_vectors` plus ``vectors`` uniformly random vectors (seeded) -- or, given a
    ``stimulus``, its ``edges()`` plus ``vectors`` of its ``random`` draws. ``describe(port, value)``
    adds readable values to the first failure (``first_failure["decoded"]``). ``progress`` is called
    with the number of vectors done after each batch.
    """
    import time

    if isinstance(vectors, bool) or not isinstance(vectors, int) or not 0 <= vectors <= MAX_VECTORS:
        raise SimulationError(f"vectors must be an integer in 0..{MAX_VECTORS:,}, got {vectors!r}")
    t0 = time.perf_counter()
    c = compile_netlist(net)
    widths = {p: len(s) for p, s in c.inputs.items()}
    space = 1 << sum(widths.values())
    result = VerifyResult(design=net.name, vectors=0, exhaustive=space <= exhaustive_limit)
    if result.exhaustive:
        for start in range(0, space, BATCH):
            _check(net, reference, exhaustive_vectors(widths, start, min(space, start + BATCH)), result, describe)
            if progress:
                progress(result.vectors)
    else:
        edges = stimulus.edges() if stimulus is not None else edge_vectors(widths)
        n_edges = len(next(iter(edges.values())))
        for start in range(0, n_edges, BATCH):
            _check(net, reference, {p: v[start : start + BATCH] for p, v in edges.items()}, result, describe)
        if progress:
            progress(result.vectors)
        rng = np.random.default_rng(seed)
        draw = stimulus.random if stimulus is not None else (lambda k, r: random_vectors(widths, k, r))
        done = 0
        while done < vectors:
            k = min(BATCH, vectors - done)
            _check(net, reference, draw(k, rng), result, describe)
            done += k
            if progress:
                progress(result.vectors)
    result.seconds = time.perf_counter() - t0
    return result
