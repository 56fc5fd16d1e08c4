"""Multi-feature energy models: known coefficients recovered, non-negativity, power laws, every validation scheme,
stored as numbers, profiles and prediction, and the fit command's new options."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from calibration.cli import fit_cmd, predict_cmd
from calibration.counting import parameter_count
from calibration.energy_model import (CV, EnergyModel, cross_validate, expand, fit_energy, fit_model, parse_cv)
from calibration.errors import CalibrationError
from calibration.features import coefficient_unit, numeric_columns, parse_feature_sets
from calibration.fit import fit_polynomial, metrics
from calibration.profiles import Profile, predict_model, profile_from_energy
from calibration.sweeps import dnn_model


def runs(n=60, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        tos = rng.uniform(1e13, 1e15)
        by = rng.uniform(1e8, 1e10)
        fam = "mlp" if i % 3 else "cnn"
        out.append({"tos": tos, "bytes": by, "seconds": rng.uniform(1, 10), "family": fam, "key": f"k{i}",
                    "bos.mul": tos / 1e4, "flops": tos / 3e4 * rng.uniform(0.9, 1.1), "energy": 50 + 2e-13 * tos + 3e-9 * by + rng.normal(0, noise)})
    return out


def test_linear_recovers_joules_per_to_and_per_byte():
    r = runs()
    x = np.array([[d["tos"], d["bytes"]] for d in r])
    m = fit_model("linear", x, [d["energy"] for d in r], ("tos", "bytes"))
    assert m.intercept == pytest.approx(50, rel=1e-6)
    assert m.coef == pytest.approx([2e-13, 3e-9], rel=1e-6)
    assert m.predict(x) == pytest.approx([d["energy"] for d in r], rel=1e-9)
    terms = {t: (v, u) for t, v, u in m.coefficients()}
    assert terms["TOs"][1] == "J/TO" and terms["bytes"][1] == "J/B" and terms["intercept"][1] == "J"


def test_linear_coefficients_stay_non_negative_ridge_does_not():
    r = runs()
    y = [d["energy"] - 6e-9 * d["bytes"] for d in r]  # a negative energy per byte: unphysical
    x = np.array([[d["tos"], d["bytes"]] for d in r])
    lin = fit_model("linear", x, y, ("tos", "bytes"))
    assert min(lin.coef) >= 0 and lin.coef[1] == 0
    ridge = fit_model("ridge", x, y, ("tos", "bytes"))
    assert ridge.coef[1] < 0 and ridge.alpha is not None


def test_power_law():
    x = np.geomspace(1e10, 1e15, 30)
    m = fit_model("loglinear", x.reshape(-1, 1), 3.0 * x ** 0.7, ("tos",))
    assert m.coef[0] == pytest.approx(0.7) and np.exp(m.intercept) == pytest.approx(3.0)
    with pytest.raises(CalibrationError, match="tos is <= 0 in 1 run"):
        fit_model("loglinear", np.r_[0.0, x[1:]].reshape(-1, 1), x, ("tos",))


def test_poly_is_the_papers_polynomial():
    r = runs()
    x = np.array([d["tos"] for d in r])
    y = np.array([d["energy"] for d in r])
    m = fit_model("poly", x.reshape(-1, 1), y, ("tos",), degree=2)
    assert m.predict(x.reshape(-1, 1)) == pytest.approx(fit_polynomial(x, y, 2).predict(x))
    with pytest.raises(CalibrationError, match="one feature"):
        fit_model("poly", np.c_[x, x], y, ("tos", "bytes"))
    assert expand([("tos", "flops")], ["poly", "linear"], [1, 2]) == [
        ("poly", ("tos",), 1), ("poly", ("tos",), 2), ("poly", ("flops",), 1), ("poly", ("flops",), 2),
        ("linear", ("tos", "flops"), 1)]


def test_validation_schemes():
    r = runs(noise=1.0)
    split = cross_validate("linear", r, ("tos", "bytes"), CV("split", test_size=0.25, seed=1))
    assert (split.train.n, split.validation.n) == (45, 15)
    kf = cross_validate("linear", r, ("tos", "bytes"), CV("kfold", k=4))
    assert kf.validation.n == 60 and kf.validation.r2 > 0.99
    grp = cross_validate("linear", r, ("tos", "bytes"), parse_cv("group:family"))
    assert set(grp.groups) == {"mlp", "cnn"}
    # the held-out family is predicted by a model that never saw it
    cnn = [d for d in r if d["family"] == "cnn"]
    mlp = [d for d in r if d["family"] == "mlp"]
    only_mlp = fit_model("linear", [[d["tos"], d["bytes"]] for d in mlp], [d["energy"] for d in mlp], ("tos", "bytes"))
    want = metrics([d["energy"] for d in cnn], only_mlp.predict([[d["tos"], d["bytes"]] for d in cnn]))
    assert grp.groups["cnn"].rmse == pytest.approx(want.rmse)
    given = cross_validate("linear", mlp, ("tos",), CV("given"), validation=cnn)
    assert (given.train.n, given.validation.n) == (len(mlp), len(cnn))
    with pytest.raises(CalibrationError, match="run 1 has no 'model' column"):
        cross_validate("linear", r, ("tos",), parse_cv("group:model"))
    with pytest.raises(CalibrationError, match="every run is in group 'mlp'"):
        cross_validate("linear", mlp, ("tos",), parse_cv("group:family"))


@pytest.mark.parametrize("spec", ["", "kfold:1", "kfold:x", "group", "given:3", "loo"])
def test_bad_cv(spec):
    if spec == "":
        assert parse_cv(spec).kind == "split"
        return
    with pytest.raises(CalibrationError, match="--cv"):
        parse_cv(spec)


def test_features_are_data_driven_columns():
    r = runs()
    cols = numeric_columns(r)
    assert cols == ["tos", "bytes", "seconds", "bos.mul", "flops"]
    assert parse_feature_sets(["tos", "tos,bytes", "bos.*", "runtime"], cols + []) == [
        ("tos",), ("tos", "bytes"), ("bos.mul",), ("runtime",)]
    with pytest.raises(CalibrationError, match="no feature 'switching_tos'.*numeric columns: tos, bytes"):
        parse_feature_sets(["tos,switching_tos"], cols)
    assert coefficient_unit("seconds") == "W" and coefficient_unit("bos.add", "a.u.") == "a.u./BO"
    rep = fit_energy(r, [("runtime",)], ["linear"])  # runtime reads the seconds column
    assert rep.models[0].features == ("runtime",)
    bad = runs()
    del bad[5]["bytes"]
    with pytest.raises(CalibrationError, match="feature 'bytes' is missing or not a finite number in 1 of 60.*run 6"):
        fit_energy(bad, [("tos", "bytes")], ["linear"])


def test_model_round_trip_and_report():
    rep = fit_energy(runs(noise=1.0), [("tos", "bytes"), ("tos",)], ["linear", "ridge", "loglinear", "poly"], [1, 2],
                     cv=CV("kfold", k=3))
    assert [m.name for m in rep.models] == ["tos,bytes:linear", "tos,bytes:ridge", "tos,bytes:loglinear",
                                            "tos:poly1", "tos:poly2", "bytes:poly1", "bytes:poly2", "tos:linear",
                                            "tos:ridge", "tos:loglinear"]
    assert rep.best().features == ("tos", "bytes")  # the true model's features win
    x = np.array([[1e14, 1e9], [5e14, 4e9]])
    for m in rep.models:
        back = EnergyModel.from_dict(json.loads(json.dumps(m.to_dict())))
        cols = [0] if m.features == ("tos",) else [1] if m.features == ("bytes",) else [0, 1]
        assert back.predict(x[:, cols]) == pytest.approx(m.predict(x[:, cols]))
        assert back.validation.mape == pytest.approx(m.validation.mape)
    text = rep.to_text()
    assert "MAPE" in text and "J/B" in text and "3-fold" in text
    assert rep.to_markdown().count("\n") == len(rep.models) + 1


@pytest.mark.parametrize("d,msg", [
    ({"features": ["tos"]}, "missing 'kind'"),
    ({"kind": "magic", "features": ["tos"]}, "unknown energy model kind"),
    ({"kind": "linear", "features": ["tos"], "coef": [1, 2]}, "2 coefficients for 1 features"),
    ({"kind": "linear", "features": [], "coef": []}, "no features"),
    ({"kind": "linear", "features": ["tos"], "coef": ["x"]}, "non-numeric"),
])
def test_malformed_models(d, msg):
    with pytest.raises(CalibrationError, match=msg):
        EnergyModel.from_dict(d)


def test_profile_stores_the_chosen_model_and_predict_uses_it(tmp_path):
    rep = fit_energy(runs(), [("tos", "flops"), ("flops",)], ["linear", "poly"], [1])
    prof = profile_from_energy(rep, selected="tos,flops:linear", table={"name": "t", "transistors": {}})
    p = tmp_path / "prof.json"
    prof.save(p)
    back = Profile.load(p)
    assert back.selected_model == "tos,flops:linear" and len(back.models) == len(rep.models)
    with pytest.raises(CalibrationError, match="no model 'nope'"):
        profile_from_energy(rep, selected="nope")
    # a hand-made model on the trivial counter: E = 7 + 1e-6 TOs + 2e-3 FLOPs
    back.models[0] = EnergyModel("linear", ("tos", "flops"), 7.0, [1e-6, 2e-3], unit="J")
    res = predict_model(back, lambda: dnn_model(6), (4,), batch_size=8, samples=16, epochs=1, levels=("training",),
                        count_fn=parameter_count)
    tr = res["levels"]["training"]
    assert tr["energy"] == pytest.approx(7 + 1e-6 * tr["tos"] + 2e-3 * tr["flops"])
    assert res["energy_model"] == "tos,flops:linear"
    back.selected_model = "flops:poly1"
    assert predict_model(back, lambda: dnn_model(6), (4,), batch_size=8, samples=16, levels=("inference",),
                         count_fn=parameter_count)["energy_model"] == "flops:poly1"


def write_log(path, n=30):
    rng = np.random.default_rng(3)
    with open(path, "w") as fh:
        for i in range(n):
            tos = float(rng.uniform(1e13, 1e15))
            fh.write(json.dumps({"key": f"c{i % 10}", "repeat": i // 10, "tos": tos, "flops": tos / 3e4,
                                 "seconds": float(rng.uniform(1, 3)), "config": {"model": "dnn" if i % 2 else "cnn"},
                                 "joules": 5 + 1e-13 * tos + rng.normal(0, 0.01), "kind": "measurement",
                                 "meter": "fake", "table": {"name": "t", "transistors": {"fp32": TABLE}}}) + "\n")


TABLE = {"add": 10, "sub": 10, "mul": 100, "div": 200, "root": 200, "compare": 5}


def test_fit_command_multi_feature(tmp_path):
    log = tmp_path / "runs.jsonl"
    write_log(log)
    prof = tmp_path / "p.json"
    res = CliRunner().invoke(fit_cmd, [str(log), "--features", "tos,seconds", "--features", "flops",
                                       "--model", "linear,ridge", "--cv", "kfold:3", "-o", str(prof),
                                       "--plot", str(tmp_path / "plots")])
    assert res.exit_code == 0, res.output
    assert "tos,seconds:linear" in res.output and "W" in res.output and "3-fold" in res.output
    assert (tmp_path / "plots" / "predicted_vs_measured.png").read_bytes()[:4] == b"\x89PNG"
    assert Profile.load(prof).selected_model.startswith("tos,seconds:")
    res = CliRunner().invoke(fit_cmd, [str(log), "--model", "linear", "--cv", "group:model", "--json"])
    d = json.loads(res.output)
    assert {g for m in d["models"] for g in m["groups"]} == {"dnn", "cnn"}
    res = CliRunner().invoke(predict_cmd, ["dnn", "--width", "5", "--profile", str(prof), "--json"])
    assert res.exit_code == 1 and "needs 'seconds' of the workload" in res.output


@pytest.mark.parametrize("args,code,text", [
    (["--model", "magic"], 2, "--model: expected a list of linear"),
    (["--cv", "kfold:1"], 2, "--cv kfold:K needs"),
    (["--cv", "group:nosuch", "--model", "linear"], 1, "run 1 has no 'nosuch' column"),
    (["--features", "tos,banana", "--model", "linear"], 1, "no feature 'banana'"),
    (["--features", "joules", "--model", "linear"], 2, "--features"),
    (["--pen"], 2, "not both"),
    (["--report"], 2, "go with --pen"),
    (["--cv", "given"], 1, "--cv given is for --pen"),
    (["--select", "tos:linear", "--model", "ridge"], 1, "no model 'tos:linear'"),
])
def test_fit_command_errors_are_one_line(tmp_path, args, code, text):
    log = tmp_path / "runs.jsonl"
    write_log(log)
    res = CliRunner().invoke(fit_cmd, [str(log), *args])
    assert res.exit_code == code, res.output
    assert text in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(fit_cmd, [])
    assert res.exit_code == 2 and "missing LOG (or --pen)" in res.output


@pytest.fixture(scope="module")
def small_pen(tmp_path_factory):
    """A PEN folder of 24 training and 12 test rows of each family (smallest architectures first)."""
    import csv

    from calibration.pen import default_pen_dir, parse_model_string

    d = tmp_path_factory.mktemp("pen")
    for split, n in (("training", 24), ("test", 12)):
        with open(default_pen_dir() / f"{split}.csv", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = [r for r in reader if r["Model"].split()[-1] != "SparseAdam"]
        picked = []
        for fam in ("mlp", "cnn"):
            rs = [r for r in rows if ("convolutional" in r["Model"]) == (fam == "cnn")]
            rs.sort(key=lambda r: len(r["Model"]))
            picked += rs[:n]
        with open(d / f"{split}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, reader.fieldnames)
            w.writeheader()
            w.writerows(picked)
    assert all(parse_model_string(r["Model"]) for r in picked)
    return d


def test_fit_pen_report_and_profile(small_pen, tmp_path):
    pytest.importorskip("gatesim.models")
    from gatesim.tables import TransistorTable

    table = tmp_path / "table.json"
    TransistorTable.from_numbers({f: TABLE for f in ("fp32", "int64")}, name="small").save(table)
    pen = ["--pen", "--pen-dir", str(small_pen), "--table", str(table)]
    res = CliRunner().invoke(fit_cmd, [*pen, "--report", "--plot", str(tmp_path)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "| FLOPs | poly2 |" in out and "| TOs | linear |" in out and "| BOs per operation | ridge |" in out
    assert "R² CNN (fit MLP)" in out and "R² MLP (fit CNN)" in out
    assert "48 training + 24 test runs" in out
    for png in ("pen_predicted_vs_measured.png", "pen_residuals_by_family.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    prof = tmp_path / "pen.json"
    res = CliRunner().invoke(fit_cmd, [*pen, "--features", "bos.*", "--model", "linear", "--cv", "group:family",
                                       "-o", str(prof), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    m = d["models"][0]
    assert m["features"][0].startswith("bos.") and set(m["groups"]) == {"mlp", "cnn"}
    assert all(c["value"] >= 0 for c in m["coefficients"][1:])
    p = Profile.load(prof)
    assert p.unit == "a.u." and p.model().kind == "linear" and p.table["transistors"]["fp32"]["mul"] == 100
