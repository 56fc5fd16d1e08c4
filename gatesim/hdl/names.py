"""Identifiers in the files gatesim writes: Verilog escaping, BLIF tokens, deterministic unique names.

Verilog keeps every name a user gave that it can spell: a simple identifier as is, anything else of
printable ASCII as an *escaped identifier* (``\\x-1`` followed by a space), so ``x-1`` and ``x_1`` stay
two ports and ``module`` is no syntax error. A name Verilog cannot spell at all (blanks, non-ASCII) is
replaced by a sanitized one, made unique against every other name of its scope.
"""
from __future__ import annotations

import re

_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")

# IEEE 1364-2005 and IEEE 1800-2017 reserved words: Yosys (-sv) and Verilator read SystemVerilog.
VERILOG_KEYWORDS = frozenset(["accept_on", "alias", "always", "always_comb", "always_ff", "always_latch", "and", "assert", "assign", "assume", "automatic", "before", "begin", "bind", "bins", "binsof", "bit", "break", "buf", "bufif0", "bufif1", "byte", "case", "casex", "casez", "cell", "chandle", "checker", "class", "clocking", "cmos", "config", "const", "constraint", "context", "continue", "cover", "covergroup", "coverpoint", "cross", "deassign", "default", "defparam", "design", "disable", "dist", "do", "edge", "else", "end", "endcase", "endchecker", "endclass", "endclocking", "endconfig", "endfunction", "endgenerate", "endgroup", "endinterface", "endmodule", "endpackage", "endprimitive", "endprogram", "endproperty", "endspecify", "endsequence", "endtable", "endtask", "enum", "event", "eventually", "expect", "export", "extends", "extern", "final", "first_match", "for", "force", "foreach", "forever", "fork", "forkjoin", "function", "generate", "genvar", "global", "highz0", "highz1", "if", "iff", "ifnone", "ignore_bins", "illegal_bins", "implements", "implies", "import", "incdir", "include", "initial", "inout", "input", "inside", "instance", "int", "integer", "interconnect", "interface", "intersect", "join", "join_any", "join_none", "large", "let", "liblist", "library", "local", "localparam", "logic", "longint", "macromodule", "matches", "medium", "modport", "module", "nand", "negedge", "nettype", "new", "nexttime", "nmos", "nor", "noshowcancelled", "not", "notif0", "notif1", "null", "or", "output", "package", "packed", "parameter", "pmos", "posedge", "primitive", "priority", "program", "property", "protected", "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent", "pure", "rand", "randc", "randcase", "randsequence", "rcmos", "real", "realtime", "ref", "reg", "reject_on", "release", "repeat", "restrict", "return", "rnmos", "rpmos", "rtran", "rtranif0", "rtranif1", "s_always", "s_eventually", "s_nexttime", "s_until", "s_until_with", "scalared", "sequence", "shortint", "shortreal", "showcancelled", "signed", "small", "soft", "solve", "specify", "specparam", "static", "string", "strong", "strong0", "strong1", "struct", "super", "supply0", "supply1", "sync_accept_on", "sync_reject_on", "table", "tagged", "task", "this", "throughout", "time", "timeprecision", "timeunit", "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior", "trireg", "type", "typedef", "union", "unique", "unique0", "unsigned", "until", "until_with", "untyped", "use", "uwire", "var", "vectored", "virtual", "void", "wait", "wait_order", "wand", "weak", "weak0", "weak1", "while", "wildcard", "wire", "with", "within", "wor", "xnor", "xor"])


def verilog_spellable(name: str) -> bool:
    """Whether ``name`` can be written in Verilog as it is (simple or escaped identifier)."""
    return bool(name) and all(33 <= ord(ch) <= 126 for ch in name)


def verilog_ident(name: str) -> str:
    """``name`` as a Verilog identifier: simple when it may be, else escaped (``\\name`` and a blank).

    ``name`` must be :func:`verilog_spellable`; the escaped form ends in a blank, which Verilog
    requires before the next token (``\\x-1 [3]``)."""
    if _SIMPLE.match(name) and name not in VERILOG_KEYWORDS:
        return name
    return f"\\{name} "


def sanitize(name: str, allowed: str = r"A-Za-z0-9_") -> str:
    """``name`` with every character outside ``allowed`` replaced by ``_`` (never empty)."""
    return re.sub(f"[^{allowed}]", "_", name) or "_"


class Scope:
    """Names of one namespace (a Verilog module, a BLIF model): each taken once, clashes renamed
    deterministically (``name``, ``name_2``, ``name_3``, ...)."""

    def __init__(self, taken=()):
        self.taken: set[str] = set(taken)

    def claim(self, name: str) -> str:
        """Take ``name``, or the first free ``name_k`` (k = 2, 3, ...); return what was taken."""
        cand, k = name, 2
        while cand in self.taken:
            cand, k = f"{name}_{k}", k + 1
        self.taken.add(cand)
        return cand

    def free_prefix(self, prefix: str) -> str:
        """A prefix ``p`` (``prefix``, ``prefix_``, ...) such that no taken name is ``p`` followed by digits,
        for numbered names (``n17``) that need no check each."""
        while any(re.fullmatch(re.escape(prefix) + r"\d+", t) for t in self.taken):
            prefix += "_"
        return prefix
