"""Formal equivalence of two combinational netlists: proven, refuted with a counterexample, or undecided.

:func:`equivalent` matches the ports by name (inputs and outputs alike, same widths) and then:

1. **simulates** both on seeded random vectors plus edge cases (0, all ones): a difference found is a
   counterexample at once;
2. **proves**, by the method asked for (``auto`` takes the first that applies):

   * ``exhaustive`` — simulation of every input combination, when there are at most 2^20 (a proof too);
   * ``prove`` — when both are multipliers (inputs ``a``, ``b`` of one width, output ``p``): each proven equal
     to ``a*b`` (unsigned, else two's complement) by :func:`gatesim.prove.prove_multiplier`, so equal to each
     other; one proven and the other refuted makes them differ, at the refuted one's counterexample. Algebraic
     rewriting scales where SAT does not (a 10-bit multiplier pair is beyond a minute of ABC); when neither
     claim decides both within the time, ``auto`` goes on to ``abc``;
   * ``abc`` — a Yosys miter of the two (``miter -equiv -flatten``), mapped to gates and handed to ABC's
     combinational equivalence checker (``&cec -m``: SAT sweeping with simulation) through Yosys's ``abc``
     pass; ABC writes its verdict with ``write_status``;
   * ``sat`` — the same miter proven by Yosys's own SAT solver (``sat -prove trigger 0``).

A counterexample from Yosys (``sat -show-inputs``, parsed) is confirmed by simulating both netlists on it
before it is reported; a run past ``timeout`` seconds answers ``equal=None`` ("could not prove within N s"),
never a guess.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from .compile import compile_netlist
from .errors import GatesimError, NetlistError
from .netlist import Netlist
from .simulation import simulate
from .verify import EXHAUSTIVE_LIMIT, exhaustive_vectors, random_vectors

METHODS = ("auto", "exhaustive", "prove", "abc", "sat")


@dataclass
class EquivalenceResult:
    """``equal``: True (proven), False (``counterexample`` holds the inputs and both netlists' outputs) or
    None (undecided within the time limit); ``method`` says what decided it."""

    equal: bool | None
    method: str
    seconds: float
    counterexample: dict | None = None
    detail: str = ""

    def to_dict(self) -> dict:
        return {"equal": self.equal, "method": self.method, "seconds": round(self.seconds, 3),
                "counterexample": self.counterexample, "detail": self.detail}


def port_mismatch(a: Netlist, b: Netlist) -> str:
    """How the ports of ``a`` and ``b`` differ (names or widths), or ``""``."""
    problems = []
    for kind, pa, pb in (("input", a.inputs, b.inputs), ("output", a.outputs, b.outputs)):
        for p in pa:
            if p not in pb:
                problems.append(f"{kind} {p!r} only in {a.name!r}")
            elif len(pa[p]) != len(pb[p]):
                problems.append(f"{kind} {p!r} is {len(pa[p])} bits in {a.name!r}, {len(pb[p])} in {b.name!r}")
        problems += [f"{kind} {p!r} only in {b.name!r}" for p in pb if p not in pa]
    return "; ".join(problems)


def _as_ints(x) -> list[int]:
    return [int(v) for v in np.asarray(x, dtype=object).ravel()]


def _cex(a: Netlist, b: Netlist, vecs: dict) -> dict | None:
    """The first vector on which ``a`` and ``b`` differ: inputs, both outputs, the outputs that differ."""
    out_a, out_b = simulate(a, **vecs), simulate(b, **vecs)
    n = len(next(iter(vecs.values()))) if vecs else 1
    bad = np.zeros(n, dtype=bool)
    for p in a.outputs:
        bad |= np.array(_as_ints(out_a[p])) != np.array(_as_ints(out_b[p]))
    if not bad.any():
        return None
    i = int(np.flatnonzero(bad)[0])
    pick = lambda d: {p: _as_ints(v)[i] for p, v in d.items()}
    ya, yb = pick(out_a), pick(out_b)
    return {"inputs": pick(vecs), "a": ya, "b": yb, "differ": [p for p in a.outputs if ya[p] != yb[p]]}


def _edge_and_random(widths: dict, vectors: int, seed: int) -> dict:
    rnd = random_vectors(widths, vectors, np.random.default_rng(seed))
    edge = {p: np.array([0, (1 << w) - 1], dtype=object) for p, w in widths.items()}
    return {p: np.concatenate([edge[p], rnd[p]]) for p in widths}


def equivalent(a: Netlist, b: Netlist, *, timeout: float = 60.0, method: str = "auto", vectors: int = 4096,
               seed: int = 0) -> EquivalenceResult:
    """Whether ``a`` and ``b`` compute the same outputs for every input (see the module docstring).

    Ports must match by name and width (:class:`NetlistError` otherwise). ``timeout``: seconds the proof may
    take; ``vectors``: random vectors simulated first (0 for none)."""
    if method not in METHODS:
        raise GatesimError(f"unknown equivalence method {method!r} (methods: {', '.join(METHODS)})")
    diff = port_mismatch(a, b)
    if diff:
        raise NetlistError(f"cannot compare {a.name!r} and {b.name!r}: their ports differ ({diff})")
    t0 = time.perf_counter()
    widths = {p: len(s) for p, s in compile_netlist(a).inputs.items()}
    if vectors and widths:
        cex = _cex(a, b, _edge_and_random(widths, vectors, seed))
        if cex:
            return EquivalenceResult(False, "simulation", time.perf_counter() - t0, cex, "random simulation")
    space = 1 << sum(widths.values())
    if method == "exhaustive" or (method == "auto" and space <= EXHAUSTIVE_LIMIT):
        if space > EXHAUSTIVE_LIMIT:
            raise GatesimError(f"exhaustive simulation takes at most 2^20 input combinations; these netlists have "
                               f"2^{sum(widths.values())} (use method abc or sat)")
        for start in range(0, space, 1 << 16):
            cex = _cex(a, b, exhaustive_vectors(widths, start, min(space, start + (1 << 16))))
            if cex:
                return EquivalenceResult(False, "exhaustive", time.perf_counter() - t0, cex, "exhaustive simulation")
        return EquivalenceResult(True, "exhaustive", time.perf_counter() - t0, None,
                                 f"all {space} input combinations simulated")
    note = ""
    if method == "prove" or (method == "auto" and _multiplier_ports(a)):
        if not _multiplier_ports(a):
            raise GatesimError("method prove compares multipliers: inputs a and b of one width, output p")
        r = _by_proofs(a, b, timeout)
        if r.equal is not None or method == "prove":
            r.seconds = time.perf_counter() - t0
            return r
        note = f"{r.detail}; "
    left = max(timeout - (time.perf_counter() - t0), 1.0)
    engine = "abc" if method == "auto" else method
    verdict, info = (_abc if engine == "abc" else _sat)(a, b, left)
    if verdict is None:
        info = f"could not prove within {timeout:g} s ({note}{info})"
    if verdict is not False:
        return EquivalenceResult(verdict, engine, time.perf_counter() - t0, None, info)
    cex = info if isinstance(info, dict) else _sat_counterexample(a, b, max(timeout - (time.perf_counter() - t0), 5.0))
    if cex is None:
        return EquivalenceResult(None, engine, time.perf_counter() - t0, None,
                                 "ABC found a difference that Yosys sat could not produce within the time left")
    return EquivalenceResult(False, engine, time.perf_counter() - t0, cex,
                             "counterexample from Yosys sat, confirmed by simulation")


def _multiplier_ports(net: Netlist) -> bool:
    return set(net.inputs) == {"a", "b"} and set(net.outputs) == {"p"} and len(net.inputs["a"]) == len(net.inputs["b"])


def _by_proofs(a: Netlist, b: Netlist, timeout: float) -> EquivalenceResult:
    """Equivalence of two multipliers through their proofs against ``p = a*b`` (unsigned, then signed)."""
    from .prove import prove_multiplier

    t0 = time.perf_counter()
    tried = []
    for signed in (False, True):
        proofs = []
        for net in (a, b):
            left = timeout - (time.perf_counter() - t0)
            if left <= 0:
                return EquivalenceResult(None, "prove", 0.0, None, f"proofs ran out of time ({'; '.join(tried)})")
            proofs.append(prove_multiplier(net, signed=signed, timeout=left))
        ra, rb = proofs
        claim = ra.claim
        if ra.proved and rb.proved:
            return EquivalenceResult(True, "prove", 0.0, None, f"both proved {claim} for every input (algebraic rewriting)")
        if {ra.status, rb.status} == {"proved", "not_equal"}:
            wrong = ra if rb.proved else rb
            cex = _cex(a, b, {p: np.array([v], dtype=object) for p, v in wrong.counterexample["inputs"].items()})
            if cex is not None:
                which = a.name if wrong is ra else b.name
                return EquivalenceResult(False, "prove", 0.0, cex, f"{which!r} is not {claim} (the other is proved)")
        tried.append(f"{claim}: {ra.status} / {rb.status}")
        if "unknown" in (ra.status, rb.status):
            break
    return EquivalenceResult(None, "prove", 0.0, None, f"proofs decided nothing ({'; '.join(tried)})")


def _miter_files(a: Netlist, b: Netlist) -> dict:
    from .hdl.writers import to_yosys_json

    return {"gold.json": to_yosys_json(a, module="gold"), "gate.json": to_yosys_json(b, module="gate")}


_MITER = "read_json gold.json\nread_json gate.json\nmiter -equiv -flatten gold gate miter\nhierarchy -top miter\nflatten"


def _abc(a: Netlist, b: Netlist, timeout: float):
    """ABC's ``&cec`` on the miter: (True | False | None, detail)."""
    from .hdl.yosys import YosysTimeout, run_yosys

    limit = max(int(timeout), 1)
    files = _miter_files(a, b)
    files["cec.abc"] = f"strash\n&get -n\n&cec -m -T {limit}\nwrite_status status.txt\n"
    script = _MITER + "\ntechmap\nopt -fast\nabc -script cec.abc\n"
    try:
        run = run_yosys(script, files, optional=("status.txt",), timeout=timeout + 30, what="equivalence (ABC)")
    except YosysTimeout:
        return None, "ABC ran past the time limit"
    status = run.outputs.get("status.txt")
    if status is None:  # nothing left for ABC: Yosys reduced the miter (a constant trigger); sat says which
        return _sat(a, b, timeout)
    word = status.split()[0] if status.split() else ""
    if word == "snl_UNSAT":
        return True, "ABC &cec: miter unsatisfiable"
    if word == "snl_SAT":
        return False, "ABC &cec: miter satisfiable"
    return None, "ABC &cec undecided"


_SAT_ROW = re.compile(r"^\s*\\in_(\S+)\s+\S+\s+\S+\s+([01xz]+)\s*$", re.MULTILINE)


def _sat(a: Netlist, b: Netlist, timeout: float):
    """Yosys ``sat -prove`` on the miter: (True | None, detail) or (False, counterexample)."""
    from .hdl.yosys import YosysTimeout, run_yosys

    script = _MITER + f"\ntee -q -o sat.txt sat -prove trigger 0 -show-inputs -timeout {max(int(timeout), 1)} miter\n"
    try:
        # sat checks its own -timeout only now and then: the process gets a few seconds more, then stops
        run = run_yosys(script, _miter_files(a, b), outputs=("sat.txt",), timeout=timeout + 5, what="equivalence (sat)")
    except YosysTimeout:
        return None, "Yosys sat ran past the time limit"
    log = run.outputs["sat.txt"]
    if "SAT proof finished - no model found: SUCCESS" in log or re.search(r"QED", log):
        return True, "Yosys sat: proof succeeded"
    if "model found: FAIL" in log:
        return False, _confirm(a, b, _parse_inputs(a, log))
    return None, "Yosys sat gave up"


def _parse_inputs(a: Netlist, log: str) -> dict:
    values = {}
    for name, bits in _SAT_ROW.findall(log):
        if name in a.inputs:
            values[name] = int(bits.replace("x", "0").replace("z", "0"), 2)
    for p in a.inputs:
        values.setdefault(p, 0)
    return values


def _confirm(a: Netlist, b: Netlist, inputs: dict) -> dict:
    cex = _cex(a, b, {p: np.array([v], dtype=object) for p, v in inputs.items()})
    if cex is None:
        raise GatesimError(f"Yosys reported a counterexample ({inputs}) that simulation of {a.name!r} and "
                           f"{b.name!r} does not confirm; not trusting it")
    return cex


def _sat_counterexample(a: Netlist, b: Netlist, timeout: float) -> dict | None:
    verdict, detail = _sat(a, b, timeout)
    return detail if verdict is False else None
