"""Counting results: BOs and FLOPs per module, phase and number format; the join with a transistor table.

A transistor table is any object with ``transistors(operation: str, fmt: str) -> int`` where operation is
one of add/sub/mul/div/root/compare and fmt a format name like ``"fp32"``.
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any, Iterable, Protocol

from .bo import OPERATIONS, ZERO, BOVector, normalize_format

PHASES: tuple[str, ...] = ("forward", "loss", "backward", "optimizer")
LEVEL_PHASES = {
    "inference": ("forward",),
    "validation": ("forward", "loss"),
    "training": ("forward", "loss", "backward"),
}


try:  # gatesim's CLI group prints GatesimError as one line; the models room only needs the base class
    from ..errors import GatesimError as _Base
except Exception:  # pragma: no cover
    _Base = Exception


class CountingError(_Base):
    """A model could not be counted: bad level/loss/counter, an op failed, or strict mode met an uncounted op."""


class TransistorSource(Protocol):
    def transistors(self, operation: str, fmt: str) -> int: ...


def transistor_operations(bos: BOVector, table: TransistorSource, fmt: str) -> int:
    """TOs = sum over operations of BOs x transistors(operation, fmt). Zero counts never query the table."""
    total = 0
    for op, n in bos.items():
        if n:
            try:
                t = table.transistors(op, fmt)
            except Exception as e:
                raise CountingError(f"transistor table cannot price {op} on {fmt}: {e}") from None
            total += int(n) * int(t)
    return total


class Record:
    """Accumulated counts of one (module, phase, format): six BO counts, FLOPs and the number of ops."""

    __slots__ = ("counts", "flops", "ops")

    def __init__(self):
        self.counts = [0, 0, 0, 0, 0, 0]
        self.flops = 0
        self.ops = 0

    def add(self, v: BOVector, flops: int = 0):
        c = self.counts
        c[0] += v.add
        c[1] += v.sub
        c[2] += v.mul
        c[3] += v.div
        c[4] += v.root
        c[5] += v.compare
        self.flops += flops
        self.ops += 1

    @property
    def bos(self) -> BOVector:
        return BOVector(*self.counts)


class Report:
    """What a counter found. Keys of ``records`` are ``(module, phase, fmt)``; module names are dotted paths
    rooted at ``model`` (``model.fc1``), plus ``(loss)`` and ``(optimizer)`` for ops outside the model."""

    def __init__(self, *, level: str, counter: str, recipes: str | None = None, phases: Iterable[str] = ()):
        self.level = level
        self.counter = counter
        self.recipes = recipes
        self.phases = tuple(phases)
        self.records: dict[tuple[str, str, str], Record] = {}
        self.module_order: list[str] = []
        self.uncounted: Counter = Counter()  # op name -> number of calls without a recipe
        self.uncounted_where: dict[str, tuple[str, str]] = {}  # op name -> first (module, phase)
        self.op_counts: Counter = Counter()  # op name -> calls seen (all ops, free ones included)
        self.notes: list[str] = []

    # -- building ---------------------------------------------------------------------------------
    def record(self, module: str, phase: str, fmt: str) -> Record:
        key = (module, phase, fmt)
        r = self.records.get(key)
        if r is None:
            r = self.records[key] = Record()
            if module not in self._module_set():
                self.module_order.append(module)
        return r

    def _module_set(self):
        s = getattr(self, "_mods", None)
        if s is None or len(s) != len(self.module_order):
            s = self._mods = set(self.module_order)
        return s

    def add(self, module: str, phase: str, fmt: str, v: BOVector, flops: int = 0):
        self.record(module, phase, fmt).add(v, flops)

    # -- queries ------------------------------------------------------------------------------------
    def _select(self, phase=None, module=None, fmt=None):
        for (m, p, f), r in self.records.items():
            if phase is not None and (p != phase if isinstance(phase, str) else p not in phase):
                continue
            if module is not None and not (m == module or m.startswith(module + ".")):
                continue
            if fmt is not None and f != fmt:
                continue
            yield (m, p, f), r

    def bos(self, phase=None, module=None, fmt=None) -> BOVector:
        """Total BOs, optionally of one phase (or a tuple of phases) and one module subtree."""
        tot = [0] * 6
        for _, r in self._select(phase, module, fmt):
            for i, c in enumerate(r.counts):
                tot[i] += c
        return BOVector(*tot)

    def flops(self, phase=None, module=None) -> int:
        return sum(r.flops for _, r in self._select(phase, module))

    def formats(self) -> list[str]:
        return sorted({f for (_, _, f) in self.records})

    def by_phase(self) -> dict[str, BOVector]:
        return {p: self.bos(phase=p) for p in self.phases}

    def modules(self) -> list[str]:
        """Module names in first-seen order, with every ancestor listed before its descendants."""
        out, seen = [], set()
        for m in self.module_order:
            parts = m.split(".")
            for i in range(1, len(parts) + 1):
                name = ".".join(parts[:i])
                if name not in seen:
                    seen.add(name)
                    out.append(name)
        return out

    def tos(self, table: TransistorSource, fmt: str | None = None, phase=None, module=None) -> int:
        """Transistor operations: each record's BOs priced on its own format (or on ``fmt`` if forced)."""
        forced = normalize_format(fmt) if fmt else None
        total = 0
        for (_, _, f), r in self._select(phase, module):
            total += transistor_operations(r.bos, table, forced or f)
        return total

    @property
    def total(self) -> BOVector:
        return self.bos()

    # -- output ---------------------------------------------------------------------------------------
    def rows(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True):
        """Table rows: one per module (hierarchical totals) and phase, then one total per phase and a grand total."""
        rows = []
        if per_layer:
            for m in self.modules():
                for p in self.phases:
                    if not any(True for _ in self._select(p, m)):
                        continue
                    rows.append(self._row(m, p, m, table, fmt))
        for p in self.phases:
            rows.append(self._row("(total)", p, None, table, fmt))
        rows.append(self._row("(total)", "all", None, table, fmt, phase=self.phases))
        return rows

    def _row(self, name, phase_label, module, table, fmt, phase=None):
        phase = phase_label if phase is None else phase
        v = self.bos(phase=phase, module=module)
        row: dict[str, Any] = {"module": name, "phase": phase_label}
        row.update(v.to_dict())
        row["bos"] = v.total()
        row["flops"] = self.flops(phase=phase, module=module)
        if table is not None:
            row["tos"] = self.tos(table, fmt, phase=phase, module=module)
        return row

    def to_dict(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True) -> dict:
        d: dict[str, Any] = {
            "level": self.level,
            "counter": self.counter,
            "recipes": self.recipes,
            "phases": list(self.phases),
            "formats": self.formats(),
            "total": {**self.bos(phase=self.phases).to_dict(), "bos": self.bos(phase=self.phases).total(),
                      "flops": self.flops(phase=self.phases)},
            "by_phase": {p: {**self.bos(phase=p).to_dict(), "flops": self.flops(phase=p)} for p in self.phases},
            "uncounted": dict(sorted(self.uncounted.items())),
            "uncounted_where": {k: {"module": v[0], "phase": v[1]} for k, v in sorted(self.uncounted_where.items())},
            "notes": list(self.notes),
        }
        if table is not None:
            d["total"]["tos"] = self.tos(table, fmt, phase=self.phases)
            d["tos_format"] = normalize_format(fmt) if fmt else "per-op dtype"
        if per_layer:
            d["rows"] = self.rows(table, fmt, per_layer=True)
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(**kw), indent=2)

    def to_csv(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True) -> str:
        rows = self.rows(table, fmt, per_layer)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()) if rows else ["module"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()

    def to_table(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True) -> str:
        """An fvcore-like text table: modules indented by depth, one line per phase, totals at the bottom."""
        rows = self.rows(table, fmt, per_layer)
        cols = ["module", "phase", *OPERATIONS, "flops"] + (["tos"] if table is not None else [])
        cells = []
        for r in rows:
            name = r["module"]
            if name not in ("(total)",) and per_layer:
                depth = name.count(".")
                name = "  " * depth + name.rsplit(".", 1)[-1]
            cells.append([name, r["phase"]] + [_fmt_int(r[c]) for c in cols[2:]])
        widths = [max(len(c), *(len(x[i]) for x in cells)) if cells else len(c) for i, c in enumerate(cols)]
        lines = []
        header = " | ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(cols))
        lines.append(header)
        lines.append("-+-".join("-" * w for w in widths))
        first_total = True
        for r, x in zip(rows, cells):
            if r["module"] == "(total)" and first_total and per_layer:
                lines.append("-+-".join("-" * w for w in widths))
                first_total = False
            lines.append(" | ".join(v.ljust(widths[i]) if i < 2 else v.rjust(widths[i]) for i, v in enumerate(x)))
        lines.append(f"level: {self.level} ({' + '.join(self.phases)}); counter: {self.counter}"
                     + (f"; recipes: {self.recipes}" if self.recipes else "")
                     + f"; formats: {', '.join(self.formats()) or '-'}")
        lines.append(self.uncounted_line())
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def uncounted_line(self) -> str:
        if not self.uncounted:
            return "uncounted ops: none"
        parts = [f"{k} x{v}" for k, v in sorted(self.uncounted.items())]
        return f"uncounted ops ({sum(self.uncounted.values())} calls, priced as nothing): " + ", ".join(parts)


def _fmt_int(v) -> str:
    return f"{v:,}" if isinstance(v, int) else str(v)


def merge_reports(reports: Iterable[Report]) -> Report:
    reports = list(reports)
    out = Report(level=reports[0].level, counter=reports[0].counter, recipes=reports[0].recipes,
                 phases=reports[0].phases)
    for r in reports:
        for (m, p, f), rec in r.records.items():
            dst = out.record(m, p, f)
            for i, c in enumerate(rec.counts):
                dst.counts[i] += c
            dst.flops += rec.flops
            dst.ops += rec.ops
        out.uncounted.update(r.uncounted)
        out.op_counts.update(r.op_counts)
        for k, v in r.uncounted_where.items():
            out.uncounted_where.setdefault(k, v)
    return out


__all__ = ["Report", "Record", "CountingError", "transistor_operations", "PHASES", "LEVEL_PHASES", "ZERO"]
