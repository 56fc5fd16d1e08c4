"""Fit: known coefficients recovered at 1e15 scale, metrics as defined, reports and plots."""
import json

import numpy as np
import pytest

from calibration.errors import CalibrationError
from calibration.fit import PolyFit, fit_all, fit_polynomial, metrics, plot_report, split_indices


@pytest.mark.parametrize("degree,coefs", [
    (1, [1.71e3, 3.65e-12]),
    (2, [1.0e3, 2.0e-12, 3.0e-27]),
    (3, [5.0e2, 1.0e-12, 2.0e-27, 4.0e-42]),
])
def test_recovers_known_coefficients_at_1e15(degree, coefs):
    x = np.linspace(1e14, 5e15, 40)
    y = np.polynomial.polynomial.polyval(x, coefs)
    f = fit_polynomial(x, y, degree)
    assert f.coefficients == pytest.approx(coefs, rel=1e-6)
    assert f.predict(x) == pytest.approx(y, rel=1e-9)


def test_noisy_linear_fit_is_close():
    rng = np.random.default_rng(1)
    x = rng.uniform(1e14, 1e16, 300)
    y = 1.76e3 + 2.61e-13 * x + rng.normal(0, 5, x.size)
    f = fit_polynomial(x, y, 1)
    c0, c1 = f.coefficients
    assert c0 == pytest.approx(1.76e3, rel=0.01) and c1 == pytest.approx(2.61e-13, rel=0.01)


def test_metrics_definitions():
    m = metrics([100.0, 200.0, 50.0], [110.0, 190.0, 50.0])
    assert m.precision_min == pytest.approx(90.0)
    assert m.precision_max == pytest.approx(100.0)
    assert m.precision_avg == pytest.approx((90 + 95 + 100) / 3)
    assert m.abs_error_avg == pytest.approx(20 / 3)
    assert m.abs_error_max == pytest.approx(10)
    assert m.rmse == pytest.approx(np.sqrt(200 / 3))
    y = np.array([100.0, 200.0, 50.0])
    assert m.r2 == pytest.approx(1 - 200 / np.sum((y - y.mean()) ** 2))


def test_split_is_seeded_60_40():
    tr, va = split_indices(100, 0.4, seed=3)
    assert len(tr) == 60 and len(va) == 40 and not set(tr) & set(va)
    tr2, _ = split_indices(100, 0.4, seed=3)
    assert list(tr) == list(tr2)
    with pytest.raises(CalibrationError):
        split_indices(1)


def test_fit_all_report_and_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    tos = rng.uniform(1e12, 1e15, 60)
    flops = tos / 3e4 * rng.uniform(0.8, 1.2, 60)
    y = 10 + 2e-13 * tos
    rep = fit_all({"tos": tos, "flops": flops}, y, degrees=[1, 2, 3], seed=0)
    assert rep.n_train == 36 and rep.n_validation == 24 and len(rep.fits) == 6
    assert rep.get("tos", 1).validation.r2 > 0.999999
    assert rep.get("tos", 1).validation.r2 > rep.get("flops", 1).validation.r2
    assert rep.best("tos").feature == "tos"
    text = rep.to_text()
    assert "TOs" in text and "FLOPs" in text and "precision" in text
    d = json.loads(rep.to_json())
    assert len(d["fits"]) == 6 and "precision_definition" in d
    f2 = PolyFit.from_dict(d["fits"][0])
    assert f2.predict_one(5e14) == pytest.approx(rep.fits[0].predict_one(5e14))
    paths = plot_report(rep, {"tos": tos, "flops": flops}, y, tmp_path / "plots")
    assert len(paths) == 4
    for p in paths:
        assert open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_separate_validation_set():
    x = np.arange(1, 21, dtype=float) * 1e15
    rep = fit_all({"tos": x}, 3 + 1e-15 * x, ["tos"], [1], validation=({"tos": x[:5]}, 3 + 1e-15 * x[:5]))
    assert rep.n_train == 20 and rep.n_validation == 5
    assert rep.fits[0].validation.precision_min == pytest.approx(100)


def test_bad_fit_inputs():
    with pytest.raises(CalibrationError, match="at least 3 samples"):
        fit_polynomial([1, 2], [1, 2], 2)
    with pytest.raises(CalibrationError, match="same tos"):
        fit_polynomial([5, 5, 5], [1, 2, 3], 1)
    with pytest.raises(CalibrationError, match="degree"):
        fit_polynomial([1, 2, 3], [1, 2, 3], 0)
    with pytest.raises(CalibrationError, match="non-finite"):
        fit_polynomial([1, np.nan, 3], [1, 2, 3], 1)
    with pytest.raises(CalibrationError, match="no feature"):
        fit_all({"tos": [1, 2, 3]}, [1, 2, 3], ["flops"], [1])


@pytest.mark.parametrize("bad,msg", [
    ({"degree": 1, "mean": 0, "scale": 1, "coef_z": [1, 2]}, "missing 'feature'"),
    ({"feature": "tos", "degree": 2, "mean": 0, "scale": 1, "coef_z": [1, 2]}, "needs 3 coefficients"),
    ({"feature": "tos", "degree": 1, "mean": 0, "scale": 0, "coef_z": [1, 2]}, "scale"),
    ({"feature": "tos", "degree": 1, "mean": "x", "scale": 1, "coef_z": [1, 2]}, "non-numeric"),
])
def test_malformed_fit(bad, msg):
    with pytest.raises(CalibrationError, match=msg):
        PolyFit.from_dict(bad)
