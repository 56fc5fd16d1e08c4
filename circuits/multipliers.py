"""Multipliers. Ports: ``a``, ``b`` (n bits each) -> ``p`` (2n bits), LSB first.

``p = a * b`` for unsigned operands; with ``signed=True`` the operands and the product are two's
complement (``p`` is the 2n-bit two's-complement product, i.e. ``a * b mod 2**(2n)``).

Every design is a partial-product generator, a reduction of the partial-product columns to two
rows, and a final carry-propagate adder that is any *registered* adder design, chosen by name
(``final_adder="ripple-carry-adder"`` by default) and instanced as a sub-netlist. Reductions are
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

import functools

import networkx as nx

from gatesim.errors import DesignError
from gatesim.netlist import Netlist

from . import registry
from .adders import full_adder, half_adder
from .registry import cell, register


# --------------------------------------------------------------------------------------------
# constant-folding gate helper shared by the multiplier, divider and root builders
# --------------------------------------------------------------------------------------------
class _Logic:
    """Gate constructors over ``net`` that fold constant inputs and remember complements.

    ``fa`` / ``ha`` instance the shared ``full_adder`` / ``half_adder`` cells when no input is
    constant, and fold to plain gates otherwise.
    """

    def __init__(self, net: Netlist):
        self.net = net
        self.c0 = net.const(0)
        self.c1 = net.const(1)
        self._comp: dict = {}
        self._n = 0

    def const(self, v) -> int:
        return self.c1 if v else self.c0

    def is_const(self, x) -> bool:
        return x == self.c0 or x == self.c1

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def NOT(self, x):
        if x == self.c0:
            return self.c1
        if x == self.c1:
            return self.c0
        y = self._comp.get(x)
        if y is None:
            y = self.net.NOT(x)
            self._comp[x], self._comp[y] = y, x
        return y

    def AND(self, x, y):
        if x == self.c0 or y == self.c0:
            return self.c0
        if x == self.c1:
            return y
        if y == self.c1 or x == y:
            return x
        if self._comp.get(x) == y:
            return self.c0
        return self.net.AND(x, y)

    def OR(self, x, y):
        if x == self.c1 or y == self.c1:
            return self.c1
        if x == self.c0:
            return y
        if y == self.c0 or x == y:
            return x
        if self._comp.get(x) == y:
            return self.c1
        return self.net.OR(x, y)

    def NAND(self, x, y):
        if self.is_const(x) or self.is_const(y) or x == y:
            return self.NOT(self.AND(x, y))
        return self.net.NAND(x, y)

    def NOR(self, x, y):
        if self.is_const(x) or self.is_const(y) or x == y:
            return self.NOT(self.OR(x, y))
        return self.net.NOR(x, y)

    def ANDNOT(self, x, y):  # x & ~y
        if self.is_const(x) or self.is_const(y) or x == y:
            return self.AND(x, self.NOT(y))
        return self.net.ANDNOT(x, y)

    def XOR(self, x, y):
        if x == self.c0:
            return y
        if y == self.c0:
            return x
        if x == self.c1:
            return self.NOT(y)
        if y == self.c1:
            return self.NOT(x)
        if x == y:
            return self.c0
        if self._comp.get(x) == y:
            return self.c1
        return self.net.XOR(x, y)

    def XNOR(self, x, y):
        if self.is_const(x) or self.is_const(y) or x == y or self._comp.get(x) == y:
            return self.NOT(self.XOR(x, y))
        z = self.net.XNOR(x, y)
        return z

    def MUX(self, s, a, b):
        """``s ? b : a``."""
        if s == self.c0 or a == b:
            return a
        if s == self.c1:
            return b
        if a == self.c0:
            return self.AND(s, b)
        if b == self.c0:
            return self.ANDNOT(a, s)
        if a == self.c1:
            return self.OR(b, self.NOT(s)) if b == self.c1 else self.net.ORNOT(b, s)
        if b == self.c1:
            return self.OR(s, a)
        return self.net.MUX(s, a, b)

    def AOI22(self, a, b, c, d):
        if any(self.is_const(x) for x in (a, b, c, d)):
            return self.NOR(self.AND(a, b), self.AND(c, d))
        return self.net.AOI22(a, b, c, d)

    def ha(self, a, b):
        """(sum, carry) of a + b."""
        if self.is_const(a) or self.is_const(b):
            return self.XOR(a, b), self.AND(a, b)
        o = self.net.instance(half_adder(), self._name("ha"), a=a, b=b)
        return o["sum"][0], o["cout"][0]

    def fa(self, a, b, c):
        """(sum, carry) of a + b + c."""
        xs = [x for x in (a, b, c) if not self.is_const(x)]
        ones = sum(1 for x in (a, b, c) if x == self.c1)
        if len(xs) == 3:
            o = self.net.instance(full_adder(), self._name("fa"), a=a, b=b, cin=c)
            return o["sum"][0], o["cout"][0]
        if len(xs) == 2:
            x, y = xs
            if ones == 0:
                return self.ha(x, y)
            return self.XNOR(x, y), self.OR(x, y)
        if len(xs) == 1:
            x = xs[0]
            return (x, self.c0) if ones == 0 else (self.NOT(x), x) if ones == 1 else (x, self.c1)
        return self.const(ones & 1), self.const(ones >> 1)

    def ripple_add(self, a, b, cin):
        """a + b + cin with folded full adders (equal widths); returns (sum bits, carry out)."""
        out = []
        for x, y in zip(a, b):
            s, cin = self.fa(x, y, cin)
            out.append(s)
        return out, cin

    def or_tree(self, bits):
        bits = [b for b in bits if b != self.c0]
        if not bits:
            return self.c0
        while len(bits) > 1:
            nxt = [self.OR(bits[i], bits[i + 1]) for i in range(0, len(bits) - 1, 2)]
            if len(bits) % 2:
                nxt.append(bits[-1])
            bits = nxt
        return bits[0]

    def and_tree(self, bits):
        return self.NOT(self.or_tree([self.NOT(b) for b in bits])) if len(bits) > 1 else (bits[0] if bits else self.c1)

    def sum_is_zero(self, x, y):
        """1 when x + y == 0 modulo 2**len(x), without a carry chain.

        The sum is zero iff for every bit i: x_i XOR y_i == (x_{i-1} OR y_{i-1}) (and x_0 XOR y_0 == 0).
        """
        z = []
        prev = self.c0
        for xi, yi in zip(x, y):
            z.append(self.XOR(self.XOR(xi, yi), prev))
            prev = self.OR(xi, yi)
        return self.NOT(self.or_tree(z))


# --------------------------------------------------------------------------------------------
# registered sub-designs by name (final adders, multipliers inside other designs)
# --------------------------------------------------------------------------------------------
def _resolve(design: str, role: str, name, kind: str, width: int) -> Netlist:
    """The registered design ``name`` of ``kind`` at ``width`` bits, for use inside ``design``."""
    if not isinstance(name, str):
        raise DesignError(f"{design}: {role} must be a design name, got {name!r}")
    try:
        d = registry.get(name)
    except DesignError as e:
        raise DesignError(f"{design}: {role} {name!r}: {e}") from None
    if d.kind != kind:
        raise DesignError(f"{design}: {role} {name!r} is not a registered {kind} (its kind is {d.kind})")
    try:
        d.check(width, {})
    except DesignError as e:
        raise DesignError(f"{design}: {role} {name!r} cannot be built at {width} bits ({e})") from None
    return _built(name, width, d.builder)


@functools.lru_cache(maxsize=None)
def _built(name: str, width: int, builder) -> Netlist:
    """One shared, frozen build per design, width and builder (a re-registered name builds afresh)."""
    return nx.freeze(registry.build(name, width))


def check_adder(design: str, name, width: int = 8, role: str = "adder") -> None:
    """Raise :class:`DesignError` unless ``name`` is a registered adder with ports a, b, cin -> sum, cout."""
    net = _resolve(design, role, name, "adder", width)
    if set(net.inputs) != {"a", "b", "cin"} or not {"sum", "cout"} <= set(net.outputs):
        raise DesignError(f"{design}: {role} {name!r} lacks the ports a, b, cin -> sum, cout")


def add_with(lg: _Logic, design: str, adder: str, a, b, cin, name: str, role: str = "adder"):
    """a + b + cin on the registered adder ``adder`` (equal widths); returns (sum bits, carry out)."""
    net = _resolve(design, role, adder, "adder", len(a))
    o = lg.net.instance(net, name, a=list(a), b=list(b), cin=cin)
    return o["sum"], o["cout"][0]


def multiply_with(lg: _Logic, design: str, multiplier: str, a, b, name: str):
    """a * b (unsigned, equal widths) on the registered multiplier ``multiplier``; returns 2n bits."""
    net = _resolve(design, "multiplier", multiplier, "multiplier", len(a))
    o = lg.net.instance(net, name, a=list(a), b=list(b))
    return o["p"]


# --------------------------------------------------------------------------------------------
# partial-product columns
# --------------------------------------------------------------------------------------------
class _Columns:
    """Bits by weight: ``cols[i]`` holds nets of weight 2**i (i < width; heavier bits are dropped,
    the arithmetic is modulo 2**width), plus an integer constant added at the end."""

    def __init__(self, lg: _Logic, width: int):
        self.lg = lg
        self.width = width
        self.cols = [[] for _ in range(width)]
        self.constant = 0

    def add(self, bit, col: int) -> None:
        """Add ``bit * 2**col`` (constants go to the integer constant, zeros and heavy bits vanish)."""
        if col >= self.width:
            return
        if bit == self.lg.c1:
            self.constant += 1 << col
        elif bit != self.lg.c0:
            self.cols[col].append(bit)

    def settle(self) -> list[list]:
        """Fold the constant in as constant-1 bits; return the columns."""
        k = self.constant % (1 << self.width)
        for i in range(self.width):
            if k >> i & 1:
                self.cols[i].append(self.lg.c1)
        self.constant = 0
        return self.cols


def _and_rows(lg: _Logic, a, b, signed: bool):
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


def _and_partial_products(lg: _Logic, a, b, signed: bool, width: int) -> _Columns:
    rows, constant = _and_rows(lg, a, b, signed)
    cols = _Columns(lg, width)
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


def _booth_encode(lg: _Logic, b1, b0, bm):
    if any(lg.is_const(x) for x in (b1, b0, bm)):
        one = lg.XOR(b0, bm)
        return one, lg.ANDNOT(lg.XOR(b1, b0), one), b1
    o = lg.net.instance(booth_encoder(), lg._name("benc"), b1=b1, b0=b0, bm=bm)
    return o["one"][0], o["two"][0], o["neg"][0]


def _booth_select(lg: _Logic, one, two, neg, a, ap, invert=False):
    if invert or any(lg.is_const(x) for x in (one, two, neg, a, ap)):
        nsel = lg.AOI22(one, a, two, ap)
        return lg.XOR(nsel, neg) if invert else lg.XNOR(nsel, neg)
    o = lg.net.instance(booth_selector(), lg._name("bsel"), one=one, two=two, neg=neg, a=a, a_prev=ap)
    return o["pp"][0]


def _booth_partial_products(lg: _Logic, a, b, signed: bool, width: int) -> _Columns:
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
    cols = _Columns(lg, width)
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
def _wallace(lg: _Logic, cols: list[list]) -> list[list]:
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


def _dadda(lg: _Logic, cols: list[list]) -> list[list]:
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


def _array(lg: _Logic, rows: list[list[tuple[int, int]]], w: int) -> list[list]:
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


def _final_add(lg: _Logic, design: str, cols: list[list], final_adder: str, role: str = "final_adder") -> list:
    """Sum the two rows left by the reduction: the registered adder ``final_adder`` spans the columns
    from the lowest to the highest one holding two bits; the carry out ripples through the
    single-bit columns above in (folded) half adders."""
    w = len(cols)
    two = [i for i, c in enumerate(cols) if len(c) == 2]
    if not two:
        return [c[0] if c else lg.c0 for c in cols]
    lo, hi = two[0], two[-1] + 1
    out = [c[0] if c else lg.c0 for c in cols[:lo]]
    a = [c[0] if c else lg.c0 for c in cols[lo:hi]]
    b = [c[1] if len(c) > 1 else lg.c0 for c in cols[lo:hi]]
    s, carry = add_with(lg, design, final_adder, a, b, lg.c0, "final_adder", role=role)
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


def _multiplier(design: str, cname: str, width: int, signed: bool, final_adder: str, pp, reduce) -> Netlist:
    _check_signed(design, signed)
    check_adder(design, final_adder, 2 * width, role="final_adder")
    net = Netlist(name=cname)
    a, b = net.input("a", width), net.input("b", width)
    lg = _Logic(net)
    pps = pp(lg, a, b, signed, 2 * width)
    cols = pps.settle() if isinstance(pps, _Columns) else pps
    net.output("p", _final_add(lg, design, reduce(lg, cols), final_adder))
    return net


@register("booth-wallace-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def booth_wallace_multiplier(width: int, signed: bool = False, final_adder: str = "ripple-carry-adder") -> Netlist:
    """Radix-4 modified Booth partial products, Wallace-tree reduction, named final adder (the paper's multiplier)."""
    return _multiplier("booth-wallace-multiplier", "booth_wallace_multiplier", width, signed, final_adder,
                       _booth_partial_products, _wallace)


@register("wallace-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def wallace_multiplier(width: int, signed: bool = False, final_adder: str = "ripple-carry-adder") -> Netlist:
    """AND-array partial products (Baugh-Wooley when signed), Wallace-tree reduction, named final adder."""
    return _multiplier("wallace-multiplier", "wallace_multiplier", width, signed, final_adder,
                       _and_partial_products, _wallace)


@register("dadda-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def dadda_multiplier(width: int, signed: bool = False, final_adder: str = "ripple-carry-adder") -> Netlist:
    """AND-array partial products (Baugh-Wooley when signed), Dadda-tree reduction, named final adder."""
    return _multiplier("dadda-multiplier", "dadda_multiplier", width, signed, final_adder,
                       _and_partial_products, _dadda)


@register("array-multiplier", kind="multiplier", reference=multiplier_reference, min_width=2, max_width=64)
def array_multiplier(width: int, signed: bool = False, final_adder: str = "ripple-carry-adder") -> Netlist:
    """Carry-save array multiplier: one row of adders per partial product (Baugh-Wooley when signed), named final adder."""

    def pp_rows(lg, a, b, signed_, w):
        rows, constant = _and_rows(lg, a, b, signed_)
        cols = _Columns(lg, w)  # only the constant, as constant-1 bits, ahead of the rows
        cols.constant = constant
        settled = cols.settle()
        first = [(bit, c) for c, col in enumerate(settled) for bit in col]
        return [first] + rows

    def reduce_rows(lg, rows):
        return _array(lg, rows, 2 * width)

    return _multiplier("array-multiplier", "array_multiplier", width, signed, final_adder, pp_rows, reduce_rows)
