"""Checks on calibration data, so that no fit and no profile is silently wrong.

* :func:`unique_runs` -- one record per ``(key, repeat)`` (two sweeps that shared a log before it was locked
  could log a run twice); the duplicates are named in a note.
* :func:`check_runs` -- every energy finite and positive, every feature finite and non-negative, the energies not
  all equal (a meter stuck at one value fits any line with R^2 = 1); runs far from the others are named as
  outliers.
* :func:`check_fits` -- every fitted coefficient and prediction finite (a run of 1e308 J overflows the fit).
* :func:`strict_json` / :func:`loads_strict` -- profiles are strict JSON: no ``NaN`` or ``Infinity``.
"""
from __future__ import annotations

import contextlib
import json
import math
import statistics
import warnings
from typing import Any, Iterable, Sequence

from .errors import CalibrationError

OUTLIER_REPEAT_FACTOR = 3.0  # a run more than 3x (or under 1/3 of) the median of its configuration's repeats
OUTLIER_FEATURE_FACTOR = 1000.0  # energy per TO (or FLOP) more than 1000x from the median over all runs


def run_name(r: dict) -> str:
    return f"{r.get('key')} repeat {r.get('repeat')}"


def unique_runs(records: Sequence[dict]) -> tuple[list[dict], list[str]]:
    """The first record of each ``(key, repeat)``, and a note naming the duplicates dropped."""
    seen, out, dups = set(), [], []
    for r in records:
        k = (r.get("key"), r.get("repeat"))
        if k in seen:
            dups.append(run_name(r))
        else:
            seen.add(k)
            out.append(r)
    notes = []
    if dups:
        shown = ", ".join(dict.fromkeys(dups[:5])) + (" ..." if len(dups) > 5 else "")
        notes.append(f"ignored {len(dups)} duplicate run(s) of the same (key, repeat), first one kept: {shown}")
    return out, notes


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_runs(records: Sequence[dict], features: Iterable[str], value: str = "joules") -> list[str]:
    """Raise :class:`CalibrationError` naming the first run whose energy is not finite and positive or whose
    feature is not finite and non-negative, or when every energy is the same; return notes naming outliers."""
    features = list(features)
    for r in records:
        e = r.get(value)
        if not _finite(e) or e <= 0:
            raise CalibrationError(f"run {run_name(r)}: energy must be a finite positive number of joules, got {e!r}")
        for f in features:
            x = r.get(f)
            if not _finite(x) or x < 0:
                raise CalibrationError(f"run {run_name(r)}: {f} must be a finite non-negative number, got {x!r}")
    energies = [float(r[value]) for r in records]
    if len(energies) > 1 and len(set(energies)) == 1:
        raise CalibrationError(f"every run has the same energy ({energies[0]:g} J): a meter stuck at one value? "
                               "there is nothing to fit")
    return outlier_notes(records, features, value)


def outlier_notes(records: Sequence[dict], features: Sequence[str], value: str = "joules") -> list[str]:
    """Runs more than :data:`OUTLIER_REPEAT_FACTOR` from the median of their configuration's repeats (3 or more),
    or whose energy per unit of the first feature is :data:`OUTLIER_FEATURE_FACTOR` from the median of all runs."""
    named: dict[str, str] = {}
    groups: dict[Any, list[dict]] = {}
    for r in records:
        groups.setdefault(r.get("key"), []).append(r)
    for rs in groups.values():
        if len(rs) < 3:
            continue
        med = statistics.median(float(r[value]) for r in rs)
        for r in rs:
            ratio = _ratio(float(r[value]), med)
            if not 1 / OUTLIER_REPEAT_FACTOR <= ratio <= OUTLIER_REPEAT_FACTOR:
                named[run_name(r)] = f"{float(r[value]):.4g} J, {_times(ratio)} its configuration's median"
    feat = features[0] if features else None
    if feat is not None:
        per = [(r, _ratio(float(r[value]), float(r[feat]))) for r in records if float(r[feat]) > 0]
        if len(per) >= 3:
            med = statistics.median(p for _, p in per)
            for r, p in per:
                ratio = _ratio(p, med)
                if not 1 / OUTLIER_FEATURE_FACTOR <= ratio <= OUTLIER_FEATURE_FACTOR and run_name(r) not in named:
                    named[run_name(r)] = f"{float(r[value]):.4g} J, {_times(ratio)} the median energy per {feat}"
    if not named:
        return []
    shown = "; ".join(f"{k} ({v})" for k, v in list(named.items())[:5]) + (" ..." if len(named) > 5 else "")
    return [f"{len(named)} outlier run(s): {shown}"]


def _ratio(a: float, b: float) -> float:
    """``a / b`` for positive numbers, as ``exp(log a - log b)`` so that it is inf only when truly huge."""
    try:
        return math.exp(math.log(a) - math.log(b))
    except (OverflowError, ValueError):
        return math.inf if a > b else 0.0


def _times(ratio: float) -> str:
    return f"{ratio:.3g}x" if 0 < ratio < math.inf else ("over 1e308x" if ratio else "under 1e-308x")


def checked_runs(records: Sequence[dict], features: Iterable[str]) -> tuple[list[dict], list[str]]:
    """One run per (key, repeat) (:func:`unique_runs`), every run checked (:func:`check_runs`); returns the runs
    and the notes to warn about (duplicates, outliers)."""
    runs, notes = unique_runs(records)
    return runs, notes + check_runs(runs, features)


@contextlib.contextmanager
def quiet_numerics():
    """Floating-point overflow inside a fit is checked by :func:`check_fits`, not printed as numpy warnings."""
    import numpy as np

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def check_fits(fits: Iterable, notes: Sequence[str] = ()) -> None:
    """Every fit's coefficients, centre and scale are finite, and so are its train and validation errors (R² may
    be undefined: NaN for a constant set); otherwise a :class:`CalibrationError` that names the fit (and the
    outliers, which are the usual cause)."""
    for f in fits:
        values = [f.mean, f.scale, *f.coef_z]
        with quiet_numerics():
            values += list(f.coefficients)
        for m in (f.train, f.validation):
            if m is not None:
                values += [v for k, v in vars(m).items() if k not in ("n", "r2") and _number(v)]
                if _number(m.r2) and math.isinf(m.r2):
                    values.append(m.r2)
        if not all(math.isfinite(v) for v in values):
            why = next((n for n in notes if "outlier" in n), "")
            raise CalibrationError(f"the fit on {f.feature} of degree {f.degree} has a non-finite coefficient or error"
                                   + (f" (the energies overflow double precision; {why})" if why else ""))


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON (strict JSON has no NaN or Infinity)")


def loads_strict(text: "str | bytes") -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (raises ``ValueError``)."""
    return json.loads(text, parse_constant=_reject_constant)


def strict_json(doc: Any, what: str, **kwargs) -> str:
    """``json.dumps(doc)`` or a :class:`CalibrationError`: ``what`` would hold NaN or Infinity."""
    try:
        return json.dumps(doc, allow_nan=False, **kwargs)
    except ValueError:
        raise CalibrationError(f"refusing to write {what}: it holds NaN or Infinity, which is not JSON") from None


__all__ = ["unique_runs", "check_runs", "checked_runs", "outlier_notes", "check_fits", "quiet_numerics", "loads_strict", "strict_json",
           "run_name"]
