"""A default energy profile from published per-operation energies: an ESTIMATE, not a measurement.

``calibration/data/published-energies.toml`` holds energies per operation and per memory access at 45 nm from the
literature (Horowitz, ISSCC 2014; Han et al., ISCA 2016), with their citations. :func:`fit_published` turns them
into joules per transistor operation for a given transistor table: for every published (operation, format) the
table gives the unit's transistors T and its transistor-weighted toggles per operation W, and non-negative least
squares in relative error (each row divided by its published energy, so a 0.03 pJ int8 add weighs as much as a
3.7 pJ fp32 multiply) fits ``E = a * T`` (joules per TO) and ``E = b * W`` (joules per switching TO). Bytes are
priced at the published DRAM access energy (every byte a model's ops read or write taken as a DRAM access: an
upper bound; the on-chip SRAM figure is the lower one).

``calibration/data/default-energy.json`` ships the fits for the built-in tables with their provenance (written by
``python benchmarks/default_energy.py``; a test checks it against a fresh fit). ``gatesim estimate`` prints
:meth:`DefaultEnergy.estimate` of every step it counts, fitted to the table it priced the step with.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CalibrationError

PUBLISHED = "published-energies.toml"
SHIPPED = "default-energy.json"
DEFAULT_ENERGY_FORMAT = "gatesim-default-energy/1"
LABEL = ("an ESTIMATE from published 45 nm per-operation energies (Horowitz, ISSCC 2014) fitted to this "
         "transistor table, not a measurement")


@dataclass(frozen=True)
class Published:
    """Published energies: ``operations`` ``{(operation, format): picojoules}``, ``memory`` ``{name: (picojoules,
    bytes, cite)}``, ``sources`` (citations) and ``name``."""

    name: str
    operations: dict
    memory: dict
    sources: tuple
    description: str = ""

    def picojoules_per_byte(self, level: str) -> float:
        pj, nbytes, _ = self.memory[level]
        return pj / nbytes


def load_published(path: str | Path | None = None) -> Published:
    """The shipped published energies (or a file of the same form)."""
    from gatesim.datafile import read_data_file

    src = path or resources.files("calibration").joinpath("data", PUBLISHED)
    d = read_data_file(src, "published energies", CalibrationError)
    try:
        ops = {}
        for key, pj in d["operations"].items():
            op, _, fmt = key.partition(".")
            if not fmt or not isinstance(pj, (int, float)) or pj <= 0:
                raise CalibrationError(f"published energies: operation {key!r} must be OP.FORMAT = positive picojoules")
            ops[(op, fmt)] = float(pj)
        memory = {k: (float(v["picojoules"]), int(v["bytes"]), str(v.get("cite", ""))) for k, v in d["memory"].items()}
    except (KeyError, TypeError, ValueError) as e:
        raise CalibrationError(f"published energies {src}: malformed ({e})") from None
    for need in ("dram", "sram"):
        if need not in memory:
            raise CalibrationError(f"published energies {src}: no [memory.{need}]")
    return Published(str(d.get("name", "published")), ops, memory,
                     tuple(s.get("cite", "") for s in d.get("source", [])), str(d.get("description", "")))


@dataclass
class DefaultEnergy:
    """Joules per TO, per switching TO and per byte fitted to published energies for one table, with the fit's
    rows (``(operation, format, published pJ, transistors, weighted toggles, pJ from TOs, pJ from switching)``)."""

    joules_per_to: float
    joules_per_switching_to: float
    joules_per_byte: float  # DRAM
    joules_per_byte_onchip: float  # SRAM: the lower bound of the memory term
    table: dict = field(default_factory=dict)  # name, mode, library, activity of the table fitted to
    rows: list = field(default_factory=list)
    published: str = ""
    sources: tuple = ()

    def estimate(self, tos: float | None, bytes_moved: float | None, switching_tos: float | None = None) -> dict:
        """Joules of a workload: compute (TOs x J/TO) + memory (bytes x J/B at DRAM cost), and the same with
        switching TOs, and the memory term at on-chip cost."""
        out: dict[str, Any] = {"label": LABEL, "published": self.published, "table": self.table,
                               "joules_per_to": self.joules_per_to, "joules_per_switching_to": self.joules_per_switching_to,
                               "joules_per_byte": self.joules_per_byte, "joules_per_byte_onchip": self.joules_per_byte_onchip}
        mem = (bytes_moved or 0) * self.joules_per_byte
        out["memory_joules"] = mem
        out["memory_joules_onchip"] = (bytes_moved or 0) * self.joules_per_byte_onchip
        if tos is not None:
            out["compute_joules"] = tos * self.joules_per_to
            out["joules"] = out["compute_joules"] + mem
        if switching_tos is not None:
            out["switching_compute_joules"] = switching_tos * self.joules_per_switching_to
            out["switching_joules"] = out["switching_compute_joules"] + mem
        return out

    def fit_quality(self) -> dict:
        """Per published operation: predicted / published energy from TOs and from switching TOs."""
        return {f"{op}.{fmt}": {"published_pj": pj, "from_tos": p_to / pj, "from_switching": p_sw / pj}
                for op, fmt, pj, _, _, p_to, p_sw in self.rows}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sources"] = list(self.sources)
        d["rows"] = [dict(zip(("operation", "format", "published_pj", "transistors", "weighted_toggles",
                               "pj_from_tos", "pj_from_switching"), r)) for r in self.rows]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DefaultEnergy":
        try:
            rows = [tuple(r[k] for k in ("operation", "format", "published_pj", "transistors", "weighted_toggles",
                                        "pj_from_tos", "pj_from_switching")) for r in d.get("rows", [])]
            return cls(float(d["joules_per_to"]), float(d["joules_per_switching_to"]), float(d["joules_per_byte"]),
                       float(d["joules_per_byte_onchip"]), dict(d.get("table") or {}), rows, str(d.get("published", "")),
                       tuple(d.get("sources", ())))
        except (KeyError, TypeError, ValueError) as e:
            raise CalibrationError(f"malformed default energy profile: {e}") from None


def _nnls_relative(x: np.ndarray, energy: np.ndarray) -> float:
    """The non-negative ``c`` minimizing sum(((c x - E) / E)^2)."""
    from scipy.optimize import nnls

    c, _ = nnls((x / energy)[:, None], np.ones_like(energy))
    return float(c[0])


def fit_published(table, published: Published | None = None) -> DefaultEnergy:
    """Fit joules per TO and per switching TO of ``table`` (anything with ``entry(op, fmt)`` giving
    ``transistors`` and ``mean_weighted_toggles``, or ``transistors``/``weighted_toggles`` methods) to the published
    per-operation energies; a published (operation, format) the table cannot price is an error naming it."""
    pub = published or load_published()
    rows = []
    for (op, fmt), pj in sorted(pub.operations.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        try:
            t = float(table.transistors(op, fmt))
            w = float(table.weighted_toggles(op, fmt))
        except Exception as e:
            raise CalibrationError(f"the default energy profile needs {op} on {fmt} from the transistor table: "
                                   f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        rows.append([op, fmt, pj, t, w])
    e = np.array([r[2] for r in rows]) * 1e-12
    a = _nnls_relative(np.array([r[3] for r in rows]), e)
    w = np.array([r[4] for r in rows])
    b = _nnls_relative(w, e) if np.all(w > 0) else 0.0
    for r in rows:
        r += [a * r[3] * 1e12, b * r[4] * 1e12]
    desc = {"name": getattr(table, "name", ""), "mode": getattr(table, "mode", ""),
            "library": str(getattr(table, "library", "")), "activity": getattr(table, "activity", "") or ""}
    return DefaultEnergy(a, b, pub.picojoules_per_byte("dram") * 1e-12, pub.picojoules_per_byte("sram") * 1e-12,
                         desc, [tuple(r) for r in rows], pub.name, pub.sources)


def reference_formats(published: Published | None = None) -> list[str]:
    """Formats the fit needs from a table (for a table built on demand)."""
    pub = published or load_published()
    return sorted({f for _, f in pub.operations})


def load_shipped(path: str | Path | None = None) -> dict[str, DefaultEnergy]:
    """The shipped fits, by table name (``default``, ``gpu-like``, ``paper``)."""
    src = path or resources.files("calibration").joinpath("data", SHIPPED)
    try:
        d = json.loads(Path(str(src)).read_text())
    except (OSError, ValueError) as e:
        raise CalibrationError(f"cannot read the default energy profile {src}: {e}") from None
    if d.get("format") != DEFAULT_ENERGY_FORMAT:
        raise CalibrationError(f"{src} is not a {DEFAULT_ENERGY_FORMAT} file")
    return {k: DefaultEnergy.from_dict(v) for k, v in d.get("fits", {}).items()}


__all__ = ["Published", "DefaultEnergy", "load_published", "fit_published", "load_shipped", "reference_formats",
           "LABEL", "DEFAULT_ENERGY_FORMAT"]
