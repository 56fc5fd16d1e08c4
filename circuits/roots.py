"""Square roots of normalized significands. Ports: ``a`` (n bits) -> ``r`` (n+1 bits), ``sticky``.

The operand is an n-bit fixed-point significand in [1, 2), ``a = A / 2**(n-1)``. **As in the
dividers, the top bit is a hidden bit: a[n-1] is not read and taken to be 1** (``A = a | 2**(n-1)``),
so every input is valid. Outputs, with k = n + 1 (or k = n + 2 when ``odd_exponent=True``)::

    r      = floor(sqrt(A * 2**k))        (n+1 bits, top bit always set)
    sticky = A * 2**k != r**2             (the root is inexact)

Read as fixed point with n fractional bits, ``r`` is sqrt(a) (k = n+1, a root in [1, sqrt 2)) or
sqrt(2a) (k = n+2, in [sqrt 2, 2)) truncated to n fractional bits: the n-bit result significand
plus one guard (round) bit, and with the sticky bit an FP unit can round correctly. An FP square
root of a * 2**e needs the ``odd_exponent=False`` root for even e and the ``odd_exponent=True`` one
for odd e (sqrt(a * 2**(2m+1)) = sqrt(2a) * 2**m); with ``odd_input=True`` one circuit does both:
it takes a 1-bit input port ``odd`` and computes k = n + 1 + odd.

Designs:

* ``newton-raphson-sqrt`` -- reciprocal square root by Newton-Raphson, y <- y (3 - z y**2) / 2,
  from a seed ROM built as gates (indexed by the top bits of a below the hidden bit), the
  iterations unrolled with precision doubling each step, every product on the *registered*
  multiplier named ``multiplier`` and every subtraction on the registered adder named ``adder``;
  then r~ = floor(z y 2**n - 1/2) (one more named multiplier), which the error bound puts in
  {r - 1, r}, and a final correction that squares r~ modulo 2**(n+4) (a truncated squarer:
  AND terms, Wallace tree, named adder), forms the remainder A 2**k - r~**2 (< 2**(n+3)), compares
  it with 2 r~ + 1 and adds one where needed, so ``r`` and ``sticky`` are exact.

  Iteration count and precisions come from a worst-case error recurrence evaluated when the
  circuit is built (``_nr_plan``): seed error e0 measured from the ROM contents, then
  e' = 1.5 e**2 + 0.5 e**3 + 5 * 2**-F per iteration at F working fractional bits, until
  e < 2**-(n+3): one iteration at 11 bits, two at 24, three at 53. Each iteration forms
  y' = y + y h / 2 with h = 1 - z y**2 (the same value as y (3 - z y**2) / 2), so y**2 and y h
  are products of the previous, shorter y: only z y**2 needs the full new precision. Widths
  above 53 would need a multiplier wider than 64 bits, hence ``max_width=53``.
* ``digit-recurrence-sqrt`` -- restoring digit-by-digit square root, one root bit per stage
  (trial subtraction of 4P + 1 on the named adder, restoring MUX).
"""
from __future__ import annotations

import math

import numpy as np

from gatesim.errors import DesignError
from gatesim.netlist import Netlist

from .logic import Columns, Logic, Parts
from .multipliers import _wallace, final_add
from .registry import register


def sqrt_reference(width: int, odd_exponent: bool = False, odd_input: bool = False, **_):
    """r = isqrt(A * 2**k), sticky = A * 2**k != r**2, A = a | 2**(n-1), k = n+1 (+1 if odd_exponent, + odd
    when odd_input)."""
    top = 1 << (width - 1)
    k = width + 1 + bool(odd_exponent)

    def ref(v):
        odd = v["odd"] if odd_input else [0] * len(v["a"])
        N = [(int(x) | top) << (k + int(o)) for x, o in zip(v["a"], odd)]
        r = [math.isqrt(x) for x in N]
        return {
            "r": np.array(r, dtype=object),
            "sticky": np.array([int(x != y * y) for x, y in zip(N, r)], dtype=object),
        }

    return ref


def _check_odd(design, odd_exponent, odd_input=False):
    for name, v in (("odd_exponent", odd_exponent), ("odd_input", odd_input)):
        if not isinstance(v, bool):
            raise DesignError(f"{design}: {name} must be True or False, got {v!r}")
    if odd_exponent and odd_input:
        raise DesignError(f"{design}: odd_input takes the parity at run time; leave odd_exponent False")


def _odd_port(lg: Logic, odd_exponent: bool, odd_input: bool):
    """The exponent parity as a net: the ``odd`` input port, or a constant."""
    return lg.net.input("odd", 1)[0] if odd_input else lg.const(odd_exponent)


def _mux_odd(lg: Logic, odd, even_bits, odd_bits):
    """``odd ? odd_bits : even_bits`` (folds when the parity is a constant)."""
    return lg.mux_bus(odd, list(even_bits), list(odd_bits))


@register("digit-recurrence-sqrt", kind="sqrt", reference=sqrt_reference, min_width=2, max_width=64)
def digit_recurrence_sqrt(width: int, odd_exponent: bool = False, odd_input: bool = False,
                          adder: str = "ripple-carry-adder") -> Netlist:
    """Restoring digit-recurrence square root: one root bit per stage, trial subtraction of 4P+1 (named adder)."""
    design = "digit-recurrence-sqrt"
    _check_odd(design, odd_exponent, odd_input)
    n = width
    net = Netlist(name="digit_recurrence_sqrt")
    lg = Logic(net)
    parts = Parts(lg, design, adder=adder)
    parts._part("adder", 3, {"a", "b", "cin"}, {"sum", "cout"})  # a bad adder fails before any gate is built
    a = net.input("a", n)
    odd = _odd_port(lg, odd_exponent, odd_input)
    A = a[:-1] + [lg.c1]
    L = 2 * n + 2  # A * 2**k, LSB first, k = n+1 or n+2: an even number of bits either way
    N = _mux_odd(lg, odd, ([lg.c0] * (n + 1) + A + [lg.c0])[:L], ([lg.c0] * (n + 2) + A)[:L])
    P, R = [], []  # root so far, remainder (R <= 2P), LSB first
    for j in range(len(N) // 2):
        pair = N[len(N) - 2 * j - 2 : len(N) - 2 * j]  # next two bits, LSB first
        w = len(P) + 3
        R4 = (pair + R + [lg.c0] * w)[:w]  # 4R + pair
        nT = ([lg.c0, lg.c1] + [lg.NOT(x) for x in P] + [lg.c1] * w)[:w]  # ~(4P + 1)
        D, ok = parts.add(R4, nT, lg.c1, f"trial{j}")  # 4R + pair - (4P + 1)
        R = [lg.MUX(ok, x, d) for x, d in zip(R4[: w - 1], D[: w - 1])]
        P = [ok] + P
    P = P[-(n + 1):] if len(P) > n + 1 else P
    net.output("r", P)
    net.output("sticky", lg.or_tree(R))
    return net


# --------------------------------------------------------------------------------------------
# Newton-Raphson
# --------------------------------------------------------------------------------------------
_ROUNDING = 5.0  # one iteration's truncations add at most this many 2**-F to the relative error


def _seed_table(p: int, f0: int, odd: bool):
    """ROM contents: for each p-bit index the minimax 1/sqrt(z) over its interval, at f0 bits; and the
    largest relative error |y sqrt(z) - 1| over all z."""
    lo, span = (2.0, 2.0) if odd else (1.0, 1.0)
    step = span / (1 << p)
    values, err = [], 0.0
    for i in range(1 << p):
        z0, z1 = lo + i * step, lo + (i + 1) * step
        y = 2.0 / (math.sqrt(z0) + math.sqrt(z1))
        q = round(y * (1 << f0))
        values.append(q)
        yq = q / (1 << f0)
        err = max(err, abs(yq * math.sqrt(z0) - 1), abs(yq * math.sqrt(z1) - 1))
    return values, err


def _nr_plan(n: int, odd: "bool | str"):
    """Choose ROM index bits p, ROM precision f0 and, per iteration, the working precision F and
    the bound 2**hb on |2**F (1 - z y**2)|, so the final relative error of y is below 2**-(n+3)
    (then |z y 2**n - sqrt(A 2**k)| < 1/4). ``odd="both"``: one plan for z in [1, 4) (a ROM holding
    the even table, then the odd one; the error bound is the worse of the two)."""
    target = 2.0 ** -(n + 3)
    best = None
    for p in range(1, min(7, n - 1) + 1):
        f0 = p + 4
        if odd == "both":
            (ve, ee), (vo, eo) = _seed_table(p, f0, False), _seed_table(p, f0, True)
            values, e = ve + vo, max(ee, eo)
        else:
            values, e = _seed_table(p, f0, odd)
        steps, f_prev, cost = [], f0, 6 * (1 << p) * f0
        while e > target:
            ideal = 1.5 * e * e + 0.5 * e ** 3
            f = max(f_prev, math.ceil(-math.log2(max(ideal, target / 2))) + 4)
            hmax = (2 * e + e * e + 6 * 2.0 ** -f) * 2.0 ** f
            hb = max(1, math.ceil(math.log2(hmax)) + 1)
            if hb > f + 1:
                break  # the seed is too coarse for this formulation
            steps.append((f, hb))
            cost += 26 * ((f_prev + 2) ** 2 + (f + 2) ** 2 + max(f_prev + 1, hb + 1) ** 2)
            e = ideal + _ROUNDING * 2.0 ** -f
            f_prev = f
        if e > target:
            continue
        if best is None or cost < best[0]:
            best = (cost, p, f0, values, steps, e)
    _, p, f0, values, steps, e = best
    return p, f0, values, steps, e


def _rom(lg: Logic, index, values, bits: int):
    """A ROM as gates: each output bit a shared, folded MUX tree (Shannon expansion) over ``index``
    (LSB first); identical sub-functions are built once."""
    memo = {}

    def node(tt, level):  # tt: truth table over index bits 0..level-1
        if not any(tt):
            return lg.c0
        if all(tt):
            return lg.c1
        key = (level, tt)
        if key in memo:
            return memo[key]
        half = len(tt) // 2
        lo, hi = tt[:half], tt[half:]
        out = node(lo, level - 1) if lo == hi else lg.MUX(index[level - 1], node(lo, level - 1), node(hi, level - 1))
        memo[key] = out
        return out

    p = len(index)
    return [node(tuple((v >> b) & 1 for v in values), p) for b in range(bits)]


def _low_square(parts: Parts, x, w: int):
    """x**2 mod 2**w: a truncated squarer (x_i x_j + x_j x_i = one AND one column up; x_i x_i = x_i),
    reduced by a Wallace tree of full/half adders and summed on the named adder."""
    lg = parts.lg
    cols = Columns(lg, w)
    for i, xi in enumerate(x):
        cols.add(xi, 2 * i)
        for j in range(i + 1, len(x)):
            if i + j + 1 < w:
                cols.add(lg.AND(xi, x[j]), i + j + 1)
    return final_add(parts, _wallace(lg, cols.settle()))


def _fixed(bits, shift: int, width: int, c0):
    """``bits`` (an integer, LSB first) times 2**shift (floor when negative), as ``width`` bits."""
    if shift >= 0:
        out = [c0] * shift + list(bits)
    else:
        out = list(bits)[-shift:]
    return (out + [c0] * width)[:width]


def _nr_sqrt_netlist(width: int, odd_exponent: bool, multiplier: str, adder: str, correct: bool = True,
                     odd_input: bool = False) -> Netlist:
    """The Newton-Raphson root; with ``correct=False`` ``r`` is the uncorrected r~ (for testing the bound)."""
    design = "newton-raphson-sqrt"
    _check_odd(design, odd_exponent, odd_input)
    n = width
    p, f0, values, steps, _ = _nr_plan(n, "both" if odd_input else bool(odd_exponent))
    f_last = steps[-1][0] if steps else f0
    m_final = max(n, f_last + 1)
    # multiplier widths: each product's operand width; a width 1 bit below a wider one
    # share it (fewer distinct sub-netlists to build, a few more gates)
    need, f_prev = [], f0
    for f, hb in steps:
        need += [f_prev + 2, f + 2, max(f_prev + 1, hb + 1)]
        f_prev = f
    need.append(m_final)
    mwidth, chosen = {}, []
    for w in sorted(set(need), reverse=True):
        if not (chosen and chosen[-1] - w <= 1):
            chosen.append(w)
        mwidth[w] = chosen[-1]

    net = Netlist(name="newton_raphson_sqrt")
    lg = Logic(net)
    parts = Parts(lg, design, multiplier=multiplier, adder=adder)
    # resolve every sub-design first so bad names and widths fail with a clear message
    parts._part("adder", 8, {"a", "b", "cin"}, {"sum", "cout"})
    for w in chosen:
        parts._part("multiplier", w, {"a", "b"}, {"p"})
    c0, c1 = lg.c0, lg.c1

    def mul(x, y, w, name):
        wm = mwidth[w]
        return parts.multiply(_fixed(x, 0, wm, c0), _fixed(y, 0, wm, c0), name)

    def by_parity(build):
        """``build(odd: bool) -> bits`` for the circuit's exponent parity (a mux when it is an input)."""
        if not odd_input:
            return build(bool(odd_exponent))
        return _mux_odd(lg, odd, build(False), build(True))

    a = net.input("a", n)
    odd = _odd_port(lg, odd_exponent, odd_input)
    A = a[:-1] + [c1]
    # seed: y0 ~ 1/sqrt(z) at f0 fractional bits (y < 1 + tiny: f0 + 1 bits); z = A / 2**fz is in
    # [1, 2) (fz = n - 1, even exponent) or [2, 4) (fz = n - 2, odd)
    index = A[n - 1 - p : n - 1] + ([odd] if odd_input else [])
    Y = _rom(lg, index, values, f0 + 1)
    f_prev = f0
    for it, (f, hb) in enumerate(steps):
        # y' = y (3 - z y^2) / 2 = y + y h / 2 with h = 1 - z y^2, |h| < 2**(hb - f)
        t = mul(Y, Y, f_prev + 2, f"nr{it}_yy")  # exact y^2, 2 f_prev frac bits
        T = _fixed(t, f - 2 * f_prev, f + 2, c0)  # t at f bits (truncated)
        Z = by_parity(lambda o, f=f: _fixed(A, f - (n - 2 if o else n - 1), f + 2, c0))  # z at f bits (truncated)
        u = mul(Z, T, f + 2, f"nr{it}_zt")
        U = _fixed(u, -f, f + 2, c0)  # u = z t ~ 1 at f bits
        # Hb = 2**f (1 - u) + 2**hb, in [0, 2**(hb+1)): only its low hb+1 bits are needed
        wh = hb + 1
        kb = ((1 << f) + (1 << hb)) % (1 << wh)
        Hb, _ = parts.add([lg.const(kb >> i & 1) for i in range(wh)], [lg.NOT(x) for x in U[:wh]], c1, f"nr{it}_h")
        M = mul(Y, Hb, max(f_prev + 1, wh), f"nr{it}_yh")
        # D = y_prev * H = M - y_prev * 2**hb (signed, |D| < 2**(f_prev + 1 + hb))
        wd = f_prev + hb + 3
        D, _ = parts.add(_fixed(M, 0, wd, c0), [lg.NOT(x) for x in _fixed(Y, hb, wd, c0)], c1, f"nr{it}_d")
        Dsh = D[f_prev + 1:]
        Dsh = (Dsh + [Dsh[-1]] * (f + 1))[: f + 1]  # floor(D / 2**(f_prev+1)), sign-extended
        Y, _ = parts.add(_fixed(Y, f - f_prev, f + 1, c0), Dsh, c0, f"nr{it}_y")
        f_prev = f
    # r~ = floor(2**n z y - 1/2); 2**n z y = A Y / 2**sh with sh = f_prev + fz - n
    P = mul(A, Y, m_final, "root_zy")
    Pt = by_parity(lambda o: _fixed(P, -(f_prev + (n - 2 if o else n - 1) - n - 1), n + 3, c0))  # floor(2 * approx)
    dec, _ = lg.ripple_add(Pt, [c1] * (n + 3), c0)  # - 1
    rt = dec[1 : n + 2]  # floor((2 approx - 1) / 2): n+1 bits
    if not correct:
        net.output("r", rt)
        net.output("sticky", c0)
        return net
    # correction: rem = A 2**k - r~^2 (>= 0, < 2**(n+3)), step up when rem >= 2 r~ + 1
    w = n + 4
    sq = _low_square(parts, rt, w)  # only r~^2 mod 2**(n+4) is needed
    N = by_parity(lambda o: _fixed(A, n + 1 + o, w, c0))
    rem, _ = parts.add(N, [lg.NOT(x) for x in sq], c1, "remainder")
    two_r = _fixed(rt, 1, w, c0)
    e1, _ = parts.add(rem, [lg.NOT(x) for x in two_r], c0, "remainder_step")  # rem - 2r~ - 1
    up = lg.NOT(e1[w - 1])
    r = []
    carry = up
    for x in rt:  # r~ + up
        s_, carry = lg.ha(x, carry)
        r.append(s_)
    net.output("r", r)
    net.output("sticky", lg.MUX(up, lg.or_tree(rem), lg.or_tree(e1)))
    return net


@register("newton-raphson-sqrt", kind="sqrt", reference=sqrt_reference, min_width=2, max_width=53)
def newton_raphson_sqrt(width: int, odd_exponent: bool = False, odd_input: bool = False,
                        multiplier: str = "booth-wallace-multiplier", adder: str = "ripple-carry-adder") -> Netlist:
    """Newton-Raphson reciprocal-root iterations from a gate ROM seed on named multiplier/adder designs, exact final correction."""
    return _nr_sqrt_netlist(width, odd_exponent, multiplier, adder, odd_input=odd_input)
