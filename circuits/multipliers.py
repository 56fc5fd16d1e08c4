"""Multipliers. Ports: ``a``, ``b`` (n bits each) -> ``p`` (2n bits), LSB first.

``p = a * b`` for unsigned operands; with ``signed=True`` the operands and the product are two's
complement (``p`` is the 2n-bit two's-complement product, i.e. ``a * b mod 2**(2n)``).

Every design is a partial-product generator, a reduction of the partial-product columns to two
rows, and a final carry-propagate adder that is any *registered* adder design, chosen by name
(``adder="ripple-carry-adder"`` by default) and instanced as a sub-netlist. Reductions are
built from :func:`circuits.adders.full_adder` / :func:`~circuits.adders.half_adder` instances so a
cell library can price them as cells; the radix-4 Booth encoder and selector are named cells too
(``booth_encoder``, ``booth_selector``).

Constant bits are folded while building (a full adder fed a constant 1 becomes an XNOR and an OR,
not a full-adder cell): the netlist holds no gate with a constant input except inside the final
adder instance, which is copied gate for gate from the registered adder.

Signed operands: the Booth design sign-extends the multiplier and its rows; the AND-array designs
use the Baugh-Wooley form (negatively weighted partial-product bits enter complemented, with a
constant correction). Constant corrections are summed into one integer and added as constant-1
bits, folded into the reduction.
"""
from __future__ import annotations

from gatesim.errors import DesignError
from gatesim.netlist import Netlist

from .logic import Columns, Logic, Parts
from .registry import cell, register


# --------------------------------------------------------------------------------------------
# partial-product columns
# --------------------------------------------------------------------------------------------
def _and_rows(lg: Logic, a, b, signed: bool):
    """Partial-product rows ``[(bit, column), ...]`` (row j: a_i & b_j) and a constant to add.

    Signed (Baugh-Wooley): a bit of negative weight x*2**c enters as ~x (a NAND) plus -2**c.
    """
    n = len(a)
    rows, constant = [], 0
    for j in range(n):
        row = []
        for i in range(n):
            if signed and ((i == n - 1) != (j == n - 1)):
                row.append((lg.NAND(a[i], b[j]), i + j))
                constant -= 1 << (i + j)
            else:
                row.append((lg.AND(a[i], b[j]), i + j))
        rows.append(row)
    return rows, constant


def _and_partial_products(lg: Logic, a, b, signed: bool, width: int) -> Columns:
    rows, constant = _and_rows(lg, a, b, signed)
    cols = Columns(lg, width)
    for row in rows:
        for bit, c in row:
            cols.add(bit, c)
    cols.constant += constant
    return cols


@cell
def booth_encoder() -> Netlist:
    """Radix-4 Booth digit d = -2 b[2i+1] + b[2i] + b[2i-1] as (one, two, neg):
    one = b0 ^ bm, two = (b1 ^ b0) & ~one, neg = b1 (2 XOR2, 1 ANDNOT2)."""
    net = Netlist(name="booth_encoder")
    b1, b0, bm = net.input("b1")[0], net.input("b0")[0], net.input("bm")[0]
    one = net.XOR(b0, bm)
    net.output("one", one)
    net.output("two", net.ANDNOT(net.XOR(b1, b0), one))
    net.output("neg", b1)
    return net


@cell
def booth_selector() -> Netlist:
    """One partial-product bit: pp = ((one & a) | (two & a_prev)) ^ neg (AOI22 + XNOR2)."""
    net = Netlist(name="booth_selector")
    one, two, neg, a, ap = (net.input(x)[0] for x in ("one", "two", "neg", "a", "a_prev"))
    net.output("pp", net.XNOR(net.AOI22(one, a, two, ap), neg))
    return net


def _booth_encode(lg: Logic, b1, b0, bm):
    if any(lg.is_const(x) for x in (b1, b0, bm)):
        one = lg.XOR(b0, bm)
        return one, lg.ANDNOT(lg.XOR(b1, b0), one), b1
    o = lg.net.instance(booth_encoder(), lg._name("benc"), b1=b1, b0=b0, bm=bm)
    return o["one"][0], o["two"][0], o["neg"][0]


def _booth_select(lg: Logic, one, two, neg, a, ap, invert=False):
    if invert or any(lg.is_const(x) for x in (one, two, neg, a, ap)):
        nsel = lg.AOI22(one, a, two, ap)
        return lg.XOR(nsel, neg) if invert else lg.XNOR(nsel, neg)
    o = lg.net.instance(booth_selector(), lg._name("bsel"), one=one, two=two, neg=neg, a=a, a_prev=ap)
    return o["pp"][0]


def _booth_partial_products(lg: Logic, a, b, signed: bool, width: int) -> Columns:
    """Radix-4 modified Booth rows: row i = d_i * a * 4**i with d_i in {-2..2}.

    Each row is a w-bit two's-complement number (w = n+1 signed, n+2 unsigned): the selected bits
    XOR neg, plus neg at the row's LSB. Its sign bit enters complemented with the constant
    -2**(w-1) (sign-extension elimination).
    """
    n = len(a)
    c0 = lg.c0
    nbits = n if signed else n + 1  # multiplier bits incl. a zero sign bit when unsigned
    nbits += nbits % 2
    bext = list(b) + [b[-1] if signed else c0] * (nbits - n)
    w = n + 1 if signed else n + 2
    aext = list(a) + [a[-1] if signed else c0] * (w - n)
    cols = Columns(lg, width)
    for i in range(nbits // 2):
        one, two, neg = _booth_encode(lg, bext[2 * i + 1], bext[2 * i], bext[2 * i - 1] if i else c0)
        for j in range(w):
            ap = aext[j - 1] if j else c0
            if j < w - 1:
                cols.add(_booth_select(lg, one, two, neg, aext[j], ap), 2 * i + j)
            else:  # sign bit: add ~s and -2**(2i+w-1)
                cols.add(_booth_select(lg, one, two, neg, aext[j], ap, invert=True), 2 * i + j)
                cols.constant -= 1 << (2 * i + j)
        cols.add(neg, 2 * i)
    return cols


# --------------------------------------------------------------------------------------------
# reductions to two rows
# --------------------------------------------------------------------------------------------
def _wallace(lg: Logic, cols: list[list]) -> list[list]:
    """Wallace tree: every stage compresses each column taller than 2 as much as it can
    (groups of three into full adders, a left-over pair into a half adder)."""
    w = len(cols)
    while max(map(len, cols)) > 2:
        new = [[] for _ in range(w)]
        for i, col in enumerate(cols):
            if len(col) <= 2:
                new[i].extend(col)
                continue
            k = 0
            while len(col) - k >= 3:
                s, c = lg.fa(col[k], col[k + 1], col[k + 2])
                new[i].append(s)
                if i + 1 < w:
                    new[i + 1].append(c)
                k += 3
            if len(col) - k == 2:
                s, c = lg.ha(col[k], col[k + 1])
                new[i].append(s)
                if i + 1 < w:
                    new[i + 1].append(c)
            elif len(col) - k == 1:
                new[i].append(col[k])
        cols = [[x for x in col if x != lg.c0] for col in new]
    return cols


def _dadda(lg: Logic, cols: list[list]) -> list[list]:
    """Dadda tree: stage targets 2, 3, 4, 6, 9, 13, ... and the fewest adders that meet each."""
    w = len(cols)
    h = max(map(len, cols))
    targets = [2]
    while targets[-1] < h:
        targets.append(targets[-1] * 3 // 2)
    for d in reversed(targets[:-1]):
        new = [[] for _ in range(w)]
        carries = [[] for _ in range(w + 1)]
        for i, col in enumerate(cols):
            pool = list(col)
            height = len(pool) + len(carries[i])
            out = []
            while height > d:
                if height - d >= 2 and len(pool) >= 3:
                    s, c = lg.fa(pool.pop(0), pool.pop(0), pool.pop(0))
                    height -= 2
                else:
                    s, c = lg.ha(pool.pop(0), pool.pop(0))
                    height -= 1
                out.append(s)
                carries[i + 1].append(c)
            new[i] = pool + out + carries[i]
        cols = [[x for x in col if x != lg.c0] for col in new]
    return cols


def _array(lg: Logic, rows: list[list[tuple[int, int]]], w: int) -> list[list]:
    """Carry-save array: partial-product rows added one at a time, each row a line of adders
    whose carries move to the next row (the classic array multiplier)."""
    cols = [[] for _ in range(w)]
    for row in rows:
        for bit, c in row:
            if bit != lg.c0 and c < w:
                cols[c].append(bit)
        new = [[] for _ in range(w)]
        for i, col in enumerate(cols):
            if len(col) >= 3:
                s, c = lg.fa(col[0], col[1], col[2])
                new[i].append(s)
                new[i].extend(col[3:])
                if i + 1 < w:
                    new[i + 1].append(c)
            else:
                new[i].extend(col)
        cols = [[x for x in col if x != lg.c0] for col in new]
    return _wallace(lg, cols) if max(map(len, cols)) > 2 else cols


def final_add(parts: Parts, cols: list[list]) -> list:
    """Sum the two rows left by the reduction: the registered adder (role ``adder``) spans the columns
    from the lowest to the highest one holding two bits; the carry out ripples through the
    single-bit columns above in (folded) half adders."""
    lg = parts.lg
    w = len(cols)
    two = [i for i, c in enumerate(cols) if len(c) == 2]
    if not two:
        return [c[0] if c else lg.c0 for c in cols]
    lo, hi = two[0], two[-1] + 1
    out = [c[0] if c else lg.c0 for c in cols[:lo]]
    a = [c[0] if c else lg.c0 for c in cols[lo:hi]]
    b = [c[1] if len(c) > 1 else lg.c0 for c in cols[lo:hi]]
    s, carry = parts.add(a, b, lg.c0, "final_adder")
    out.extend(s)
    for i in range(hi, w):
        x, carry = lg.ha(cols[i][0] if cols[i] else lg.c0, carry)
        out.append(x)
    return out


def multiplier_reference(width: int, signed: bool = False, **_):
    """p = a * b (mod 2**(2n) two's complement when signed)."""
    m = (1 << (2 * width)) - 1
    half = 1 << (width - 1)

    def ref(v):
        a, b = v["a"], v["b"]
        if signed:
            a = (a ^ half) - half
            b = (b ^ half) - half
        return {"p": (a * b) & m}

    return ref


def _check_signed(design, signed):
    if not isinstance(signed, bool):
        raise DesignError(f"{design}: signed must be True or False, got {signed!r}")


def _multiplier(design: str, cname: str, width: int, signed: bool, adder: str, pp, reduce) -> Netlist:
    _check_signed(design, signed)
    net = Netlist(name=cname)
    a, b = net.input("a", width), net.input("b", width)
    lg = Logic(net)
    parts = Parts(lg, design, adder=adder)
    parts._part("adder", 2 * width, {"a", "b", "cin"}, {"sum", "cout"})  # a bad adder fails before any gate is built
    pps = pp(lg, a, b, signed, 2 * width)
    cols = pps.settle() if isinstance(pps, Columns) else pps
    net.output("p", final_add(parts, reduce(lg, cols)))
    return net


@register("booth-wallace-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def booth_wallace_multiplier(width: int, signed: bool = False, adder: str = "ripple-carry-adder") -> Netlist:
    """Radix-4 modified Booth partial products, Wallace-tree reduction, named final adder (the paper's multiplier)."""
    return _multiplier("booth-wallace-multiplier", "booth_wallace_multiplier", width, signed, adder,
                       _booth_partial_products, _wallace)


@register("wallace-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def wallace_multiplier(width: int, signed: bool = False, adder: str = "ripple-carry-adder") -> Netlist:
    """AND-array partial products (Baugh-Wooley when signed), Wallace-tree reduction, named final adder."""
    return _multiplier("wallace-multiplier", "wallace_multiplier", width, signed, adder,
                       _and_partial_products, _wallace)


@register("dadda-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def dadda_multiplier(width: int, signed: bool = False, adder: str = "ripple-carry-adder") -> Netlist:
    """AND-array partial products (Baugh-Wooley when signed), Dadda-tree reduction, named final adder."""
    return _multiplier("dadda-multiplier", "dadda_multiplier", width, signed, adder,
                       _and_partial_products, _dadda)


@register("array-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def array_multiplier(width: int, signed: bool = False, adder: str = "ripple-carry-adder") -> Netlist:
    """Carry-save array multiplier: one row of adders per partial product (Baugh-Wooley when signed), named final adder."""

    def pp_rows(lg, a, b, signed_, w):
        rows, constant = _and_rows(lg, a, b, signed_)
        cols = Columns(lg, w)  # only the constant, as constant-1 bits, ahead of the rows
        cols.constant = constant
        settled = cols.settle()
        first = [(bit, c) for c, col in enumerate(settled) for bit in col]
        return [first] + rows

    def reduce_rows(lg, rows):
        return _array(lg, rows, 2 * width)

    return _multiplier("array-multiplier", "array_multiplier", width, signed, adder, pp_rows, reduce_rows)
