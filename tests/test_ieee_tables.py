"""The ieee table mode: entries are the optimized IEEE 754 units, the default mode, the gpu-like profile, fma."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

import circuits
import gatesim.tables as tables
from gatesim import count, optimize, simulate
from gatesim.cli import cli
from gatesim.formats import NumberFormat, decode_floats, encode_floats, get_format
from gatesim.hardware import load_hardware
from gatesim.ieee_mode import UNITS, ieee_operation
from gatesim.tables import DesignSelection, TableError, TransistorTable, build_table

FAST = dict(vectors=1000, cache=False)
SMALL = ("fp8-e4m3", "bf16", "int8")


@pytest.fixture(scope="module")
def ieee_table():
    return build_table(formats=SMALL, **FAST)  # the default mode, selection and library


def unit_transistors(unit, fmt, lib="paper", **choices):
    return count(optimize(circuits.build(unit, format=fmt, **choices)), lib).transistors


def test_float_entries_are_the_optimized_units(ieee_table):
    assert ieee_table.mode == "ieee" and tables.DEFAULT_MODE == "ieee"
    for fmt in ("fp8-e4m3", "bf16"):
        for op, unit in UNITS.items():
            e = ieee_table.entry(op, fmt)
            assert e.components["unit"]["design"] == unit and e.components["unit"]["format"] == fmt
            inverter = 2 if op == "sub" else 0  # b's sign bit, one static CMOS inverter under the paper library
            assert e.transistors == unit_transistors(unit, fmt) + inverter, (op, fmt)
            assert e.gates > 0 and e.logic_depth > 0 and 0 < e.mean_toggles < e.gates
    assert ieee_table.operations == list(tables.TABLE_OPERATIONS)
    # complete units cost far more than the paper's bare significand datapaths
    assert ieee_table.transistors("add", "bf16") > 40 * 80
    assert ieee_table.transistors("mul", "bf16") < ieee_table.transistors("fma", "bf16")


def test_integer_entries(ieee_table):
    assert ieee_table.operations == list(tables.TABLE_OPERATIONS)  # float formats have every operation
    ints = {op for op, f in ieee_table.entries if f == "int8"}
    assert ints == {"add", "sub", "mul", "compare"}
    mul = count(optimize(circuits.build("booth-wallace-multiplier", 8, signed=True)), "paper").transistors
    assert ieee_table.transistors("mul", "int8") == mul
    # carry in 0: the first full adder is a half adder, which the paper library prices as its XOR and AND (18
    # transistors, more than its 10-transistor full adder cell)
    assert ieee_table.transistors("add", "int8") == 7 * 10 + 12 + 6
    assert ieee_table.transistors("sub", "int8") > ieee_table.transistors("add", "int8") + 8 * 2  # b inverted
    with pytest.raises(TableError, match="no entry for div on int8"):
        ieee_table.transistors("div", "int8")


def test_composites_compute_what_they_price():
    """sub is a - b on packed patterns (numpy float16); integer sub and compare are two's complement."""
    rng = np.random.default_rng(0)
    sel = DesignSelection()
    fp16 = get_format("fp16")
    sub = optimize(ieee_operation("sub", fp16, sel).net)
    x = encode_floats(rng.normal(0, 4, 3000), fp16)
    y = encode_floats(rng.normal(0, 4, 3000), fp16)
    want = (decode_floats(x, fp16) - decode_floats(y, fp16)).astype(np.float16)
    got = simulate(sub, a=x, b=y)["y"].astype(np.uint16).view(np.float16)
    assert np.array_equal(got, want)
    int8 = get_format("int8")
    a, b = rng.integers(0, 256, 2000, dtype=np.uint64), rng.integers(0, 256, 2000, dtype=np.uint64)
    sa, sb = [np.where(v >= 128, v.astype(np.int64) - 256, v.astype(np.int64)) for v in (a, b)]
    out = simulate(ieee_operation("sub", int8, sel).net, a=a, b=b)
    assert np.array_equal(out["sum"].astype(np.int64), (sa - sb) & 0xFF)
    cmp = simulate(ieee_operation("compare", int8, sel).net, a=a, b=b)
    assert np.array_equal(cmp["lt"].astype(bool), sa < sb) and np.array_equal(cmp["eq"].astype(bool), sa == sb)
    prod = simulate(ieee_operation("mul", int8, sel).net, a=a, b=b)["p"].astype(np.int64)
    assert np.array_equal(prod, (sa * sb) & 0xFFFF)  # the signed 16-bit product


def test_activity_draws_finite_operands(monkeypatch):
    seen = {}
    real = tables.switching_activity
    monkeypatch.setattr(tables, "switching_activity", lambda net, **kw: seen.update({net.name: kw}) or real(net, **kw))
    build_table(formats=("fp8-e5m2",), operations=("add", "root"), **FAST)
    add, root = seen["fp8-e5m2_add"], seen["fp8-e5m2_root"]
    for v in (add["a"], add["b"], root["a"]):
        assert np.isfinite(decode_floats(v, "fp8-e5m2")).all()
        assert len(np.unique(v)) > 100  # most of the 240 finite patterns come up
    assert (add["a"] >> np.uint64(7)).any() and not (root["a"] >> np.uint64(7)).any()  # roots of non-negatives


def test_paper_mode_has_no_fma():
    tab = build_table(formats=("fp16",), operations=("add", "fma"), mode="paper", **FAST)
    assert tab.operations == ["add"] and tab.transistors("add", "fp16") == 110
    with pytest.raises(TableError, match="no entry for fma on fp16"):
        tab.transistors("fma", "fp16")  # what the models room reads as "no fma unit: price mul + add"
    with pytest.raises(TableError, match="unknown operation 'pow'"):
        tab.transistors("pow", "fp16")


def test_mode_roles_cover_the_units_and_invalidate_the_cache(tmp_path, monkeypatch):
    for op, unit in UNITS.items():
        assert set(circuits.get(unit).roles) <= set(tables.MODE_ROLES["ieee"][op]), op
    calls = []
    real = tables.build_entry
    monkeypatch.setattr(tables, "build_entry", lambda *a, **k: calls.append(a[:2]) or real(*a, **k))
    kw = dict(formats=("fp8-e4m3",), operations=("add", "div", "compare"), vectors=300, cache=tmp_path)
    first = build_table(**kw)
    assert len(calls) == 3 and build_table(**kw).entries == first.entries and len(calls) == 3
    build_table(DesignSelection(divider="restoring-divider"), **kw)
    assert len(calls) == 4  # only div has a divider
    build_table(DesignSelection(shifter="crossbar-shifter"), **kw)
    assert len(calls) == 6  # add and div normalize on the shifter; compare has none


def test_role_parameters_reach_every_part_of_their_role(monkeypatch):
    """``--param multiplier.KEY=V`` reaches every multiplier inside every unit, at any depth (the fp8 square root's
    Newton-Raphson multipliers too), with the role's default design or a chosen one, and nothing else."""
    from dataclasses import replace

    from circuits import registry

    ks, calls = "kogge-stone-adder", []
    booth = registry.get("booth-wallace-multiplier")

    def spy(width, signed=False, adder="ripple-carry-adder"):  # a Booth-Wallace that says how it was built
        calls.append((width, adder))
        return booth.builder(width, signed=signed, adder=adder)

    monkeypatch.setitem(registry._REGISTRY, booth.name, replace(booth, builder=spy))  # the default multiplier
    registry._built.cache_clear()
    tab = build_table(DesignSelection(params={"multiplier": {"adder": ks}}), formats=("fp8-e5m2",),
                      operations=("mul", "root", "add"), **FAST)
    assert {w for w, _ in calls} == {3, 8, 11, 13} and {a for _, a in calls} == {ks}, calls  # mul: 3 bits; root
    plain = build_table(formats=("fp8-e5m2",), operations=("mul", "root", "add"), **FAST)
    assert any(a == "ripple-carry-adder" for _, a in calls)
    for op in ("mul", "root"):
        assert tab.transistors(op, "fp8-e5m2") != plain.transistors(op, "fp8-e5m2"), op
    assert tab.transistors("add", "fp8-e5m2") == plain.transistors("add", "fp8-e5m2")  # the unit's own adders stay
    # a chosen design gets them the same way; repeating the role choice is what choosing adder everywhere gives
    same = DesignSelection(adder=ks, multiplier="dadda-multiplier", params={"multiplier": {"adder": ks}})
    assert build_table(same, formats=("fp8-e5m2",), operations=("mul",), **FAST).transistors("mul", "fp8-e5m2") == \
        unit_transistors("fp-multiplier", "fp8-e5m2", adder=ks, multiplier="dadda-multiplier")
    other = DesignSelection(multiplier="dadda-multiplier", params={"multiplier": {"adder": ks}})
    assert build_table(other, formats=("fp8-e5m2",), operations=("mul",), **FAST).transistors("mul", "fp8-e5m2") \
        not in (unit_transistors("fp-multiplier", "fp8-e5m2", multiplier="dadda-multiplier"),
                unit_transistors("fp-multiplier", "fp8-e5m2", adder=ks, multiplier="dadda-multiplier"))
    # integer composites take them as the paper mode does
    assert build_table(other, formats=("int8",), operations=("mul",), **FAST).transistors("mul", "int8") > 0


def test_role_parameter_the_design_lacks_is_one_line_error():
    r = CliRunner().invoke(cli, ["table", "--param", "multiplier.radix=4", "--formats", "fp8-e4m3", "--operations",
                                 "mul", "--no-cache"])
    assert r.exit_code == 2 and r.output.strip() == ("Error: multiplier: booth-wallace-multiplier: unknown parameter "
                                                     "'radix' (allowed: signed, adder)"), r.output
    with pytest.raises(TableError, match="root: newton-raphson-sqrt: unknown parameter 'adderr'; did you mean 'adder'"):
        DesignSelection(params={"root": {"adderr": "kogge-stone-adder"}}).check()


def test_cli_default_mode_json_and_csv(tmp_path):
    out = tmp_path / "t.json"
    r = CliRunner().invoke(cli, ["table", "--formats", "fp8-e4m3", "--operations", "add,fma", "--vectors", "500",
                                 "--no-cache", "--json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    tab = TransistorTable.load(out)
    assert tab.mode == "ieee" and tab.operations == ["add", "fma"]
    assert json.loads(out.read_text())["mode"] == "ieee"
    assert tab.transistors("fma", "fp8-e4m3") == unit_transistors("fp-fma", "fp8-e4m3")
    r = CliRunner().invoke(cli, ["table", "--formats", "fp8-e4m3", "--operations", "fma", "--vectors", "500", "--csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1].startswith(f"fma,fp8-e4m3,{unit_transistors('fp-fma', 'fp8-e4m3')},")
    assert "unit=fp-fma@8" in r.output
    r = CliRunner().invoke(cli, ["table", "--formats", "int8", "--operations", "fma", "--vectors", "500"])
    assert r.exit_code == 1 and "mode 'ieee' has no unit for fma on int8" in r.output


def test_profiles_modes():
    assert load_hardware("paper").mode == "paper"
    gpu = load_hardware("gpu-like")
    assert gpu.mode == "ieee" and gpu.library == "static-cmos"
    assert [f.name for f in gpu.formats] == ["fp8-e4m3", "fp8-e5m2", "bf16", "fp16", "tf32", "fp32"]
    assert (gpu.selection.adder, gpu.selection.multiplier) == ("kogge-stone-adder", "dadda-multiplier")


CUSTOM = """
name = "custom floats"
formats = ["e5m4", "e3m4fn"]
[custom_formats.e5m4]
exponent_bits = 5
mantissa_bits = 4
[custom_formats.e3m4fn]
exponent_bits = 3
mantissa_bits = 4
nonfinite = "nan-only"
"""


def test_custom_profile_formats_build_ieee_units(tmp_path):
    p = tmp_path / "custom.toml"
    p.write_text(CUSTOM)  # names no mode: ieee
    prof = load_hardware(p)
    assert prof.mode == "ieee"
    tab = prof.build_table(operations=("add", "mul", "root"), **FAST)
    for f in prof.formats:
        for op in ("add", "mul", "root"):
            assert tab.transistors(op, f.name) == unit_transistors(UNITS[op], f), (op, f)
    assert tab.formats["e3m4fn"]["nonfinite"] == "nan-only"
    # the nan-only format's unit is its own: no infinities to decode
    assert tab.transistors("add", "e3m4fn") != unit_transistors("fp-adder", NumberFormat("x", "float", 3, 5))


def test_estimate_with_gpu_like_profile():
    """`gatesim estimate --hardware gpu-like`: TOs from the profile's optimized IEEE units (fp32 here)."""
    r = CliRunner().invoke(cli, ["estimate", "paper-dnn", "--width", "4", "--hardware", "gpu-like", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    total = report["total"]
    tab = load_hardware("gpu-like").build_table(["fp32"])  # the same entries, from the cache the estimate filled
    t = tab.transistors
    pairs = report["by_format"]["fp32"]["fma_pairs"]  # the Linear layers' multiply-adds, priced as FMAs
    assert pairs > 0
    want = sum(total[op] * t(op, "fp32") for op in tables.OPERATIONS) - pairs * (t("mul", "fp32") + t("add", "fp32")
                                                                                - t("fma", "fp32"))
    assert total["tos"] == want > 0
    assert t("add", "fp32") == unit_transistors("fp-adder", "fp32", "static-cmos", adder="kogge-stone-adder") > 10_000
