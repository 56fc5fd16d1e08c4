"""The join: TOs = sum of BOs x transistors per (operation, format), from a transistor table."""
import json

from click.testing import CliRunner

from gatesim.cli import cli
from gatesim.tables import TransistorTable

NUMBERS = {"fp32": {"add": 240, "sub": 288, "mul": 9000, "div": 12000, "root": 15000, "compare": 1100},
           "fp16": {"add": 110, "sub": 132, "mul": 2000, "div": 3000, "root": 4000, "compare": 500}}


def _estimate(*args):
    return CliRunner().invoke(cli, ["estimate", *args], catch_exceptions=False)


def test_estimate_with_table_file(tmp_path):
    path = tmp_path / "t.json"
    TransistorTable.from_numbers(NUMBERS).save(path)
    r = _estimate("paper-dnn", "--width", "6", "--activation", "sigmoid", "--table", str(path), "--json")
    assert r.exit_code == 0, r.output
    total = json.loads(r.output)["total"]
    want = sum(total[op] * NUMBERS["fp32"][op] for op in NUMBERS["fp32"])
    assert total["tos"] == want > 0
    half = json.loads(_estimate("paper-dnn", "--width", "6", "--dtype", "fp16", "--table", str(path), "--json").output)
    # multiplies in fp16, the Linear layers' accumulating adds in fp32
    assert half["total"]["tos"] == sum(v[op] * NUMBERS[f][op] for f, v in half["by_format"].items() for op in NUMBERS[f])
    assert half["by_format"]["fp32"]["add"] > 0 and half["by_format"]["fp32"]["mul"] == 0


def test_estimate_table_errors(tmp_path):
    r = _estimate("paper-dnn", "--table", str(tmp_path / "missing.json"))
    assert r.exit_code == 2 and "cannot read transistor table" in r.output
    path = tmp_path / "t.json"
    TransistorTable.from_numbers({"fp16": NUMBERS["fp16"]}).save(path)
    r = _estimate("paper-dnn", "--table", str(path))  # an fp32 model, a table without fp32
    assert r.exit_code == 1 and "fp32" in r.output and "Traceback" not in r.output
    r = _estimate("paper-dnn", "--table", str(path), "--hardware", "paper")
    assert r.exit_code == 2 and "not both" in r.output


def test_estimate_with_hardware_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    prof = tmp_path / "p.toml"
    prof.write_text('name = "small"\nlibrary = "static-cmos"\nmode = "paper"\nformats = ["fp16"]\n[designs]\n'
                    'adder = "kogge-stone-adder"\nmultiplier = "dadda-multiplier"\nroot = "digit-recurrence-sqrt"\n')
    r = _estimate("paper-dnn", "--width", "5", "--activation", "tanh", "--hardware", str(prof), "--json")
    assert r.exit_code == 0, r.output
    total = json.loads(r.output)["total"]
    from gatesim.hardware import load_hardware

    tab = load_hardware(prof).build_table(formats=["fp32"], cache=tmp_path)  # the model runs in fp32
    assert total["tos"] == sum(total[op] * tab.transistors(op, "fp32") for op in ("add", "sub", "mul", "div", "root", "compare"))
    assert tab.transistors("add", "fp32") > 240  # Kogge-Stone, not the paper's ripple adder


def test_hardware_profile_sets_the_accumulator(tmp_path, monkeypatch):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    prof = tmp_path / "p.toml"
    prof.write_text('name = "half-sums"\nmode = "paper"\nformats = ["fp16"]\naccumulate = "fp16"\n')
    r = _estimate("paper-dnn", "--width", "5", "--dtype", "fp16", "--hardware", str(prof), "--json", "--totals-only")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output[r.output.index("{"):])
    assert d["accumulate"] == "fp16" and set(d["by_format"]) == {"fp16"}  # the Linear layers' sums in fp16 too
    assert d["by_format"]["fp16"]["fma_pairs"] > 0
    r = _estimate("paper-dnn", "--width", "5", "--dtype", "fp16", "--hardware", str(prof), "--accumulate", "fp32",
                  "--json", "--totals-only")  # the flag wins over the profile
    d = json.loads(r.output[r.output.index("{"):])
    assert d["accumulate"] == "fp32" and d["by_format"]["fp32"]["add"] > 0 and d["by_format"]["fp32"]["mul"] == 0
    prof.write_text('name = "bad"\nformats = ["fp16"]\naccumulate = "fp99"\n')
    r = _estimate("paper-dnn", "--hardware", str(prof))
    assert r.exit_code == 2 and "accumulate must name a number format" in r.output and "Traceback" not in r.output
