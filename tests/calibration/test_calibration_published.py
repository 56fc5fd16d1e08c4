"""The default energy profile: published per-operation energies fitted to a transistor table (an estimate)."""
import json

import pytest
from click.testing import CliRunner

from calibration.errors import CalibrationError
from calibration.published import fit_published, load_published, load_shipped, reference_formats
from gatesim.cli import cli


class Numbers:
    def __init__(self, t, w=None, name="fake"):
        self.t, self.w, self.name, self.mode = t, w or t, name, "numbers"

    def transistors(self, op, fmt):
        return self.t[(op, fmt)]

    def weighted_toggles(self, op, fmt):
        return self.w[(op, fmt)]


def test_published_figures_and_their_citations():
    pub = load_published()
    assert pub.operations[("mul", "fp32")] == 3.7 and pub.operations[("add", "int32")] == 0.1
    assert pub.picojoules_per_byte("dram") == 160.0 and "Horowitz" in pub.sources[0]
    assert reference_formats() == ["fp16", "fp32", "int32", "int8"]


def test_fit_is_relative_least_squares_through_the_origin():
    pub = load_published()
    exact = Numbers({k: 1000 * pj for k, pj in pub.operations.items()})  # 1 pJ per 1000 transistors
    f = fit_published(exact)
    assert f.joules_per_to == pytest.approx(1e-15) and f.joules_per_switching_to == pytest.approx(1e-15)
    assert all(q["from_tos"] == pytest.approx(1.0) for q in f.fit_quality().values())
    # a table twice too dear on half the operations: relative least squares meets them in between, whatever the
    # size of each energy (a 0.03 pJ add weighs as much as a 3.7 pJ multiply)
    skew = Numbers({k: 1000 * pj * (2 if k[0] == "add" else 1) for k, pj in pub.operations.items()})
    r = [q["from_tos"] for q in fit_published(skew).fit_quality().values()]
    assert min(r) == pytest.approx(0.6, abs=0.01) and max(r) == pytest.approx(1.2, abs=0.01)
    est = f.estimate(tos=2e15, bytes_moved=1e9, switching_tos=1e15)
    assert est["compute_joules"] == pytest.approx(2.0) and est["memory_joules"] == pytest.approx(0.16)
    assert est["joules"] == pytest.approx(2.16) and est["switching_joules"] == pytest.approx(1.16)
    assert "not a measurement" in est["label"]
    with pytest.raises(CalibrationError, match="needs add on int8"):
        fit_published(Numbers({k: 1 for k in pub.operations if k != ("add", "int8")}))


def test_shipped_profile_is_the_fit_of_todays_default_table():
    from gatesim.hardware import default_profile

    shipped = load_shipped()["default"]
    tab = default_profile().build_table(reference_formats(), operations=["add", "mul"])
    fresh = fit_published(tab)
    # rerun `python benchmarks/default_energy.py --write` when a circuit or the default designs change
    assert fresh.joules_per_to == pytest.approx(shipped.joules_per_to, rel=1e-6)
    assert fresh.joules_per_switching_to == pytest.approx(shipped.joules_per_switching_to, rel=1e-6)
    assert {r[:4] for r in fresh.rows} == {tuple(r[:4]) for r in shipped.rows}


def test_estimate_prints_the_estimate_or_a_fitted_profile(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["estimate", "paper-dnn", "--hardware", "paper", "--totals-only"])
    assert r.exit_code == 0, r.output
    assert "estimated energy:" in r.output and "not a measurement" in r.output
    j = json.loads(runner.invoke(cli, ["estimate", "paper-dnn", "--hardware", "paper", "--totals-only", "--json"]).output)
    e = j["energy_estimate"]
    assert e["joules"] == pytest.approx(e["joules_per_to"] * j["total"]["tos"] + e["joules_per_byte"] * j["total"]["bytes"])
    assert e["table"]["mode"] == "paper"
    from calibration.energy_model import EnergyModel
    from calibration.profiles import Profile

    model = EnergyModel("linear", ("tos", "bytes", "launches"), 1.5, [2e-12, 1e-9, 0.25], unit="J")
    Profile([], ("", 0), models=[model], selected_model=model.name).save(tmp_path / "p.json")
    p = json.loads(runner.invoke(cli, ["estimate", "paper-dnn", "--hardware", "paper", "--totals-only", "--json",
                                       "--profile", str(tmp_path / "p.json")]).output)
    want = 1.5 + 2e-12 * p["total"]["tos"] + 1e-9 * p["total"]["bytes"] + 0.25 * p["total"]["launches"]
    assert p["energy"]["joules"] == pytest.approx(want) and "energy_estimate" not in p
    r = runner.invoke(cli, ["estimate", "paper-dnn", "--hardware", "paper", "--profile", str(tmp_path / "p.json")])
    assert "predicted for this step by calibration profile" in r.output
    (tmp_path / "bad.json").write_text("{}")
    r = runner.invoke(cli, ["estimate", "paper-dnn", "--profile", str(tmp_path / "bad.json")])
    assert r.exit_code == 2 and "--profile" in r.output
