"""Logic helpers every circuit family shares.

* :class:`Logic` -- gate constructors over a netlist that fold constant inputs and remember
  complements, plus bus helpers (multiplexers, OR/AND trees, zero tests, constants).
* :class:`Columns` -- bits by weight, for partial-product and squarer reductions.
* :class:`Parts` -- the registered designs a circuit is composed of, instanced by *role* (adder,
  multiplier, divider, root, comparator, shifter, leading-zero counter): each is built by
  :func:`circuits.registry.build_role`, which passes the circuit's role choices down to it.

Buses are lists of nets, least significant bit first.
"""
from __future__ import annotations

from gatesim.errors import DesignError
from gatesim.netlist import Netlist

from . import registry


class Logic:
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

    def const_bus(self, value: int, width: int) -> list:
        """``value`` as ``width`` constant bits (two's complement for negative values)."""
        return [self.const(value >> i & 1) for i in range(width)]

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

    def ORNOT(self, x, y):  # x | ~y
        if self.is_const(x) or self.is_const(y) or x == y:
            return self.OR(x, self.NOT(y))
        return self.net.ORNOT(x, y)

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

    # -- buses -------------------------------------------------------------------------------
    def mux_bus(self, s, a, b) -> list:
        """``s ? b : a`` bit by bit (equal widths)."""
        return [self.MUX(s, x, y) for x, y in zip(a, b, strict=True)]

    def and_bus(self, s, a) -> list:
        """Every bit of ``a`` AND ``s``."""
        return [self.AND(s, x) for x in a]

    def not_bus(self, a) -> list:
        return [self.NOT(x) for x in a]

    def xor_bus(self, s, a) -> list:
        """Every bit of ``a`` XOR ``s`` (conditional complement)."""
        return [self.XOR(s, x) for x in a]

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
        bits = [b for b in bits if b != self.c1]
        if not bits:
            return self.c1
        while len(bits) > 1:
            nxt = [self.AND(bits[i], bits[i + 1]) for i in range(0, len(bits) - 1, 2)]
            if len(bits) % 2:
                nxt.append(bits[-1])
            bits = nxt
        return bits[0]

    def is_zero(self, bits):
        """1 when every bit is 0."""
        return self.NOT(self.or_tree(bits))

    def equals(self, bits, value: int):
        """1 when the bus holds the constant ``value`` (taken modulo 2**len(bits))."""
        return self.and_tree([b if value >> i & 1 else self.NOT(b) for i, b in enumerate(bits)])

    def extend(self, bits, width: int, signed: bool = False) -> list:
        """``bits`` zero- (or sign-) extended, or truncated, to ``width`` bits."""
        fill = bits[-1] if signed else self.c0
        return (list(bits) + [fill] * width)[:width]

    # -- adders cells ----------------------------------------------------------------------------
    def ha(self, a, b):
        """(sum, carry) of a + b."""
        from .adders import half_adder

        if self.is_const(a) or self.is_const(b):
            return self.XOR(a, b), self.AND(a, b)
        o = self.net.instance(half_adder(), self._name("ha"), a=a, b=b)
        return o["sum"][0], o["cout"][0]

    def fa(self, a, b, c):
        """(sum, carry) of a + b + c."""
        from .adders import full_adder

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


class Columns:
    """Bits by weight: ``cols[i]`` holds nets of weight 2**i (i < width; heavier bits are dropped,
    the arithmetic is modulo 2**width), plus an integer constant added at the end."""

    def __init__(self, lg: Logic, width: int):
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


class Parts:
    """The registered designs inside one circuit under construction, instanced by role.

    ``design`` names the circuit (for error messages); ``choices`` maps roles to design names --
    the circuit's own role parameters (``adder=..., multiplier=...``). Every part is built by
    :func:`circuits.registry.build_role`, so a choice reaches every nested design that takes it.
    Operands narrower than the part are zero-extended where a method says so.
    """

    def __init__(self, lg: Logic, design: str, **choices):
        self.lg = lg
        self.design = design
        self.choices = {r: v for r, v in choices.items() if r in registry.ROLES}

    def _part(self, role: str, width: int, inputs: set, outputs: set, **params) -> Netlist:
        if role not in self.choices:
            raise DesignError(f"{self.design}: needs a {role.replace('_', ' ')} but takes no {role!r} parameter")
        net = registry.build_role(self.design, role, self.choices, width, **params)
        if set(net.inputs) != inputs or not outputs <= set(net.outputs):
            raise DesignError(f"{self.design}: {role} {self.choices[role]!r} lacks the ports "
                              f"{', '.join(sorted(inputs))} -> {', '.join(sorted(outputs))}")
        return net

    def add(self, a, b, cin, name: str):
        """a + b + cin on the adder (equal widths); returns (sum bits, carry out)."""
        net = self._part("adder", len(a), {"a", "b", "cin"}, {"sum", "cout"})
        o = self.lg.net.instance(net, name, a=list(a), b=list(b), cin=cin)
        return o["sum"], o["cout"][0]

    def subtract(self, a, b, name: str):
        """a - b (``b`` zero-extended to ``len(a)``) as a + ~b + 1; returns (difference mod 2**n, no-borrow bit)."""
        lg = self.lg
        return self.add(a, lg.not_bus(lg.extend(b, len(a))), lg.c1, name)

    def increment(self, a, inc, name: str):
        """a + inc (one bit) on the adder; returns (sum bits, carry out)."""
        return self.add(a, [self.lg.c0] * len(a), inc, name)

    def multiply(self, a, b, name: str) -> list:
        """a * b (unsigned, equal widths) on the multiplier; returns 2n bits."""
        net = self._part("multiplier", len(a), {"a", "b"}, {"p"})
        return self.lg.net.instance(net, name, a=list(a), b=list(b))["p"]

    def divide(self, a, b, name: str):
        """(q, sticky) of the divider on normalized n-bit significands (see :mod:`circuits.dividers`)."""
        net = self._part("divider", len(a), {"a", "b"}, {"q", "sticky"})
        o = self.lg.net.instance(net, name, a=list(a), b=list(b))
        return o["q"], o["sticky"][0]

    def root(self, a, name: str, odd=None):
        """(r, sticky) of the root on an n-bit significand (see :mod:`circuits.roots`); ``odd`` (a net)
        picks the exponent parity at run time (the root's ``odd_input`` option)."""
        if odd is None:
            net = self._part("root", len(a), {"a"}, {"r", "sticky"})
            o = self.lg.net.instance(net, name, a=list(a))
        else:
            net = self._part("root", len(a), {"a", "odd"}, {"r", "sticky"}, odd_input=True)
            o = self.lg.net.instance(net, name, a=list(a), odd=odd)
        return o["r"], o["sticky"][0]

    def compare(self, a, b, name: str):
        """(lt, eq, gt) of the unsigned comparator."""
        net = self._part("comparator", len(a), {"a", "b"}, {"lt", "eq", "gt"})
        o = self.lg.net.instance(net, name, a=list(a), b=list(b))
        return o["lt"][0], o["eq"][0], o["gt"][0]

    def shift(self, a, amount, direction: str, name: str):
        """``a`` shifted right or left by ``amount`` (an unsigned bus, any width: amounts beyond the
        shifter's port saturate to a shift out of every bit); returns (bits, sticky) where sticky is
        the OR of the bits shifted out."""
        lg = self.lg
        n = len(a)
        k = n.bit_length()
        net = self._part("shifter", n, {"a", "shift"}, {"y", "sticky"}, direction=direction)
        amount = list(amount)
        if len(amount) > k:
            over = lg.or_tree(amount[k:])
            amount = [lg.OR(x, over) for x in amount[:k]]
        o = lg.net.instance(net, name, a=list(a), shift=lg.extend(amount, k))
        return o["y"], o["sticky"][0]

    def leading_zeros(self, a, name: str):
        """(count, zero): leading zeros of ``a`` counted from its top bit (``len(a)`` when a = 0, in
        ``len(a).bit_length()`` bits) and the all-zero flag."""
        net = self._part("leading_zero_counter", len(a), {"a"}, {"count", "zero"})
        o = self.lg.net.instance(net, name, a=list(a))
        return o["count"], o["zero"][0]
