"""Designs by name: a builder (``width, **params -> Netlist``) and a Python-integer reference.

Register your own design with the decorator::

    import circuits
    from gatesim import Netlist

    def my_reference(width):
        def ref(v):                       # v: input port -> array of Python ints
            s = v["a"] + v["b"] + v["cin"]
            return {"sum": s & ((1 << width) - 1), "cout": s >> width}
        return ref

    @circuits.register("my-adder", kind="adder", reference=my_reference, description="...")
    def my_adder(width: int) -> Netlist:
        ...

From the command line, designs in another package are found through the entry-point group
``gatesim.circuits`` (each entry point names a module to import), or with ``gatesim --plugin MODULE``.
"""
from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Callable

import networkx as nx

from gatesim.cells import register_cell
from gatesim.errors import DesignError, GatesimError
from gatesim.netlist import Netlist, gc_paused

Reference = Callable[[dict], dict]
MAX_WIDTH = 4096  # bits: the widest operand any design is built for unless it says otherwise


@dataclass(frozen=True)
class Design:
    """A registered circuit design."""

    name: str
    builder: Callable[..., Netlist]
    reference: Callable[..., Reference] | None
    kind: str
    description: str = ""
    min_width: int = 1
    max_width: int | None = None
    params: dict = field(default_factory=dict)  # extra parameter -> default

    def check(self, width: int, params: dict) -> None:
        if isinstance(width, bool) or not isinstance(width, int):
            raise DesignError(f"{self.name}: width must be an integer, got {width!r}")
        top = self.max_width if self.max_width is not None else MAX_WIDTH
        if width < self.min_width or width > top:
            hi = f"..{top}"
            raise DesignError(f"{self.name}: width {width} is out of range (allowed: {self.min_width}{hi})")
        unknown = [p for p in params if p not in self.params]
        if unknown:
            allowed = ", ".join(self.params) or "none"
            raise DesignError(f"{self.name}: unknown parameter {unknown[0]!r} (allowed: {allowed})")


_REGISTRY: dict[str, Design] = {}
_plugins_loaded = False


def register(name: str, *, kind: str, reference=None, description: str = "", min_width: int = 1, max_width=None):
    """Decorator registering ``builder(width, **params) -> Netlist`` under ``name``."""

    def deco(builder):
        sig = inspect.signature(builder)
        params = {
            p.name: p.default
            for p in list(sig.parameters.values())[1:]
            if p.default is not inspect.Parameter.empty
        }
        doc = description or (inspect.getdoc(builder) or "").split("\n")[0]
        _REGISTRY[name] = Design(name, builder, reference, kind, doc, min_width, max_width, params)
        return builder

    return deco


def load_plugins(modules: tuple[str, ...] = ()) -> None:
    """Import designs from the ``gatesim.circuits`` entry points and the given modules."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        for ep in entry_points(group="gatesim.circuits"):
            try:
                ep.load()
            except Exception as e:  # a broken plugin must not hide the built-ins
                raise DesignError(f"cannot load circuit plugin {ep.name!r} ({ep.value}): {e}") from None
    for m in modules:
        try:
            importlib.import_module(m)
        except Exception as e:  # ImportError, SyntaxError, or anything its body raises
            detail = str(e).splitlines()[0] if str(e) else ""
            raise DesignError(f"cannot import circuit plugin module {m!r}: {type(e).__name__}: {detail}") from None


def get(name: str) -> Design:
    """The design registered as ``name``."""
    load_plugins()
    d = _REGISTRY.get(name)
    if d is None:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DesignError(f"unknown design {name!r}{hint} (see `gatesim circuits`)")
    return d


def designs() -> list[Design]:
    """Every registered design, by kind then name."""
    load_plugins()
    return sorted(_REGISTRY.values(), key=lambda d: (d.kind, d.name))


def build(name: str, width: int, **params) -> Netlist:
    """Build the netlist of design ``name`` at ``width`` bits."""
    d = get(name)
    d.check(width, params)
    try:
        with gc_paused():
            net = d.builder(width, **params)
    except GatesimError:
        raise
    except (TypeError, ValueError) as e:  # e.g. a parameter of the wrong type reaching a user's builder
        raise DesignError(f"{name}: cannot build at width {width} with {params}: {type(e).__name__}: {e}") from None
    if not isinstance(net, Netlist):
        raise DesignError(f"{name}: the builder returned {type(net).__name__}, not a gatesim Netlist")
    net.graph["design"] = name
    net.graph["params"] = {"width": width, **params}
    return net


def reference(name: str, width: int, **params) -> Reference:
    """The Python-integer reference function of design ``name`` at ``width`` bits."""
    d = get(name)
    d.check(width, params)
    if d.reference is None:
        raise DesignError(f"design {name!r} has no reference model to verify against")
    return d.reference(width, **params)


def cell(builder):
    """Decorator for sub-netlist builders: one shared, frozen netlist per argument tuple.

    Circuits instantiate the same cell many times (a full adder per bit); building and compiling it
    once is enough, and freezing (``networkx.freeze``) stops anyone editing the shared copy.
    """

    @functools.lru_cache(maxsize=None)
    @functools.wraps(builder)
    def cached(*args):
        return nx.freeze(builder(*args))

    if all(p.default is not inspect.Parameter.empty for p in inspect.signature(builder).parameters.values()):
        register_cell(cached)  # known by its function: gatesim.optimize may re-tag a reduced instance as it
    return cached
