"""One role mechanism: a design chosen for a role gets every role choice it accepts passed down."""
from collections import Counter

import pytest

import circuits
from circuits.registry import build_role
from gatesim import DesignError, verify
from gatesim.tables import DesignSelection, build_table


def cells(net):
    return Counter(i["cell"] for i in net.instances)


def test_newton_raphson_takes_the_callers_choices_down():
    net = circuits.build("newton-raphson-sqrt", 11, multiplier="dadda-multiplier", adder="kogge-stone-adder")
    c = cells(net)
    assert c["dadda_multiplier"] > 0 and c["booth_wallace_multiplier"] == 0
    assert c["ripple_carry_adder"] == 0 and c["kogge_stone_adder"] > c["dadda_multiplier"]  # the multipliers' too
    assert verify(net, circuits.reference("newton-raphson-sqrt", 11)).ok


def test_build_role_passes_down_and_own_params_win():
    choices = {"multiplier": "wallace-multiplier", "adder": "carry-lookahead-adder", "shifter": "crossbar-shifter"}
    m = build_role("mine", "multiplier", choices, 8)
    assert m.params == {"width": 8, "adder": "carry-lookahead-adder"}
    own = build_role("mine", "multiplier", choices, 8, adder="kogge-stone-adder")
    assert own.params["adder"] == "kogge-stone-adder"
    assert build_role("mine", "multiplier", choices, 8) is m  # one shared frozen build
    with pytest.raises(DesignError, match="mine: multiplier 'ripple-carry-adder' is not a registered multiplier"):
        build_role("mine", "multiplier", {"multiplier": "ripple-carry-adder"}, 8)
    with pytest.raises(DesignError, match="unknown role 'widget'"):
        build_role("mine", "widget", {}, 8)
    with pytest.raises(DesignError, match="mine: shifter 'nope': unknown design"):
        build_role("mine", "shifter", {"shifter": "nope"}, 8)


def test_table_passes_the_selection_down():
    sel = DesignSelection(adder="kogge-stone-adder", multiplier="dadda-multiplier")
    tab = build_table(sel, "static-cmos", "paper", formats=("fp16",), operations=("mul", "root", "div"), vectors=500,
                      cache=False)
    assert tab.entry("root", "fp16").components["significand_root"] == {
        "design": "newton-raphson-sqrt", "width": 11, "multiplier": "dadda-multiplier", "adder": "kogge-stone-adder"}
    assert tab.entry("mul", "fp16").components["significand_multiplier"]["adder"] == "kogge-stone-adder"
    assert tab.entry("div", "fp16").components["significand_divider"]["adder"] == "kogge-stone-adder"


def test_roles_listed():
    assert set(circuits.ROLES) == {"adder", "multiplier", "divider", "root", "comparator", "shifter", "leading_zero_counter"}
    assert circuits.get("newton-raphson-sqrt").roles == ("multiplier", "adder")
    assert circuits.get("srt-divider").roles == ("adder",)
