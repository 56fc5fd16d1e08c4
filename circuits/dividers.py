"""Dividers for normalized significands. Ports: ``a``, ``b`` (n bits) -> ``q`` (n+2 bits), ``sticky``.

Operands are n-bit fixed-point significands in [1, 2): ``a = A / 2**(n-1)``, ``b = B / 2**(n-1)``
with the top bit set. **The top bit is a hidden bit: the circuits do not read a[n-1] or b[n-1]
and compute as if both were 1**, so every input is valid and means ``A = a | 2**(n-1)``,
``B = b | 2**(n-1)`` (a normalized input is unchanged by this).

Outputs, with k = n + 1::

    q      = floor(A * 2**k / B)          (n+2 bits; 2**n < q < 2**(n+2))
    sticky = (A * 2**k mod B) != 0        (remainder nonzero)

Since A/B lies in (1/2, 2), ``q`` read as fixed point with k fractional bits is the quotient
truncated to k = n+1 fractional bits: when A >= B the quotient has n+2 significant bits (the
n-bit result significand plus two guard bits), when A < B it has n+1 (the leading one at 2**-1:
n bits plus one guard bit). One guard (round) bit beyond the result significand plus the sticky
bit is what round-to-nearest-even and the directed roundings need, so an FP divider can round
``q`` correctly after normalizing by at most one place.

Designs:

* ``srt-divider`` -- radix-2 SRT: carry-save partial remainder, quotient digit in {-1, 0, +1}
  chosen from a 4-bit estimate of the remainder's top bits, one unrolled stage per quotient digit
  (n+2 stages), the redundant quotient converted by one final subtraction (P - N, on the named
  ``adder``), corrected by the sign of the final remainder.
* ``restoring-divider`` -- one compare/subtract (named ``adder``) and a restoring MUX per bit.
* ``nonrestoring-divider`` -- one add-or-subtract (named ``adder``) per bit, digits {-1, +1}.
"""
from __future__ import annotations

from gatesim.netlist import Netlist

from .logic import Logic, Parts
from .registry import register


def divider_reference(width: int, **_):
    """q = floor(A * 2**(n+1) / B), sticky = remainder != 0, with A = a | 2**(n-1), B = b | 2**(n-1)."""
    top = 1 << (width - 1)
    k = width + 1

    def ref(v):
        A = v["a"] | top
        B = v["b"] | top
        num = A * (1 << k)
        q = num // B
        return {"q": q, "sticky": ((num - q * B) != 0).astype(int)}

    return ref


def _operands(lg: Logic, width: int):
    net = lg.net
    a, b = net.input("a", width), net.input("b", width)
    return a[:-1] + [lg.c1], b[:-1] + [lg.c1]


@register("restoring-divider", kind="divider", reference=divider_reference, min_width=2, max_width=64)
def restoring_divider(width: int, adder: str = "ripple-carry-adder") -> Netlist:
    """Restoring division: per quotient bit, D = 2R - B on the named adder; keep D if it is >= 0."""
    design = "restoring-divider"
    net = Netlist(name="restoring_divider")
    lg = Logic(net)
    parts = Parts(lg, design, adder=adder)
    n = width
    A, B = _operands(lg, n)
    nB = [lg.NOT(x) for x in B]  # n bits (top bit 0)
    D, q = parts.add(A, nB, lg.c1, "sub0")  # A - B, q = no borrow
    qs = [q]
    R = [lg.MUX(q, x, d) for x, d in zip(A, D)]
    nB1 = nB + [lg.c1]  # ~B in n+1 bits
    for j in range(n + 1):
        R2 = [lg.c0] + R  # 2R < 2B: n+1 bits
        D, q = parts.add(R2, nB1, lg.c1, f"sub{j + 1}")
        qs.append(q)
        R = [lg.MUX(q, x, d) for x, d in zip(R2[:n], D[:n])]  # both fit n bits
    net.output("q", qs[::-1])
    net.output("sticky", lg.or_tree(R))
    return net


@register("nonrestoring-divider", kind="divider", reference=divider_reference, min_width=2, max_width=64)
def nonrestoring_divider(width: int, adder: str = "ripple-carry-adder") -> Netlist:
    """Non-restoring division: R <- 2R - B if R >= 0 else 2R + B (named adder), quotient bit = R >= 0."""
    design = "nonrestoring-divider"
    net = Netlist(name="nonrestoring_divider")
    lg = Logic(net)
    parts = Parts(lg, design, adder=adder)
    n = width
    A, B = _operands(lg, n)
    B1 = B + [lg.c0]  # n+1 bits
    # R is an (n+1)-bit two's-complement remainder, -B <= R < B
    R, _ = parts.add(A + [lg.c0], [lg.NOT(x) for x in B1], lg.c1, "sub0")
    qs = [lg.NOT(R[n])]
    for j in range(n + 1):
        sub = qs[-1]  # R >= 0: subtract
        R2 = [lg.c0] + R[:n]  # 2R modulo 2**(n+1) (the result is in range)
        R, _ = parts.add(R2, [lg.XOR(x, sub) for x in B1], sub, f"addsub{j + 1}")
        qs.append(lg.NOT(R[n]))
    net.output("q", qs[::-1])
    # remainder = R if R >= 0 else R + B: nonzero iff R != 0 and R + B != 0
    net.output("sticky", lg.AND(lg.or_tree(R), lg.NOT(lg.sum_is_zero(R, B1))))
    return net


@register("srt-divider", kind="divider", reference=divider_reference, min_width=2, max_width=64)
def srt_divider(width: int, adder: str = "ripple-carry-adder") -> Netlist:
    """Radix-2 SRT division: carry-save remainder, digits {-1,0,1} from a 4-bit estimate, one stage per digit (the paper's divider).

    Scaling: w = W / 2**(n+1) with W_0 = A (w_0 = x/2, x = A/2**n in [1/2, 1)), d = D / 2**(n+1) with
    D = 2B (d in [1/2, 1)). The remainder is kept as two (n+4)-bit two's-complement words S + C
    (three integer bits, n+1 fractional). Stage: y = trunc(2S) + trunc(2C) to one fractional bit
    (4-bit add; 2w - 1 < y <= 2w), q = +1 if y >= 0, 0 if y = -1/2, -1 if y <= -1, then
    w <- 2w - q d in one row of full adders (-d = ~D + 1, the +1 in the free LSB of 2C). Invariant
    -d <= w < d. After n+2 stages A 2**(n+1) / B = Q + w/d, so q = Q - [w < 0], and the
    remainder (w or w + d) is nonzero iff w != 0 and w + d != 0.
    """
    design = "srt-divider"
    n = width
    T = n + 4
    net = Netlist(name="srt_divider")
    lg = Logic(net)
    parts = Parts(lg, design, adder=adder)
    parts._part("adder", T, {"a", "b", "cin"}, {"sum", "cout"})  # a bad adder fails before any gate is built
    A, B = _operands(lg, n)
    c0 = lg.c0
    D = [c0] + B + [c0] * (T - n - 1)  # 2B in T bits
    S = A + [c0] * (T - n)
    C = [c0] * T
    pos_bits, neg_bits = [], []
    for j in range(n + 2):
        S2, C2 = [c0] + S[:-1], [c0] + C[:-1]
        y, _ = lg.ripple_add(S2[T - 4:], C2[T - 4:], c0)
        pos = lg.NOT(y[3])
        neg = lg.ANDNOT(y[3], lg.AND(lg.AND(y[0], y[1]), y[2]))
        pos_bits.append(pos)
        neg_bits.append(neg)
        X = [lg.MUX(d, pos, neg) for d in D]  # neg ? D : pos ? ~D : 0
        C2[0] = pos
        S, C = [], [c0]
        for i in range(T):
            s, c = lg.fa(S2[i], C2[i], X[i])
            S.append(s)
            C.append(c)
        C = C[:T]
    W, _ = parts.add(S, C, c0, "remainder_adder")
    sign = W[T - 1]
    P, N = pos_bits[::-1], neg_bits[::-1]
    q, _ = parts.add(P, [lg.NOT(x) for x in N], lg.NOT(sign), "quotient_adder")
    net.output("q", q)
    net.output("sticky", lg.AND(lg.or_tree(W), lg.NOT(lg.sum_is_zero(W, D))))
    return net
