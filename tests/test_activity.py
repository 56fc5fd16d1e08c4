"""Table activity: entries simulated under operand distributions or sampled operands (gatesim.activity)."""
import numpy as np
import pytest

from gatesim.activity import DOT_LENGTH, ActivityError, entry_operands, parse_activity
from gatesim.formats import encode_floats, float_fields, get_format
from gatesim.samples import OperandSamples
from gatesim.tables import Composite, DesignSelection, build_table, paper_operation


class Streams:
    def __init__(self, streams):
        self.streams = streams

    def digest(self):
        return OperandSamples(self.streams).digest()


def _packed_unit(width, ports=("a", "b", "c")):
    c = Composite("unit")
    ins = [c.operand(p, width) for p in ports]
    return c.finish(y=[c.net.XOR(ins[0][0], ins[-1][0])])


def test_packed_ports_take_the_encoded_values_and_fma_sees_the_running_sum():
    fmt = get_format("fp16")
    comp = _packed_unit(16)
    ops = entry_operands(comp, comp.net, fmt, "fma", parse_activity("normal:0,0.5+relu-normal"), 600, seed=3)
    from gatesim.formats import decode_floats

    a, b, c = (decode_floats(np.asarray(ops[p]), fmt) for p in "abc")
    assert np.all(b >= 0) and np.any(a < 0)  # ReLU activations, Gaussian weights
    # c is the dot product's accumulator before each term, restarted every DOT_LENGTH terms
    want = np.zeros(600)
    for s in range(0, 600, DOT_LENGTH):
        seg = (a * b)[s:s + DOT_LENGTH]  # (the values were drawn in float64; encoding rounds them)
        want[s:s + len(seg)] = np.concatenate(([0.0], np.cumsum(seg)[:-1]))
    assert c[0] == 0 and c[DOT_LENGTH] == 0
    assert np.allclose(c, want, rtol=2e-2, atol=1e-2)
    assert len(ops["a"]) == 600


def test_add_accumulates_mul_multiplies_and_bit_level_specs_stay_independent():
    fmt = get_format("fp32")
    comp = _packed_unit(32, ("a", "b"))
    add = entry_operands(comp, comp.net, fmt, "add", parse_activity("constant:2"), 10, 0)
    from gatesim.formats import decode_floats

    assert list(decode_floats(np.asarray(add["a"]), fmt)) == [4.0 * k for k in range(10)]  # running sum of 2*2
    assert set(decode_floats(np.asarray(add["b"]), fmt)) == {4.0}
    mul = entry_operands(comp, comp.net, fmt, "mul", parse_activity("zeros+constant:3"), 5, 0)
    assert set(decode_floats(np.asarray(mul["a"]), fmt)) == {0.0} and set(decode_floats(np.asarray(mul["b"]), fmt)) == {3.0}
    uni = entry_operands(comp, comp.net, fmt, "add", parse_activity("uniform"), 2000, 0)
    assert not np.array_equal(uni["a"], uni["b"]) and len(set(uni["a"].tolist())) > 1900


def test_paper_datapath_ports_take_fields():
    fmt = get_format("bf16")
    comp = paper_operation("mul", fmt, DesignSelection())
    vals = np.array([1.5, -3.0, 0.0, 2.0 ** -130, 7.0])
    ops = entry_operands(comp, comp.net, fmt, "mul", parse_activity(Streams({"mul": {"a": vals, "b": vals}})), 99, 0)
    f = float_fields(encode_floats(vals, fmt), fmt)
    assert list(ops["a_sig"]) == list(f["significand"]) and list(ops["b_exp"]) == list(f["exponent"])
    assert list(ops["a_sign"]) == [0, 1, 0, 0, 0]
    cmp = paper_operation("compare", fmt, DesignSelection())
    ops = entry_operands(cmp, cmp.net, fmt, "compare", parse_activity("constant:-2"), 4, 0)
    assert set(ops["a"].tolist()) == {int(encode_floats(np.array([2.0]), fmt)[0])}  # magnitude: sign bit gone
    div = paper_operation("div", fmt, DesignSelection())
    ops = entry_operands(div, div.net, fmt, "div", parse_activity("zeros"), 4, 0)
    assert set(ops["a_sig"].tolist()) == {1 << 7}  # a normalized significand keeps its top bit


def test_unknown_ports_and_missing_operands_are_errors():
    fmt = get_format("fp16")
    c = Composite("odd")
    c.finish(y=[c.net.NOT(c.operand("x", 16)[0])])
    with pytest.raises(ActivityError, match="port 'x'"):
        entry_operands(c, c.net, fmt, "mul", parse_activity("zeros"), 10, 0)
    comp = _packed_unit(16, ("a", "b"))
    with pytest.raises(ActivityError, match="no operand 'b'"):
        entry_operands(comp, comp.net, fmt, "mul", parse_activity(Streams({"mul": {"a": np.ones(9)}})), 9, 0)
    with pytest.raises(ActivityError, match="needs operand samples"):
        parse_activity("sampled")
    assert parse_activity("default") is None and parse_activity(None) is None


def test_tables_under_distributions_order_as_the_data_does():
    kw = dict(formats=["fp16"], operations=["mul", "add"], vectors=3000, mode="paper")
    t = {a: build_table(activity=a, **kw) for a in ("zeros", "sparse:0.5", "normal", "uniform")}
    mul = {a: tab.weighted_toggles("mul", "fp16") for a, tab in t.items()}
    assert mul["zeros"] == 0 < mul["sparse:0.5"] < mul["normal"] < mul["uniform"]
    assert t["zeros"].activity == "zeros" and t["zeros"].entry("mul", "fp16").activity == "zeros"
    assert t["zeros"].transistors("mul", "fp16") == t["uniform"].transistors("mul", "fp16")  # structure unchanged
    back = type(t["zeros"]).from_dict(t["zeros"].to_dict())
    assert back.activity == "zeros" and back.entry("add", "fp16").activity == "zeros"
    assert "activity" in t["zeros"].to_csv().splitlines()[0]


def test_sampled_tables_cover_what_was_sampled_and_key_the_cache_by_the_data():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    kw = dict(formats=["fp16", "int8"], operations=["mul", "add"], vectors=3000, mode="paper")
    default = build_table(**kw)
    s1 = build_table(activity=Streams({"mul": {"a": a, "b": b}}), **kw)
    assert s1.activity.startswith("sampled:")
    assert s1.entry("mul", "fp16").activity == s1.activity
    # no samples for add, and an integer format: the mode's random operands, the same cached entries
    for op, f in (("add", "fp16"), ("mul", "int8")):
        assert s1.entry(op, f).activity == "" and s1.entry(op, f) == default.entry(op, f)
    s2 = build_table(activity=Streams({"mul": {"a": a, "b": np.zeros(500)}}), **kw)
    assert s2.activity != s1.activity and s2.weighted_toggles("mul", "fp16") < s1.weighted_toggles("mul", "fp16")
    again = build_table(activity=Streams({"mul": {"a": a.copy(), "b": b.copy()}}), **kw)  # cache hit by digest
    assert again.entry("mul", "fp16") == s1.entry("mul", "fp16")


def test_operand_samples_round_trip(tmp_path):
    s = OperandSamples({"mul": {"a": np.arange(5.0), "b": -np.arange(5.0)}, "root": {"a": np.ones(3)}},
                       {"forward:aten.mm": {"operation": "dot", "samples": 5, "ops": 1}}, {"seed": 1})
    s.save(tmp_path / "s.npz")
    back = OperandSamples.load(tmp_path / "s.npz")
    assert back.digest() == s.digest() and back.families == s.families and back.meta == s.meta
    assert s.digest() != OperandSamples({"mul": {"a": np.arange(5.0), "b": np.arange(5.0)}}).digest()
    (tmp_path / "bad.npz").write_bytes(b"nope")
    from gatesim.samples import SamplesError

    with pytest.raises(SamplesError):
        OperandSamples.load(tmp_path / "bad.npz")


def test_ieee_units_packed_operands_with_three_ports():
    kw = dict(formats=["bf16"], operations=["mul", "fma"], vectors=2000, mode="ieee")
    zeros, normal, finite = (build_table(activity=a, **kw) for a in ("zeros", "normal", None))
    for op in ("mul", "fma"):
        assert zeros.weighted_toggles(op, "bf16") == 0
        assert 0 < normal.weighted_toggles(op, "bf16") < finite.weighted_toggles(op, "bf16")
    assert normal.entry("fma", "bf16").activity == "normal" and finite.activity == ""
