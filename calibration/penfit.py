"""PEN end to end: count every run of the shipped data, then fit and compare energy models on it.

:func:`pen_records` counts ``training.csv`` and ``test.csv`` (:func:`calibration.pen.count_runs`); runs whose
optimizer cannot be counted are left out and named in the notes. :func:`comparison` is the README's table:
every feature set of :func:`report_feature_sets` under every model, validated on ``test.csv`` and by family
transfer (fit on the MLPs, predict the CNNs, and back).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from .energy_model import CV, MODELS, EnergyModel, EnergyReport, fit_energy
from .errors import CalibrationError
from .features import numeric_columns
from .pen import ENERGY_UNIT, count_runs, default_pen_dir, load_splits

UNIT = "a.u."
#: columns the model counter may add; each joins TOs (and FLOPs) as a feature set where present
TERMS = ("bytes", "switching_tos", "launches", "est_seconds", "depth")
#: what sets the time: joins each count + bytes set where the counter reports them
TIME_TERMS = ("est_seconds", "launches")


def pen_records(pen_dir: str | Path | None = None, *, table="paper", progress: bool = False,
                limit: int | None = None) -> tuple[list[dict], list[dict], list[str]]:
    """Counted ``(training, test, notes)`` run records; ``notes`` says what was left out and why."""
    t0 = time.time()
    splits = load_splits(pen_dir, limit)
    train, test = splits["training"], splits["test"]
    recs = count_runs(train + test, uncountable="exclude", progress=progress, table=table)
    notes = [f"data: PEN {len(train)} training + {len(test)} test runs from "
             f"{Path(pen_dir) if pen_dir else default_pen_dir()}; energy {ENERGY_UNIT}",
             f"counted with table {table if isinstance(table, str) else getattr(table, 'name', 'custom')} in "
             f"{time.time() - t0:.1f} s (forward, cross-entropy loss, backward and the run's optimizer step, "
             f"x epochs)"]
    excluded = [r for r in recs if "excluded" in r]
    for r in excluded:
        notes.append(f"left out {r['split']}.csv line {r['row']}: {r['excluded']}")
    uncounted = sorted({op for r in recs for op in (r.get("uncounted") or {})})
    if uncounted:
        notes.append(f"ops without a recipe (not counted): {', '.join(uncounted)}")
    kept = [r for r in recs if "excluded" not in r]
    return ([r for r in kept if r["split"] == "training"], [r for r in kept if r["split"] == "test"], notes)


def report_feature_sets(records: Sequence[dict]) -> list[tuple[str, ...]]:
    """Each operation count alone (FLOPs, TOs, switching TOs), the BOs per operation, each count + bytes, and each
    count + bytes + what sets the time (est_seconds, launches), as far as the counter reports them."""
    cols = numeric_columns(records)
    counts = [c for c in ("flops", "tos", "switching_tos") if c in cols]
    sets: list[tuple[str, ...]] = [(c,) for c in counts] + [tuple(c for c in cols if c.startswith("bos."))]
    if "bytes" in cols:
        sets += [(c, "bytes") for c in counts]
        time = tuple(t for t in TIME_TERMS if t in cols)
        if time:
            sets += [(c, "bytes", *time) for c in counts]
    return [s for s in dict.fromkeys(sets) if s]


def comparison(train: Sequence[dict], test: Sequence[dict], *, feature_sets=None,
               models: Sequence[str] = MODELS, degrees: Sequence[int] = (1, 2, 3)) -> dict[str, EnergyReport]:
    """``{"test": ..., "family": ..., "architecture": ...}``: every (feature set, model) fitted on training.csv and
    validated on test.csv; fitted on all runs but one family, validated on that family (MLP -> CNN and back); and
    fitted on all runs but one architecture, for every architecture (a model never measured). A model
    that cannot fit a set (a power law of a count that is sometimes zero) is left out with a note."""
    sets = feature_sets or report_feature_sets(train)
    out = {}
    for key, cv, recs, val in (("test", CV("given"), train, test),
                               ("family", CV("group", column="family"), list(train) + list(test), None),
                               ("architecture", CV("group", column="architecture"), list(train) + list(test), None)):
        models_out: list[EnergyModel] = []
        notes: list[str] = []
        for fs in sets:
            for kind in models:
                if kind == "poly" and len(fs) > 1:
                    continue  # the paper's polynomial is of one feature
                try:
                    models_out += fit_energy(recs, [fs], [kind], degrees, cv=cv, target="energy", unit=UNIT,
                                             validation=val).models
                except CalibrationError as e:
                    notes.append(f"{kind} on {','.join(fs)} not fitted: {e}")
        if not models_out:
            raise CalibrationError("no model could be fitted: " + "; ".join(notes))
        n_val = len(val) if val is not None else len(recs)
        out[key] = EnergyReport(models_out, len(recs), n_val, cv.describe(), UNIT, "PEN", notes)
    return out


def tos_vs_flops(records: Sequence[dict]) -> float:
    """R² of the best straight line between TOs and FLOPs over the runs: how far TOs are just scaled FLOPs."""
    import numpy as np

    x = np.array([r["flops"] for r in records], dtype=float)
    y = np.array([r["tos"] for r in records], dtype=float)
    slope, icpt = np.polyfit(x, y, 1)
    return float(1 - np.sum((y - slope * x - icpt) ** 2) / np.sum((y - y.mean()) ** 2))


def comparison_markdown(reports: dict[str, EnergyReport]) -> str:
    """The README table: per feature set and model, R² and MAPE on test.csv, on architectures left out one at a
    time (pooled), on held-out CNNs (fit on MLPs) and on held-out MLPs (fit on CNNs)."""
    from .features import label

    test, fam, arch = reports["test"], reports["family"], reports["architecture"]
    by_name = {m.name: m for m in fam.models}
    by_arch = {m.name: m for m in arch.models}
    groups = sorted({g for m in fam.models for g in m.groups})
    head = ["features", "model", "R² test", "RMSE test", "MAPE test %", "R² unseen arch.", "MAPE unseen arch. %"]
    for g in groups:
        other = "+".join(x.upper() for x in groups if x != g)
        head += [f"R² {g.upper()} (fit {other})", f"MAPE {g.upper()} %"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for m in test.models:
        v = m.validation
        bos = len(m.features) > 1 and all(f.startswith("bos.") for f in m.features)
        row = ["BOs per operation" if bos else ", ".join(label(f) for f in m.features),
               m.kind + (str(m.degree) if m.kind == "poly" else ""), f"{v.r2:.4f}", f"{v.rmse:.0f}", f"{v.mape:.0f}"]
        a = by_arch.get(m.name)
        row += [f"{a.validation.r2:.3f}", f"{a.validation.mape:.0f}"] if a else ["–", "–"]
        g = by_name.get(m.name)
        for name in groups:
            gm = g.groups.get(name) if g else None
            row += [f"{gm.r2:.3f}", f"{gm.mape:.0f}"] if gm else ["–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


__all__ = ["pen_records", "report_feature_sets", "comparison", "comparison_markdown", "tos_vs_flops", "UNIT", "TERMS"]
