"""Transistor tables: entries are the counts of the selected component netlists."""

import pytest
from click.testing import CliRunner

import circuits
import gatesim.tables as tables
from gatesim import count
from gatesim.cli import cli
from gatesim.formats import BUILTIN_FORMATS, FormatError, format_from_mapping
from gatesim.hardware import builtin_profiles, load_hardware
from gatesim.tables import DesignSelection, TableError, TransistorTable, build_table

FAST = dict(vectors=2000, cache=False)
PAPER = dict(mode="paper", **FAST)  # the paper's accounting (the default mode is ieee: tests/test_ieee_tables.py)


@pytest.fixture(scope="module")
def paper_table():
    return build_table(DesignSelection(), "paper", "paper", ("fp16", "bf16", "fp32", "fp64"), vectors=2000, cache=False)


def t(design, width, lib="paper", **params):
    return count(circuits.build(design, width, **params), lib).transistors


def test_formats():
    f = BUILTIN_FORMATS
    assert (f["fp32"].exponent_bits, f["fp32"].significand_bits, f["fp32"].bits) == (8, 24, 32)
    assert (f["fp16"].exponent_bits, f["fp16"].significand_bits, f["fp16"].bits) == (5, 11, 16)
    assert (f["bf16"].exponent_bits, f["bf16"].significand_bits) == (8, 8)
    assert (f["tf32"].significand_bits, f["fp64"].significand_bits, f["fp8-e4m3"].significand_bits) == (11, 53, 4)
    assert f["int8"].bits == 8 and not f["int8"].is_float
    assert format_from_mapping("e6m9", {"exponent_bits": 6, "mantissa_bits": 9}).significand_bits == 10
    with pytest.raises(FormatError, match="significand_bits must be"):
        format_from_mapping("x", {"exponent_bits": 6})


def test_paper_entries_are_component_counts(paper_table):
    xor = 12  # static CMOS XOR2 under the paper library
    for name in ("fp16", "bf16", "fp32", "fp64"):
        fmt = BUILTIN_FORMATS[name]
        p, e = fmt.significand_bits, fmt.exponent_bits
        assert paper_table.transistors("add", name) == t("ripple-carry-adder", p)
        assert paper_table.transistors("sub", name) == t("ripple-carry-adder", p) + 2 * p  # p inverters
        assert paper_table.transistors("mul", name) == t("booth-wallace-multiplier", p) + t("ripple-carry-adder", e) + xor
        assert paper_table.transistors("div", name) == t("srt-divider", p) + t("ripple-carry-adder", e) + 2 * e + xor
        assert paper_table.transistors("root", name) == t("newton-raphson-sqrt", p) + t("ripple-carry-adder", e)
        assert paper_table.transistors("compare", name) == t("magnitude-comparator", e + p - 1)
    assert paper_table.transistors("add", "fp32") == 240  # 24 ten-transistor full adders


def test_monotone_in_width(paper_table):
    for op in tables.OPERATIONS:
        a, b, c = (paper_table.entry(op, f) for f in ("fp16", "fp32", "fp64"))
        assert a.transistors < b.transistors < c.transistors
        assert a.gates < b.gates < c.gates
        assert a.mean_weighted_toggles < b.mean_weighted_toggles < c.mean_weighted_toggles


def test_entry_fields(paper_table):
    e = paper_table.entry("mul", "fp32")
    # the selection's adder is passed down to the multiplier's final adder
    assert e.components["significand_multiplier"] == {"design": "booth-wallace-multiplier", "width": 24,
                                                      "adder": "ripple-carry-adder"}
    assert e.components["exponent_adder"]["width"] == 8
    assert e.logic_depth > 0 and 0 < e.mean_toggles < e.gates


def test_integer_formats_have_no_divider_or_root():
    tab = build_table(formats=("int8",), **PAPER)
    assert tab.operations == ["add", "sub", "mul", "compare"]
    assert tab.transistors("mul", "int8") == t("booth-wallace-multiplier", 8)
    with pytest.raises(TableError, match="no entry for div on int8"):
        tab.transistors("div", "int8")


def test_selection_changes_the_table():
    ks = build_table(DesignSelection(adder="kogge-stone-adder"), formats=("fp32",), operations=("add",), **PAPER)
    assert ks.transistors("add", "fp32") == t("kogge-stone-adder", 24)
    params = build_table(DesignSelection(multiplier="dadda-multiplier", params={"multiplier": {"adder": "kogge-stone-adder"}}),
                         library="static-cmos", formats=("bf16",), operations=("mul",), **PAPER)
    assert params.transistors("mul", "bf16") == (t("dadda-multiplier", 8, "static-cmos", adder="kogge-stone-adder")
                                                 + t("ripple-carry-adder", 8, "static-cmos") + 12)


def test_json_csv_round_trip(tmp_path, paper_table):
    path = tmp_path / "t.json"
    paper_table.save(path)
    back = TransistorTable.load(path)
    assert back.entries == paper_table.entries and back.selection == paper_table.selection
    assert back.library == "paper" and back.mode == "paper"
    rows = paper_table.to_csv().splitlines()
    assert rows[0].startswith("operation,format,transistors") and len(rows) == 1 + 24
    (tmp_path / "bad.json").write_text('{"format": "nope"}')
    with pytest.raises(TableError, match="not a gatesim transistor table"):
        TransistorTable.load(tmp_path / "bad.json")


def test_from_numbers():
    tab = TransistorTable.from_numbers({"fp32": {"add": 240, "mul": 9000}})
    assert tab.transistors("mul", "fp32") == 9000
    with pytest.raises(TableError, match="unknown operation 'pow'"):
        tab.transistors("pow", "fp32")


def test_cache_hits_and_invalidates(tmp_path, monkeypatch):
    calls = []
    real = tables.build_entry
    monkeypatch.setattr(tables, "build_entry", lambda *a, **k: calls.append(a[:2]) or real(*a, **k))
    kw = dict(formats=("fp16",), operations=("add", "mul"), mode="paper", vectors=500, cache=tmp_path)
    first = build_table(**kw)
    assert len(calls) == 2
    again = build_table(**kw)
    assert len(calls) == 2 and again.entries == first.entries
    build_table(DesignSelection(adder="kogge-stone-adder"), **kw)
    assert len(calls) == 4  # a new adder changes both entries (the exponent adder too)
    build_table(library="static-cmos", **kw)
    assert len(calls) == 6
    build_table(DesignSelection(multiplier="array-multiplier"), **kw)
    assert len(calls) == 7  # only mul depends on the multiplier


def test_builtin_profiles_load():
    assert set(builtin_profiles()) >= {"paper", "throughput", "edge-int8"}
    for name in builtin_profiles():
        prof = load_hardware(name)
        assert prof.formats and prof.description
    assert load_hardware("paper").selection == DesignSelection()


PROFILE = """
name = "my accelerator"
library = "static-cmos"
mode = "paper"
formats = ["bf16", "e6m9"]

[designs]
adder = "kogge-stone-adder"
multiplier = "dadda-multiplier"

[designs.params]
multiplier = { adder = "kogge-stone-adder" }

[custom_formats.e6m9]
exponent_bits = 6
mantissa_bits = 9
"""


def test_custom_profile_round_trips(tmp_path):
    p = tmp_path / "acc.toml"
    p.write_text(PROFILE)
    prof = load_hardware(p)
    assert prof.name == "my accelerator" and [f.name for f in prof.formats] == ["bf16", "e6m9"]
    tab = prof.build_table(operations=("add", "mul"), **FAST)
    assert tab.transistors("add", "e6m9") == t("kogge-stone-adder", 10, "static-cmos")
    out = tmp_path / "acc.json"
    r = CliRunner().invoke(cli, ["table", "--hardware", str(p), "--operations", "add,mul", "--vectors", "2000",
                                 "--no-cache", "--json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    back = TransistorTable.load(out)
    assert back.entries == tab.entries and back.name == "my accelerator"
    assert back.formats["e6m9"]["significand_bits"] == 10


@pytest.mark.parametrize(
    "text, message",
    [
        (PROFILE.replace('"dadda-multiplier"', '"dada-multiplier"'), "unknown design 'dada-multiplier'"),
        (PROFILE.replace('"bf16", "e6m9"', '"bf16", "fp12"'), "unknown number format 'fp12'"),
        (PROFILE.replace('adder = "kogge-stone-adder"', 'adder = "magnitude-comparator"'), "is a registered comparator, not a adder"),
        (PROFILE + "\n[oops\n", "malformed TOML"),
        (PROFILE.replace('mode = "paper"', 'mode = "fancy"'), "unknown mode 'fancy'"),
        (PROFILE.replace("[designs.params]", "[designs.params]\nmultiplier2 = {}"), "unknown role 'multiplier2'"),
    ],
)
def test_bad_profiles_exit_2(tmp_path, text, message):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    r = CliRunner().invoke(cli, ["table", "--hardware", str(p)])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_cli_table_flags_and_csv():
    r = CliRunner().invoke(cli, ["table", "--adder", "kogge-stone-adder", "--formats", "fp16", "--operations", "add,sub",
                                 "--mode", "paper", "--vectors", "1000", "--no-cache", "--csv"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert lines[1].startswith(f"add,fp16,{t('kogge-stone-adder', 11)},")
    r = CliRunner().invoke(cli, ["table", "--formats", "fp32", "--operations", "add", "--mode", "paper", "--vectors", "1000",
                                 "--no-cache"])
    assert r.exit_code == 0 and "240" in r.output and "weighted toggles/op" in r.output
    r = CliRunner().invoke(cli, ["table", "--hardware", "paper", "--adder", "kogge-stone-adder"])
    assert r.exit_code == 2 and "drop the other flags" in r.output
    r = CliRunner().invoke(cli, ["table", "--operations", "pow"])
    assert r.exit_code == 2 and "unknown operation 'pow'" in r.output


def test_unwritable_cache_is_a_warning(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    tab = build_table(formats=("fp16",), operations=("add",), mode="paper", vectors=500, cache=blocker)
    assert tab.transistors("add", "fp16") == t("ripple-carry-adder", 11)
    assert "cannot write the table cache" in capsys.readouterr().err


def test_design_out_of_range_names_the_entry():
    from gatesim.formats import NumberFormat

    wide = NumberFormat("e8m60", "float", 8, 61)
    with pytest.raises(TableError, match="root on e8m60: .*newton-raphson-sqrt: width 61 is out of range"):
        build_table(formats=(wide,), operations=("root",), **PAPER)


PLUGIN = """
import circuits
from circuits.adders import adder_reference, ripple_carry_adder
from gatesim import Netlist

@circuits.register("cache-test-adder", kind="adder", reference=adder_reference)
def cache_test_adder(width: int) -> Netlist:
    net = Netlist(name="cache_test_adder")
    a, b, cin = net.input("a", width), net.input("b", width), net.input("cin")
    o = net.instance(ripple_carry_adder(width), "rca", a=a, b=b, cin=cin)
    net.output("sum", [net.BUF(x) for x in o["sum"]] if EXTRA else o["sum"])
    net.output("cout", o["cout"])
    return net
"""


def test_editing_a_plugin_design_invalidates_the_cache(tmp_path, monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(tmp_path))
    mod = tmp_path / "cache_test_plugin.py"
    mod.write_text("EXTRA = False\n" + PLUGIN)
    importlib.import_module("cache_test_plugin")
    kw = dict(formats=("int8",), operations=("add",), mode="paper", vectors=500, cache=tmp_path / "cache")
    sel = DesignSelection(adder="cache-test-adder")
    assert build_table(sel, **kw).transistors("add", "int8") == 80
    mod.write_text("EXTRA = True\n" + PLUGIN)  # eight BUFs (4 transistors each under paper) more
    importlib.reload(importlib.import_module("cache_test_plugin"))
    assert build_table(sel, **kw).transistors("add", "int8") == 80 + 8 * 4
