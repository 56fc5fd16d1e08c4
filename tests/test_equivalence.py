"""gatesim.equivalent: formal proofs with Yosys (ABC's &cec, Yosys sat) and exhaustive simulation; every
alternative design proven equal to the reference design of its family; broken designs refuted with a
counterexample that simulation confirms; an undecidable case answers "could not prove", never a guess."""
import numpy as np
import pytest

import circuits
from gatesim import Netlist, NetlistError, equivalent, optimize, simulate

pytestmark = pytest.mark.yosys

FAMILIES = [  # (reference, alternative, width, params of the alternative)
    ("ripple-carry-adder", "kogge-stone-adder", 32, {}),
    ("ripple-carry-adder", "carry-lookahead-adder", 32, {}),
    ("booth-wallace-multiplier", "wallace-multiplier", 6, {}),
    ("booth-wallace-multiplier", "dadda-multiplier", 6, {"adder": "kogge-stone-adder"}),
    ("booth-wallace-multiplier", "array-multiplier", 6, {}),
    ("srt-divider", "restoring-divider", 6, {}),
    ("srt-divider", "nonrestoring-divider", 6, {}),
    ("newton-raphson-sqrt", "digit-recurrence-sqrt", 6, {}),
]


@pytest.mark.parametrize("ref, alt, width, params", FAMILIES)
def test_each_design_is_proven_equal_to_its_family_reference(ref, alt, width, params):
    r = equivalent(circuits.build(ref, width), circuits.build(alt, width, **params), method="abc", vectors=0)
    assert r.equal is True and r.method == "abc", r.detail


def test_signed_multipliers_and_the_sat_method():
    a = circuits.build("booth-wallace-multiplier", 5, signed=True)
    b = circuits.build("dadda-multiplier", 5, signed=True)
    r = equivalent(a, b, method="sat", vectors=0)
    assert r.equal is True and r.method == "sat" and "proof" in r.detail
    assert equivalent(a, circuits.build("dadda-multiplier", 5), method="sat").equal is False  # unsigned differs


def _broken(net, kind="XOR2", to="XNOR2"):
    net = optimize(net)
    node = max(n for n, d in net.nodes(data=True) if d["gate"] == kind)
    net.nodes[node]["gate"] = to
    net.invalidate()
    return net


@pytest.mark.parametrize("method", ["auto", "abc", "sat"])
def test_a_broken_design_is_caught_with_a_confirmed_counterexample(method):
    good = circuits.build("kogge-stone-adder", 70)  # ports wider than 64 bits
    bad = _broken(good)
    r = equivalent(good, bad, method=method, vectors=0 if method != "auto" else 4096)
    assert r.equal is False
    cx = r.counterexample
    assert set(cx["inputs"]) == {"a", "b", "cin"} and cx["differ"]
    vec = {p: np.array([v], dtype=object) for p, v in cx["inputs"].items()}
    ya, yb = simulate(good, **vec), simulate(bad, **vec)
    for p in cx["differ"]:
        assert int(ya[p][0]) == cx["a"][p] != cx["b"][p] == int(yb[p][0])
    assert r.method == ("simulation" if method == "auto" else method)


def test_exhaustive_simulation_proves_small_designs():
    a, b = circuits.build("booth-wallace-multiplier", 8), circuits.build("array-multiplier", 8)
    r = equivalent(a, b)
    assert r.equal is True and r.method == "exhaustive" and "65536" in r.detail
    r = equivalent(a, _broken(b, "AND2", "OR2"), vectors=0)
    assert r.equal is False and r.method == "exhaustive"


def _wrong_partial_product(net):
    a3, b4 = net.inputs["a"][3], net.inputs["b"][4]
    pp = next(v for v in net.successors(a3) if net.nodes[v]["gate"] == "AND2" and b4 in net.pred[v])
    net.nodes[pp]["gate"] = "OR2"
    net.invalidate()
    return net


def test_multipliers_past_exhaustive_are_equal_through_two_proofs():
    """Beyond 10x10 bits (SAT takes minutes there) two multipliers are proven equal by proving each = a*b."""
    a, b = circuits.build("booth-wallace-multiplier", 12), circuits.build("dadda-multiplier", 12)
    r = equivalent(a, b)
    assert r.equal is True and r.method == "prove" and r.detail.startswith("both proved p = a*b (mod 2^24)"), r.detail
    sa, sb = (circuits.build(d, 12, signed=True) for d in ("booth-wallace-multiplier", "array-multiplier"))
    r = equivalent(sa, sb, method="prove", vectors=0)
    assert r.equal is True and "two's complement" in r.detail, r.detail
    assert equivalent(sa, b, method="prove", vectors=0).equal is False  # signed against unsigned
    bad = _wrong_partial_product(circuits.build("dadda-multiplier", 12))
    r = equivalent(a, bad, vectors=0)
    assert r.equal is False and r.method == "prove" and r.counterexample["differ"] == ["p"], r.detail
    vec = {p: np.array([v], dtype=object) for p, v in r.counterexample["inputs"].items()}
    assert int(simulate(a, **vec)["p"][0]) == r.counterexample["a"]["p"] != r.counterexample["b"]["p"] \
        == int(simulate(bad, **vec)["p"][0])
    assert "dadda" in r.detail or "is not p = a*b" in r.detail


def test_prove_method_needs_multipliers_and_undecided_proofs_fall_back():
    with pytest.raises(Exception, match="method prove compares multipliers"):
        equivalent(circuits.build("ripple-carry-adder", 16), circuits.build("kogge-stone-adder", 16), method="prove")
    a, b = circuits.build("booth-wallace-multiplier", 14), circuits.build("dadda-multiplier", 14)
    r = equivalent(a, b, method="prove", timeout=1e-4, vectors=0)
    assert r.equal is None and r.method == "prove"
    r = equivalent(a, b, timeout=1e-4, vectors=0)  # auto: the proofs decide nothing in time, then ABC, undecided
    assert r.equal is None and r.method == "abc" and "could not prove" in r.detail and "prove" in r.detail


def test_undecided_within_the_time_limit():
    a, b = circuits.build("booth-wallace-multiplier", 14), circuits.build("dadda-multiplier", 14)
    r = equivalent(a, b, method="abc", timeout=1, vectors=0)
    assert r.equal is None and r.counterexample is None and "could not prove within 1 s" in r.detail


def test_netlists_without_inputs():
    def const(v):
        net = Netlist(name=f"c{v}")
        net.output("y", [net.const(v), net.const(1)])
        return net

    assert equivalent(const(0), const(0)).equal is True
    r = equivalent(const(0), const(1))
    assert r.equal is False and r.counterexample == {"inputs": {}, "a": {"y": 2}, "b": {"y": 3}, "differ": ["y"]}


def test_ports_must_match_by_name_and_width():
    with pytest.raises(NetlistError, match="input 'cin' only in"):
        equivalent(circuits.build("ripple-carry-adder", 4), circuits.build("array-multiplier", 4))
    with pytest.raises(NetlistError, match="is 4 bits in"):
        equivalent(circuits.build("ripple-carry-adder", 4), circuits.build("ripple-carry-adder", 5))
