"""Proof by simulation of the square roots (issue 3) against Python's math.isqrt.

r = isqrt(A * 2**k), sticky = inexact, A = a | 2**(n-1) (hidden bit), k = n+1 (n+2 with
odd_exponent). Exhaustive for widths 2..12 and at 11 bits (the input space is 2**n); at 24 and 53
bits edge cases plus 100k random vectors for both designs, and vectors next to perfect squares (where the final correction
of the Newton-Raphson root has to act).
"""
import math

import numpy as np
import pytest

import circuits
from circuits.roots import _nr_plan, _nr_sqrt_netlist
from gatesim import DesignError, count, simulate, verify

ROOTS = ["newton-raphson-sqrt", "digit-recurrence-sqrt"]


@pytest.mark.parametrize("odd", [False, True])
@pytest.mark.parametrize("design", ROOTS)
def test_exhaustive_small_widths(design, odd):
    for width in list(range(2, 13)):
        r = verify(circuits.build(design, width, odd_exponent=odd), circuits.reference(design, width, odd_exponent=odd))
        assert r.exhaustive and r.vectors == 1 << width
        assert r.ok, (width, r.first_failure)


@pytest.mark.parametrize("odd", [False, True])
@pytest.mark.parametrize("width", [24, 53])
@pytest.mark.parametrize("design", ROOTS)
def test_real_widths(design, width, odd):
    vectors = 100_000
    r = verify(circuits.build(design, width, odd_exponent=odd), circuits.reference(design, width, odd_exponent=odd),
               vectors=vectors, seed=width + odd)
    assert not r.exhaustive and r.vectors >= vectors
    assert r.ok, r.first_failure


def near_squares(n: int, k: int, count_: int, seed: int) -> list[int]:
    """Operands A with A * 2**k at, just above and just below a perfect square (and the extremes)."""
    top = 1 << (n - 1)
    rng = np.random.default_rng(seed)
    lo, hi = math.isqrt(top << k), math.isqrt(((1 << n) - 1) << k)
    vals = {top, top + 1, (1 << n) - 1, (1 << n) - 2}
    for _ in range(count_):
        r = int(rng.integers(lo, hi + 1)) if hi - lo < (1 << 62) else lo + int(rng.integers(0, 1 << 62)) * ((hi - lo) >> 62)
        for sq in (r * r, (r + 1) * (r + 1)):
            for base in (sq >> k, (sq + (1 << k) - 1) >> k):
                for A in (base - 1, base, base + 1):
                    if top <= A < (1 << n):
                        vals.add(A)
    # exact roots: A * 2**k is a square when A = s**2 * 2**(k mod 2) * 4**j
    for s in range(1, 1 << 8):
        A = s * s << (k % 2)
        while A < top:
            A <<= 2
        if A < (1 << n):
            vals.add(A)
    return sorted(vals)


@pytest.mark.parametrize("odd", [False, True])
@pytest.mark.parametrize("width", [11, 24, 53])
@pytest.mark.parametrize("design", ROOTS)
def test_near_perfect_squares(design, width, odd):
    k = width + 1 + odd
    vals = near_squares(width, k, 3_000, seed=width)
    out = simulate(circuits.build(design, width, odd_exponent=odd), a=np.array(vals, dtype=object))
    exact_seen = 0
    for A, r, s in zip(vals, out["r"], out["sticky"]):
        N = A << k
        want = math.isqrt(N)
        assert (int(r), int(s)) == (want, int(want * want != N)), A
        exact_seen += want * want == N
    assert exact_seen > 0  # the sticky bit was exercised both ways


@pytest.mark.parametrize("width, odd", [(11, False), (24, False), (24, True), (53, False), (53, True)])
def test_newton_raphson_error_bound(width, odd):
    """Before the correction step, r~ = floor(2**n z y - 1/2) is r - 1 or r (the documented bound),
    and the plan's worst-case relative error of y is below 2**-(n+3)."""
    *_, e = _nr_plan(width, odd)
    assert e < 2.0 ** -(width + 3)
    net = _nr_sqrt_netlist(width, odd, "booth-wallace-multiplier", "ripple-carry-adder", correct=False)
    top, k = 1 << (width - 1), width + 1 + odd
    rng = np.random.default_rng(width)
    if width <= 11:
        vals = list(range(top, 1 << width))
    else:
        vals = [top | int(x) for x in rng.integers(0, top, size=20_000, dtype=np.uint64)]
        vals += near_squares(width, k, 500, seed=1)
    out = simulate(net, a=np.array(vals, dtype=object))["r"]
    diffs = {math.isqrt(A << k) - int(r) for A, r in zip(vals, out)}
    assert diffs <= {0, 1}, diffs


def test_iterations_follow_width():
    iters = {n: len(_nr_plan(n, False)[3]) for n in (11, 24, 53)}
    assert iters == {11: 1, 24: 2, 53: 3}


def test_multiplier_by_name_changes_the_root():
    d = "newton-raphson-sqrt"
    booth = circuits.build(d, 11)
    arr = circuits.build(d, 11, multiplier="array-multiplier")
    assert verify(arr, circuits.reference(d, 11, multiplier="array-multiplier")).ok
    assert count(booth).transistors != count(arr).transistors
    cells = {i["cell"] for i in arr.instances}
    assert "array_multiplier" in cells and "booth_wallace_multiplier" not in cells
    ks = circuits.build(d, 11, adder="kogge-stone-adder")
    assert verify(ks, circuits.reference(d, 11, adder="kogge-stone-adder")).ok
    assert "kogge_stone_adder" in {i["cell"] for i in ks.instances}


def test_hidden_bit():
    for d in ROOTS:
        net = circuits.build(d, 24)
        x = np.arange(1000, dtype=np.uint64) * np.uint64(7919)
        top = np.uint64(1 << 23)
        a, b = simulate(net, a=x), simulate(net, a=x | top)
        assert (a["r"] == b["r"]).all() and (a["sticky"] == b["sticky"]).all()
        assert (a["r"] >> np.uint64(24) == 1).all()  # the root's top bit is always set


def test_parameter_errors():
    with pytest.raises(DesignError, match="width 1 is out of range"):
        circuits.build("newton-raphson-sqrt", 1)
    with pytest.raises(DesignError, match="width 54 is out of range"):
        circuits.build("newton-raphson-sqrt", 54)
    with pytest.raises(DesignError, match="multiplier 'nope'"):
        circuits.build("newton-raphson-sqrt", 11, multiplier="nope")
    with pytest.raises(DesignError, match="is not a registered multiplier"):
        circuits.build("newton-raphson-sqrt", 11, multiplier="ripple-carry-adder")
    with pytest.raises(DesignError, match="is not a registered adder"):
        circuits.build("digit-recurrence-sqrt", 11, adder="srt-divider")
    with pytest.raises(DesignError, match="odd_exponent must be True or False"):
        circuits.build("digit-recurrence-sqrt", 11, odd_exponent=1)


@pytest.mark.yosys
def test_newton_raphson_11_matches_yosys(yosys_transistors):
    net = circuits.build("newton-raphson-sqrt", 11)
    assert yosys_transistors(net) == count(net, "yosys-cmos").transistors


@pytest.mark.parametrize("design", ROOTS)
def test_runtime_parity(design):
    """odd_input=True: one circuit for both exponent parities, k = n + 1 + odd."""
    for width in (2, 3, 5, 8, 11):
        r = verify(circuits.build(design, width, odd_input=True), circuits.reference(design, width, odd_input=True))
        assert r.exhaustive and r.vectors == 1 << (width + 1) and r.ok, (width, r.first_failure)
    for width in (24, 53):
        net = circuits.build(design, width, odd_input=True)
        r = verify(net, circuits.reference(design, width, odd_input=True), vectors=20_000, seed=width)
        assert r.ok, r.first_failure
        for odd in (0, 1):
            vals = near_squares(width, width + 1 + odd, 300, seed=width + odd)
            out = simulate(net, a=np.array(vals, dtype=object), odd=odd)
            for A, root in zip(vals, out["r"]):
                assert int(root) == math.isqrt(A << (width + 1 + odd)), (A, odd)
    with pytest.raises(DesignError, match="leave odd_exponent False"):
        circuits.build(design, 8, odd_input=True, odd_exponent=True)
