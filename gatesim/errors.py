"""Exceptions raised by gatesim. Each message is one line that names the problem."""


class GatesimError(Exception):
    """Base class of every error gatesim raises on bad input."""


class NetlistError(GatesimError, ValueError):
    """A netlist is malformed: a loop, an undriven or multiply-driven net, a wrong arity, an unknown gate."""


class LibraryError(GatesimError, ValueError):
    """A cell library is unreadable, malformed, or cannot price a gate."""


class DesignError(GatesimError, ValueError):
    """A circuit design is unknown or was given bad parameters."""


class SimulationError(GatesimError, ValueError):
    """Simulation inputs do not fit the netlist's ports."""


class HdlError(GatesimError, ValueError):
    """A hardware description (Verilog, Yosys JSON, BLIF) cannot be read or imported: malformed, sequential,
    or holding cells gatesim has no gate for."""


def closest(name: str, candidates, n: int = 3) -> list[str]:
    """Up to ``n`` candidates a mistyped ``name`` most likely meant, case-insensitive: those equal to it, else
    those it is a prefix or part of (``dadda`` -> ``dadda-multiplier``), else :func:`difflib.get_close_matches`,
    else those sharing a word with it (words split at ``-``, ``_`` and spaces)."""
    import difflib
    import re

    cands = [c for c in dict.fromkeys(candidates) if c != name]
    key = name.lower().strip()
    if not key:
        return []
    low = {c: c.lower() for c in cands}
    same = [c for c in cands if low[c] == key]
    if same:
        return same[:n]
    inside = sorted((c for c in cands if key in low[c] or low[c] in key), key=lambda c: (not low[c].startswith(key), len(c)))
    if inside:
        return inside[:n]
    by_low = {v: c for c, v in low.items()}
    near = [by_low[v] for v in difflib.get_close_matches(key, list(by_low), n=n, cutoff=0.6)]
    if near:
        return near
    words = set(re.split(r"[-_\s]+", key)) - {""}
    return [c for c in cands if words & set(re.split(r"[-_\s]+", low[c]))][:n]


def did_you_mean(name: str, candidates) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``) for :func:`closest` matches, else ``""``."""
    close = closest(name, candidates)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
