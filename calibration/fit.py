"""Polynomial regression of energy on TOs or FLOPs (the paper's PR models, section III) and its metrics.

The feature is standardized before the polynomial expansion (``z = (x - mean) / std``), so features of 1e15 and
more are numerically stable at degree 3; :attr:`PolyFit.coefficients` gives the equivalent polynomial in the raw
feature (``E = c0 + c1 x + c2 x^2 + ...``).

Precision (Table III of the paper) is defined per sample as ``100 * (1 - |y_hat - y| / y)`` and reported as
min / avg / max over a set; errors are absolute, in the energy unit of the data (joules for measured logs).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .errors import CalibrationError

FEATURES = ("tos", "flops")
LABELS = {"tos": "TOs", "flops": "FLOPs"}


def label(feature: str) -> str:
    return LABELS.get(feature, feature.upper())


@dataclass
class Metrics:
    n: int
    r2: float
    rmse: float
    precision_min: float
    precision_avg: float
    precision_max: float
    abs_error_avg: float
    abs_error_max: float
    mape: float = float("nan")  # mean absolute percentage error, %

    def to_dict(self) -> dict:
        """The metrics as JSON values; an undefined one (R² of a constant validation set) is ``None``."""
        return {k: v if not isinstance(v, float) or math.isfinite(v) else None for k, v in asdict(self).items()}


def metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> Metrics:
    """R², RMSE, precision 100·(1 − |ŷ − y| / y) min/avg/max, average/max absolute error and MAPE
    (100·mean |ŷ − y| / |y|, i.e. 100 − average precision for positive energies)."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if y.size == 0:
        raise CalibrationError("no samples to score")
    err = np.abs(p - y)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = 100.0 * (1.0 - err / np.abs(y))
    prec = prec[np.isfinite(prec)]
    ss_res = float(np.sum((y - p) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else float("nan"))
    return Metrics(n=int(y.size), r2=r2, rmse=math.sqrt(ss_res / y.size),
                   precision_min=float(prec.min()) if prec.size else float("nan"),
                   precision_avg=float(prec.mean()) if prec.size else float("nan"),
                   precision_max=float(prec.max()) if prec.size else float("nan"),
                   abs_error_avg=float(err.mean()), abs_error_max=float(err.max()),
                   mape=float(100.0 - prec.mean()) if prec.size else float("nan"))


@dataclass
class PolyFit:
    """``E = sum_k a_k z^k`` with ``z = (x - mean) / scale``; ``feature`` names x (``tos`` / ``flops``)."""

    feature: str
    degree: int
    mean: float
    scale: float
    coef_z: list[float]  # a_0 .. a_degree
    train: Metrics | None = None
    validation: Metrics | None = None
    unit: str = "J"
    extra: dict = field(default_factory=dict)

    def predict(self, x) -> np.ndarray:
        z = (np.asarray(x, dtype=float) - self.mean) / self.scale
        return np.polynomial.polynomial.polyval(z, self.coef_z)

    def predict_one(self, x: float) -> float:
        return float(self.predict([x])[0])

    @property
    def coefficients(self) -> list[float]:
        """Coefficients in the raw feature, lowest power first: ``E = c0 + c1 x + ...``."""
        P = np.polynomial.Polynomial
        raw = P(self.coef_z)(P([-self.mean / self.scale, 1.0 / self.scale]))
        c = list(raw.coef) + [0.0] * (self.degree + 1 - len(raw.coef))
        return [float(v) for v in c]

    def equation(self) -> str:
        terms = []
        for k, c in enumerate(self.coefficients):
            terms.append(f"{c:.4g}" + ("" if k == 0 else f"*{label(self.feature)}" + (f"^{k}" if k > 1 else "")))
        return "E = " + " + ".join(terms).replace("+ -", "- ")

    def to_dict(self) -> dict:
        return {"feature": self.feature, "degree": self.degree, "mean": self.mean, "scale": self.scale,
                "coef_z": list(self.coef_z), "coefficients": self.coefficients, "equation": self.equation(),
                "unit": self.unit,
                "train": self.train.to_dict() if self.train else None,
                "validation": self.validation.to_dict() if self.validation else None, **({"extra": self.extra} if self.extra else {})}

    @classmethod
    def from_dict(cls, d: dict) -> "PolyFit":
        if not isinstance(d, dict):
            raise CalibrationError("a fit must be a JSON object")
        try:
            feature, degree = str(d["feature"]), int(d["degree"])
            mean, scale = float(d["mean"]), float(d["scale"])
            coef = [float(c) for c in d["coef_z"]]
        except KeyError as e:
            raise CalibrationError(f"fit is missing {e.args[0]!r}") from None
        except (TypeError, ValueError) as e:
            raise CalibrationError(f"fit has a non-numeric field: {e}") from None
        if len(coef) != degree + 1 or degree < 1:
            raise CalibrationError(f"fit of degree {degree} needs {degree + 1} coefficients, has {len(coef)}")
        if not scale > 0 or not all(math.isfinite(c) for c in coef + [mean, scale]):
            raise CalibrationError("fit has a non-finite coefficient or a non-positive scale")

        def m(key):
            v = d.get(key)
            return Metrics(**v) if isinstance(v, dict) else None

        try:
            return cls(feature, degree, mean, scale, coef, m("train"), m("validation"), str(d.get("unit", "J")),
                       dict(d.get("extra") or {}))
        except TypeError as e:
            raise CalibrationError(f"fit metrics malformed: {e}") from None


def fit_polynomial(x: Sequence[float], y: Sequence[float], degree: int, feature: str = "tos",
                   unit: str = "J") -> PolyFit:
    """Least-squares polynomial of ``degree`` (1-3 in the paper; any >= 1 works) with scikit-learn on the
    standardized feature."""
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import PolynomialFeatures

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if degree < 1:
        raise CalibrationError(f"degree must be >= 1, got {degree}")
    if x.size != y.size:
        raise CalibrationError("feature and energy have different lengths")
    if x.size < degree + 1:
        raise CalibrationError(f"a degree-{degree} fit needs at least {degree + 1} samples, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise CalibrationError("non-finite feature or energy values")
    mean = float(x.mean())
    scale = float(x.std())
    if not scale > 0:
        raise CalibrationError(f"every sample has the same {feature}; a fit needs at least two distinct values")
    z = ((x - mean) / scale).reshape(-1, 1)
    feats = PolynomialFeatures(degree=degree, include_bias=False).fit_transform(z)
    reg = LinearRegression().fit(feats, y)
    coef = [float(reg.intercept_)] + [float(c) for c in reg.coef_]
    return PolyFit(feature, degree, mean, scale, coef, unit=unit)


def split_indices(n: int, test_size: float = 0.4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split (the paper's 60/40) of ``range(n)`` into train and validation indices."""
    from sklearn.model_selection import train_test_split

    if n < 2:
        raise CalibrationError(f"need at least 2 runs to split, got {n}")
    idx = np.arange(n)
    tr, va = train_test_split(idx, test_size=test_size, random_state=seed)
    return np.sort(tr), np.sort(va)


@dataclass
class FitReport:
    """All fits of one data set: for each feature and degree, train and validation metrics."""

    fits: list[PolyFit]
    n_train: int
    n_validation: int
    seed: int
    test_size: float
    unit: str = "J"
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def get(self, feature: str, degree: int) -> PolyFit:
        for f in self.fits:
            if f.feature == feature and f.degree == degree:
                return f
        raise CalibrationError(f"no fit on {feature} of degree {degree} "
                               f"(have: {', '.join(f'{f.feature}/{f.degree}' for f in self.fits)})")

    def best(self, feature: str | None = None) -> PolyFit:
        """The fit with the lowest validation RMSE (of ``feature`` if given)."""
        cands = [f for f in self.fits if feature is None or f.feature == feature] or self.fits
        return min(cands, key=lambda f: (f.validation or f.train).rmse)

    def to_dict(self) -> dict:
        return {"source": self.source, "unit": self.unit, "seed": self.seed, "test_size": self.test_size,
                "n_train": self.n_train, "n_validation": self.n_validation, "notes": list(self.notes),
                "precision_definition": "100 * (1 - |predicted - measured| / measured), per sample",
                "fits": [f.to_dict() for f in self.fits]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        u = self.unit
        head = ["feature", "deg", "R2 train", "RMSE train", "R2 val", "RMSE val", "precision val % min-max (avg)",
                f"abs err val avg/max ({u})", "equation"]
        rows = []
        for f in self.fits:
            t, v = f.train, f.validation or f.train
            rows.append([label(f.feature), str(f.degree), f"{t.r2:.4f}", f"{t.rmse:.4g}", f"{v.r2:.4f}", f"{v.rmse:.4g}",
                         f"{v.precision_min:.2f}-{v.precision_max:.2f} (avg {v.precision_avg:.2f})",
                         f"{v.abs_error_avg:.4g}/{v.abs_error_max:.4g}", f.equation()])
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        lines = [f"polynomial regression of energy ({u}) on " + ", ".join(dict.fromkeys(label(f.feature) for f in self.fits))
                 + f": {self.n_train} train / {self.n_validation} validation runs (seed {self.seed})"]
        if self.source:
            lines.append(f"data: {self.source}")
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        lines.append("  ".join("-" * w for w in widths))
        for r in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        lines.append("precision = 100 * (1 - |predicted - measured| / measured) per validation run")
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)


def fit_all(data: dict[str, Sequence[float]], energy: Sequence[float], features: Iterable[str] = FEATURES,
            degrees: Iterable[int] = (1, 2, 3), *, seed: int = 0, test_size: float = 0.4, unit: str = "J",
            validation: tuple[dict[str, Sequence[float]], Sequence[float]] | None = None,
            notes: Iterable[str] = (), source: str = "") -> FitReport:
    """Fit energy on each feature at each degree. The same seeded split is used for every feature; or pass
    ``validation=(features, energy)`` for a separate validation set (e.g. PEN's test.csv)."""
    y = np.asarray(energy, dtype=float)
    features, degrees = list(features), [int(d) for d in degrees]
    for f in features:
        if f not in data:
            raise CalibrationError(f"no feature {f!r} in the data (have: {', '.join(data)})")
    if validation is None:
        tr, va = split_indices(len(y), test_size, seed)
    else:
        tr, va = np.arange(len(y)), None
    fits = []
    for f in features:
        x = np.asarray(data[f], dtype=float)
        for d in degrees:
            pf = fit_polynomial(x[tr], y[tr], d, f, unit)
            pf.train = metrics(y[tr], pf.predict(x[tr]))
            if va is not None:
                pf.validation = metrics(y[va], pf.predict(x[va]))
            else:
                vx, vy = validation
                pf.validation = metrics(vy, pf.predict(np.asarray(vx[f], dtype=float)))
            fits.append(pf)
    n_val = len(va) if va is not None else len(validation[1])
    return FitReport(fits, len(tr), n_val, seed, test_size, unit, list(notes), source)


def save_png(fig, path) -> None:
    """Render ``fig`` to PNG in memory, then write it atomically (never a half-written plot)."""
    import io

    from gatesim.datafile import write_file_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    write_file_atomic(path, buf.getvalue())


def plot_report(report: FitReport, data: dict[str, Sequence[float]], energy: Sequence[float], outdir,
                validation: tuple[dict, Sequence[float]] | None = None, estimate: bool = False) -> list[str]:
    """PNG plots per feature: energy vs feature with each degree's fitted curve, and residuals. Returns paths.
    ``estimate``: the energies are estimates (power x CPU time), and every axis and title says so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pathlib import Path

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    y = np.asarray(energy, dtype=float)
    if validation is None:
        tr, va = split_indices(len(y), report.test_size, report.seed)
    energy_label = "ESTIMATED energy" if estimate else "energy"
    tag = " (ESTIMATE: power x CPU time, not measured)" if estimate else ""
    paths = []
    for feat in dict.fromkeys(f.feature for f in report.fits):
        x = np.asarray(data[feat], dtype=float)
        if validation is None:
            xt, yt, xv, yv = x[tr], y[tr], x[va], y[va]
        else:
            xt, yt = x, y
            xv, yv = np.asarray(validation[0][feat], dtype=float), np.asarray(validation[1], dtype=float)
        fits = [f for f in report.fits if f.feature == feat]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.scatter(xt, yt, s=12, alpha=0.6, label="train")
        ax.scatter(xv, yv, s=12, alpha=0.6, marker="x", label="validation")
        grid = np.linspace(min(xt.min(), xv.min()), max(xt.max(), xv.max()), 200)
        for f in fits:
            ax.plot(grid, f.predict(grid), label=f"degree {f.degree} (val R² {f.validation.r2:.3f})")
        ax.set_xlabel(label(feat))
        ax.set_ylabel(f"{energy_label} ({report.unit})")
        ax.set_title(f"{energy_label} vs {label(feat)}{tag}", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        p = out / f"energy_vs_{feat}.png"
        save_png(fig, p)
        plt.close(fig)
        paths.append(str(p))
        fig, axes = plt.subplots(1, len(fits), figsize=(4 * len(fits), 3.5), squeeze=False)
        for ax, f in zip(axes[0], fits):
            ax.scatter(f.predict(xt), yt - f.predict(xt), s=10, alpha=0.6, label="train")
            ax.scatter(f.predict(xv), yv - f.predict(xv), s=10, alpha=0.6, marker="x", label="validation")
            ax.axhline(0, color="k", lw=0.8)
            ax.set_xlabel(f"predicted {energy_label} ({report.unit})")
            ax.set_ylabel(f"residual ({report.unit})")
            ax.set_title(f"{label(feat)} degree {f.degree}")
        if estimate:
            fig.suptitle(f"residuals of {energy_label.lower()}{tag}", fontsize=10)
        axes[0][0].legend(fontsize=8)
        fig.tight_layout()
        p = out / f"residuals_{feat}.png"
        save_png(fig, p)
        plt.close(fig)
        paths.append(str(p))
    return paths


__all__ = ["Metrics", "metrics", "PolyFit", "fit_polynomial", "split_indices", "FitReport", "fit_all", "plot_report",
           "FEATURES"]
