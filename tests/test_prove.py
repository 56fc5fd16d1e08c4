"""Algebraic proof by backward rewriting: gatesim.prove_* and ``gatesim prove``."""
import itertools
import json

import pytest
from click.testing import CliRunner

import circuits
import gatesim
from gatesim import algebra
from gatesim.cli import cli
from gatesim.gates import GATES, SOURCE_GATES
from gatesim.netlist import Netlist

MULTIPLIERS = ["array-multiplier", "wallace-multiplier", "dadda-multiplier", "booth-wallace-multiplier"]
ADDERS = ["ripple-carry-adder", "carry-lookahead-adder", "kogge-stone-adder"]


def _final_adder(design, name):
    """``{param: name}`` for the multiplier's final-adder parameter (``final_adder``, or ``adder`` once renamed)."""
    params = circuits.get(design).params
    return {next(p for p in ("final_adder", "adder") if p in params): name}


def _value(poly, bits):
    return sum(c for m, c in poly if all((bits >> j) & 1 for j in range(m.bit_length()) if (m >> j) & 1))


# -- polynomials ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [g for g in GATES if g not in SOURCE_GATES])
def test_gate_polynomials_agree_with_the_gate_functions(name):
    g = GATES[name]
    poly = algebra.gate_polynomial(g.code)
    mask = (1 << (1 << g.arity)) - 1
    packed = algebra.eval_gate(g.code, algebra.projections(g.arity), mask)
    for i in range(1 << g.arity):
        args = [(i >> k) & 1 for k in range(g.arity)]
        assert _value(poly, i) == g.function(*args)
        assert (packed >> i) & 1 == g.function(*args)


def test_known_gate_polynomials():
    def poly(name):
        return sorted(algebra.gate_polynomial(GATES[name].code))

    assert poly("AND2") == [(0b11, 1)]
    assert poly("OR2") == [(0b01, 1), (0b10, 1), (0b11, -1)]
    assert poly("XOR2") == [(0b01, 1), (0b10, 1), (0b11, -2)]
    assert poly("NOT") == [(0, 1), (1, -1)]


def test_every_truth_table_of_three_variables_has_its_polynomial():
    for tt in range(256):
        poly = algebra.integer_polynomial(tt, 3)
        assert all(_value(poly, i) == (tt >> i) & 1 for i in range(8))
        leaves, small = algebra.reduce_support(tt, ("x", "y", "z"))
        assert all(
            (small >> sum(((i >> "xyz".index(v)) & 1) << k for k, v in enumerate(leaves))) & 1 == (tt >> i) & 1
            for i in range(8)
        )


# -- multipliers and adders prove ---------------------------------------------------------------
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("design", MULTIPLIERS)
def test_multipliers_prove_at_8_bits(design, signed):
    r = gatesim.prove_multiplier(circuits.build(design, 8, signed=signed), signed=signed)
    assert r.status == "proved", r.reason
    assert r.proved and r.counterexample is None
    assert r.claim == "p = a*b (mod 2^16" + (", a, b two's complement)" if signed else ")")
    assert r.stats["peak_monomials"] > 0 and r.stats["full_adders"] > 0


@pytest.mark.parametrize("design,final_adder,signed", [
    ("array-multiplier", "ripple-carry-adder", False),
    ("wallace-multiplier", "carry-lookahead-adder", True),
    ("dadda-multiplier", "kogge-stone-adder", False),
    ("booth-wallace-multiplier", "kogge-stone-adder", True),
])
def test_multipliers_with_prefix_final_adders_prove_at_16_bits(design, final_adder, signed):
    net = circuits.build(design, 16, signed=signed, **_final_adder(design, final_adder))
    r = gatesim.prove_multiplier(net, signed=signed, timeout=60)
    assert r.status == "proved", r.reason


@pytest.mark.parametrize("design", ADDERS)
def test_adders_prove_at_32_bits(design):
    r = gatesim.prove_adder(circuits.build(design, 32), timeout=60)
    assert r.status == "proved", r.reason
    assert r.claim == "{cout, sum} = a + b + cin (mod 2^33)"


def test_small_adders_and_subtractor_prove():
    assert gatesim.prove_adder(circuits.build("full-adder", 1)).proved
    assert gatesim.prove_adder(circuits.build("half-adder", 1), cin=None).proved
    r = gatesim.prove_subtractor(circuits.build("subtractor", 24))
    assert r.proved and r.claim == "{bout, diff} = a - b - bin (mod 2^25)"


def test_flat_netlist_without_hierarchy_proves_the_same():
    """Adders are found by function: a netlist with no full_adder instances (as imported) proves too."""
    net = circuits.build("wallace-multiplier", 12, **_final_adder("wallace-multiplier", "kogge-stone-adder"))
    assert net.instances
    flat = gatesim.from_json(gatesim.to_json(net))
    for n in flat.nodes:
        flat.nodes[n]["inst"] = -1
    flat.graph["instances"] = []
    flat.invalidate()
    r = gatesim.prove_multiplier(flat)
    assert r.proved and r.stats["full_adders"] > 50


def test_optimized_netlists_prove():
    """gatesim.optimize folds constants and re-tags cells; the proof does not rely on either."""
    net = gatesim.optimize(circuits.build("booth-wallace-multiplier", 16, signed=True,
                                          **_final_adder("booth-wallace-multiplier", "kogge-stone-adder")))
    assert gatesim.prove_multiplier(net, signed=True).proved
    assert gatesim.prove_adder(gatesim.optimize(circuits.build("carry-lookahead-adder", 32))).proved


def _dirty_multiplier(n: int) -> Netlist:
    """An n-bit multiplier in other gates than ours (NOR partial products, XNOR/OAI/NAND full adders,
    NOR-NOR half adders), flat: the kind of netlist a synthesis tool writes."""
    net = Netlist(name="dirty_multiplier")
    a, b = net.input("a", n), net.input("b", n)
    na, nb = [net.NOT(x) for x in a], [net.NOT(x) for x in b]
    cols = [[] for _ in range(2 * n)]
    for i, j in itertools.product(range(n), range(n)):
        cols[i + j].append(net.NOR(na[i], nb[j]))

    def fa(x, y, z):
        s = net.XNOR(net.XNOR(x, y), z)
        return s, net.NAND(net.NAND(x, y), net.OAI21(x, y, z))

    def ha(x, y):
        return net.NOR(net.AND(x, y), net.NOR(x, y)), net.ANDNOT(x, net.NOT(y))

    out = []
    for i in range(2 * n):
        col = cols[i]
        while len(col) > 1:
            s, c = fa(col.pop(0), col.pop(0), col.pop(0)) if len(col) > 2 else ha(col.pop(0), col.pop(0))
            col.append(s)
            if i + 1 < 2 * n:
                cols[i + 1].append(c)
        out.append(col[0] if col else net.const(0))
    net.output("p", out)
    return net


def test_dirty_flat_multiplier_proves_and_simulates():
    net = _dirty_multiplier(8)
    assert gatesim.verify(net, circuits.reference("dadda-multiplier", 8)).ok  # the test circuit is right
    r = gatesim.prove_multiplier(net)
    assert r.proved, r.reason
    assert r.stats["full_adders"] > 30


def test_generic_claims_squarer_truncated_product_and_free_inputs():
    n = 10
    mul = circuits.build("dadda-multiplier", n)
    net = Netlist(name="squarer")
    a = net.input("a", n)
    net.input("unused", 3)
    p = net.instance(mul, "m", a=a, b=a)["p"]
    net.output("sq", p)
    net.output("low", p[:n])
    assert gatesim.prove_arithmetic(net, ["sq"], [(1, (("a", False), ("a", False)))]).proved
    r = gatesim.prove_arithmetic(net, ["low"], [(1, (("a", False), ("a", False)))])
    assert r.proved and r.claim == "low = a*a (mod 2^10)"
    r = gatesim.prove_arithmetic(net, ["low"], [(3, (("a", False),)), (-1, (("a", False), ("a", False)))],
                                 presimulate=0)
    assert r.status == "not_equal" and "remainder" in r.reason


# -- not equal: counterexamples are real ----------------------------------------------------------
def _check_counterexample(net, r, signed=False, width=8):
    """The counterexample, re-simulated here independently of the prover, breaks p = a*b."""
    ce = r.counterexample
    got = int(gatesim.simulate(net, **ce["inputs"])["p"][0])
    a, b = ce["inputs"]["a"], ce["inputs"]["b"]
    if signed:
        half = 1 << (width - 1)
        a, b = (a ^ half) - half, (b ^ half) - half
    want = (a * b) % (1 << (2 * width))
    assert got == ce["got"]["p"] and want == ce["expected"]["p"] and got != want


def _mutate(net, node, gate):
    net.nodes[node]["gate"] = gate
    net.invalidate()
    return net


def test_wrong_partial_product_gate_gives_the_remainder_counterexample():
    net = circuits.build("dadda-multiplier", 8)
    a3, b4 = net.inputs["a"][3], net.inputs["b"][4]
    pp = next(v for v in net.successors(a3) if net.nodes[v]["gate"] == "AND2" and b4 in net.pred[v])
    _mutate(net, pp, "OR2")
    r = gatesim.prove_multiplier(net, presimulate=0)
    assert r.status == "not_equal" and not r.proved
    assert "remainder" in r.reason
    _check_counterexample(net, r)


def _first_real_mutation(design, gate, new_gate, signed=False, skip=0):
    """The first gate of type ``gate`` (after ``skip``) whose change to ``new_gate`` changes the function
    (exhaustive simulation at 8 bits decides; some changes are harmless, e.g. XOR with a constant 0)."""
    ref = circuits.reference(design, 8, signed=signed)
    base = circuits.build(design, 8, signed=signed)
    nodes = [v for v, d in base.nodes(data=True) if d["gate"] == gate][skip:]
    for v in nodes:
        net = _mutate(circuits.build(design, 8, signed=signed), v, new_gate)
        if not gatesim.verify(net, ref).ok:
            return net
    raise AssertionError("no function-changing mutation found")


@pytest.mark.parametrize("design,gate,new_gate,signed,skip", [
    ("wallace-multiplier", "XOR2", "OR2", False, 40),
    ("booth-wallace-multiplier", "XNOR2", "XOR2", True, 5),
    ("array-multiplier", "OR2", "AND2", True, 10),
])
def test_one_wrong_gate_is_rejected_with_a_real_counterexample(design, gate, new_gate, signed, skip):
    net = _first_real_mutation(design, gate, new_gate, signed, skip)
    r = gatesim.prove_multiplier(net, signed=signed, presimulate=0, timeout=15)
    assert r.status == "not_equal", r.reason
    _check_counterexample(net, r, signed)
    r2 = gatesim.prove_multiplier(net, signed=signed)  # the default simulates first
    assert r2.status == "not_equal"
    _check_counterexample(net, r2, signed)


def test_unsigned_multiplier_is_not_a_signed_one():
    net = circuits.build("wallace-multiplier", 8)
    r = gatesim.prove_multiplier(net, signed=True, presimulate=0)
    assert r.status == "not_equal" and "remainder" in r.reason
    _check_counterexample(net, r, signed=True)


def test_limits_give_unknown_never_a_wrong_answer():
    net = circuits.build("dadda-multiplier", 16, **_final_adder("dadda-multiplier", "kogge-stone-adder"))
    r = gatesim.prove_multiplier(net, max_monomials=50, presimulate=0)
    assert r.status == "unknown" and not r.proved and r.counterexample is None
    assert "monomial limit" in r.reason and "found no counterexample" in r.reason
    r = gatesim.prove_multiplier(net, timeout=1e-4, presimulate=0)
    assert r.status == "unknown" and "time limit" in r.reason


def test_bad_ports_are_one_clear_error():
    net = circuits.build("ripple-carry-adder", 4)
    with pytest.raises(gatesim.NetlistError, match="no input port 'x'"):
        gatesim.prove_adder(net, cin="x")
    with pytest.raises(gatesim.NetlistError, match="no output port 'p'"):
        gatesim.prove_multiplier(net)


# -- command line -----------------------------------------------------------------------------------
@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_prove_proved_and_json(run):
    r = run("prove", "dadda-multiplier", "--width", "8")
    assert r.exit_code == 0 and "PROVED p = a*b (mod 2^16)" in r.output
    r = run("prove", "booth-wallace-multiplier", "-w", "8", "--param", "signed=true", "--json")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert set(doc) == {"design", "params", "claim", "status", "proved", "reason", "counterexample", "seconds", "stats"}
    assert doc["status"] == "proved" and doc["proved"] is True and doc["params"] == {"width": 8, "signed": True}
    assert "two's complement" in doc["claim"]
    assert {"full_adders", "half_adders", "vanishing_pairs", "peak_monomials"} <= set(doc["stats"])
    r = run("prove", "half-adder", "-w", "1")
    assert r.exit_code == 0 and "{cout, sum} = a + b (mod 2^2)" in r.output
    r = run("prove", "subtractor", "-w", "8", "--json")
    assert json.loads(r.output)["proved"] is True


def test_cli_prove_not_proved_and_not_equal_exit_1(run):
    (param,) = _final_adder("dadda-multiplier", "")
    r = run("prove", "dadda-multiplier", "-w", "16", "--param", f"{param}=kogge-stone-adder", "--max-monomials", "20")
    assert r.exit_code == 1 and "NOT PROVED" in r.output and "monomial limit" in r.output
    # an unsigned multiplier claimed signed: a counterexample, printed as ports
    r = run("prove", "array-multiplier", "-w", "8", "--as", "signed-multiplier")
    assert r.exit_code == 1 and "NOT EQUAL" in r.output and "counterexample: a=" in r.output
    doc = json.loads(run("prove", "array-multiplier", "-w", "8", "--as", "signed-multiplier", "--json").output)
    assert doc["status"] == "not_equal" and set(doc["counterexample"]) == {"inputs", "expected", "got"}


def test_cli_prove_bad_input_is_one_line_exit_2():
    runner = CliRunner()
    for args, msg in [
        (["prove", "magnitude-comparator", "-w", "8"], "prove knows multipliers, adders and subtractors"),
        (["prove", "ripple-carry-adder", "-w", "8", "--port", "q=x"], "unknown role 'q'"),
        (["prove", "ripple-carry-adder", "-w", "8", "--port", "cin=x"], "no input port 'x'"),
        (["prove", "ripple-carry-adder", "-w", "8", "--timeout", "0"], "--timeout"),
        (["prove", "nope-multiplier", "-w", "8"], "unknown design"),
    ]:
        r = runner.invoke(cli, args)
        assert r.exit_code == 2, (args, r.output)
        err = r.stderr if hasattr(r, "stderr") else r.output
        assert msg in err and len(err.strip().splitlines()) == 1, err


SWAPS = {"XOR2": "OR2", "XNOR2": "NOR2", "AND2": "OR2", "OR2": "AND2", "NAND2": "XOR2", "ANDNOT2": "AND2",
         "ORNOT2": "OR2", "AOI22": "OAI22", "NOT": "BUF", "BUF": "NOT"}


@pytest.mark.parametrize("design,signed,final_adder", [
    ("dadda-multiplier", False, "kogge-stone-adder"),
    ("booth-wallace-multiplier", True, "ripple-carry-adder"),
])
def test_every_single_gate_mutant_agrees_with_exhaustive_simulation(design, signed, final_adder):
    """Soundness, differentially: at 4 bits, every mutant (one gate's type changed) is proved exactly
    when exhaustive simulation finds no difference, and every counterexample is real."""
    ref = circuits.reference(design, 4, signed=signed)
    kw = dict(signed=signed, **_final_adder(design, final_adder))
    base = circuits.build(design, 4, **kw)
    nodes = [v for v, d in base.nodes(data=True) if d["gate"] in SWAPS]
    assert len(nodes) > 40
    outcomes = set()
    for v in nodes:
        net = circuits.build(design, 4, **kw)
        _mutate(net, v, SWAPS[net.nodes[v]["gate"]])
        same = gatesim.verify(net, ref).ok  # all 256 inputs
        r = gatesim.prove_multiplier(net, signed=signed, presimulate=0, timeout=20)
        assert r.status == ("proved" if same else "not_equal"), (v, r.status, r.reason)
        if not same:
            _check_counterexample(net, r, signed, width=4)
        outcomes.add(same)
    assert outcomes == {True, False}  # both kinds occur: harmless changes and real bugs
