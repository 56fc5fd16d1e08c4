"""Formal proof that a netlist computes a word-level arithmetic function, for every input.

``prove_multiplier(net)`` proves ``p = a * b`` (unsigned, or two's complement with
``signed=True``), ``prove_adder(net)`` proves ``{cout, sum} = a + b + cin``,
``prove_subtractor(net)`` proves ``{bout, diff} = a - b - bin`` (all modulo 2**(output bits)), and
``prove_arithmetic`` any claim "output word = integer polynomial of input words".

Method: algebraic backward rewriting (:mod:`gatesim.rewriting`). The claim becomes the polynomial
``output word - specification`` over the integers modulo ``2**W`` (``W`` = output bits); every net
is replaced by a polynomial of the nets it is computed from, outputs first, until only primary
inputs remain. The remainder is zero exactly when the claim holds for every input (a function of
Boolean inputs has one multilinear polynomial). Otherwise the remainder's lowest-degree monomial
names an input where it fails: that counterexample is simulated (:func:`gatesim.simulate`) before
it is reported, so it is real. A proof that outgrows its time or monomial limit stops with status
``"unknown"`` -- never a wrong answer -- after a quick random simulation that may still find a
counterexample.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .compile import compile_netlist
from .errors import NetlistError
from .netlist import Netlist
from .rewriting import Abort, Rewriter
from .simulation import simulate

Term = tuple  # (coefficient, ((port, signed), ...)): coefficient times the product of input words
FALLBACK_VECTORS = 1 << 16  # random vectors tried when a proof stops at a limit


@dataclass
class ProofResult:
    """Outcome of a proof. ``status``: ``"proved"``, ``"not_equal"`` (with a counterexample that
    simulation confirms) or ``"unknown"`` (a limit was reached; ``reason`` says which)."""

    design: str
    claim: str
    status: str
    reason: str = ""
    counterexample: dict | None = None  # {"inputs": {port: int}, "expected": {...}, "got": {...}}
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    def to_dict(self) -> dict:
        return {
            "design": self.design,
            "claim": self.claim,
            "status": self.status,
            "proved": self.proved,
            "reason": self.reason,
            "counterexample": self.counterexample,
            "seconds": round(self.seconds, 3),
            "stats": dict(self.stats),
        }


# --------------------------------------------------------------------------------------------
# word-level claims
# --------------------------------------------------------------------------------------------
def prove_multiplier(net: Netlist, signed: bool = False, *, a: str = "a", b: str = "b", product: str = "p",
                     **limits) -> ProofResult:
    """Prove ``product = a * b`` modulo ``2**len(product)`` for every input; ``signed``: the operands
    are two's complement (the product port then holds the two's-complement product).

    ``limits``: ``timeout`` (seconds, default 60), ``max_monomials`` (default 1,000,000),
    ``progress`` (called as ``progress(units_done, units_total)``).
    """
    return prove_arithmetic(net, [product], [(1, ((a, signed), (b, signed)))], **limits)


def prove_adder(net: Netlist, *, a: str = "a", b: str = "b", cin: str | None = "cin", sum: str = "sum",
                cout: str | None = "cout", **limits) -> ProofResult:
    """Prove ``{cout, sum} = a + b + cin`` for every input (``cin=None`` / ``cout=None`` for an
    adder without carry in / out: then ``sum = a + b`` modulo ``2**len(sum)``)."""
    terms = [(1, ((a, False),)), (1, ((b, False),))] + ([(1, ((cin, False),))] if cin else [])
    return prove_arithmetic(net, [sum] + ([cout] if cout else []), terms, **limits)


def prove_subtractor(net: Netlist, *, a: str = "a", b: str = "b", bin: str | None = "bin", diff: str = "diff",
                     bout: str | None = "bout", **limits) -> ProofResult:
    """Prove ``{bout, diff} = a - b - bin`` modulo ``2**(len(diff) + 1)`` for every input, i.e.
    ``diff = (a - b - bin) mod 2**n`` and ``bout = 1`` exactly when ``a < b + bin``."""
    terms = [(1, ((a, False),)), (-1, ((b, False),))] + ([(-1, ((bin, False),))] if bin else [])
    return prove_arithmetic(net, [diff] + ([bout] if bout else []), terms, **limits)


def prove_arithmetic(net: Netlist, outputs: list[str], terms: list[Term], *, timeout: float = 60.0,
                     max_monomials: int = 1_000_000, presimulate: int = 4096, progress=None) -> ProofResult:
    """Prove that the output ports ``outputs`` (concatenated, the first one least significant) hold
    ``sum(coefficient * product of input words)`` modulo ``2**W`` (``W`` = their total width) for
    every input. ``terms``: ``(coefficient, ((port, signed), ...))``; a signed word is two's
    complement. Input ports that no term names are free: the claim must hold for all their values.

    ``presimulate``: random vectors simulated first, so a plain bug is
    reported at once with its failing vector (0: rewrite straight away). ``timeout`` (seconds) and
    ``max_monomials`` bound the rewriting; ``progress(units_done, units_total)`` follows it.
    """
    t0 = time.perf_counter()
    c = compile_netlist(net)
    _check_ports(net, outputs, terms)
    width = sum(len(net.outputs[p]) for p in outputs)
    modulus = 1 << width
    claim = _claim_text(outputs, terms, width)
    design = net.graph.get("design", net.name)
    poly = _claim_polynomial(c, outputs, terms, modulus)
    rw = Rewriter(c, modulus, max_monomials=max_monomials, deadline=t0 + timeout)
    result = ProofResult(design=design, claim=claim, status="unknown")
    if presimulate:
        found = _search_by_simulation(net, outputs, terms, width, presimulate, edge_cases=False)
        if found is not None:
            result.status = "not_equal"
            result.counterexample = found
            result.reason = f"simulation of {presimulate} random vectors found a counterexample (before rewriting)"
            result.seconds = time.perf_counter() - t0
            return result
    try:
        remainder = rw.rewrite(poly, progress=progress)
    except Abort as e:
        result.reason = f"could not prove within the limits ({e}; timeout {timeout:g} s, {max_monomials} monomials)"
        found = _search_by_simulation(net, outputs, terms, width, FALLBACK_VECTORS)
        if found is not None:
            result.status = "not_equal"
            result.counterexample = found
            result.reason += "; random simulation found a counterexample"
        else:
            result.reason += f"; {FALLBACK_VECTORS} random vectors and edge cases found no counterexample"
    else:
        if not remainder:
            result.status = "proved"
        else:
            inputs = _assignment(c, remainder)
            found = _mismatch(net, outputs, terms, width, inputs)
            if found is None:  # the algebra and the simulator disagree: say so, claim nothing
                result.reason = "internal error: the remainder's counterexample does not reproduce in simulation"
            else:
                result.status = "not_equal"
                result.counterexample = found
                result.reason = (f"nonzero remainder ({len(remainder)} monomials); its lowest-degree monomial "
                                 "gives the counterexample, confirmed by simulation")
    result.seconds = time.perf_counter() - t0
    result.stats = rw.stats.to_dict()
    return result


def _check_ports(net: Netlist, outputs, terms) -> None:
    for p in outputs:
        if p not in net.outputs:
            raise NetlistError(f"{net.name!r} has no output port {p!r} (outputs: {', '.join(net.outputs) or 'none'})")
    if len(set(outputs)) != len(outputs):
        raise NetlistError(f"output port named twice in {outputs}")
    for _, words in terms:
        for p, _ in words:
            if p not in net.inputs:
                raise NetlistError(f"{net.name!r} has no input port {p!r} (inputs: {', '.join(net.inputs) or 'none'})")


def _claim_text(outputs, terms, width: int) -> str:
    lhs = outputs[0] if len(outputs) == 1 else "{" + ", ".join(reversed(outputs)) + "}"
    parts = []
    for coef, words in terms:
        body = "*".join(p for p, _ in words) or "1"
        mag = abs(coef)
        s = body if mag == 1 else f"{mag}*{body}"
        parts.append(("- " if coef < 0 else "+ ") + s)
    rhs = " ".join(parts).removeprefix("+ ") or "0"
    if rhs.startswith("- "):
        rhs = "-" + rhs[2:]
    signed = sorted({p for _, words in terms for p, s in words if s})
    note = f", {', '.join(signed)} two's complement" if signed else ""
    return f"{lhs} = {rhs} (mod 2^{width}{note})"


def _word(c, port: str, signed: bool) -> list[tuple[int, int]]:
    """(input slot, weight) of each bit of an input word."""
    slots = [int(s) for s in c.inputs[port]]
    n = len(slots)
    return [(s, -(1 << i) if signed and i == n - 1 else 1 << i) for i, s in enumerate(slots)]


def _claim_polynomial(c, outputs, terms, modulus: int) -> dict:
    """output word - specification, as {frozenset of slots: coefficient mod modulus}."""
    poly: dict = {}

    def add(mon, v):
        x = (poly.get(mon, 0) + v) % modulus
        if x:
            poly[mon] = x
        else:
            poly.pop(mon, None)

    shift = 0
    for p in outputs:
        for s in c.outputs[p]:
            s = int(s)
            if s != c.const0_slot:
                add(frozenset() if s == c.const1_slot else frozenset((s,)), 1 << shift)
            shift += 1
    for coef, words in terms:
        prod = {frozenset(): coef}
        for p, signed in words:
            nxt: dict = {}
            for m, v in prod.items():
                for s, w in _word(c, p, signed):
                    k = m | {s}
                    nxt[k] = nxt.get(k, 0) + v * w
            prod = nxt
        for m, v in prod.items():
            add(m, -v)
    return poly


# --------------------------------------------------------------------------------------------
# counterexamples
# --------------------------------------------------------------------------------------------
def _assignment(c, remainder: dict) -> dict[str, int]:
    """Inputs at which ``remainder`` is nonzero: the variables of a lowest-degree monomial set to 1,
    all others 0 (every other monomial then has a 0 variable or is that one)."""
    mon = min(remainder, key=lambda m: (len(m), sorted(m)))
    return {p: sum(1 << i for i, s in enumerate(slots) if int(s) in mon) for p, slots in c.inputs.items()}


def _expected(terms, inputs: dict, widths: dict, width: int):
    total = 0
    for coef, words in terms:
        v = coef
        for p, signed in words:
            x = inputs[p]
            if signed:
                half = 1 << (widths[p] - 1)
                x = (x ^ half) - half
            v = v * x
        total += v
    return total % (1 << width)


def _split(word, outputs, out_widths) -> dict:
    out = {}
    for p in outputs:
        w = out_widths[p]
        out[p] = word & ((1 << w) - 1)
        word >>= w
    return out


def _mismatch(net: Netlist, outputs, terms, width: int, inputs: dict) -> dict | None:
    """Simulate one input; return {inputs, expected, got} if the netlist breaks the claim there."""
    got = {p: int(v[0]) for p, v in simulate(net, **inputs).items()}
    widths = {p: len(b) for p, b in net.inputs.items()}
    out_widths = {p: len(net.outputs[p]) for p in outputs}
    expected = _split(_expected(terms, inputs, widths, width), outputs, out_widths)
    if all(got[p] == expected[p] for p in outputs):
        return None
    return {"inputs": dict(inputs), "expected": expected, "got": {p: got[p] for p in outputs}}


def _search_by_simulation(net: Netlist, outputs, terms, width: int, vectors: int,
                          edge_cases: bool = True) -> dict | None:
    """Random vectors (and, with ``edge_cases``, :func:`gatesim.verify`'s edge cases) against the
    claim; the first failing vector as {inputs, expected, got}, or None."""
    from .verify import random_vectors, verify

    widths = {p: len(b) for p, b in net.inputs.items()}
    out_widths = {p: len(net.outputs[p]) for p in outputs}

    def reference(v):  # object arrays of Python ints in and out
        return _split(_expected(terms, v, widths, width), outputs, out_widths)

    # ports outside the claim are left out, so only claimed ports are compared
    sub = _claimed_view(net, outputs)
    if edge_cases:
        r = verify(sub, reference, vectors=vectors, seed=12345)
        return None if r.ok else r.first_failure
    vecs = random_vectors(widths, vectors, np.random.default_rng(12345))
    got = simulate(sub, **vecs)
    want = reference({p: v.copy() for p, v in vecs.items()})
    bad = np.zeros(vectors, dtype=bool)
    for p in outputs:
        bad |= np.asarray(got[p]).astype(object) != want[p]
    if not bad.any():
        return None
    i = int(np.flatnonzero(bad)[0])
    return {"inputs": {p: int(v[i]) for p, v in vecs.items()}, "expected": {p: int(want[p][i]) for p in outputs},
            "got": {p: int(got[p][i]) for p in outputs}}


def _claimed_view(net: Netlist, outputs) -> Netlist:
    if set(net.outputs) == set(outputs):
        return net
    view = net.copy()
    view.graph["outputs"] = {p: list(net.outputs[p]) for p in outputs}
    view.invalidate()
    return view
