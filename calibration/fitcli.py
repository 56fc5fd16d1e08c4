"""The multi-feature path of ``gatesim fit``: several feature sets, several models, cross-validation, PEN.

``calibration.cli.fit_cmd`` calls :func:`run_energy_fit` when the command asks for more than the paper's
polynomials on a random split (``--pen``, ``--model``, ``--cv``, ``--report``, several ``--features``).
"""
from __future__ import annotations

import json
import re
from typing import Sequence

import click

from .errors import CalibrationError


def parse_select(select: str | None) -> str | None:
    """``tos,bytes:linear`` or ``tos:poly2`` as given; the paper path's ``tos:2`` means ``tos:poly2``."""
    if not select:
        return None
    m = re.fullmatch(r"(.+):(\d+)", select.strip())
    return f"{m.group(1)}:poly{m.group(2)}" if m else select.strip()


def _log_records(log: str, trim_k: int | None) -> tuple[list[dict], list[str], dict]:
    from .checks import checked_runs
    from .sweeps import read_log, trim

    recs = read_log(log)
    if not recs:
        raise CalibrationError("the log has no runs")
    recs, warnings = checked_runs(recs, [f for f in ("tos",) if all(r.get(f) is not None for r in recs)])
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    k = trim_k if trim_k is not None else int(recs[0].get("trim", 0) or 0)
    kept, notes = trim(recs, k)
    notes[:0] = warnings
    if k:
        notes.insert(0, f"trimmed {k} highest and {k} lowest runs per configuration: {len(recs)} -> {len(kept)}")
    if any(r.get("kind") == "estimate" for r in kept):
        notes.append("some runs are ESTIMATES (power x CPU time), not measurements")
    for r in kept:  # config columns (model, width, layers, activation) become record columns for --cv group:...
        for key, v in (r.get("config") or {}).items():
            r.setdefault(key, v)
    return kept, notes, kept[0]


def run_energy_fit(*, log: str | None, pen: bool, pen_dir: str | None, table: str, feature_specs: Sequence[str],
                   models: Sequence[str], degrees: Sequence[int], cv_spec: str | None, seed: int, test_size: float,
                   trim_k: int | None, select: str | None, plot_dir: str | None, profile: str | None, report: bool,
                   as_json: bool, progress: bool) -> None:
    from .energy_model import fit_energy, parse_cv
    from .features import numeric_columns, parse_feature_sets
    from .profiles import profile_from_energy

    if pen:
        from .penfit import UNIT, comparison, comparison_markdown, pen_records

        train, test, notes = pen_records(pen_dir, table=table, progress=progress)
        target, unit, first = "energy", UNIT, {}
        cv = parse_cv(cv_spec or "given", test_size=test_size, seed=seed)
        records, validation = (train, test) if cv.kind == "given" else (train + test, None)
        source = f"PEN ({pen_dir or 'calibration/data/pen'})"
    else:
        records, notes, first = _log_records(log, trim_k)
        target, unit, validation = "joules", "J", None
        cv = parse_cv(cv_spec or "split", test_size=test_size, seed=seed)
        if cv.kind == "given":
            raise CalibrationError("--cv given is for --pen (training.csv fitted, test.csv validated)")
        source = str(log)
    if report:
        if not pen:
            raise CalibrationError("--report is the PEN comparison table: use it with --pen")
        from .penfit import tos_vs_flops

        reports = comparison(train, test, degrees=degrees)
        notes.append(f"TOs against FLOPs over all runs: a straight line has R² {tos_vs_flops(train + test):.6f}")
        _emit_report(reports, comparison_markdown(reports), notes, plot_dir, train, test, as_json)
        return
    sets = parse_feature_sets(feature_specs, numeric_columns(records))
    rep = fit_energy(records, sets, models, degrees, cv=cv, target=target, unit=unit, validation=validation,
                     source=source, notes=notes)
    plots = []
    if plot_dir:
        from pathlib import Path

        from .plots import predicted_vs_measured, residuals_by_group

        best = [rep.best()]
        estimate = any("ESTIMATES" in n for n in notes)
        plots.append(predicted_vs_measured(best, records, validation or [], Path(plot_dir) / "predicted_vs_measured.png",
                                           target=target, unit=unit, estimate=estimate))
        if any("family" in r for r in records):
            plots.append(residuals_by_group(best, list(records) + list(validation or []),
                                            Path(plot_dir) / "residuals_by_family.png", target=target,
                                            estimate=estimate))
    prof = None
    if profile:
        from .counting import resolve_table, table_description

        tab = first.get("table") if not pen else table_description(resolve_table(table))
        prof = profile_from_energy(rep, selected=parse_select(select), table=tab, hardware=first.get("hardware") or {},
                                   meter=str(first.get("meter", "")) if first else "PEN (external meter)",
                                   kind="estimate" if any("ESTIMATES" in n for n in notes) else "measurement",
                                   workload={"level": first.get("level", "training"), "runs": len(records),
                                             "point": "energy of one whole training run (all epochs)",
                                             "counting": first.get("counting") or {}})
        prof.save(profile)
    elif select:
        rep.get(parse_select(select))
    if as_json:
        d = rep.to_dict()
        d["plots"] = plots
        if prof:
            d["selected_model"] = prof.selected_model
        click.echo(json.dumps(d, indent=2))
        return
    click.echo(rep.to_text())
    for p in plots:
        click.echo(f"plot: {p}")
    if prof:
        click.echo(f"profile: {profile} (default model {prof.selected_model})")


def _emit_report(reports, markdown: str, notes, plot_dir, train, test, as_json) -> None:
    plots = []
    if plot_dir:
        from pathlib import Path

        from .plots import predicted_vs_measured, residuals_by_group

        rep = reports["test"]
        pick = [_best(rep, ("flops",)), _best(rep, ("tos",)), rep.best()]
        pick = list({m.name: m for m in pick if m is not None}.values())
        plots.append(predicted_vs_measured(pick, train, test, Path(plot_dir) / "pen_predicted_vs_measured.png",
                                           unit="a.u."))
        plots.append(residuals_by_group(pick, test, Path(plot_dir) / "pen_residuals_by_family.png"))
    if as_json:
        click.echo(json.dumps({"notes": notes, "plots": plots, **{k: r.to_dict() for k, r in reports.items()}},
                              indent=2))
        return
    click.echo(markdown)
    click.echo("")
    for key, r in reports.items():
        for n in r.notes:
            click.echo(f"note ({key}): {n}")
    for n in notes:
        click.echo(f"note: {n}")
    for p in plots:
        click.echo(f"plot: {p}")


def _best(report, features: tuple[str, ...]):
    pool = [m for m in report.models if m.features == features]
    return min(pool, key=lambda m: m.validation.rmse) if pool else None


__all__ = ["run_energy_fit", "parse_select"]
