"""Profiles: save/load round trip, malformed profiles, prediction from TOs and FLOPs."""
import json

import numpy as np
import pytest

from calibration.counting import parameter_count
from calibration.errors import CalibrationError
from calibration.fit import fit_all
from calibration.profiles import PROFILE_FORMAT, Profile, fit_log, predict_model, profile_from_report
from calibration.sweeps import dnn_model


def records(n_configs=6, repeats=5, trim=1):
    rng = np.random.default_rng(0)
    out = []
    for c in range(n_configs):
        tos = (c + 1) * 1e14
        for r in range(repeats):
            out.append({"key": f"c{c}", "repeat": r, "tos": tos, "flops": tos / 1e4, "trim": trim,
                        "joules": 100 + 2e-12 * tos + rng.normal(0, 0.5) + (50 if r == 0 else 0),
                        "meter": "rapl:package-0", "kind": "measurement", "level": "training",
                        "hardware": {"cpu": "test"}, "table": {"name": "t", "transistors": {"fp32": {"add": 1}}}})
    return out


def test_fit_log_trims_and_builds_profile(tmp_path):
    rep, prof = fit_log(records(), degrees=[1, 2])
    assert "trimmed 1 highest and 1 lowest" in rep.notes[0]
    assert rep.n_train + rep.n_validation == 6 * 3
    assert prof.selected[0] == "tos" and prof.kind == "measurement"
    assert prof.fit("tos", 1).coefficients[1] == pytest.approx(2e-12, rel=0.05)
    p = tmp_path / "p.json"
    prof.save(p)
    back = Profile.load(p)
    assert back.selected == prof.selected and back.table == prof.table and back.hardware == {"cpu": "test"}
    assert back.predict(tos=3e14) == pytest.approx(prof.predict(tos=3e14))
    assert back.predict(flops=3e10, feature="flops", degree=1) == pytest.approx(100 + 2e-12 * 3e14, rel=0.01)
    with pytest.raises(CalibrationError, match="no fit on flops of degree 3"):
        back.fit("flops", 3)
    with pytest.raises(CalibrationError, match="needs tos"):
        back.predict(flops=1.0, feature="tos")


def test_estimates_are_labelled_in_profile():
    recs = records()
    recs[3]["kind"] = "estimate"
    rep, prof = fit_log(recs, degrees=[1])
    assert prof.kind == "estimate" and any("ESTIMATES" in n for n in rep.notes)


def test_fit_log_errors():
    with pytest.raises(CalibrationError, match="no runs"):
        fit_log([])
    recs = records()
    recs[0]["tos"] = None
    with pytest.raises(CalibrationError, match="no tos count"):
        fit_log(recs)
    with pytest.raises(CalibrationError, match="unknown feature"):
        fit_log(records(), ["joules"])


@pytest.mark.parametrize("content,msg", [
    ("{not json", "not valid JSON"),
    ("[]", "expected a JSON object"),
    ('{"format": "something-else"}', "not a calibration profile"),
    (json.dumps({"format": PROFILE_FORMAT, "fits": []}), "no fits"),
    (json.dumps({"format": PROFILE_FORMAT, "fits": [{"feature": "tos"}]}), "missing 'degree'"),
    (json.dumps({"format": PROFILE_FORMAT, "selected": {"feature": "flops", "degree": 1},
                 "fits": [{"feature": "tos", "degree": 1, "mean": 0, "scale": 1, "coef_z": [1, 2]}]}), "not among"),
])
def test_malformed_profiles(tmp_path, content, msg):
    p = tmp_path / "p.json"
    p.write_text(content)
    with pytest.raises(CalibrationError, match=msg):
        Profile.load(p)


def test_missing_profile(tmp_path):
    with pytest.raises(CalibrationError, match="no such profile"):
        Profile.load(tmp_path / "nope.json")


def test_predict_model_with_injected_counter():
    x = np.linspace(1e6, 1e8, 20)
    rep = fit_all({"tos": x * 1000, "flops": x}, 5 + 1e-6 * x, degrees=[1])
    prof = profile_from_report(rep, table={"name": "n", "transistors": {}})
    out = predict_model(prof, lambda: dnn_model(8), (4,), batch_size=64, samples=1372, epochs=2,
                        count_fn=parameter_count)
    n = sum(p.numel() for p in dnn_model(8).parameters())
    tr = out["levels"]["training"]
    assert tr["flops"] == 2 * 2 * n * 3 * 1372 and tr["steps"] == 44
    assert tr["energy"] == pytest.approx(5 + 1e-6 * tr["flops"], rel=1e-6)
    assert out["levels"]["inference"]["energy"] < tr["energy"]
    assert "extrapolation" in out["note"]


def test_predict_model_default_counter_uses_profile_table():
    """TOs are priced with the profile's own table (plain numbers), through gatesim.models."""
    pytest.importorskip("gatesim.models")
    x = np.linspace(1e9, 1e11, 10)
    rep = fit_all({"tos": x}, 1 + 1e-10 * x, ["tos"], [1])
    nums = {f: {"add": 100, "sub": 100, "mul": 1000, "div": 2000, "root": 2000, "compare": 50} for f in ("fp32", "int64")}
    prof = profile_from_report(rep, table={"name": "nums", "transistors": nums})
    out = predict_model(prof, lambda: dnn_model(6), (4,), batch_size=64, samples=128, epochs=1,
                        levels=("inference",), count_options={"loss": "mse"})
    inf = out["levels"]["inference"]
    assert inf["tos"] > inf["flops"] > 0
    assert inf["energy"] == pytest.approx(1 + 1e-10 * inf["tos"], rel=1e-9)
    prof.table = None
    with pytest.raises(CalibrationError, match="no transistor table"):
        predict_model(prof, lambda: dnn_model(6), (4,), batch_size=64, samples=128)
