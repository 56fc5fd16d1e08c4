"""The ``ieee`` table mode: every operation priced as the complete unit that performs it.

On a floating-point format each operation is the registered IEEE 754 unit of :mod:`circuits.floating`
(round to nearest even, subnormals kept, NaN/infinity handling and exception flags), built of the
selected designs for every role it has and optimized (:func:`gatesim.optimize`) before it is counted:

=========  =====================================  ==========================================================
operation  floating-point format                  integer format (w bits, two's complement)
=========  =====================================  ==========================================================
add        ``fp-adder``                           adder, carry in 0; the w-bit sum
sub        ``fp-adder`` with b's sign bit         adder on a and NOT b, carry in 1
           inverted (the inverter is counted)
mul        ``fp-multiplier``                      signed w x w multiplier, the 2w-bit product (a widening
                                                  multiply, as a MAC array uses)
div        ``fp-divider``                         none
root       ``fp-sqrt``                            none
compare    ``fp-compare`` (lt, eq, unordered,     comparator on a and b with their sign bits inverted
           minimumNumber, maximumNumber)          (signed order)
fma        ``fp-fma`` (a * b + c, one rounding)   none
=========  =====================================  ==========================================================

Switching activity draws uniformly random finite values of the format for every packed operand (see
:func:`gatesim.tables.build_entry`), non-negative ones for a square root.

A unit takes one design per role and passes it down to every part inside; the selection's per-role
parameters go with it to every part of that role at any depth (``--param multiplier.adder=kogge-stone-adder``:
the significand multiplier and the square root's Newton-Raphson multipliers get Kogge-Stone final adders,
while the unit's own adders stay ripple-carry); a parameter the role's design lacks is an error.
Integer composites take them as the paper mode does.
"""
from __future__ import annotations

from dataclasses import replace

import circuits

from .formats import NumberFormat
from .tables import Composite, DesignSelection, TableError, register_mode

#: operation -> the floating-point unit performing it
UNITS = {"add": "fp-adder", "sub": "fp-adder", "mul": "fp-multiplier", "div": "fp-divider", "root": "fp-sqrt",
         "compare": "fp-compare", "fma": "fp-fma"}
_LZ = ("shifter", "leading_zero_counter")
#: operation -> the roles its unit (and the integer composite) is built from
IEEE_ROLES = {
    "add": ("adder", "comparator", *_LZ), "sub": ("adder", "comparator", *_LZ),
    "mul": ("multiplier", "adder", *_LZ), "fma": ("multiplier", "adder", *_LZ),
    "div": ("divider", "adder", *_LZ), "root": ("root", "multiplier", "adder", *_LZ), "compare": ("comparator",),
}


def unit_choices(unit: str, sel: DesignSelection) -> dict[str, str]:
    """The selection's design for every role ``unit`` takes (the per-role parameters reach the parts through
    :func:`circuits.registry.role_parameters`, which :func:`gatesim.tables.build_entry` sets)."""
    return {r: getattr(sel, r) for r in circuits.get(unit).roles}


@register_mode("ieee", roles=IEEE_ROLES)
def ieee_operation(op: str, fmt: NumberFormat, sel: DesignSelection) -> Composite | None:
    """The complete unit for ``op`` on ``fmt`` (see the module docstring); None where there is none."""
    if op not in UNITS:
        raise TableError(f"unknown operation {op!r} (operations: {', '.join(UNITS)})")
    c = _float_operation(op, fmt, sel) if fmt.is_float else _integer_operation(op, fmt, sel)
    if c is not None:
        c.optimized = True
    return c


def _float_operation(op: str, fmt: NumberFormat, sel: DesignSelection) -> Composite:
    unit = UNITS[op]
    built = circuits.build(unit, format=fmt, **unit_choices(unit, sel))
    c = Composite(f"{fmt.name}_{op}")
    ports = {p: c.operand(p, len(bits), fmt=fmt, nonnegative=op == "root") for p, bits in built.inputs.items()}
    if op == "sub":  # a - b = a + (-b) in every rounding mode, for NaNs, infinities and zeros
        b = ports["b"]
        ports["b"] = b[:-1] + [c.net.NOT(b[-1])]
    c.components["unit"] = {"design": unit, "width": fmt.bits, **built.graph["params"]}
    return c.finish(**c.net.instance(built, "unit", **ports))


def _integer_operation(op: str, fmt: NumberFormat, sel: DesignSelection) -> Composite | None:
    w = fmt.bits
    c = Composite(f"{fmt.name}_{op}")
    net = c.net
    a, b = c.operand("a", w), c.operand("b", w)
    if op in ("add", "sub"):
        if op == "sub":
            b = [net.NOT(x) for x in b]
        o = c.component("adder", sel, "adder", w, a=a, b=b, cin=net.const(op == "sub"))
        return c.finish(sum=o["sum"])
    if op == "mul":
        name, params = sel.design("multiplier")
        if "signed" in circuits.get(name).params:
            sel = replace(sel, params={**sel.params, "multiplier": {**params, "signed": True}})
        return c.finish(**c.component("multiplier", sel, "multiplier", w, a=a, b=b))
    if op == "compare":  # inverting both sign bits turns two's complement order into unsigned order
        a, b = a[:-1] + [net.NOT(a[-1])], b[:-1] + [net.NOT(b[-1])]
        return c.finish(**c.component("comparator", sel, "comparator", w, a=a, b=b))
    return None
