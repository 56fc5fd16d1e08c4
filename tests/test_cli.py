import json

import pytest
from click.testing import CliRunner

from gatesim.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def plugin_path(monkeypatch):
    import pathlib

    monkeypatch.syspath_prepend(str(pathlib.Path(__file__).parent / "plugins"))


def test_circuits_lists_designs(run):
    r = run("circuits")
    assert r.exit_code == 0
    for name in ("ripple-carry-adder", "kogge-stone-adder", "carry-lookahead-adder", "subtractor", "full-adder"):
        assert name in r.output
    doc = json.loads(run("circuits", "--json").output)
    rca = next(d for d in doc if d["name"] == "ripple-carry-adder")
    assert rca["kind"] == "adder" and rca["min_width"] == 1
    cla = next(d for d in doc if d["name"] == "carry-lookahead-adder")
    assert cla["params"] == {"block": 4}


def test_count_json_schema(run):
    r = run("count", "ripple-carry-adder", "--width", "24", "--library", "static-cmos", "--json")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert set(doc) == {"design", "params", "library", "inputs", "outputs", "gate_count", "gates", "cells", "transistors",
                        "logic_depth", "optimized"}
    assert doc["design"] == "ripple-carry-adder" and doc["params"] == {"width": 24} and doc["optimized"] is True
    assert doc["transistors"] == 28 * 24 and doc["cells"] == {"full_adder": 24}
    assert doc["gates"] == {"AND2": 48, "OR2": 24, "XOR2": 48} and doc["logic_depth"] == 49
    assert doc["inputs"] == {"a": 24, "b": 24, "cin": 1} and doc["outputs"] == {"sum": 24, "cout": 1}


def test_count_optimizes_unless_raw(run):
    """The 24-bit Booth-Wallace multiplier: optimized by default (its 26 unused gates, constants), --raw as built."""
    opt = json.loads(run("count", "booth-wallace-multiplier", "-w", "24", "-l", "yosys-cmos", "--json").output)
    raw = json.loads(run("count", "booth-wallace-multiplier", "-w", "24", "-l", "yosys-cmos", "--raw", "--json").output)
    assert (opt["optimized"], raw["optimized"]) == (True, False)
    assert raw["transistors"] == 21052 and opt["transistors"] < 21052 - 76 and opt["gate_count"] < raw["gate_count"]
    assert opt["inputs"] == raw["inputs"] and opt["outputs"] == raw["outputs"]
    text = run("count", "booth-wallace-multiplier", "-w", "8", "--raw").output
    assert "as built" in text and "optimized" in run("count", "booth-wallace-multiplier", "-w", "8").output


def test_count_human_table_and_many_libraries(run):
    r = run("count", "kogge-stone-adder", "-w", "8", "-l", "yosys-cmos", "-l", "paper")
    assert r.exit_code == 0
    assert "under library yosys-cmos" in r.output and "under library paper" in r.output
    assert "transistors 570" in r.output
    docs = json.loads(run("count", "kogge-stone-adder", "-w", "8", "-l", "yosys-cmos", "-l", "paper", "--json").output)
    assert [d["library"] for d in docs] == ["yosys-cmos", "paper"]


def test_count_with_params_and_library_file(run, tmp_path):
    lib = tmp_path / "lib.toml"
    lib.write_text('[gates]\nAND2 = 1\nOR2 = 1\nXOR2 = 1\n')
    doc = json.loads(run("count", "carry-lookahead-adder", "-w", "8", "--param", "block=2", "-l", str(lib), "--json").output)
    assert doc["params"] == {"width": 8, "block": 2} and doc["transistors"] == doc["gate_count"]


def test_verify_ok(run):
    r = run("verify", "kogge-stone-adder", "--width", "53", "--vectors", "20000")
    assert r.exit_code == 0 and "all match" in r.output
    doc = json.loads(run("verify", "ripple-carry-adder", "-w", "4", "--json").output)
    assert doc["exhaustive"] and doc["vectors"] == 512 and doc["ok"]


def test_verify_mismatch_exits_1_and_prints_first_vector(run, plugin_path):
    r = run("--plugin", "my_designs", "verify", "broken-adder", "--width", "8")
    assert r.exit_code == 1
    assert "MISMATCHES" in r.output and "first failing vector: a=" in r.output and "expected sum=" in r.output


def test_plugin_designs_with_params(run, plugin_path):
    r = run("--plugin", "my_designs", "verify", "inverter-chain", "-w", "6", "--param", "stages=3")
    assert r.exit_code == 0, r.output
    doc = json.loads(run("--plugin", "my_designs", "count", "inverter-chain", "-w", "6", "--param", "stages=3", "--raw",
                         "--json").output)
    assert doc["gates"] == {"NOT": 18} and doc["logic_depth"] == 3
    doc = json.loads(run("--plugin", "my_designs", "count", "inverter-chain", "-w", "6", "--param", "stages=3", "--json").output)
    assert doc["gates"] == {"NOT": 6} and doc["logic_depth"] == 1  # double inversions removed


def test_export(run, tmp_path):
    out = tmp_path / "rca24.v"
    r = run("export", "ripple-carry-adder", "--width", "24", "--format", "verilog", "-o", str(out))
    assert r.exit_code == 0
    text = out.read_text()
    assert text.count(" gatesim_XOR2 g") == 48 and "module ripple_carry_adder" in text  # structural
    r = run("export", "ripple-carry-adder", "--width", "24", "--format", "yosys-verilog")
    assert r.output.count("\\$_XOR_") == 48
    js = run("export", "ripple-carry-adder", "-w", "3", "--format", "json").output
    from gatesim import count, from_json

    assert count(from_json(js), "paper").transistors == 30


@pytest.mark.parametrize(
    "args, message",
    [
        (["count", "ripple-carry-adder", "--width", "0"], "must be a positive integer"),
        (["count", "ripple-carry-adder", "--width", "-3"], "must be a positive integer"),
        (["count", "ripple-carry-adder", "--width", "x"], "is not a valid integer"),
        (["count", "nonexistent-adder", "--width", "8"], "unknown design 'nonexistent-adder'"),
        (["count", "ripple-carry-adder", "--width", "8", "--library", "tsmc"], "unknown cell library 'tsmc'"),
        (["count", "ripple-carry-adder", "--width", "8", "--library", "/nope/lib.toml"], "cannot read library file"),
        (["count", "full-adder", "--width", "4"], "width 4 is out of range"),
        (["count", "ripple-carry-adder", "--width", "4", "--param", "speed=1"], "unknown parameter 'speed'"),
        (["count", "ripple-carry-adder", "--width", "4", "--param", "speed"], "expected KEY=VALUE"),
        (["verify", "nonexistent", "--width", "4"], "unknown design"),
        (["--plugin", "no_such_module_xyz", "circuits"], "cannot import circuit plugin module"),
    ],
)
def test_bad_input_is_one_line_exit_2(run, args, message):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert "Traceback" not in r.output


def test_malformed_library_file_exit_2(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[gates\n")
    r = run("count", "ripple-carry-adder", "-w", "4", "-l", str(bad))
    assert r.exit_code == 2 and "malformed" in r.output


def test_console_script_installed():
    import shutil
    import subprocess

    exe = shutil.which("gatesim")
    assert exe, "the gatesim console script is not on PATH"
    p = subprocess.run([exe, "count", "ripple-carry-adder", "--width", "0"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.strip().splitlines()[-1].startswith("Error:") and "Traceback" not in p.stderr


def test_activity(run):
    doc = json.loads(run("activity", "ripple-carry-adder", "-w", "16", "-n", "5000", "--json").output)
    assert doc["vectors"] == 5000 and set(doc["toggles"]) == {"AND2", "OR2", "XOR2"}
    assert doc["mean_weighted_toggles"] > 0 and doc["library"] == "static-cmos"
    # uniformly random operands: each input bit toggles with probability 1/2, so each p = a ^ b too
    assert 0.4 < doc["toggles"]["XOR2"] / 4999 / 32 < 0.6
    r = run("activity", "kogge-stone-adder", "-w", "8", "-n", "1000")
    assert r.exit_code == 0 and "transistor-weighted toggles per operation" in r.output


def test_plugins_reach_table_and_estimate(run, plugin_path, tmp_path, monkeypatch):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    r = run("--plugin", "my_designs", "table", "--adder", "plugin-adder", "--formats", "int8", "--operations", "add",
            "--mode", "paper", "--vectors", "500", "--csv")
    assert r.exit_code == 0, r.output
    assert "add,int8,80," in r.output


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--plugin", "raising_plugin", "circuits"], 2, "cannot import circuit plugin module 'raising_plugin': RuntimeError"),
        (["--plugin", "my_designs", "verify", "inverter-chain", "-w", "4", "--param", "stages=abc"], 2, "cannot build"),
        (["verify", "ripple-carry-adder", "-w", "4", "--seed", "-1"], 2, "--seed"),
        (["verify", "ripple-carry-adder", "-w", "99999999999999"], 2, "out of range (allowed: 1..4096)"),
        (["table", "--operations", ","], 2, "at least one name"),
        (["table", "--formats", "int8", "--operations", "div"], 1, "has no unit for div on int8"),
        (["count", "ripple-carry-adder", "--width", "0"], 2, "must be a positive integer"),
    ],
)
def test_errors_are_one_line(plugin_path, args, code, message):
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "gatesim.cli", *args], capture_output=True, text=True,
                       env={**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).parent / "plugins")})
    assert p.returncode == code, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], p.stderr


def test_unexpected_exception_is_one_line(run, monkeypatch):
    import gatesim.counting

    def boom(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gatesim.counting, "count", boom)
    r = run("count", "ripple-carry-adder", "-w", "4")
    assert r.exit_code == 1 and r.output.strip() == "Error: ZeroDivisionError: boom (set GATESIM_TRACEBACK=1 for the traceback)"
