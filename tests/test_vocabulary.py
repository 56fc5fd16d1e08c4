"""One vocabulary: closest-name suggestions, per-role parameters on `gatesim table`, cells counted as cells,
and tables whose CSV keeps the parameters behind each entry."""
import csv
import io

import numpy as np
import pytest
from click.testing import CliRunner

import circuits
from gatesim import count, switching_activity
from gatesim.cli import cli
from gatesim.errors import DesignError, closest, did_you_mean
from gatesim.tables import DesignSelection, TableError, build_table


@pytest.mark.parametrize("typo,want", [
    ("dadda", ["dadda-multiplier"]),
    ("kogge", ["kogge-stone-adder"]),
    ("Dadda-Multiplier", ["dadda-multiplier"]),
    ("wallace", ["wallace-multiplier", "booth-wallace-multiplier"]),
    ("booth-walace-multiplier", ["booth-wallace-multiplier"]),
    ("newton", ["newton-raphson-sqrt"]),
])
def test_unknown_design_suggests_closest(typo, want):
    with pytest.raises(DesignError) as e:
        circuits.get(typo)
    msg = str(e.value)
    assert msg.startswith(f"unknown design {typo!r}; did you mean {want[0]!r}")
    for w in want:
        assert repr(w) in msg


def test_closest_prefers_the_role_kind_and_says_nothing_when_nothing_is_close():
    assert closest("xyzzy", ["ripple-carry-adder", "srt-divider"]) == []
    assert did_you_mean("xyzzy", ["a-b"]) == ""
    with pytest.raises(DesignError, match="did you mean 'kogge-stone-adder'"):
        circuits.get("kogge-stone", ("adder",))
    with pytest.raises(TableError, match="multiplier: unknown design 'dadda'; did you mean 'dadda-multiplier'"):
        DesignSelection(multiplier="dadda").check()
    with pytest.raises(DesignError, match="unknown parameter 'addr'; did you mean 'adder'"):
        circuits.build("dadda-multiplier", 8, addr="x")


def test_cli_unknown_multiplier_suggests(tmp_path):
    r = CliRunner().invoke(cli, ["table", "--multiplier", "dadda", "--formats", "bf16"])
    assert r.exit_code == 2
    assert "did you mean 'dadda-multiplier'?" in r.output and "Traceback" not in r.output


def test_table_per_role_parameters_reach_the_design_and_the_csv():
    key = "adder"
    args = ["table", "--multiplier", "dadda-multiplier", "--param", f"multiplier.{key}=kogge-stone-adder",
            "--formats", "bf16", "--operations", "mul", "--vectors", "500", "--no-cache", "--csv", "--mode", "paper"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert rows[0]["library"] == "paper" and rows[0]["mode"] == "paper"
    assert f"significand_multiplier=dadda-multiplier@8({key}=kogge-stone-adder)" in rows[0]["components"]
    want = (count(circuits.build("dadda-multiplier", 8, **{key: "kogge-stone-adder"}), "paper").transistors
            + count(circuits.build("ripple-carry-adder", 8), "paper").transistors + 12)
    assert int(rows[0]["transistors"]) == want
    plain = CliRunner().invoke(cli, args[:3] + args[5:])
    assert int(list(csv.DictReader(io.StringIO(plain.output)))[0]["transistors"]) != want  # the parameter mattered


@pytest.mark.parametrize("param,message", [
    ("adder=x", "name the role, as in multiplier.adder=VALUE"),
    ("multiplyer.signed=true", "unknown role 'multiplyer'; did you mean 'multiplier'?"),
    ("multiplier.sined=true", "unknown parameter 'sined'; did you mean 'signed'?"),
])
def test_table_bad_role_parameters_exit_2(param, message):
    r = CliRunner().invoke(cli, ["table", "--param", param, "--formats", "bf16", "--operations", "mul"])
    assert r.exit_code == 2, r.output
    assert message in r.output


def test_table_param_with_hardware_is_refused():
    r = CliRunner().invoke(cli, ["table", "--hardware", "paper", "--param", "multiplier.signed=true"])
    assert r.exit_code == 2 and "drop the other flags" in r.output


def test_design_that_is_a_library_cell_is_priced_as_the_cell():
    fa = circuits.build("full-adder", 1)
    paper = count(fa, "paper")
    assert paper.transistors == 10 and paper.cells == {"full_adder": 1} and paper.gate_count == 5
    inside = count(circuits.build("ripple-carry-adder", 4), "paper")
    assert inside.transistors == 4 * paper.transistors  # the same price alone as inside an adder
    assert count(circuits.build("half-adder", 1), "paper").transistors == 12 + 6  # no half_adder cell in paper
    rng = np.random.default_rng(0)
    vecs = {p: rng.integers(0, 2, 200) for p in ("a", "b", "cin")}
    act = switching_activity(fa, library="paper", **vecs)
    assert act.weighted_toggles == pytest.approx(act.total_toggles * 10 / 5)
    r = CliRunner().invoke(cli, ["count", "full-adder", "--width", "1", "--library", "paper", "--json"])
    assert r.exit_code == 0 and '"transistors": 10' in r.output


def test_build_table_csv_keeps_parameters():
    key = "adder"
    sel = DesignSelection(multiplier="wallace-multiplier", params={"multiplier": {key: "kogge-stone-adder"}})
    tab = build_table(sel, mode="paper", formats=("bf16",), operations=("mul",), vectors=300, cache=False)
    text = tab.to_csv()
    assert f"wallace-multiplier@8({key}=kogge-stone-adder)" in text
