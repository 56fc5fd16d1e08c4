"""``gatesim table --activity`` and ``gatesim estimate --activity``: switching TOs under chosen operands."""
import json
import textwrap

import pytest
from click.testing import CliRunner

from gatesim.cli import cli

MODEL = textwrap.dedent("""
    from torch import nn

    def net():
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
""")


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_table_activity_distribution():
    r = run("table", "--mode", "paper", "-f", "fp16", "--operations", "mul,add", "--activity", "zeros", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["activity"] == "zeros" and all(e["mean_weighted_toggles"] == 0 for e in d["entries"])
    r = run("table", "--mode", "paper", "-f", "fp16", "--operations", "mul", "--activity", "sparse:0.5")
    assert r.exit_code == 0 and "toggles under operands sparse" in r.output


@pytest.mark.parametrize("args,msg", [
    (["--activity", "sampled"], "needs --model"),
    (["--activity", "gaussian"], "unknown operand distribution 'gaussian'"),
    (["--model", "x.py:net"], "add --activity sampled"),
])
def test_table_activity_errors(args, msg):
    r = run("table", "--mode", "paper", "-f", "fp16", "--operations", "mul", *args)
    assert r.exit_code == 2 and msg in r.output


def test_sampled_table_and_estimate_reuse_the_samples(tmp_path):
    f = tmp_path / "m.py"
    f.write_text(MODEL)
    args = ["table", "--mode", "paper", "-f", "fp16", "--operations", "mul,add,compare", "--activity", "sampled",
            "--model", f"{f}:net", "--input-shape", "4,8", "--samples", "64", "--json"]
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "sampling operands" in first.stderr
    tab = json.loads(first.stdout)
    assert tab["activity"].startswith("sampled:")
    assert {e["operation"]: e["activity"] for e in tab["entries"]} == {
        "mul": tab["activity"], "add": tab["activity"], "compare": tab["activity"]}
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "sampling operands" not in again.stderr  # read from the cache
    assert json.loads(again.stdout)["activity"] == tab["activity"]
    f.write_text(MODEL.replace("16", "12"))  # another model, other samples
    other = runner.invoke(cli, args)
    assert "sampling operands" in other.stderr and json.loads(other.stdout)["activity"] != tab["activity"]
    est = runner.invoke(cli, ["estimate", f"{f}:net", "--input-shape", "4,8", "--activity", "sampled", "--samples", "64",
                              "--hardware", "paper", "--json"])  # the same model, shape and level (training): the same samples
    assert est.exit_code == 0, est.output
    d = json.loads(est.stdout)
    assert d["activity"] == json.loads(other.stdout)["activity"]
    assert 0 < d["total"]["switching_tos"] < d["total"]["tos"]
    assert "sampling operands" not in est.stderr
    assert d["total"]["est_seconds"] > 0 and d["by_phase"]["forward"]["depth"] == 3 and d["timing"] == "paper"


def test_estimate_switching_tos_follow_the_operands():
    out = {}
    for act in ("zeros", "normal", "uniform"):
        r = run("estimate", "paper-dnn", "--totals-only", "--hardware", "paper", "--activity", act, "--json")
        assert r.exit_code == 0, r.output
        out[act] = json.loads(r.output)["total"]
    assert out["zeros"]["switching_tos"] == 0 < out["normal"]["switching_tos"] < out["uniform"]["switching_tos"]
    assert out["zeros"]["tos"] == out["uniform"]["tos"]
    r = run("estimate", "paper-dnn", "--totals-only", "--hardware", "paper")
    assert "switching_tos" in r.output and "est_seconds" in r.output and "sequential depth" in r.output
    r = run("estimate", "paper-dnn", "--no-tos", "--activity", "zeros")
    assert r.exit_code == 2
