"""The floating-point units through the command line, and Yosys's count of one."""
import json

import pytest
from click.testing import CliRunner

import circuits
from gatesim import count, optimize
from gatesim.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_circuits_kind_float(run):
    r = run("circuits", "--kind", "float")
    assert r.exit_code == 0
    for unit in ("fp-adder", "fp-multiplier", "fp-fma", "fp-divider", "fp-sqrt", "fp-compare", "fp-convert"):
        assert unit in r.output
    assert "ripple-carry-adder " not in r.output.split("\n")[2] and "leading_zero_counter=" in r.output
    doc = json.loads(run("circuits", "--kind", "float", "--json").output)
    fma = next(d for d in doc if d["name"] == "fp-fma")
    assert fma["sized_by"] == "format" and fma["roles"] == ["multiplier", "adder", "shifter", "leading_zero_counter"]
    assert fma["params"]["rounding"] == "rne" and fma["params"]["ftz"] is False
    assert run("circuits", "--kind", "shifter").output.count("shifter") >= 2
    bad = run("circuits", "--kind", "nope")
    assert bad.exit_code == 2 and "unknown kind 'nope'" in bad.output


def test_count_fp_unit(run):
    r = run("count", "fp-multiplier", "--format", "fp32", "--library", "yosys-cmos", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["params"] == {"format": "fp32"} and doc["inputs"] == {"a": 32, "b": 32}
    assert doc["outputs"] == {"y": 32, "flags": 5}
    net = circuits.build("fp-multiplier", format="fp32")
    assert doc["optimized"] and doc["transistors"] == count(optimize(net), "yosys-cmos").transistors
    raw = json.loads(run("count", "fp-multiplier", "--format", "fp32", "--library", "yosys-cmos", "--raw", "--json").output)
    assert raw["transistors"] == count(net, "yosys-cmos").transistors > doc["transistors"]
    human = run("count", "fp-adder", "--format", "e6m9", "--rounding", "rtz", "--param", "adder=kogge-stone-adder")
    assert human.exit_code == 0 and "fp-adder (format e6m9, optimized)" in human.output


def test_verify_fp_units(run):
    r = run("verify", "fp-adder", "--format", "bf16", "--vectors", "20000")
    assert r.exit_code == 0 and "all match" in r.output and "torch bfloat16" in r.output, r.output
    r = run("verify", "fp-fma", "--format", "fp16", "--rounding", "rne", "--vectors", "5000", "--json")
    doc = json.loads(r.output)
    assert r.exit_code == 0 and doc["ok"] and doc["params"] == {"format": "fp16", "rounding": "rne"}
    assert doc["reference"] == "exact model"
    r = run("verify", "fp-convert", "--format", "fp8-e4m3", "--param", "to=fp16", "--exhaustive")
    assert r.exit_code == 0 and "256 vectors (exhaustive)" in r.output


def test_verify_catches_a_broken_unit(run, monkeypatch):
    import pathlib

    monkeypatch.syspath_prepend(str(pathlib.Path(__file__).parent / "plugins"))
    r = run("--plugin", "broken_fp", "verify", "broken-fp-adder", "--format", "fp16", "--vectors", "2000")
    assert r.exit_code == 1 and "MISMATCHES" in r.output
    line = next(x for x in r.output.splitlines() if x.startswith("first failing vector"))
    assert "a=0x" in line and "(" in line  # values decoded as floats
    assert "flags=" in r.output


@pytest.mark.parametrize("args, message", [
    (["count", "fp-adder", "-w", "8"], "sized by a number format"),
    (["count", "ripple-carry-adder", "--format", "fp32"], "sized by a width in bits"),
    (["count", "ripple-carry-adder"], "give a width in bits"),
    (["count", "fp-adder"], "give a number format"),
    (["count", "fp-adder", "--format", "fp99"], "unknown number format 'fp99'"),
    (["count", "fp-adder", "--format", "int8"], "needs a floating-point format"),
    (["verify", "fp-fma", "--format", "fp32", "--exhaustive"], "too many to enumerate"),
    (["count", "fp-convert", "--format", "fp32", "--param", "to=fp7"], "unknown number format 'fp7'"),
])
def test_bad_fp_input_is_one_line_exit_2(run, args, message):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


@pytest.mark.yosys
def test_fp16_adder_matches_yosys(yosys_transistors):
    net = circuits.build("fp-adder", format="fp16")
    assert yosys_transistors(net) == count(net, "yosys-cmos").transistors
