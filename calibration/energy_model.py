"""Energy models over several features at once, fitted with scikit-learn pipelines and stored as plain numbers.

Model kinds (:data:`MODELS`):

* ``linear`` -- ``E = c0 + sum_i c_i x_i`` with every ``c_i >= 0`` (features scaled, then non-negative least
  squares): each coefficient reads as energy per TO, per byte, per second (a static power).
* ``ridge`` -- the same form, L2-regularized on standardized features (strength chosen by cross-validation);
  coefficients may be negative.
* ``loglinear`` -- a power law ``E = exp(c0) prod_i x_i^c_i`` (linear regression of log E on log x): the
  scaling-law form; it fits ratios, so it is the one that minimizes relative error.
* ``poly`` -- the paper's polynomial of degree d on ONE feature (:func:`calibration.fit.fit_polynomial`).

Validation (:func:`cross_validate`): a seeded random split, k-fold, by group (``group:family``: fit on every other
family, predict the held-out one -- "a model you never measured"), or a given validation set (PEN's test.csv).
Metrics are :func:`calibration.fit.metrics`: R², RMSE, the paper's precision min/avg/max, MAPE.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .errors import CalibrationError
from .features import coefficient_unit, feature_unit, label, matrix
from .fit import Metrics, PolyFit, fit_polynomial, metrics

MODELS = ("linear", "ridge", "loglinear", "poly")
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-4, 4, 17))


@dataclass
class EnergyModel:
    """A fitted energy model: ``kind`` (:data:`MODELS`), its ``features``, and the numbers that predict.

    ``linear``/``ridge``: ``intercept`` (energy per run) and ``coef`` (energy per unit of each feature, raw units).
    ``loglinear``: ``intercept`` = log of the factor, ``coef`` = exponents. ``poly``: ``poly`` holds the
    :class:`PolyFit` of its single feature."""

    kind: str
    features: tuple[str, ...]
    intercept: float = 0.0
    coef: list[float] = field(default_factory=list)
    degree: int = 1
    poly: PolyFit | None = None
    alpha: float | None = None
    unit: str = "J"
    train: Metrics | None = None
    validation: Metrics | None = None
    cv: str = ""
    groups: dict = field(default_factory=dict)  # held-out group -> Metrics (group cross-validation)

    @property
    def name(self) -> str:
        return ",".join(self.features) + ":" + (f"poly{self.degree}" if self.kind == "poly" else self.kind)

    def predict(self, x) -> np.ndarray:
        """Energy for a ``[runs, features]`` matrix (columns in :attr:`features` order)."""
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x.reshape(-1, len(self.features))
        if x.shape[1] != len(self.features):
            raise CalibrationError(f"model {self.name} needs {len(self.features)} feature(s), got {x.shape[1]}")
        if self.kind == "poly":
            return self.poly.predict(x[:, 0])
        if self.kind == "loglinear":
            if np.any(x <= 0):
                raise CalibrationError(f"model {self.name} is a power law: every feature must be positive")
            return np.exp(self.intercept + np.log(x) @ np.asarray(self.coef))
        return self.intercept + x @ np.asarray(self.coef)

    def predict_records(self, records: Sequence[dict]) -> np.ndarray:
        return self.predict(matrix(records, self.features))

    def predict_one(self, values: dict) -> float:
        """Energy for one workload given as ``{feature: value}``; a missing feature is an error naming it."""
        missing = [f for f in self.features if values.get(f) is None]
        if missing:
            raise CalibrationError(f"model {self.name} needs {missing[0]!r} of the workload (have: "
                                   f"{', '.join(k for k, v in values.items() if v is not None)})")
        return float(self.predict([[float(values[f]) for f in self.features]])[0])

    def coefficients(self) -> list[tuple[str, float, str]]:
        """``(term, value, unit)`` rows: the intercept, then one per feature (per power for poly)."""
        u = self.unit
        if self.kind == "poly":
            c = self.poly.coefficients
            f, fu = self.features[0], feature_unit(self.features[0])
            power = lambda k: f"^{k}" if k > 1 else ""  # noqa: E731
            return [("intercept", c[0], u)] + [(label(f) + power(k), c[k], f"{u}/{fu}{power(k)}")
                                              for k in range(1, len(c))]
        if self.kind == "loglinear":
            return [("log factor", self.intercept, f"log {u}")] + [(f"exponent of {label(f)}", c, "1")
                                                                   for f, c in zip(self.features, self.coef)]
        return [("intercept", self.intercept, u)] + [(label(f), c, coefficient_unit(f, u))
                                                     for f, c in zip(self.features, self.coef)]

    def equation(self) -> str:
        if self.kind == "poly":
            return self.poly.equation()
        if self.kind == "loglinear":
            return f"E = {math.exp(self.intercept):.4g}" + "".join(f" * {label(f)}^{c:.4g}"
                                                                  for f, c in zip(self.features, self.coef))
        return "E = " + " + ".join([f"{self.intercept:.4g}"] + [f"{c:.4g}*{label(f)}"
                                                                for f, c in zip(self.features, self.coef)]
                                   ).replace("+ -", "- ")

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "features": list(self.features), "intercept": self.intercept, "coef": list(self.coef),
             "degree": self.degree, "unit": self.unit, "equation": self.equation(), "cv": self.cv,
             "coefficients": [{"term": t, "value": v, "unit": un} for t, v, un in self.coefficients()],
             "train": self.train.to_dict() if self.train else None,
             "validation": self.validation.to_dict() if self.validation else None,
             "groups": {g: m.to_dict() for g, m in self.groups.items()}}
        if self.alpha is not None:
            d["alpha"] = self.alpha
        if self.poly is not None:
            d["poly"] = self.poly.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "EnergyModel":
        if not isinstance(d, dict):
            raise CalibrationError("an energy model must be a JSON object")
        try:
            kind = str(d["kind"])
            feats = tuple(str(f) for f in d["features"])
            intercept = float(d.get("intercept", 0.0))
            coef = [float(c) for c in d.get("coef", [])]
        except KeyError as e:
            raise CalibrationError(f"energy model is missing {e.args[0]!r}") from None
        except (TypeError, ValueError) as e:
            raise CalibrationError(f"energy model has a non-numeric field: {e}") from None
        if kind not in MODELS:
            raise CalibrationError(f"unknown energy model kind {kind!r} (known: {', '.join(MODELS)})")
        if not feats:
            raise CalibrationError("energy model has no features")
        poly = PolyFit.from_dict(d["poly"]) if kind == "poly" else None
        if kind != "poly" and len(coef) != len(feats):
            raise CalibrationError(f"energy model has {len(coef)} coefficients for {len(feats)} features")
        if not all(math.isfinite(v) for v in coef + [intercept]):
            raise CalibrationError("energy model has a non-finite coefficient")

        def m(v):
            return Metrics(**v) if isinstance(v, dict) else None

        try:
            return cls(kind, feats, intercept, coef, int(d.get("degree", 1)), poly, d.get("alpha"),
                       str(d.get("unit", "J")), m(d.get("train")), m(d.get("validation")), str(d.get("cv", "")),
                       {str(g): Metrics(**v) for g, v in (d.get("groups") or {}).items()})
        except TypeError as e:
            raise CalibrationError(f"energy model metrics malformed: {e}") from None


# -- fitting ------------------------------------------------------------------------------------------------------------
def fit_model(kind: str, x, y, features: Sequence[str], degree: int = 1, unit: str = "J") -> EnergyModel:
    """Fit one model on ``x`` (``[runs, features]``) and energies ``y`` with a scikit-learn pipeline; return its
    numbers in raw feature units."""
    from sklearn.linear_model import LinearRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    features = tuple(features)
    if x.ndim != 2 or x.shape[1] != len(features) or x.shape[0] != y.size:
        raise CalibrationError(f"feature matrix {x.shape} does not match {len(features)} feature(s) and {y.size} runs")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise CalibrationError("non-finite feature or energy values")
    if kind == "poly":
        if len(features) != 1:
            raise CalibrationError(f"the polynomial takes one feature, got {len(features)} ({', '.join(features)})")
        p = fit_polynomial(x[:, 0], y, degree, features[0], unit)
        return EnergyModel("poly", features, degree=degree, poly=p, unit=unit)
    if x.shape[0] < len(features) + 2:
        raise CalibrationError(f"a {kind} fit on {len(features)} feature(s) needs at least {len(features) + 2} "
                               f"runs, got {x.shape[0]}")
    std = x.std(axis=0)
    if np.any(std == 0):
        flat = [f for f, s in zip(features, std) if s == 0]
        raise CalibrationError(f"every run has the same {flat[0]}; a fit needs at least two distinct values")
    if kind == "linear":
        pipe = make_pipeline(StandardScaler(with_mean=False), LinearRegression(positive=True)).fit(x, y)
        scaler, reg = pipe[0], pipe[-1]
        coef = reg.coef_ / scaler.scale_
        return EnergyModel("linear", features, float(reg.intercept_), [float(c) for c in coef], unit=unit)
    if kind == "ridge":
        pipe = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS)).fit(x, y)
        scaler, reg = pipe[0], pipe[-1]
        coef = reg.coef_ / scaler.scale_
        intercept = float(reg.intercept_ - np.sum(coef * scaler.mean_))
        return EnergyModel("ridge", features, intercept, [float(c) for c in coef], alpha=float(reg.alpha_), unit=unit)
    if kind == "loglinear":
        for j, f in enumerate(features):
            if np.any(x[:, j] <= 0):
                raise CalibrationError(f"a power law (loglinear) needs positive features; {f} is <= 0 in "
                                       f"{int(np.sum(x[:, j] <= 0))} run(s)")
        if np.any(y <= 0):
            raise CalibrationError("a power law (loglinear) needs positive energies")
        reg = LinearRegression().fit(np.log(x), np.log(y))
        return EnergyModel("loglinear", features, float(reg.intercept_), [float(c) for c in reg.coef_], unit=unit)
    raise CalibrationError(f"unknown model {kind!r} (models: {', '.join(MODELS)})")


# -- cross-validation ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CV:
    """How a fit is validated: ``split`` (seeded random, ``test_size``), ``kfold`` (``k`` folds), ``group``
    (leave one value of ``column`` out at a time) or ``given`` (a separate validation set)."""

    kind: str
    k: int = 5
    column: str = ""
    test_size: float = 0.4
    seed: int = 0

    def describe(self) -> str:
        return {"split": f"random {round((1 - self.test_size) * 100)}/{round(self.test_size * 100)} split "
                         f"(seed {self.seed})",
                "kfold": f"{self.k}-fold (seed {self.seed})",
                "group": f"leave one {self.column} out",
                "given": "separate validation set"}[self.kind]


def parse_cv(spec: str, *, test_size: float = 0.4, seed: int = 0) -> CV:
    """``split``, ``kfold:K``, ``group:COLUMN`` (``group:family``, ``group:model``...) or ``given``."""
    s = (spec or "split").strip()
    head, _, arg = s.partition(":")
    if head == "split" and not arg:
        return CV("split", test_size=test_size, seed=seed)
    if head == "kfold":
        try:
            k = int(arg or 5)
        except ValueError:
            k = 0
        if k < 2:
            raise CalibrationError(f"--cv kfold:K needs an integer K >= 2, got {spec!r}")
        return CV("kfold", k=k, seed=seed)
    if head == "group" and arg:
        return CV("group", column=arg, seed=seed)
    if head == "given" and not arg:
        return CV("given")
    raise CalibrationError(f"--cv: expected split, kfold:K, group:COLUMN or given; got {spec!r}")


def _group_values(records: Sequence[dict], column: str) -> list[str]:
    vals = []
    for i, r in enumerate(records):
        v = r.get(column)
        if v is None or v == "":
            raise CalibrationError(f"--cv group:{column}: run {i + 1} has no {column!r} column")
        vals.append(str(v))
    return vals


def cross_validate(kind: str, records: Sequence[dict], features: Sequence[str], cv: CV, *, target: str = "energy",
                   degree: int = 1, unit: str = "J",
                   validation: Sequence[dict] | None = None) -> EnergyModel:
    """Fit ``kind`` on ``features`` and validate it as ``cv`` says. The returned model's numbers come from the fit
    the validation scored for ``split``/``given`` and from all runs for ``kfold``/``group`` (whose
    :attr:`EnergyModel.validation` pools the out-of-fold predictions, and ``group`` adds per-group metrics)."""
    from sklearn.model_selection import KFold, train_test_split

    x = matrix(records, features)
    y = matrix(records, [target])[:, 0]
    if cv.kind == "given":
        if not validation:
            raise CalibrationError("--cv given needs a validation set")
        m = fit_model(kind, x, y, features, degree, unit)
        m.train = metrics(y, m.predict(x))
        m.validation = metrics(matrix(validation, [target])[:, 0], m.predict(matrix(validation, features)))
    elif cv.kind == "split":
        if len(y) < 4:
            raise CalibrationError(f"need at least 4 runs to split, got {len(y)}")
        tr, va = train_test_split(np.arange(len(y)), test_size=cv.test_size, random_state=cv.seed)
        tr, va = np.sort(tr), np.sort(va)
        m = fit_model(kind, x[tr], y[tr], features, degree, unit)
        m.train = metrics(y[tr], m.predict(x[tr]))
        m.validation = metrics(y[va], m.predict(x[va]))
    else:
        pred = np.empty_like(y)
        groups: dict[str, Metrics] = {}
        if cv.kind == "kfold":
            if len(y) < cv.k:
                raise CalibrationError(f"{cv.k}-fold validation needs at least {cv.k} runs, got {len(y)}")
            folds = list(KFold(cv.k, shuffle=True, random_state=cv.seed).split(x))
        else:
            g = np.asarray(_group_values(records, cv.column))
            names = [str(n) for n in dict.fromkeys(g)]
            if len(names) < 2:
                raise CalibrationError(f"--cv group:{cv.column}: every run is in group {names[0]!r}; "
                                       f"need at least two groups")
            folds = [(np.flatnonzero(g != n), np.flatnonzero(g == n)) for n in names]
        for j, (tr, va) in enumerate(folds):
            try:
                f = fit_model(kind, x[tr], y[tr], features, degree, unit)
            except CalibrationError as e:
                what = f"without {cv.column} {names[j]!r}" if cv.kind == "group" else f"fold {j + 1}"
                raise CalibrationError(f"{what}: {e}") from None
            pred[va] = f.predict(x[va])
            if cv.kind == "group":
                groups[names[j]] = metrics(y[va], pred[va])
        m = fit_model(kind, x, y, features, degree, unit)
        m.train = metrics(y, m.predict(x))
        m.validation = metrics(y, pred)
        m.groups = groups
    m.cv = cv.describe()
    return m


def expand(feature_sets: Iterable[Sequence[str]], models: Iterable[str], degrees: Iterable[int] = (1, 2, 3)
           ) -> list[tuple[str, tuple[str, ...], int]]:
    """``(model, features, degree)`` jobs: a ``poly`` of a set of several features becomes one polynomial per
    feature and degree (so ``--features tos,flops --model poly`` compares the two, as the paper does)."""
    jobs = []
    for fs in feature_sets:
        for kind in models:
            if kind not in MODELS:
                raise CalibrationError(f"unknown model {kind!r} (models: {', '.join(MODELS)})")
            if kind == "poly":
                jobs += [("poly", (f,), d) for f in fs for d in degrees]
            else:
                jobs.append((kind, tuple(fs), 1))
    return list(dict.fromkeys(jobs))


@dataclass
class EnergyReport:
    """Every model of one comparison, with its validation; :meth:`to_text`, :meth:`to_markdown`, :meth:`to_dict`."""

    models: list[EnergyModel]
    n_train: int
    n_validation: int
    cv: str
    unit: str = "J"
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> EnergyModel:
        for m in self.models:
            if m.name == name:
                return m
        raise CalibrationError(f"no model {name!r} (have: {', '.join(m.name for m in self.models)})")

    def best(self, key: str = "rmse") -> EnergyModel:
        """The model with the lowest validation RMSE (``key="mape"``: MAPE)."""
        return min(self.models, key=lambda m: getattr(m.validation or m.train, key))

    def to_dict(self) -> dict:
        return {"source": self.source, "unit": self.unit, "cv": self.cv, "n_train": self.n_train,
                "n_validation": self.n_validation, "notes": list(self.notes),
                "precision_definition": "100 * (1 - |predicted - measured| / measured), per run",
                "models": [m.to_dict() for m in self.models]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def rows(self) -> list[list[str]]:
        out = []
        for m in self.models:
            t, v = m.train, m.validation or m.train
            out.append([",".join(label(f) for f in m.features), m.kind + (str(m.degree) if m.kind == "poly" else ""),
                        f"{t.r2:.4f}", f"{v.r2:.4f}", f"{v.rmse:.4g}", f"{v.mape:.1f}",
                        f"{v.precision_min:.1f} / {v.precision_avg:.1f} / {v.precision_max:.1f}"]
                       + ([" ".join(f"{g} {gm.r2:.3f}/{gm.mape:.0f}%" for g, gm in m.groups.items())]
                          if any(x.groups for x in self.models) else []))
        return out

    def header(self) -> list[str]:
        h = ["features", "model", "R² train", "R² val", "RMSE val", "MAPE val %", "precision val % min/avg/max"]
        if any(m.groups for m in self.models):
            h.append("held-out group R²/MAPE")
        return h

    def to_text(self, coefficients: bool = True) -> str:
        head, rows = self.header(), self.rows()
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = [f"energy ({self.unit}) models: {self.n_train} runs fitted, {self.n_validation} validated; {self.cv}"]
        if self.source:
            lines.append(f"data: {self.source}")
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.append("precision = 100 * (1 - |predicted - measured| / measured) per validation run; "
                     "MAPE = mean |predicted - measured| / measured")
        if coefficients:
            lines.append("")
            lines.append("coefficients (fitted model):")
            for m in self.models:
                cs = ", ".join(f"{t} {v:.4g} {u}" for t, v, u in m.coefficients())
                lines.append(f"  {m.name}: {cs}" + (f" (alpha {m.alpha:.3g})" if m.alpha is not None else ""))
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        head, rows = self.header(), self.rows()
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                         + ["| " + " | ".join(r) + " |" for r in rows])


def fit_energy(records: Sequence[dict], feature_sets: Iterable[Sequence[str]], models: Iterable[str] = ("linear",),
               degrees: Iterable[int] = (1, 2, 3), *, cv: CV | None = None, target: str = "energy",
               unit: str = "J", validation: Sequence[dict] | None = None, source: str = "",
               notes: Iterable[str] = ()) -> EnergyReport:
    """Fit and validate every (feature set, model) combination (:func:`expand`) on ``records``."""
    cv = cv or CV("split")
    jobs = expand(feature_sets, models, degrees)
    out = [cross_validate(kind, records, fs, cv, target=target, degree=d, unit=unit, validation=validation)
           for kind, fs, d in jobs]
    if cv.kind == "split":
        n_val = int(round(len(records) * cv.test_size)) if out else 0
        n_val = out[0].validation.n if out else n_val
        n_train = len(records) - n_val
    elif cv.kind == "given":
        n_train, n_val = len(records), len(validation or [])
    else:
        n_train = n_val = len(records)
    return EnergyReport(out, n_train, n_val, cv.describe(), unit, source, list(notes))


__all__ = ["MODELS", "EnergyModel", "EnergyReport", "CV", "parse_cv", "fit_model", "cross_validate", "expand",
           "fit_energy"]
