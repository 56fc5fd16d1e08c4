"""Number formats: OCP fp8 encodings, specs users type (eXmY, eXmYfn, intN), profile tables."""
import pytest

from circuits.floating.spec import FloatSpec
from gatesim.formats import BUILTIN_FORMATS, FormatError, NumberFormat, format_from_mapping, get_format, parse_format


def test_fp8_encodings():
    e4m3, e5m2 = BUILTIN_FORMATS["fp8-e4m3"], BUILTIN_FORMATS["fp8-e5m2"]
    assert (e4m3.nonfinite, e4m3.has_infinity, e4m3.bias, e4m3.max_exponent_field) == ("nan-only", False, 7, 15)
    assert (e5m2.nonfinite, e5m2.has_infinity, e5m2.max_exponent_field) == ("ieee", True, 30)
    sp = FloatSpec(e4m3)
    assert (sp.max_finite, sp.qnan, sp.inf) == (0x7E, 0x7F, None)  # 448, the NaN, no infinity
    sp = FloatSpec(e5m2)
    assert (sp.max_finite, sp.qnan, sp.inf) == (0x7B, 0x7E, 0x7C)
    assert FloatSpec(BUILTIN_FORMATS["fp32"]).qnan == 0x7FC00000


def test_specs_round_trip():
    assert get_format("e6m9") == NumberFormat("e6m9", "float", 6, 10)
    assert get_format("e4m3fn").nonfinite == "nan-only" and get_format("e4m3fn").bits == 8
    assert get_format("int12") == NumberFormat("int12", "int", 0, 12)
    for name in ("fp16", "bf16", "fp8-e4m3", "e6m9", "e4m3fn", "int12"):
        assert parse_format(get_format(name).spec) == get_format(name)
    assert NumberFormat("mine", "float", 6, 10).spec == "e6m9"
    assert parse_format(BUILTIN_FORMATS["tf32"]) is BUILTIN_FORMATS["tf32"]
    with pytest.raises(FormatError, match="unknown number format 'fp7'"):
        get_format("fp7")
    with pytest.raises(FormatError, match="nonfinite must be one of"):
        NumberFormat("x", "float", 4, 4, "saturating")


def test_profile_tables():
    f = format_from_mapping("my8", {"exponent_bits": 4, "mantissa_bits": 3, "nonfinite": "nan-only"})
    assert f.spec == "e4m3fn" and f.to_dict()["nonfinite"] == "nan-only"
    assert "nonfinite" not in BUILTIN_FORMATS["fp16"].to_dict()
