"""Features of a fit: numeric columns of run records, by name.

A run record (a line of a sweep log, a counted PEN run) is a flat dict. Any numeric column is a feature: ``tos``,
``flops``, ``bos.mul`` (BOs per operation), ``params``, and whatever the counters add (``bytes``,
``switching_tos``, ``launches``, ``est_seconds``, ``seconds`` for a measured runtime) plug in by name.
:data:`FEATURE_UNITS` gives each its unit for coefficient tables (``J/TO``, ``W`` for a feature in seconds).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from .errors import CalibrationError

#: unit of one count of a feature (a coefficient is energy per that unit)
FEATURE_UNITS = {
    "tos": "TO", "switching_tos": "TO", "flops": "FLOP", "bytes": "B", "launches": "launch",
    "est_seconds": "s", "seconds": "s", "runtime": "s", "params": "parameter", "steps": "step",
}
#: other names for a column
FEATURE_ALIASES = {"runtime": "seconds"}
LABELS = {"tos": "TOs", "flops": "FLOPs", "switching_tos": "switching TOs", "est_seconds": "est. seconds"}
#: columns of a record that are never features (targets, bookkeeping)
NOT_FEATURES = frozenset({"energy", "joules", "row", "repeat", "trim", "epochs", "batch_size", "samples",
                          "threads", "cpu", "width", "layers", "image"})


def feature_unit(name: str) -> str:
    if name.startswith("bos."):
        return "BO"
    return FEATURE_UNITS.get(name, "unit")


def label(name: str) -> str:
    """How a feature reads in a report: ``TOs``, ``FLOPs``, ``BOs mul``, or the column name."""
    if name.startswith("bos."):
        return "BOs " + name[4:]
    return LABELS.get(name, name)


def coefficient_unit(name: str, energy_unit: str = "J") -> str:
    """Unit of a linear coefficient: energy per unit of the feature; ``W`` for joules per second."""
    u = feature_unit(name)
    if u == "s" and energy_unit == "J":
        return "W"
    return f"{energy_unit}/{u}"


def column(records: Sequence[dict], name: str) -> np.ndarray:
    """One numeric column; a missing or non-numeric value is an error naming the feature, the number of runs and
    the first run without it."""
    key = name
    if records and name not in records[0] and name in FEATURE_ALIASES:
        key = FEATURE_ALIASES[name]
    vals, bad = [], []
    for i, r in enumerate(records):
        v = r.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            bad.append(i)
            vals.append(math.nan)
        else:
            vals.append(float(v))
    if bad:
        have = ", ".join(numeric_columns(records)) or "none"
        raise CalibrationError(f"feature {name!r} is missing or not a finite number in {len(bad)} of {len(records)} "
                               f"run(s) (first: run {bad[0] + 1}); numeric columns: {have}")
    return np.asarray(vals, dtype=float)


def matrix(records: Sequence[dict], names: Sequence[str]) -> np.ndarray:
    """``[runs, features]`` float matrix of the named columns."""
    if not records:
        raise CalibrationError("no runs to fit")
    return np.column_stack([column(records, n) for n in names])


def numeric_columns(records: Sequence[dict]) -> list[str]:
    """Columns that are numbers in every record, in first-seen order, minus targets and bookkeeping."""
    if not records:
        return []
    names = [k for k, v in records[0].items()
             if k not in NOT_FEATURES and isinstance(v, (int, float)) and not isinstance(v, bool)]
    return [k for k in names if all(isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
                                    for r in records)]


def parse_feature_sets(specs: Iterable[str], available: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """``["tos", "tos,bytes"]`` -> ``[("tos",), ("tos", "bytes")]``. ``bos.*`` expands to every ``bos.`` column
    of ``available``. Each set is checked against ``available`` when given."""
    out = []
    for spec in specs:
        names: list[str] = []
        for part in spec.split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part.endswith("*"):
                if available is None:
                    raise CalibrationError(f"cannot expand {part!r} without the data's columns")
                hit = [a for a in available if a.startswith(part[:-1])]
                if not hit:
                    raise CalibrationError(f"no column matches {part!r} (numeric columns: {', '.join(available)})")
                names += hit
            else:
                names.append(part)
        if not names:
            raise CalibrationError(f"empty feature set {spec!r}")
        if available is not None:
            missing = [n for n in names if n not in available and FEATURE_ALIASES.get(n) not in available]
            if missing:
                raise CalibrationError(f"no feature {missing[0]!r} in the runs (numeric columns: "
                                       f"{', '.join(available) or 'none'})")
        out.append(tuple(dict.fromkeys(names)))
    return out


__all__ = ["FEATURE_UNITS", "FEATURE_ALIASES", "feature_unit", "coefficient_unit", "label", "column", "matrix",
           "numeric_columns", "parse_feature_sets"]
