"""Exceptions raised by gatesim. Each message is one line that names the problem."""


class GatesimError(Exception):
    """Base class of every error gatesim raises on bad input."""


class NetlistError(GatesimError, ValueError):
    """A netlist is malformed: a loop, an undriven or multiply-driven net, a wrong arity, an unknown gate."""


class LibraryError(GatesimError, ValueError):
    """A cell library is unreadable, malformed, or cannot price a gate."""


class DesignError(GatesimError, ValueError):
    """A circuit design is unknown or was given bad parameters."""


class SimulationError(GatesimError, ValueError):
    """Simulation inputs do not fit the netlist's ports."""
