"""Operand distributions and floating-point operand encoding: exact rounding against numpy and torch, the port
views, seeded and cached activity, and the activity command's --operands."""
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import circuits
from gatesim.cli import cli
from gatesim.formats import (NumberFormat, _encode_exact, decode_floats, encode_floats, float_fields, get_format)
from gatesim.operands import (DISTRIBUTIONS, OperandError, operand_activity, operand_vectors, parse_distribution,
                              parse_operands)


def hard_values(seed=0):
    rng = np.random.default_rng(seed)
    specials = [0.0, -0.0, np.inf, -np.inf, 1.0, -1.5, 65504.0, 65519.99, 65520.0, 2.0 ** -24, 2.0 ** -25,
                3 * 2.0 ** -26, 2.0 ** -149, 2.0 ** -150, 3 * 2.0 ** -151, 3.4028235e38, 3.5e38, 1e-45, 1 + 2.0 ** -8,
                1 + 3 * 2.0 ** -9, 1 + 2.0 ** -24, 1 + 3 * 2.0 ** -25, 5e-324]
    return np.concatenate([specials, rng.normal(0, 1, 3000), rng.normal(0, 1e-6, 1000), rng.normal(0, 1e6, 1000),
                           2.0 ** rng.uniform(-160, 130, 2000) * rng.choice([-1, 1], 2000)])


@pytest.mark.parametrize("fmt", ["fp16", "fp32", "fp64", "bf16", "fp8-e5m2"])
def test_exact_encoder_matches_numpy_and_torch(fmt):
    """The format-generic encoder (used for custom formats) rounds exactly as numpy (fp16/32/64) and torch (bf16,
    fp8 e5m2) do: nearest even, subnormals, overflow to infinity."""
    x = hard_values()
    assert np.array_equal(_encode_exact(x, get_format(fmt)), encode_floats(x, fmt))


def test_exact_encoder_knows_nan_only_formats():
    """A nan-only custom format (E4M3 as ``e4m3fn``) encodes as torch's float8_e4m3fn: overflows and infinities
    saturate to +-448, the all-ones exponent is an ordinary binade, NaN is S.1111.111; decoding agrees."""
    x = np.concatenate([hard_values(2) / 64, [448.0, 460.0, 464.0, 470.0, 480.0, 1e6, 256.0, 300.0, 2.0 ** -9,
                                              2.0 ** -10, 1.5 * 2.0 ** -10, -np.inf, np.inf]])
    e4m3fn = get_format("e4m3fn")
    assert e4m3fn.nonfinite == "nan-only" and e4m3fn.name != "fp8-e4m3"
    bits = _encode_exact(x, e4m3fn)
    assert np.array_equal(bits, encode_floats(x, "fp8-e4m3"))
    assert [int(b) for b in bits[-2:]] == [0xFE, 0x7E]  # -448, 448
    assert [int(b) for b in _encode_exact(np.array([np.nan, -np.nan]), e4m3fn)] == [0x7F, 0xFF]
    assert decode_floats([0x7E, 0x78, 0x7F], e4m3fn)[:2].tolist() == [448.0, 256.0]
    assert np.isnan(decode_floats([0x7F], e4m3fn)[0])


def test_nan_and_round_trip():
    x = hard_values(1)
    x = x[np.abs(x) < 6e4]
    for fmt in ("fp16", "fp32", "bf16"):
        back = decode_floats(encode_floats(x, fmt), fmt)
        want = torch.from_numpy(x).to(getattr(torch, {"fp16": "float16", "fp32": "float32", "bf16": "bfloat16"}[fmt]))
        assert np.array_equal(back, want.double().numpy())
    assert np.isnan(decode_floats(encode_floats([np.nan], "fp16"), "fp16")[0])
    assert int(_encode_exact(np.array([np.nan]), get_format("fp32"))[0]) == 0x7FC00000


def test_custom_and_wide_formats():
    e6m9 = NumberFormat("e6m9", "float", 6, 10)
    bits = encode_floats([1.0, -2.0, 2.0 ** -30, 1e10], e6m9)
    assert [hex(int(b)) for b in bits] == ["0x3e00", "0xc000", "0x200", "0x7e00"]  # 1, -2, min normal, inf (bias 31)
    fp128 = NumberFormat("fp128", "float", 15, 113)
    one = encode_floats([1.0, 2.0 ** -1074], fp128)
    assert one[0] == 0x3FFF << 112 and decode_floats(one, fp128).tolist() == [1.0, 2.0 ** -1074]
    assert encode_floats([1.0], "tf32")[0] == 0x3F800000 >> 13
    assert encode_floats([1 + 2.0 ** -11], "tf32")[0] == 0x3F800000 >> 13  # a tie rounds to even
    assert encode_floats([1 + 3 * 2.0 ** -11], "tf32")[0] == (0x3F800000 >> 13) + 2
    with pytest.raises(Exception, match="integer format"):
        encode_floats([1.0], "int8")


def test_fields():
    f = float_fields(encode_floats([1.0, 0.0, -3.0, 2.0 ** -140], "fp32"), "fp32")
    assert f["significand"].tolist() == [1 << 23, 0, 3 << 22, 1 << 9]
    assert f["exponent"].tolist() == [127, 0, 128, 0] and f["sign"].tolist() == [0, 0, 1, 0]


@pytest.mark.parametrize("text,canon", [
    ("uniform", "uniform"), ("normal", "normal"), ("normal:0,0.02", "normal:0,0.02"), ("relu-normal:0,1", "relu-normal:0,1"),
    ("sparse:0.5", "sparse"), ("sparse:0.9", "sparse:0.9"), ("sparse:,0.1", "sparse:0.5,0.1"), ("ZEROS", "zeros"),
    ("constant:3", "constant:3"), ("repeated:4", "repeated:4"), ("lowbits:8", "lowbits:8"), ("sorted:2", "sorted:2"),
])
def test_distribution_spelling(text, canon):
    assert parse_distribution(text).spec == canon
    assert set(DISTRIBUTIONS) == {"uniform", "finite", "normal", "relu-normal", "sparse", "zeros", "constant",
                                  "repeated", "lowbits", "sorted"}


@pytest.mark.parametrize("fmt", ["fp8-e4m3", "fp8-e5m2", "e2m3", "fp16", "fp64", "e15m112"])
def test_finite_draws_every_finite_pattern_and_nothing_else(fmt):
    f = get_format(fmt)
    bits = parse_distribution("finite").sample(np.random.default_rng(0), 20_000, f.bits, f)
    fields = float_fields(bits, f)
    top = fields["exponent"] == (1 << f.exponent_bits) - 1
    assert not top.any() if f.has_infinity else not (top & (fields["fraction"] == (1 << f.fraction_bits) - 1)).any()
    if f.bits <= 64:
        assert np.isfinite(decode_floats(bits, f)).all()
    if f.bits <= 8:  # every finite pattern comes up, about equally often
        counts = np.bincount(bits.astype(np.int64), minlength=1 << f.bits)
        finite = np.isfinite(decode_floats(np.arange(1 << f.bits), f))
        assert (counts[finite] > 0).all() and (counts[~finite] == 0).all()
        assert counts[finite].max() < 3 * counts[finite].mean()
    # the sign and the last fraction bit are fair coins
    for k in (f.bits - 1, 0):
        assert 0.45 < np.mean([(int(b) >> k) & 1 for b in bits]) < 0.55
    uni = parse_distribution("finite").sample(np.random.default_rng(0), 100, 8, None)
    assert np.array_equal(uni, parse_distribution("uniform").sample(np.random.default_rng(0), 100, 8, None))


@pytest.mark.parametrize("text,msg", [
    ("gaussian", "unknown operand distribution 'gaussian'"),
    ("normal:0,1,2", "normal takes 2 parameter(s) (mean, std), got 3"),
    ("normal:0,-1", "normal std must be in [0, inf]"),
    ("sparse:1.5", "sparse p must be in [0, 1]"),
    ("normal:x", "normal mean must be a number, got 'x'"),
    ("repeated:2.5", "repeated run must be an integer"),
])
def test_bad_distributions(text, msg):
    with pytest.raises(OperandError) as e:
        parse_distribution(text)
    assert msg in str(e.value)


def test_port_assignment():
    widths = {"a": 8, "b": 8}
    assert parse_operands("zeros+uniform").resolve(["a", "b"])["a"].name == "zeros"
    assert parse_operands("b=zeros+a=normal").resolve(["a", "b"])["b"].name == "zeros"
    for text, msg in (("a=zeros+uniform", "name every port"), ("zeros+zeros+zeros", "3 distributions for 2"),
                      ("c=zeros+a=zeros", "no input port 'c'"), ("a=zeros", "no distribution for input port 'b'"),
                      ("a=zeros+a=zeros", "twice"), ("zeros++uniform", "empty")):
        with pytest.raises(OperandError, match=msg):
            operand_vectors(widths, parse_operands(text), 4)


def test_streams_are_seeded_per_port_and_shaped_as_promised():
    widths = {"a": 24, "b": 24}
    v1 = operand_vectors(widths, parse_operands("normal+relu-normal"), 2000, seed=5, fmt="fp32")
    v2 = operand_vectors(widths, parse_operands("normal+zeros"), 2000, seed=5, fmt="fp32")
    assert np.array_equal(v1["a"], v2["a"])  # a port's stream depends on its own distribution and the seed only
    assert not np.array_equal(v1["a"], operand_vectors(widths, parse_operands("normal"), 2000, seed=6, fmt="fp32")["a"])
    b = v1["b"]
    assert 0.45 < np.mean(b == 0) < 0.55 and np.all((b[b != 0] >> 23) == 1)  # ReLU zeros; normal significands
    ints = operand_vectors({"a": 8}, parse_operands("normal:0,20"), 5000, fmt=None)["a"].astype(np.int64)
    signed = np.where(ints >= 128, ints - 256, ints)
    assert abs(signed.mean()) < 1.5 and 18 < signed.std() < 22  # int8 two's complement of N(0, 20)
    assert operand_vectors({"a": 8}, parse_operands("lowbits:3"), 1000)["a"].max() < 8
    rep = operand_vectors({"a": 16}, parse_operands("repeated:4"), 100, fmt="fp16")["a"]
    assert np.all(rep[0::4] == rep[3::4]) and rep.dtype == np.uint64
    srt = decode_floats(operand_vectors({"a": 16}, parse_operands("sorted"), 500, fmt="fp16")["a"], "fp16")
    assert np.all(np.diff(srt) >= 0)
    packed = operand_vectors({"a": 16}, parse_operands("constant:1.5"), 3, fmt="bf16")["a"]
    assert packed.tolist() == [0x3FC0] * 3
    with pytest.raises(OperandError, match="a 12-bit port cannot take fp32 operands"):
        operand_vectors({"a": 12}, parse_operands("normal"), 3, fmt="fp32")


@pytest.fixture(scope="module")
def mul24():
    return circuits.build("booth-wallace-multiplier", 24)


def test_realistic_operands_toggle_less(mul24, tmp_path, monkeypatch):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    uni, real, zeros = operand_activity(mul24, ["uniform", "normal:0,0.02+relu-normal", "zeros"], vectors=4000,
                                        fmt="fp32")
    ratio = real.mean_weighted_toggles / uni.mean_weighted_toggles
    assert 0.6 < ratio < 0.8  # Gaussian weights x ReLU activations: about 28% fewer weighted toggles
    assert zeros.total_toggles == 0
    cached = list((tmp_path / "activity").glob("*.json"))
    assert len(cached) == 3
    again = operand_activity(mul24, ["normal:0,0.02+relu-normal"], vectors=4000, fmt="fp32")[0]
    assert again == real
    json.loads(cached[0].read_text())["toggles"]  # readable
    other_seed = operand_activity(mul24, ["normal:0,0.02+relu-normal"], vectors=4000, fmt="fp32", seed=1)[0]
    assert other_seed != real and len(list((tmp_path / "activity").glob("*.json"))) == 4


def test_activity_command_with_operands(tmp_path, monkeypatch):
    monkeypatch.setenv("GATESIM_CACHE_DIR", str(tmp_path))
    r = CliRunner().invoke(cli, ["activity", "booth-wallace-multiplier", "-w", "11", "-n", "2000", "--format", "fp16",
                                 "--operands", "normal:0,0.02+relu-normal", "--operands", "zeros", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert [x["operands"] for x in d["runs"]] == ["uniform", "normal:0,0.02+relu-normal", "zeros"]
    assert d["runs"][2]["relative_to_uniform"] == 0 and d["runs"][1]["relative_to_uniform"] < 1
    r = CliRunner().invoke(cli, ["activity", "ripple-carry-adder", "-w", "8", "-n", "500", "--operands", "sorted"])
    assert r.exit_code == 0 and "vs uniform" in r.output and "sorted" in r.output
    for args, msg in ((["--operands", "gaussian"], "unknown operand distribution"),
                      (["--format", "fp99"], "unknown number format"),
                      (["--operands", "a=zeros"], "no distribution for input port 'b'")):
        r = CliRunner().invoke(cli, ["activity", "ripple-carry-adder", "-w", "8", "-n", "10", *args])
        assert r.exit_code in (1, 2) and msg in r.output and "Traceback" not in r.output, r.output
