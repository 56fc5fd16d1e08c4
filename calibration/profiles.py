"""Calibration profiles: the fits of one machine + the transistor table that priced the TOs + the hardware, as one
JSON file; and prediction of a model's energy from its TOs or FLOPs before it runs."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import CalibrationError
from .fit import FEATURES, FitReport, PolyFit, fit_all, label

PROFILE_FORMAT = "gatesim-calibration-profile/1"
#: profiles with multi-feature energy models (:mod:`calibration.energy_model`); /1 profiles still load
PROFILE_FORMAT_MODELS = "gatesim-calibration-profile/2"


@dataclass
class Profile:
    fits: list[PolyFit]
    selected: tuple[str, int]  # (feature, degree) used by default
    table: dict | None = None  # transistor table description (see counting.table_description)
    hardware: dict = field(default_factory=dict)
    meter: str = ""
    kind: str = "measurement"  # "estimate" if any run of the log was an estimate
    unit: str = "J"
    workload: dict = field(default_factory=dict)  # what one data point was (e.g. level training, runs of a sweep)
    source: str = ""
    notes: list[str] = field(default_factory=list)
    created: str = ""
    models: list = field(default_factory=list)  # EnergyModel objects (profile format /2)
    selected_model: str = ""  # EnergyModel.name of the default model

    def model(self, name: str | None = None):
        """The energy model predictions use: ``name`` (an :attr:`EnergyModel.name`), else the selected one; a
        profile of polynomial fits only answers with its selected polynomial as an ``EnergyModel``."""
        from .energy_model import EnergyModel

        name = name or self.selected_model
        if name:
            for m in self.models:
                if m.name == name:
                    return m
            raise CalibrationError(f"profile has no model {name!r} (have: {', '.join(m.name for m in self.models)})")
        f = self.fit()
        return EnergyModel("poly", (f.feature,), degree=f.degree, poly=f, unit=f.unit, train=f.train,
                           validation=f.validation)

    def fit(self, feature: str | None = None, degree: int | None = None) -> PolyFit:
        feature = feature or self.selected[0]
        degree = degree or (self.selected[1] if feature == self.selected[0] else None)
        cands = [f for f in self.fits if f.feature == feature and (degree is None or f.degree == degree)]
        if not cands:
            have = ", ".join(f"{f.feature}/{f.degree}" for f in self.fits)
            raise CalibrationError(f"profile has no fit on {feature}" + (f" of degree {degree}" if degree else "")
                                   + f" (have: {have})")
        return min(cands, key=lambda f: f.degree)

    def predict(self, *, tos: float | None = None, flops: float | None = None, feature: str | None = None,
                degree: int | None = None) -> float:
        """Energy (in :attr:`unit`) for a workload of ``tos`` transistor operations (or ``flops``)."""
        f = self.fit(feature, degree)
        x = tos if f.feature == "tos" else flops if f.feature == "flops" else None
        if x is None:
            raise CalibrationError(f"the {f.feature} fit needs {f.feature} of the workload")
        return _finite_energy(f, float(x))

    def to_dict(self) -> dict:
        d = {"format": PROFILE_FORMAT, "created": self.created, "source": self.source, "unit": self.unit,
             "kind": self.kind, "meter": self.meter, "hardware": self.hardware, "table": self.table,
             "workload": self.workload, "notes": self.notes}
        if self.fits:
            d.update(selected={"feature": self.selected[0], "degree": self.selected[1]},
                     fits=[f.to_dict() for f in self.fits])
        if self.models:
            d.update(format=PROFILE_FORMAT_MODELS, selected_model=self.selected_model,
                     models=[m.to_dict() for m in self.models])
        return d

    def save(self, path: str | Path) -> None:
        """Write the profile as strict JSON (refused, with nothing written, if it would hold NaN or Infinity)."""
        from gatesim.datafile import write_file_atomic

        from .checks import strict_json

        write_file_atomic(path, strict_json(self.to_dict(), f"profile {path}", indent=2))

    @classmethod
    def from_dict(cls, d: Any, where: str = "profile") -> "Profile":
        if not isinstance(d, dict):
            raise CalibrationError(f"{where}: expected a JSON object")
        if d.get("format") not in (PROFILE_FORMAT, PROFILE_FORMAT_MODELS):
            raise CalibrationError(f"{where}: not a calibration profile (expected format {PROFILE_FORMAT!r} or "
                                   f"{PROFILE_FORMAT_MODELS!r}, got {d.get('format')!r})")
        if d.get("format") == PROFILE_FORMAT_MODELS:
            return cls._from_models_dict(d, where)
        fits_raw = d.get("fits")
        if not isinstance(fits_raw, list) or not fits_raw:
            raise CalibrationError(f"{where}: no fits")
        from .checks import check_fits

        try:
            fits = [PolyFit.from_dict(f) for f in fits_raw]
            check_fits(fits)
        except CalibrationError as e:
            raise CalibrationError(f"{where}: {e}") from None
        _check_profile_fields(d, where)
        sel = d.get("selected") or {}
        if not isinstance(sel, dict):
            raise CalibrationError(f"{where}: 'selected' must be an object")
        degree = sel.get("degree", fits[0].degree)
        if type(degree) is not int:
            raise CalibrationError(f"{where}: selected degree must be an integer, got {degree!r}")
        selected = (str(sel.get("feature", fits[0].feature)), degree)
        if not any(f.feature == selected[0] and f.degree == selected[1] for f in fits):
            raise CalibrationError(f"{where}: selected fit {selected[0]}/{selected[1]} is not among the fits")
        return cls(fits, selected, d.get("table"), dict(d.get("hardware") or {}), str(d.get("meter", "")),
                   str(d.get("kind", "measurement")), str(d.get("unit", "J")), dict(d.get("workload") or {}),
                   str(d.get("source", "")), list(d.get("notes") or []), str(d.get("created", "")))

    @classmethod
    def _from_models_dict(cls, d: dict, where: str) -> "Profile":
        from .energy_model import EnergyModel

        raw = d.get("models")
        if not isinstance(raw, list) or not raw:
            raise CalibrationError(f"{where}: no models")
        from .checks import check_fits

        try:
            models = [EnergyModel.from_dict(m) for m in raw]
            fits = [PolyFit.from_dict(f) for f in d.get("fits") or []]
            check_fits(fits)
        except CalibrationError as e:
            raise CalibrationError(f"{where}: {e}") from None
        _check_profile_fields(d, where)
        name = str(d.get("selected_model") or models[0].name)
        if name not in {m.name for m in models}:
            raise CalibrationError(f"{where}: selected model {name!r} is not among the models")
        sel = d.get("selected") if isinstance(d.get("selected"), dict) else {}
        selected = (str(sel.get("feature", "")), int(sel.get("degree", 0) or 0))
        return cls(fits, selected, d.get("table"), dict(d.get("hardware") or {}), str(d.get("meter", "")),
                   str(d.get("kind", "measurement")), str(d.get("unit", "J")), dict(d.get("workload") or {}),
                   str(d.get("source", "")), list(d.get("notes") or []), str(d.get("created", "")), models, name)

    @classmethod
    def load(cls, path: str | Path) -> "Profile":
        p = Path(path)
        try:
            text = p.read_text()
        except FileNotFoundError:
            raise CalibrationError(f"no such profile: {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise CalibrationError(f"cannot read profile {p}: {getattr(e, 'strerror', None) or e}") from None
        from .checks import loads_strict

        try:
            d = loads_strict(text)
        except ValueError as e:
            raise CalibrationError(f"profile {p} is not valid JSON: {e}") from None
        return cls.from_dict(d, str(p))


_PROFILE_FIELDS = {  # key: (JSON types allowed, what to say)
    "hardware": ((dict, type(None)), "an object"), "workload": ((dict, type(None)), "an object"),
    "table": ((dict, str, type(None)), "an object, a name or null"), "notes": ((list, type(None)), "a list"),
    "kind": ((str,), "a string"), "unit": ((str,), "a string"), "meter": ((str,), "a string"),
    "source": ((str,), "a string"), "created": ((str,), "a string"),
}


def _check_profile_fields(d: dict, where: str) -> None:
    """The JSON type of every optional field a profile is read back with."""
    for key, (types, what) in _PROFILE_FIELDS.items():
        if key in d and not isinstance(d[key], types):
            raise CalibrationError(f"{where}: {key} must be {what}, got {d[key]!r}")
    if d.get("kind", "measurement") not in ("measurement", "estimate"):
        raise CalibrationError(f"{where}: kind must be measurement or estimate, got {d['kind']!r}")
    for f in d.get("fits") or []:
        for part in ("train", "validation"):
            m = f.get(part) if isinstance(f, dict) else None
            if m is not None and not (isinstance(m, dict) and all(
                    v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in m.values())):
                raise CalibrationError(f"{where}: fit {part} metrics must be numbers or null, got {m!r}")
    counting = (d.get("workload") or {}).get("counting")
    if counting is not None and not isinstance(counting, dict):
        raise CalibrationError(f"{where}: workload.counting must be an object, got {counting!r}")


def profile_from_report(report: FitReport, *, table: dict | None = None, hardware: dict | None = None,
                        meter: str = "", kind: str = "measurement", workload: dict | None = None,
                        selected: tuple[str, int] | None = None) -> Profile:
    """A profile holding every fit of ``report``; the default fit is ``selected`` or the best TOs fit by
    validation RMSE (else the best of any feature)."""
    if selected is None:
        feats = {f.feature for f in report.fits}
        b = report.best("tos" if "tos" in feats else None)
        selected = (b.feature, b.degree)
    else:
        report.get(*selected)
    return Profile(list(report.fits), selected, table, dict(hardware or {}), meter, kind, report.unit,
                   dict(workload or {}), report.source, list(report.notes),
                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def profile_from_energy(report, *, selected: str | None = None, table: dict | None = None,
                        hardware: dict | None = None, meter: str = "", kind: str = "measurement",
                        workload: dict | None = None) -> Profile:
    """A profile holding every model of an :class:`calibration.energy_model.EnergyReport`; the default model is
    ``selected`` (a model name such as ``tos,bytes:linear`` or ``tos:poly2``) or the one of lowest validation
    RMSE among those that use TOs (else among all)."""
    if selected:
        report.get(selected)
    else:
        with_tos = [m for m in report.models if "tos" in m.features]
        pool = with_tos or report.models
        selected = min(pool, key=lambda m: (m.validation or m.train).rmse).name
    return Profile([], ("", 0), table, dict(hardware or {}), meter, kind, report.unit, dict(workload or {}),
                   report.source, list(report.notes), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   list(report.models), selected)


def fit_log(records: Sequence[dict], features: Sequence[str] = FEATURES, degrees: Sequence[int] = (1, 2, 3), *,
            trim_k: int | None = None, seed: int = 0, test_size: float = 0.4, source: str = "",
            warn: Callable[[str], None] | None = None) -> tuple[FitReport, Profile]:
    """Fit the runs of a sweep log (trimmed per configuration by ``trim_k``, default: the log's own ``trim``).

    The runs are checked first (:mod:`calibration.checks`): duplicates of one ``(key, repeat)`` are dropped and
    outliers named, both in the report's notes and through ``warn``; a non-finite or non-positive energy, a
    non-finite feature, all-equal energies or a fit that overflows is a :class:`CalibrationError`."""
    from .checks import check_fits, checked_runs, quiet_numerics
    from .sweeps import trim

    if not records:
        raise CalibrationError("the log has no runs")
    for f in features:
        if f not in FEATURES:
            raise CalibrationError(f"unknown feature {f!r}; expected {' or '.join(FEATURES)}")
        missing = sum(1 for r in records if r.get(f) is None)
        if missing:
            raise CalibrationError(f"{missing} run(s) have no {f} count; fit on other features (--features)")
    records, warnings = checked_runs(records, features)
    for w in warnings if warn is not None else ():
        warn(w)
    k = trim_k if trim_k is not None else int(records[0].get("trim", 0) or 0)
    kept, notes = trim(records, k)
    if k:
        notes.insert(0, f"trimmed {k} highest and {k} lowest runs per configuration: {len(records)} -> {len(kept)}")
    notes[:0] = warnings
    kinds = {r.get("kind", "measurement") for r in kept}
    kind = "estimate" if "estimate" in kinds else "measurement"
    if kind == "estimate":
        notes.append("some runs are ESTIMATES (power x CPU time), not measurements")
    data = {f: [float(r[f]) for r in kept] for f in features}
    with quiet_numerics():
        report = fit_all(data, [float(r["joules"]) for r in kept], features, degrees, seed=seed, test_size=test_size,
                         notes=notes, source=source)
    check_fits(report.fits, notes)
    first = kept[0]
    meters = sorted({str(r.get("meter", "")) for r in kept})
    prof = profile_from_report(report, table=first.get("table"), hardware=first.get("hardware") or {},
                               meter=", ".join(meters), kind=kind,
                               workload={"level": first.get("level", "training"), "runs": len(kept),
                                         "point": "energy of one whole training run (all epochs)",
                                         "counting": first.get("counting") or {}})
    return report, prof


def _finite_energy(fit: PolyFit, x: float) -> float:
    """The fit's prediction at ``x``, refused when it is not a finite number."""
    from .checks import quiet_numerics

    with quiet_numerics():
        e = fit.predict_one(x)
    return _refuse_non_finite(e, f"the {fit.feature} fit of degree {fit.degree}", f"{x:.4g}")


def _refuse_non_finite(e: float, what: str, at: str) -> float:
    import math

    if not math.isfinite(e):
        raise CalibrationError(f"{what} predicts {e} at {at}: not a number")
    return e


def predict_model(profile: Profile, model_factory: Callable, sample_shape: Sequence[int], *, batch_size: int,
                  samples: int, epochs: int = 1, levels: Sequence[str] = ("training", "validation", "inference"),
                  count_fn: Callable | None = None, feature: str | None = None, degree: int | None = None,
                  count_options: dict | None = None) -> dict:
    """Predicted energy of ``epochs`` passes over ``samples`` (batches of ``batch_size``) at each level, from the
    model's TOs (priced with the profile's own transistor table) or FLOPs."""
    from .counting import default_count, workload_counts

    if feature is None and degree is None and profile.models:
        return _predict_with_model(profile, model_factory, sample_shape, batch_size=batch_size, samples=samples,
                                   epochs=epochs, levels=levels, count_fn=count_fn, count_options=count_options)
    fit = profile.fit(feature, degree)
    opts = dict(count_options or {})
    if count_fn is None:
        count_fn = default_count
        if fit.feature == "tos":
            if not profile.table:
                raise CalibrationError("the profile records no transistor table; predict with --feature flops")
            opts.setdefault("table", profile.table)
    counted = (profile.workload or {}).get("counting") or {}
    if count_fn is default_count and isinstance(counted.get("optimizer"), str):
        opts.setdefault("optimizer", counted["optimizer"])  # count training as the calibration runs were counted
    out = {"feature": fit.feature, "degree": fit.degree, "unit": profile.unit, "kind": profile.kind, "levels": {}}
    for lv in levels:
        c = workload_counts(count_fn, model_factory, tuple(sample_shape), samples, batch_size, epochs, lv, **opts)
        x = c.get(fit.feature)
        out["levels"][lv] = {"tos": c.get("tos"), "flops": c.get("flops"), "steps": c.get("steps"),
                             "energy": _finite_energy(fit, float(x)) if x is not None else None}
    lo = min(fit.mean - 2 * fit.scale, fit.mean)
    hi = fit.mean + 2 * fit.scale
    out["note"] = (f"fit {fit.equation()}; calibrated {label(fit.feature)} around {fit.mean:.3g} "
                   f"(+-{fit.scale:.3g}); predictions far outside [{lo:.3g}, {hi:.3g}] are extrapolations")
    return out


def _predict_with_model(profile: Profile, model_factory: Callable, sample_shape: Sequence[int], *, batch_size: int,
                        samples: int, epochs: int, levels: Sequence[str], count_fn: Callable | None,
                        count_options: dict | None) -> dict:
    """:func:`predict_model` with the profile's selected energy model: the workload's counts (every column the
    counter gives, ``params`` and ``steps``) are its features."""
    from .counting import default_count, workload_counts

    model = profile.model()
    opts = dict(count_options or {})
    if count_fn is None:
        count_fn = default_count
        if profile.table:
            opts.setdefault("table", profile.table)
    counted = (profile.workload or {}).get("counting") or {}
    if count_fn is default_count and isinstance(counted.get("optimizer"), str):
        opts.setdefault("optimizer", counted["optimizer"])
    net = model_factory()
    params = sum(p.numel() for p in net.parameters())
    out = {"energy_model": model.name, "feature": ",".join(model.features), "degree": model.degree, "unit": profile.unit,
           "kind": profile.kind, "levels": {}}
    for lv in levels:
        c = workload_counts(count_fn, model_factory, tuple(sample_shape), samples, batch_size, epochs, lv, **opts)
        values = {k: v for k, v in c.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        values.setdefault("params", params)
        out["levels"][lv] = {"tos": c.get("tos"), "flops": c.get("flops"), "steps": c.get("steps"),
                             "energy": _refuse_non_finite(model.predict_one(values), f"model {model.name}", lv)}
    out["note"] = f"model {model.name}: {model.equation()}; {model.cv or 'no validation recorded'}"
    return out


__all__ = ["Profile", "profile_from_report", "profile_from_energy", "fit_log", "predict_model", "PROFILE_FORMAT",
           "PROFILE_FORMAT_MODELS"]
