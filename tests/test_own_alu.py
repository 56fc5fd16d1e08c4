"""The "Your own ALU" walk: a user's Verilog multiplier, named in a hardware profile, is the multiplier inside the
floating-point units of a transistor table and so changes a model's TOs; where a unit needs the role at another
width than the file's, the role's default design fills in and the table says so."""
import json
import pathlib
import shutil

import pytest
from click.testing import CliRunner

import circuits
from gatesim import count, optimize
from gatesim.cli import cli
from gatesim.hardware import load_hardware

pytestmark = pytest.mark.yosys

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "docs" / "examples"
MUL8 = """
module mul8 (input [7:0] a, input [7:0] b, output [15:0] p);
  assign p = a * b;
endmodule
module bad8 (input [7:0] a, input [7:0] b, output [15:0] p);  // one product bit flipped
  assign p = (a * b) ^ 16'h0100;
endmodule
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def mul8(tmp_path):
    (tmp_path / "mul8.v").write_text(MUL8)
    return tmp_path


def test_the_users_multiplier_is_what_the_fp_unit_computes_with(mul8):
    """A broken user multiplier breaks the bf16 multiplier built around it: the file's circuit is really inside."""
    good, bad = f"verilog:{mul8 / 'mul8.v'}:mul8", f"verilog:{mul8 / 'mul8.v'}:bad8"
    r = run("verify", "fp-multiplier", "--format", "bf16", "--param", f"multiplier={good}", "--vectors", 2000)
    assert r.exit_code == 0 and "all match" in r.output, r.output
    r = run("verify", "fp-multiplier", "--format", "bf16", "--param", f"multiplier={bad}", "--vectors", 2000)
    assert r.exit_code == 1 and "MISMATCHES" in r.output, r.output


def test_profile_prices_the_users_multiplier_and_notes_where_it_cannot(mul8):
    (mul8 / "p.toml").write_text('library = "yosys-cmos"\nformats = ["bf16"]\n[designs]\nmultiplier = "verilog:mul8.v:mul8"\n')
    prof = load_hardware(mul8 / "p.toml")
    spec = prof.selection.multiplier
    tab = prof.build_table(operations=["mul", "root"], vectors=200, cache=False)
    mul = tab.entry("mul", "bf16")
    users = count(optimize(circuits.build("fp-multiplier", format="bf16", multiplier=spec)), "yosys-cmos")
    default = count(optimize(circuits.build("fp-multiplier", format="bf16")), "yosys-cmos")
    assert mul.transistors == users.transistors != default.transistors
    assert mul.components["unit"]["multiplier"] == spec and mul.substitutions == []
    # the bf16 square root's Newton-Raphson iterations multiply at other widths: Booth-Wallace there, noted
    root = tab.entry("root", "bf16")
    assert root.substitutions and {s["role"] for s in root.substitutions} == {"multiplier"}
    assert all(s["chosen"] == spec and s["chosen_width"] == 8 and s["width"] != 8
               and s["used"] == "booth-wallace-multiplier" for s in root.substitutions)
    notes = tab.substitution_notes()
    assert len(notes) == 1 and notes[0].startswith(f"note: multiplier {spec} is 8 bits wide; booth-wallace-multiplier "
                                                   "filled the role at ") and notes[0].endswith("(bf16 root)")
    # the note travels with the table (JSON) and with cached entries
    assert json.loads(tab.to_json())["entries"][1]["substitutions"] == root.substitutions
    cached = prof.build_table(operations=["root"], vectors=200, cache=mul8 / "cache")
    again = prof.build_table(operations=["root"], vectors=200, cache=mul8 / "cache")
    assert again.entry("root", "bf16").substitutions == cached.entry("root", "bf16").substitutions == root.substitutions


def test_readme_walk_from_verilog_to_model_tos(tmp_path):
    """docs/examples: mul24.v imports, fills fp32's multiplier through my-accelerator.toml, and the TOs of a model
    priced with that profile differ from the baseline profile's (the same profile without the user's multiplier),
    in the direction the multiplier moves them."""
    r = run("import", EXAMPLES / "mul24.v", "--top", "mul24", "-o", tmp_path / "mul24.json")
    assert r.exit_code == 0 and "Yosys stat -tech cmos of the mapped netlist: 28476 transistors" in r.output, r.output
    tables = {}
    for name in ("my-accelerator", "baseline"):
        r = run("table", "--hardware", EXAMPLES / f"{name}.toml", "--operations", "add,mul,fma", "--json")
        assert r.exit_code == 0, r.output
        tables[name] = {e["operation"]: e for e in json.loads(r.output)["entries"]}
    mine, base = tables["my-accelerator"], tables["baseline"]
    assert mine["add"]["transistors"] == base["add"]["transistors"]  # no multiplier in an adder
    for op in ("mul", "fma"):
        assert mine[op]["transistors"] != base[op]["transistors"], op
        assert mine[op]["components"]["unit"]["multiplier"].endswith("mul24.v:mul24")
    tos = {}
    for name in ("my-accelerator", "baseline"):
        r = run("estimate", "paper-cnn", "--layers", 2, "--image", 16, "--hardware", EXAMPLES / f"{name}.toml",
                "--totals-only", "--json")
        assert r.exit_code == 0, r.output
        tos[name] = json.loads(r.output[r.output.index("{"):])
    mine_tos, base_tos = tos["my-accelerator"]["total"]["tos"], tos["baseline"]["total"]["tos"]
    assert mine_tos != base_tos
    assert (mine_tos > base_tos) == (mine["mul"]["transistors"] > base["mul"]["transistors"])


def test_table_notes_the_default_multiplier_where_the_file_is_too_narrow(tmp_path, monkeypatch):
    shutil.copy(EXAMPLES / "mul24.v", tmp_path)
    monkeypatch.chdir(tmp_path)
    r = run("table", "--multiplier", "verilog:mul24.v:mul24", "--formats", "fp16", "--operations", "mul", "--json")
    assert r.exit_code == 0, r.output
    assert ("note: multiplier verilog:mul24.v:mul24 is 24 bits wide; booth-wallace-multiplier filled the role at "
            "11 bits (fp16 mul)") in r.output
