"""Counting results: BOs and FLOPs per module, phase and number format; the join with a transistor table.

A transistor table is any object with ``transistors(operation: str, fmt: str) -> int`` where operation is
one of add/sub/mul/div/root/compare and fmt a format name like ``"fp32"``; one that also has
``weighted_toggles(operation, fmt) -> float`` (transistor-weighted toggles per operation under the table's
operands) prices switching TOs. A *timing* is any object with ``op_seconds(fmt, dot, ops, nbytes) -> float``
(a hardware profile's roofline, :class:`gatesim.hardware.Timing`): it turns the ops a step launched into
estimated seconds.
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


class TimingSource(Protocol):
    def op_seconds(self, fmt: str, dot: bool, ops: int, nbytes: int) -> float: ...


def _has_fma(table: TransistorSource, fmt: str, cache: dict | None = None, price=None) -> int | None:
    """Transistors (or ``price``) of the table's ``fma`` operation on ``fmt``, or None when it has none
    (data-driven: a table that gains an ``fma`` entry prices fused multiply-add pairs as one FMA without any
    change here)."""
    if cache is not None and fmt in cache:
        return cache[fmt]
    try:
        t = (price or table.transistors)("fma", fmt)
        t = (int(t) if price is None else float(t)) if t is not None else None
    except Exception:
        t = None
    if cache is not None:
        cache[fmt] = t
    return t


def _has_format(table: TransistorSource, fmt: str) -> bool:
    """Whether the table prices any basic operation on ``fmt`` (public method only)."""
    for op in OPERATIONS:
        try:
            table.transistors(op, fmt)
            return True
        except Exception:
            continue
    return False


def transistor_operations(bos: BOVector, table: TransistorSource, fmt: str, fma: int = 0,
                          _fma_cache: dict | None = None, unpriced: dict | None = None, price=None):
    """TOs = sum over operations of BOs x transistors(operation, fmt). Zero counts never query the table.

    ``fma``: how many of the muls and adds are multiply-accumulate pairs of one dot product (both in ``fmt``);
    when the table has an ``fma`` operation on ``fmt`` they are priced as that many FMAs instead.
    ``unpriced``: when given, BOs of an operation the table has no unit for on a format it otherwise prices
    (the paper's integer formats have no divider or root) are left out of the total and added here as
    ``{fmt: {op: n}}`` for the caller to report; a format the table lacks altogether is always an error.
    ``price``: ``price(operation, fmt)`` instead of ``table.transistors`` (``table.weighted_toggles``: switching
    TOs, a float)."""
    total = 0
    counts = dict(bos.items())
    if fma:
        t = _has_fma(table, fmt, _fma_cache, price)
        if t is not None:
            pairs = min(fma, counts["mul"], counts["add"])
            total += pairs * t
            counts["mul"] -= pairs
            counts["add"] -= pairs
    for op, n in counts.items():
        if n:
            try:
                t = (price or table.transistors)(op, fmt)
            except Exception as e:
                if unpriced is not None and _has_format(table, fmt):
                    d = unpriced.setdefault(fmt, {})
                    d[op] = d.get(op, 0) + int(n)
                    continue
                raise CountingError(f"transistor table cannot price {op} on {fmt}: {e}") from None
            total += int(n) * (int(t) if price is None else float(t))
    return total


class Record:
    """Accumulated counts of one (module, phase, format): six BO counts, FLOPs, the number of ops that compute or
    move data (kernel launches, roughly), the bytes those ops read and wrote, ``fma``: how many of the muls
    and adds are multiply-accumulate pairs of a dot product computed wholly in this format, and ``costs``: the
    launched ops whose input is in this format as ``{(dot, BOs, bytes): ops}`` (``dot``: a matmul, convolution
    or attention; BOs of the op in every format; bytes read plus written) -- what a roofline needs per op."""

    __slots__ = ("counts", "flops", "ops", "bytes_read", "bytes_written", "fma", "costs")

    def __init__(self):
        self.counts = [0, 0, 0, 0, 0, 0]
        self.flops = 0
        self.ops = 0
        self.bytes_read = 0
        self.bytes_written = 0
        self.fma = 0
        self.costs: Counter = Counter()

    def add(self, v: BOVector, flops: int = 0, ops: int = 1):
        c = self.counts
        c[0] += v.add
        c[1] += v.sub
        c[2] += v.mul
        c[3] += v.div
        c[4] += v.root
        c[5] += v.compare
        self.flops += flops
        self.ops += ops

    def merge(self, other: "Record", times: int = 1):
        for i, c in enumerate(other.counts):
            self.counts[i] += c * times
        self.flops += other.flops * times
        self.ops += other.ops * times
        self.bytes_read += other.bytes_read * times
        self.bytes_written += other.bytes_written * times
        self.fma += other.fma * times
        for k, n in other.costs.items():
            self.costs[k] += n * times

    @property
    def bos(self) -> BOVector:
        return BOVector(*self.counts)

    @property
    def bytes(self) -> int:
        return self.bytes_read + self.bytes_written


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
        self.device: str | None = None  # where the step ran: meta, fake, cpu, cuda
        self.attempts: list[tuple[str, str]] = []  # (device, why it failed) for devices tried before ``device``
        self.accumulate: str | None = None  # the accumulator format override, if any
        self.amp: str | None = None  # the autocast format, if the step ran under autocast
        self.depths: dict[str, int] = {}  # phase -> longest chain of launched ops within it
        self.depth_total = 0  # longest chain of launched ops over the whole step

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

    def add_bytes(self, module: str, phase: str, fmt: str, read: int, written: int):
        r = self.record(module, phase, fmt)
        r.bytes_read += read
        r.bytes_written += written

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

    def bytes(self, phase=None, module=None) -> int:
        """Bytes read plus bytes written by every op (inputs, outputs, parameters, gradients, optimizer state)."""
        return sum(r.bytes_read + r.bytes_written for _, r in self._select(phase, module))

    def bytes_read(self, phase=None, module=None) -> int:
        return sum(r.bytes_read for _, r in self._select(phase, module))

    def bytes_written(self, phase=None, module=None) -> int:
        return sum(r.bytes_written for _, r in self._select(phase, module))

    def launches(self, phase=None, module=None) -> int:
        """Ops that computed or moved data (views and allocations excluded): a proxy for kernel launches."""
        return sum(r.ops for _, r in self._select(phase, module))

    def depth(self, phase=None) -> int:
        """Sequential depth: the longest chain of launched ops (ops that compute or move data) each of which reads
        what the one before it wrote -- ops that must run one after another, however wide the machine. Of one
        ``phase`` (a chain within it), or of the whole step (``None`` or a tuple of phases)."""
        if isinstance(phase, str):
            return self.depths.get(phase, 0)
        return self.depth_total

    def est_seconds(self, timing: TimingSource, phase=None, module=None) -> float:
        """Estimated seconds of the step on ``timing``'s hardware: every launched op run one after another, each
        taking ``timing.op_seconds(format, dot, BOs, bytes)`` (a roofline plus a launch overhead). A report
        without per-op costs (the paper counter) prices each record as its ops sharing its BOs and bytes."""
        total = 0.0
        per_op = any(r.costs for r in self.records.values())
        for (_, _, f), r in self._select(phase, module):
            if per_op:
                for (dot, ops, nbytes), n in r.costs.items():
                    total += n * timing.op_seconds(f, dot, ops, nbytes)
            elif any(r.counts) or r.bytes:
                n = max(r.ops, 1)
                total += n * timing.op_seconds(f, bool(r.fma), sum(r.counts) / n, r.bytes / n)
        return total

    def switching_tos(self, table: TransistorSource, fmt: str | None = None, phase=None, module=None) -> float | None:
        """Switching TOs: each record's BOs times the table's transistor-weighted toggles per operation (under the
        operands the table was simulated with: its ``activity``), FMA pairs as FMAs where the table has them.
        None when the table has no toggles (one made of plain numbers). Operations the table cannot price are
        left out, as in :meth:`tos`."""
        price = getattr(table, "weighted_toggles", None)
        if price is None or getattr(table, "vectors", 1) == 0:
            return None
        forced = normalize_format(fmt) if fmt else None
        total = 0.0
        cache: dict = {}
        for (_, _, f), r in self._select(phase, module):
            if any(r.counts):
                total += transistor_operations(r.bos, table, forced or f, r.fma, cache, {}, price=price)
        return total

    def bos_by_format(self, phase=None, module=None) -> dict[str, BOVector]:
        """The BO vector keyed by (operation, format): ``{format: BOVector}`` (formats with no BOs left out)."""
        out: dict[str, list[int]] = {}
        for (_, _, f), r in self._select(phase, module):
            acc = out.setdefault(f, [0] * 6)
            for i, c in enumerate(r.counts):
                acc[i] += c
        return {f: BOVector(*c) for f, c in sorted(out.items()) if any(c)}

    def fma_pairs(self, phase=None, module=None) -> dict[str, int]:
        """Per format: multiply-accumulate pairs of dot products computed wholly in that format (an FMA unit's work)."""
        out: dict[str, int] = {}
        for (_, _, f), r in self._select(phase, module):
            if r.fma:
                out[f] = out.get(f, 0) + r.fma
        return dict(sorted(out.items()))

    def formats(self) -> list[str]:
        """Formats some BO is computed in (formats that only moved bytes are left out)."""
        return sorted({f for (_, _, f), r in self.records.items() if any(r.counts)})

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

    def tos(self, table: TransistorSource, fmt: str | None = None, phase=None, module=None,
            unpriced: dict | None = None) -> int:
        """Transistor operations: each record's BOs priced on its own format (or on ``fmt`` if forced).
        ``unpriced``: see :func:`transistor_operations` (without it, an operation the table cannot price raises)."""
        forced = normalize_format(fmt) if fmt else None
        total = 0
        fma_cache: dict = {}
        for (_, _, f), r in self._select(phase, module):
            if any(r.counts):
                total += transistor_operations(r.bos, table, forced or f, r.fma, fma_cache, unpriced)
        return total

    def unpriced(self, table: TransistorSource, fmt: str | None = None) -> dict:
        """``{format: {operation: BOs}}`` the table has no unit for (left out of :meth:`tos` in outputs)."""
        out: dict = {}
        self.tos(table, fmt, phase=self.phases, unpriced=out)
        return out

    @property
    def total(self) -> BOVector:
        return self.bos()

    # -- output ---------------------------------------------------------------------------------------
    def rows(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True,
             timing: TimingSource | None = None):
        """Table rows: one per module (hierarchical totals) and phase, then one total per phase and a grand total."""
        rows = []
        if per_layer:
            for m in self.modules():
                for p in self.phases:
                    if not any(True for _ in self._select(p, m)):
                        continue
                    rows.append(self._row(m, p, m, table, fmt, timing=timing))
        for p in self.phases:
            rows.append(self._row("(total)", p, None, table, fmt, timing=timing))
        rows.append(self._row("(total)", "all", None, table, fmt, phase=self.phases, timing=timing))
        return rows

    def _row(self, name, phase_label, module, table, fmt, phase=None, timing=None):
        phase = phase_label if phase is None else phase
        v = self.bos(phase=phase, module=module)
        row: dict[str, Any] = {"module": name, "phase": phase_label}
        row.update(v.to_dict())
        row["bos"] = v.total()
        row["flops"] = self.flops(phase=phase, module=module)
        row["bytes"] = self.bytes(phase=phase, module=module)
        if table is not None:
            row["tos"] = self.tos(table, fmt, phase=phase, module=module, unpriced={})
            sw = self.switching_tos(table, fmt, phase=phase, module=module)
            if sw is not None:
                row["switching_tos"] = sw
        if timing is not None:
            row["est_seconds"] = self.est_seconds(timing, phase=phase, module=module)
        return row

    def to_dict(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True,
                timing: TimingSource | None = None) -> dict:
        d: dict[str, Any] = {
            "level": self.level,
            "counter": self.counter,
            "recipes": self.recipes,
            "phases": list(self.phases),
            "formats": self.formats(),
            "total": {**self.bos(phase=self.phases).to_dict(), "bos": self.bos(phase=self.phases).total(),
                      "flops": self.flops(phase=self.phases), **self._traffic(self.phases)},
            "by_phase": {p: {**self.bos(phase=p).to_dict(), "flops": self.flops(phase=p), **self._traffic(p)}
                         for p in self.phases},
            "by_format": {f: {**v.to_dict(), "fma_pairs": self.fma_pairs(phase=self.phases).get(f, 0)}
                          for f, v in self.bos_by_format(phase=self.phases).items()},
            "by_phase_format": {p: {f: v.to_dict() for f, v in self.bos_by_format(phase=p).items()}
                                for p in self.phases},
            "device": self.device,
            "fallbacks": [{"device": d, "error": e} for d, e in self.attempts],
            "accumulate": self.accumulate,
            "amp": self.amp,
            "uncounted": dict(sorted(self.uncounted.items())),
            "uncounted_where": {k: {"module": v[0], "phase": v[1]} for k, v in sorted(self.uncounted_where.items())},
            "notes": list(self.notes),
        }
        if table is not None:
            unpriced: dict = {}
            d["total"]["tos"] = self.tos(table, fmt, phase=self.phases, unpriced=unpriced)
            d["tos_format"] = normalize_format(fmt) if fmt else "per-op dtype"
            d["tos_unpriced"] = unpriced
            sw = self.switching_tos(table, fmt, phase=self.phases)
            if sw is not None:
                d["total"]["switching_tos"] = sw
                d["activity"] = getattr(table, "activity", None) or None
        if timing is not None:
            d["total"]["est_seconds"] = self.est_seconds(timing, phase=self.phases)
            for p in self.phases:
                d["by_phase"][p]["est_seconds"] = self.est_seconds(timing, phase=p)
            d["timing"] = getattr(timing, "name", None) or type(timing).__name__
        if per_layer:
            d["rows"] = self.rows(table, fmt, per_layer=True, timing=timing)
        return d

    def _traffic(self, phase) -> dict:
        return {"bytes": self.bytes(phase=phase), "bytes_read": self.bytes_read(phase=phase),
                "bytes_written": self.bytes_written(phase=phase), "launches": self.launches(phase=phase),
                "depth": self.depth(phase)}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(**kw), indent=2)

    def to_csv(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True,
               timing: TimingSource | None = None) -> str:
        rows = self.rows(table, fmt, per_layer, timing)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()) if rows else ["module"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()

    def to_table(self, table: TransistorSource | None = None, fmt: str | None = None, per_layer: bool = True,
                 timing: TimingSource | None = None) -> str:
        """An fvcore-like text table: modules indented by depth, one line per phase, totals at the bottom."""
        rows = self.rows(table, fmt, per_layer, timing)
        cols = ["module", "phase", *OPERATIONS, "flops", "bytes"] + (["tos"] if table is not None else [])
        cols += [c for c in ("switching_tos", "est_seconds") if rows and c in rows[-1]]
        cells = []
        for r in rows:
            name = r["module"]
            if name not in ("(total)",) and per_layer:
                depth = name.count(".")
                name = "  " * depth + name.rsplit(".", 1)[-1]
            cells.append([name, r["phase"]] + [_fmt_cell(c, r[c]) for c in cols[2:]])
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
                     + (f"; device: {self.device}" if self.device else "")
                     + (f"; autocast: {self.amp}" if self.amp else ""))
        by_fmt = self.bos_by_format(phase=self.phases)
        if by_fmt:
            fma = self.fma_pairs(phase=self.phases)
            lines.append("BOs by format: " + "; ".join(
                f"{f}: " + ", ".join(f"{op} {n:,}" for op, n in v.items() if n)
                + (f" (fma pairs {fma[f]:,})" if fma.get(f) else "") for f, v in by_fmt.items()))
        for d, e in self.attempts:
            lines.append(f"fell back from {d}: {e}")
        if self.depth_total:
            lines.append(f"launches: {self.launches(phase=self.phases):,}; sequential depth: {self.depth_total:,} ops "
                         f"(" + ", ".join(f"{p} {self.depth(p):,}" for p in self.phases) + ")"
                         + (f"; est. time on {getattr(timing, 'name', 'the timing profile')}: "
                            f"{self.est_seconds(timing, phase=self.phases):.4g} s" if timing is not None else ""))
        if table is not None and rows and "switching_tos" in rows[-1]:
            lines.append("switching TOs: BOs x transistor-weighted toggles per operation under operands "
                         + (getattr(table, "activity", "") or "random (the table mode's own)"))
        if table is not None:
            left = self.unpriced(table, fmt)
            if left:
                lines.append("TOs leave out BOs the transistor table has no unit for: " + "; ".join(
                    f"{op} on {f} x{n:,}" for f, ops in left.items() for op, n in ops.items()))
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


def _fmt_cell(column: str, v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if column == "est_seconds" else f"{v:,.0f}"
    return _fmt_int(v)


def merge_reports(reports: Iterable[Report]) -> Report:
    reports = list(reports)
    out = Report(level=reports[0].level, counter=reports[0].counter, recipes=reports[0].recipes,
                 phases=reports[0].phases)
    for r in reports:
        for (m, p, f), rec in r.records.items():
            out.record(m, p, f).merge(rec)
        out.uncounted.update(r.uncounted)
        out.op_counts.update(r.op_counts)
        out.depth_total = max(out.depth_total, r.depth_total)
        for p, d in r.depths.items():
            out.depths[p] = max(out.depths.get(p, 0), d)
        for k, v in r.uncounted_where.items():
            out.uncounted_where.setdefault(k, v)
    return out


__all__ = ["Report", "Record", "CountingError", "transistor_operations", "PHASES", "LEVEL_PHASES", "ZERO",
           "TimingSource"]
