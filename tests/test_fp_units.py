"""IEEE 754 units (issue 10), proven by simulation, bit for bit.

``y`` is checked against numpy (float16/32/64) and torch (bfloat16, float8_e4m3fn, float8_e5m2) where
the platform has the format and the rounding (round to nearest even, subnormals kept), and against
the exact rational model elsewhere (other roundings, flush-to-zero, FMA, custom formats);
``flags`` always against the exact model (tests/test_fp_reference.py checks that model).

* every pair of operands of both fp8 formats (65,536 per operation), every fp8 and fp16 input of
  the one-operand units;
* >= 100,000 vectors per operation for fp16, bf16, fp32 and fp64, a quarter of them special or
  boundary cases (see circuits/floating/stimulus.py), plus the products of the special values;
* the other roundings and flush-to-zero exhaustively on fp8, on 20,000 vectors at fp16/fp32;
* custom formats, swapped integer designs, and a broken gate that verification must catch.
The full 1,000,000-vector runs are `python benchmarks/verify_fp.py`.
"""
import functools

import numpy as np
import pytest

import circuits
from circuits.floating.reference import Exact, platform
from gatesim import DesignError, Netlist, count, simulate, verify
from gatesim.formats import get_format

UNITS = {"add": "fp-adder", "mul": "fp-multiplier", "fma": "fp-fma", "div": "fp-divider", "sqrt": "fp-sqrt",
         "compare": "fp-compare"}
FP8 = ["fp8-e4m3", "fp8-e5m2"]
REAL = ["fp16", "bf16", "fp32", "fp64"]


@functools.lru_cache(maxsize=None)
def unit(design, fmt, **kw):
    return circuits.build(design, format=fmt, **kw)


def check(design, fmt, vectors=100_000, seed=0, **kw):
    net = unit(design, fmt, **kw)
    r = verify(net, circuits.reference(design, format=fmt, **kw), vectors=vectors, seed=seed,
               stimulus=circuits.stimulus(design, format=fmt, **kw), describe=circuits.decoder(design, format=fmt, **kw))
    assert r.ok, (design, fmt, kw, r.mismatches, r.first_failure["decoded"])
    return r


@pytest.mark.parametrize("fmt", FP8)
@pytest.mark.parametrize("op", ["add", "mul", "div", "sqrt", "compare"])
def test_fp8_exhaustive(op, fmt):
    r = check(UNITS[op], fmt)
    assert r.exhaustive and r.vectors == (256 if op == "sqrt" else 65_536)


@pytest.mark.parametrize("fmt", FP8)
def test_fp8_fma_every_pair(fmt):
    """Every (a, b) pair against addends that cancel, dominate, vanish or are special."""
    net = unit("fp-fma", fmt)
    ref = circuits.reference("fp-fma", format=fmt)
    a = np.repeat(np.arange(256, dtype=np.uint64), 256)
    b = np.tile(np.arange(256, dtype=np.uint64), 256)
    for c in (0x00, 0x80, 0x01, 0x38, 0xb8, 0x7f, 0x47):
        want = ref({"a": a, "b": b, "c": np.full_like(a, c)})
        got = simulate(net, a=a, b=b, c=c)
        assert (got["y"] == want["y"].astype(np.uint64)).all() and (got["flags"] == want["flags"].astype(np.uint64)).all()
    check("fp-fma", fmt, vectors=50_000, seed=1)


@pytest.mark.parametrize("fmt", REAL)
@pytest.mark.parametrize("op", list(UNITS))
def test_real_formats(op, fmt):
    kw = {"root": "digit-recurrence-sqrt"} if (op, fmt) == ("sqrt", "fp64") else {}  # the default root: fp16..fp32
    r = check(UNITS[op], fmt, seed=sum(map(ord, op + fmt)), **kw)
    assert r.exhaustive or r.vectors >= 100_000  # fp16/bf16 square roots: all 65,536 inputs


CONVERSIONS = [("fp8-e4m3", "fp16"), ("fp8-e5m2", "bf16"), ("fp8-e4m3", "fp8-e5m2"), ("fp8-e5m2", "fp8-e4m3"),
               ("fp16", "fp8-e4m3"), ("fp16", "fp8-e5m2"), ("fp16", "fp32"), ("bf16", "fp16"), ("fp16", "int16"),
               ("fp32", "fp16"), ("fp32", "bf16"), ("fp32", "fp8-e4m3"), ("fp32", "tf32"), ("fp64", "fp32"),
               ("fp64", "bf16"), ("fp32", "fp64"), ("int32", "fp32"), ("int64", "fp16"), ("int8", "bf16"),
               ("fp32", "int32"), ("fp64", "int64")]


@pytest.mark.parametrize("src, dst", CONVERSIONS)
def test_conversions(src, dst):
    r = check("fp-convert", src, vectors=100_000 if get_format(src).bits > 16 else 1, to=dst)
    assert r.exhaustive or r.vectors >= 100_000


ROUNDINGS = [("rtz", False), ("rdn", False), ("rup", False), ("rmm", False), ("rne", True), ("rtz", True)]


@pytest.mark.parametrize("rounding, ftz", ROUNDINGS)
@pytest.mark.parametrize("op", ["add", "mul", "div", "sqrt", "fma", "convert"])
def test_roundings_and_ftz_fp8(op, rounding, ftz):
    fmts = FP8 if (rounding, ftz) in (("rtz", False), ("rne", True)) else ["fp8-e5m2"]
    for fmt in fmts:
        if op == "convert":
            check("fp-convert", "fp16", rounding=rounding, ftz=ftz, to=fmt)  # all 65,536 fp16 inputs
        else:
            check(UNITS[op], fmt, vectors=20_000, rounding=rounding, ftz=ftz)


@pytest.mark.parametrize("fmt", ["fp16", "fp32"])
@pytest.mark.parametrize("op", ["add", "mul", "fma", "div", "sqrt"])
def test_roundings_and_ftz_real(op, fmt):
    kw = {"root": "digit-recurrence-sqrt"} if op == "sqrt" else {}
    for rounding, ftz in (("rtz", False), ("rdn", False), ("rne", True)):
        check(UNITS[op], fmt, vectors=10_000, seed=7, rounding=rounding, ftz=ftz, **kw)
    check("fp-compare", fmt, vectors=10_000, ftz=True, signaling=True)
    check("fp-convert", "fp64", vectors=10_000, rounding="rtz", ftz=True, to=fmt)


@pytest.mark.parametrize("fmt", ["e3m2", "e2m3", "e4m2fn", "e6m9"])
def test_custom_formats(fmt):
    """A user's own formats (exact model): tiny ones exhaustively, e6m9 on random vectors."""
    for op, design in UNITS.items():
        kw = {"root": "digit-recurrence-sqrt"} if op == "sqrt" else {}
        check(design, fmt, vectors=20_000, **kw)
    check("fp-convert", fmt, vectors=20_000, to="fp16")
    check("fp-convert", "fp32", vectors=20_000, to=fmt)


def test_same_bits_as_numpy_on_fp16():
    """The platform directly: every fp16 sqrt and 100k fp16 products equal numpy's bits (NaNs canonical)."""
    a = np.arange(1 << 16, dtype=np.uint64)
    got = simulate(unit("fp-sqrt", "fp16"), a=a)["y"]
    with np.errstate(invalid="ignore"):
        want = np.sqrt(a.astype(np.uint16).view(np.float16))
    nan = np.isnan(want)
    assert (got[~nan] == want[~nan].view(np.uint16).astype(np.uint64)).all() and (got[nan] == 0x7E00).all()


def test_swapped_designs_reach_every_part():
    """The role choices reach the multiplier's final adder, the aligner, the normalizer."""
    kw = dict(adder="kogge-stone-adder", multiplier="dadda-multiplier", shifter="crossbar-shifter",
              leading_zero_counter="priority-leading-zero-counter")
    net = circuits.build("fp-fma", format="fp16", **kw)
    cells = {i["cell"] for i in net.instances}
    assert {"kogge_stone_adder", "dadda_multiplier", "crossbar_shifter_right", "crossbar_shifter_left",
            "priority_leading_zero_counter"} <= cells
    assert not cells & {"ripple_carry_adder", "booth_wallace_multiplier", "tree_leading_zero_counter"}
    assert net.params == {"format": "fp16", **kw}
    r = verify(net, circuits.reference("fp-fma", format="fp16"), vectors=20_000,
               stimulus=circuits.stimulus("fp-fma", format="fp16"))
    assert r.ok, r.first_failure
    assert count(net).transistors != count(unit("fp-fma", "fp16")).transistors
    sq = circuits.build("fp-sqrt", format="fp16", multiplier="dadda-multiplier", adder="kogge-stone-adder")
    assert {"dadda_multiplier", "kogge_stone_adder"} <= {i["cell"] for i in sq.instances}


@pytest.mark.parametrize("design, fmt, where", [
    ("fp-adder", "fp16", "significand_adder"),
    ("fp-multiplier", "fp16", "round_increment"),
    ("fp-divider", "fp32", "significand_divider"),
    ("fp-fma", "fp16", "align"),
])
def test_a_broken_gate_is_caught(design, fmt, where):
    net = Netlist(unit(design, fmt))
    inst = next(i for i, d in enumerate(net.instances) if d["name"] == where)
    victim = next(n for n, d in net.nodes(data=True) if d["inst"] >= inst and d["gate"] in ("AND2", "OR2", "XOR2"))
    net.nodes[victim]["gate"] = {"AND2": "OR2", "OR2": "AND2", "XOR2": "XNOR2"}[net.nodes[victim]["gate"]]
    net.invalidate()
    r = verify(net, circuits.reference(design, format=fmt), vectors=5_000, stimulus=circuits.stimulus(design, format=fmt),
               describe=circuits.decoder(design, format=fmt))
    assert not r.ok and r.mismatches > 0
    assert "(" in r.first_failure["decoded"]["inputs"]["a"]  # values decoded as floats


def test_ports_and_parameters():
    net = unit("fp-fma", "fp32")
    assert {p: len(b) for p, b in net.inputs.items()} == {"a": 32, "b": 32, "c": 32}
    assert {p: len(b) for p, b in net.outputs.items()} == {"y": 32, "flags": 5}
    cmp_ = unit("fp-compare", "bf16")
    assert {p: len(b) for p, b in cmp_.outputs.items()} == {"lt": 1, "eq": 1, "unordered": 1, "min": 16, "max": 16,
                                                             "flags": 5}
    conv = circuits.build("fp-convert", format="fp32", to="int16")
    assert (len(conv.inputs["a"]), len(conv.outputs["y"])) == (32, 16)
    assert circuits.get("fp-adder").sized_by == "format" and circuits.get("fp-adder").kind == "float"
    for bad, message in [(dict(format="int8"), "needs a floating-point format"), (dict(format="fp99"), "unknown number format"),
                         (dict(format="fp16", rounding="up"), "rounding must be one of"),
                         (dict(format="fp16", ftz="yes"), "ftz must be True or False"),
                         (dict(format="fp16", adder="nope"), "adder 'nope': unknown design"),
                         (dict(format="fp16", shifter="ripple-carry-adder"), "is not a registered shifter")]:
        with pytest.raises(DesignError, match=message):
            circuits.build("fp-adder", **bad)
    with pytest.raises(DesignError, match="sized by a number format"):
        circuits.build("fp-adder", 16)
    with pytest.raises(DesignError, match="converts no floating-point format"):
        circuits.build("fp-convert", format="int8", to="int16")


def test_exact_model_matches_platform_on_random_vectors():
    """Where both exist the exact model and numpy/torch agree (so the model is trusted elsewhere)."""
    rng = np.random.default_rng(3)
    for fmt in ["fp16", "bf16", "fp32", "fp64", "fp8-e4m3", "fp8-e5m2"]:
        f = get_format(fmt)
        model = Exact(f)
        stim = circuits.stimulus("fp-adder", format=fmt)
        v = stim.random(5_000, rng)
        a, b = v["a"], v["b"]
        for op in ("add", "mul", "div"):
            mine = np.array([getattr(model, op)(int(x), int(y))[0] for x, y in zip(a, b)], dtype=np.uint64)
            assert (mine == platform(op, f, a, b)).all(), (fmt, op)
        mine = np.array([model.sqrt(int(x))[0] for x in a], dtype=np.uint64)
        assert (mine == platform("sqrt", f, a)).all(), fmt


def test_a_profiles_custom_format_builds_units(tmp_path):
    from gatesim.hardware import load_hardware

    (tmp_path / "acc.toml").write_text('formats = ["e6m9", "my8"]\n[custom_formats.e6m9]\nexponent_bits = 6\n'
                                       'mantissa_bits = 9\n[custom_formats.my8]\nexponent_bits = 4\nmantissa_bits = 3\n'
                                       'nonfinite = "nan-only"\n')
    e6m9, my8 = load_hardware(tmp_path / "acc.toml").formats
    net = circuits.build("fp-multiplier", format=e6m9)
    assert net.params["format"] == "e6m9" and len(net.inputs["a"]) == 16
    r = verify(net, circuits.reference("fp-multiplier", format=e6m9), vectors=5_000,
               stimulus=circuits.stimulus("fp-multiplier", format=e6m9))
    assert r.ok, r.first_failure
    r = verify(circuits.build("fp-adder", format=my8), circuits.reference("fp-adder", format=my8))  # the e4m3 encoding
    assert r.exhaustive and r.ok and my8.spec == "e4m3fn"
