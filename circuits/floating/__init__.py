"""IEEE 754 floating-point units as gate netlists, for any format (see :mod:`gatesim.formats`).

Every unit is registered with ``sized_by="format"``: ``circuits.build("fp-adder", format="fp32")``.

Ports (packed bit patterns, bit 0 = LSB; N = the format's storage bits):

==================  =====================================  ==============================================
unit                inputs                                 outputs
==================  =====================================  ==============================================
``fp-adder``        ``a``, ``b`` (N)                       ``y`` = a + b (N), ``flags`` (5)
``fp-multiplier``   ``a``, ``b`` (N)                       ``y`` = a * b, ``flags``
``fp-fma``          ``a``, ``b``, ``c`` (N)                ``y`` = a * b + c, one rounding, ``flags``
``fp-divider``      ``a``, ``b`` (N)                       ``y`` = a / b, ``flags``
``fp-sqrt``         ``a`` (N)                              ``y`` = sqrt(a), ``flags``
``fp-compare``      ``a``, ``b`` (N)                       ``lt``, ``eq``, ``unordered`` (1 each), ``min``,
                                                           ``max`` (N), ``flags``
``fp-convert``      ``a`` (source format's bits)           ``y`` (target format's bits), ``flags``
==================  =====================================  ==============================================

``flags``: bit 0 inexact, 1 underflow, 2 overflow, 3 divide by zero, 4 invalid (RISC-V ``fflags``).

Parameters: ``format``; ``rounding`` (``rne`` default, ``rtz``, ``rdn``, ``rup``, ``rmm``); ``ftz``
(flush subnormal inputs and tiny results to zeros of their sign); and the registered designs the unit
is built of, by role: ``adder``, ``multiplier``, ``divider``, ``root``, ``comparator``, ``shifter``,
``leading_zero_counter`` (passed down to every nested design that takes them).
"""
from . import adder, compare, convert, divider, multiplier  # noqa: F401  (importing registers the units)
from .spec import FLAGS, ROUNDINGS, FloatSpec

__all__ = ["FLAGS", "ROUNDINGS", "FloatSpec"]
