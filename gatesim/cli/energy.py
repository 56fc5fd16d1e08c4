"""The energy line of ``gatesim estimate``: an estimate from published figures by default, or ``--profile FILE``'s
prediction (a fitted calibration profile). The models room counts; this CLI glue joins its report with the
calibration room (:mod:`calibration.published`, :mod:`calibration.profiles`)."""
from __future__ import annotations

import click


def report_features(report, table, timing=None, fmt=None) -> dict:
    """Every number a fitted energy model may take as a feature, for the report's own phases: ``tos``,
    ``switching_tos``, ``flops``, ``bytes``, ``launches``, ``depth``, ``est_seconds`` and ``bos.<operation>``."""
    ph = report.phases
    out = {"flops": report.flops(phase=ph), "bytes": report.bytes(phase=ph), "launches": report.launches(phase=ph),
           "depth": report.depth(ph)}
    out.update({f"bos.{op}": n for op, n in report.bos(phase=ph).items()})
    if table is not None:
        out["tos"] = report.tos(table, fmt, phase=ph, unpriced={})
        sw = report.switching_tos(table, fmt, phase=ph)
        if sw is not None:
            out["switching_tos"] = sw
    if timing is not None:
        out["est_seconds"] = report.est_seconds(timing, phase=ph)
    return out


def default_energy_annotation(reference_table):
    """``annotate(report, table, fmt, timing) -> (json keys, text lines)``: joules from published per-operation
    energies fitted to ``reference_table()`` (the table the TOs were priced with, at its reference operands)."""

    def annotate(report, table, fmt, timing):
        from calibration.errors import CalibrationError
        from calibration.published import fit_published

        if table is None:
            return {}, []
        try:
            fit = fit_published(reference_table() if callable(reference_table) else reference_table)
        except CalibrationError as e:
            return {"energy_estimate": None}, [f"no estimated energy: {e}"]
        f = report_features(report, table, None, fmt)
        est = fit.estimate(f["tos"], f["bytes"], f.get("switching_tos"))
        lines = [f"estimated energy: {est['joules']:.4g} J = {est['compute_joules']:.4g} J compute "
                 f"({f['tos']:.3g} TOs x {fit.joules_per_to:.3g} J/TO) + {est['memory_joules']:.4g} J memory "
                 f"({f['bytes']:.3g} B x {fit.joules_per_byte * 1e12:.3g} pJ/B, DRAM; "
                 f"{est['memory_joules_onchip']:.3g} J at on-chip SRAM cost)"]
        if "switching_joules" in est:
            lines.append(f"  from switching TOs instead: {est['switching_joules']:.4g} J ({f['switching_tos']:.3g} x "
                         f"{fit.joules_per_switching_to:.3g} J per switching TO, operands "
                         f"{getattr(table, 'activity', '') or 'random'})")
        lines.append(f"  {est['label']}; --profile FILE predicts with a fitted calibration profile instead")
        return {"energy_estimate": est}, lines

    return annotate


def profile_annotation(path: str):
    """``annotate`` for ``--profile FILE``: the profile's selected energy model on the step's features (TOs priced
    with the profile's own transistor table where it records one)."""
    from calibration.errors import CalibrationError
    from calibration.profiles import Profile

    try:
        prof = Profile.load(path)
        model = prof.model()
    except CalibrationError as e:
        raise click.UsageError(f"--profile: {e}") from None

    def annotate(report, table, fmt, timing):
        from calibration.counting import table_from_description

        own = table
        if prof.table and prof.table.get("transistors"):
            own = table_from_description(prof.table)
        values = report_features(report, table, timing, fmt)
        if own is not table:
            values["tos"] = report.tos(own, fmt, phase=report.phases, unpriced={})
        try:
            joules = model.predict_one(values)
        except CalibrationError as e:
            raise click.ClickException(f"--profile {path}: {e}") from None
        out = {"joules": joules, "unit": prof.unit, "profile": str(path), "model": model.name,
               "kind": prof.kind, "features": {k: values[k] for k in model.features}}
        return {"energy": out}, [f"energy: {joules:.4g} {prof.unit} predicted for this step by calibration profile "
                                 f"{path} (model {model.name}{', fitted on ESTIMATED runs' if prof.kind == 'estimate' else ''})"]

    return annotate


__all__ = ["report_features", "default_energy_annotation", "profile_annotation"]
