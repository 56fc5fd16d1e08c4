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

**Sizes.** An integer design is sized by a ``width`` in bits; a floating-point unit by a number
``format`` (``register(..., sized_by="format")``, builder ``(format: NumberFormat, **params)``):
``build("fp-adder", format="fp32")``.

**Roles.** A design composed of other registered designs names each by the *role* it fills, and
the parameter carrying the choice is named after the role everywhere: ``adder``, ``multiplier``,
``divider``, ``root``, ``comparator``, ``shifter``, ``leading_zero_counter`` (:data:`ROLES`). A
composite builds its parts with :func:`build_role`, which passes down to each part every role
choice the part accepts as a parameter: ``build("fp-fma", format="fp32", adder="kogge-stone-adder")``
puts Kogge-Stone adders in the FMA *and* in its multiplier's final adder.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

import networkx as nx

from gatesim.cells import register_cell
from gatesim.errors import DesignError, GatesimError, did_you_mean
from gatesim.formats import FormatError, NumberFormat, parse_format
from gatesim.hdl.importing import is_spec
from gatesim.netlist import Netlist, gc_paused

Reference = Callable[[dict], dict]
MAX_WIDTH = 4096  # bits: the widest operand any design is built for unless it says otherwise

#: role -> registry kinds a design must have to fill it; a parameter choosing the design for a role
#: carries the role's name in every design.
ROLES: dict[str, tuple[str, ...]] = {
    "adder": ("adder",),
    "multiplier": ("multiplier",),
    "divider": ("divider",),
    "root": ("sqrt", "root"),
    "comparator": ("comparator",),
    "shifter": ("shifter",),
    "leading_zero_counter": ("leading-zero-counter",),
}

#: the design each role gets unless the caller chooses (the paper's ALU; shifter and counter: the usual ones)
DEFAULT_DESIGNS: dict[str, str] = {
    "adder": "ripple-carry-adder",
    "multiplier": "booth-wallace-multiplier",
    "divider": "srt-divider",
    "root": "newton-raphson-sqrt",
    "comparator": "magnitude-comparator",
    "shifter": "logarithmic-shifter",
    "leading_zero_counter": "tree-leading-zero-counter",
}


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
    sized_by: str = "width"  # "width" (bits) or "format" (a NumberFormat)
    vectors: Callable | None = None  # (size, **params) -> test vectors for verify (see gatesim.verify.Stimulus)
    decode: Callable | None = None  # (size, **params) -> (port, value) -> readable text

    @property
    def roles(self) -> tuple[str, ...]:
        """The parameters that choose a registered design for a role."""
        return tuple(p for p in self.params if p in ROLES)

    def size(self, width, params: dict):
        """The design's size from ``build``'s arguments: an int width, or the NumberFormat of a
        format-sized design (given as ``format=...`` or in place of the width); pops ``format``."""
        if self.sized_by == "format":
            fmt = params.pop("format", None)
            if fmt is None:
                if width is None:
                    raise DesignError(f"{self.name}: give a number format (format=\"fp32\", ...)")
                if isinstance(width, int):
                    raise DesignError(f"{self.name} is sized by a number format (format=...), not a width")
                fmt = width
            elif width is not None:
                raise DesignError(f"{self.name}: give a format or a width, not both")
            try:
                return parse_format(fmt)
            except FormatError as e:
                raise DesignError(f"{self.name}: {e}") from None
        if "format" in params and "format" not in self.params:
            raise DesignError(f"{self.name} is sized by a width in bits, not a number format")
        if width is None:
            if self.kind == "imported":  # its file gives it
                return self.min_width
            raise DesignError(f"{self.name}: give a width in bits")
        return width

    def model_params(self, params: dict) -> dict:
        """What a format-sized design's reference, vectors and decoder get: every parameter, defaults
        filled in (a width design's hooks get the given parameters only, as they always have)."""
        return {**self.params, **params} if self.sized_by == "format" else dict(params)

    def check(self, width, params: dict) -> None:
        unknown = [p for p in params if p not in self.params]
        if self.sized_by == "format":
            if not isinstance(width, NumberFormat):
                raise DesignError(f"{self.name}: expected a number format, got {width!r}")
            if unknown:
                allowed = ", ".join(self.params) or "none"
                raise DesignError(f"{self.name}: unknown parameter {unknown[0]!r} (allowed: {allowed})")
            return
        if isinstance(width, bool) or not isinstance(width, int):
            raise DesignError(f"{self.name}: width must be an integer, got {width!r}")
        top = self.max_width if self.max_width is not None else MAX_WIDTH
        if self.kind == "imported" and width != top:
            raise DesignError(f"{self.name} is {top} bits wide; it cannot be built at width {width}")
        if width < self.min_width or width > top:
            hi = f"..{top}"
            raise DesignError(f"{self.name}: width {width} is out of range (allowed: {self.min_width}{hi})")
        unknown = [p for p in params if p not in self.params]
        if unknown:
            allowed = ", ".join(self.params) or "none"
            hint = did_you_mean(unknown[0], self.params)
            raise DesignError(f"{self.name}: unknown parameter {unknown[0]!r}{hint} (allowed: {allowed})")


_REGISTRY: dict[str, Design] = {}
_plugins_loaded = False


def register(name: str, *, kind: str, reference=None, description: str = "", min_width: int = 1, max_width=None,
             sized_by: str = "width", vectors=None, decode=None):
    """Decorator registering ``builder(width, **params) -> Netlist`` under ``name``
    (``builder(format, **params)`` with ``sized_by="format"``).

    ``reference(size, **params)`` returns the Python-integer model verify compares with;
    ``vectors(size, **params)`` optionally returns the :class:`gatesim.verify.Stimulus` verify draws
    from (default: edge cases and uniformly random bits); ``decode(size, **params)`` optionally
    returns ``(port, value) -> str`` for printing values (a float's value, say).
    """
    if sized_by not in ("width", "format"):
        raise DesignError(f"register {name!r}: sized_by must be 'width' or 'format', got {sized_by!r}")

    def deco(builder):
        sig = inspect.signature(builder)
        params = {
            p.name: p.default
            for p in list(sig.parameters.values())[1:]
            if p.default is not inspect.Parameter.empty
        }
        doc = description or (inspect.getdoc(builder) or "").split("\n")[0]
        _REGISTRY[name] = Design(name, builder, reference, kind, doc, min_width, max_width, params, sized_by,
                                 vectors, decode)
        return builder

    return deco


def load_plugins(modules: tuple[str, ...] = ()) -> None:
    """Import designs from the ``gatesim.circuits`` entry points and the given modules (importable names, or
    paths of ``.py`` files)."""
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
            _import_plugin(m)
        except DesignError:
            raise
        except Exception as e:  # ImportError, SyntaxError, or anything its body raises
            detail = str(e).splitlines()[0] if str(e) else ""
            hint = ""
            if isinstance(e, ModuleNotFoundError) and e.name == m and Path(f"{m}.py").is_file():
                hint = f" (a file here: give its path, --plugin ./{m}.py)"
            raise DesignError(f"cannot import circuit plugin module {m!r}: {type(e).__name__}: {detail}{hint}") from None


def _import_plugin(spec: str) -> None:
    """Import a plugin by module name, or from a ``.py`` file path (once per file)."""
    import sys

    if not spec.endswith(".py"):
        importlib.import_module(spec)
        return
    path = Path(spec).expanduser().resolve()
    if not path.is_file():
        raise DesignError(f"cannot import circuit plugin file {spec!r}: no such file")
    name = f"gatesim_plugin_{path.stem}_{abs(hash(str(path))):x}"
    if name in sys.modules:
        return
    loader_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def get(name: str, kinds: tuple[str, ...] = ()) -> Design:
    """The design registered as ``name``. An unknown name fails naming the closest registered ones
    (of ``kinds`` first, when given)."""
    load_plugins()
    d = _REGISTRY.get(name)
    if d is None and is_spec(name):
        return _imported(name)
    if d is None:
        pool = [n for n, x in _REGISTRY.items() if x.kind in kinds] if kinds else []
        hint = did_you_mean(name, pool) or did_you_mean(name, _REGISTRY)
        raise DesignError(f"unknown design {name!r}{hint} (see `gatesim circuits`)")
    return d


def _imported(spec: str) -> Design:
    """The design a file spec names (``verilog:PATH[:TOP]``, ``json:PATH[:TOP]``, ``blif:PATH[:TOP]``), built at
    the width its file gives it (its widest input port); one Design per spec and file content (see
    :mod:`gatesim.hdl.importing`)."""
    from gatesim.hdl.importing import design_width, load_spec, netlist_copy, spec_hash

    key = (spec, spec_hash(spec))
    d = _IMPORTED.get(key)
    if d is None:
        net = load_spec(spec)
        width = design_width(net)
        d = _IMPORTED[key] = Design(spec, lambda w: netlist_copy(net), None, "imported", f"imported from {spec}",
                                    width, width)
    return d


_IMPORTED: dict = {}


def designs() -> list[Design]:
    """Every registered design, by kind then name."""
    load_plugins()
    return sorted(_REGISTRY.values(), key=lambda d: (d.kind, d.name))


def build(name: str, width=None, **params) -> Netlist:
    """Build the netlist of design ``name`` at ``width`` bits (``format=...`` for a floating-point unit)."""
    d = get(name)
    size = d.size(width, params)
    d.check(size, params)
    try:
        with gc_paused(), substitutions() as subs:
            net = d.builder(size, **params)
    except GatesimError:
        raise
    except (TypeError, ValueError) as e:  # e.g. a parameter of the wrong type reaching a user's builder
        at = f"format {size.spec}" if d.sized_by == "format" else f"width {size}"
        raise DesignError(f"{name}: cannot build at {at} with {params}: {type(e).__name__}: {e}") from None
    if not isinstance(net, Netlist):
        raise DesignError(f"{name}: the builder returned {type(net).__name__}, not a gatesim Netlist")
    net.graph["design"] = name
    net.graph["params"] = {"format": size.spec, **params} if d.sized_by == "format" else {"width": size, **params}
    if subs:
        net.graph["substitutions"] = subs
    _note(subs)
    return net


def reference(name: str, width=None, **params) -> Reference:
    """The Python-integer reference function of design ``name`` at ``width`` bits (or ``format=...``)."""
    d = get(name)
    size = d.size(width, params)
    d.check(size, params)
    if d.reference is None:
        raise DesignError(f"design {name!r} has no reference model to verify against")
    return d.reference(size, **d.model_params(params))


def stimulus(name: str, width=None, **params):
    """The design's own test vectors (a :class:`gatesim.verify.Stimulus`), or None for the default ones."""
    d = get(name)
    size = d.size(width, params)
    d.check(size, params)
    return d.vectors(size, **d.model_params(params)) if d.vectors else None


def decoder(name: str, width=None, **params):
    """``(port, value) -> str`` describing values of the design's ports, or None."""
    d = get(name)
    size = d.size(width, params)
    d.check(size, params)
    return d.decode(size, **d.model_params(params)) if d.decode else None


def build_role(parent: str, role: str, choices: dict, width: int, **params) -> Netlist:
    """The design chosen for ``role`` (``choices[role]``), built at ``width`` for use inside ``parent``.

    Every other role choice in ``choices`` that the chosen design accepts as a parameter is passed
    down to it (``params``, the part's own settings, win), so a choice made for a role reaches every
    circuit inside. One shared, frozen netlist per design, width and parameters.
    """
    kinds = ROLES.get(role)
    if kinds is None:
        raise DesignError(f"{parent}: unknown role {role!r} (roles: {', '.join(ROLES)})")
    name = choices.get(role)
    if not isinstance(name, str):
        raise DesignError(f"{parent}: {role} must be a design name, got {name!r}")
    try:
        d = get(name)
    except DesignError as e:
        raise DesignError(f"{parent}: {role} {name!r}: {e}") from None
    if d.kind not in kinds and d.kind != "imported":  # an imported design may fill any role
        raise DesignError(f"{parent}: {role} {name!r} is not a registered {kinds[0]} (its kind is {d.kind})")
    if d.sized_by != "width":
        raise DesignError(f"{parent}: {role} {name!r} is sized by a number format, not a width")
    if d.kind == "imported" and width != d.max_width and role in DEFAULT_DESIGNS:
        # an imported design has the one width of its file: elsewhere the role's default design fills in, noted
        _note([{"inside": parent, "role": role, "chosen": name, "chosen_width": d.max_width, "width": width,
                "used": DEFAULT_DESIGNS[role]}])
        name, d = DEFAULT_DESIGNS[role], get(DEFAULT_DESIGNS[role])
    passed = {r: v for r, v in choices.items() if r != role and r in d.params}
    given = (_ROLE_PARAMS.get() or {}).get(role, {})  # role_parameters(): the caller's settings for every part of this role
    for k in given:
        if k not in d.params:
            allowed = ", ".join(d.params) or "none"
            raise DesignError(f"{parent}: {role} {name!r} has no parameter {k!r}{did_you_mean(k, d.params)} "
                              f"(allowed: {allowed})")
    passed.update(given)
    passed.update(params)
    try:
        d.check(width, passed)
    except DesignError as e:
        raise DesignError(f"{parent}: {role} {name!r} cannot be built at {width} bits ({e})") from None
    try:
        key = tuple(sorted(passed.items()))
        hash(key)
    except TypeError:
        raise DesignError(f"{parent}: {role} {name!r}: parameters must be plain values, got {passed}") from None
    context = tuple(sorted((r, tuple(sorted(p.items()))) for r, p in (_ROLE_PARAMS.get() or {}).items()))
    with substitutions():  # build() notes what it substitutes; the shared netlist keeps it for every later use
        sub = _built(name, width, key, d.builder, context)
    _note(sub.graph.get("substitutions", ()))
    return sub


_SUBSTITUTIONS: ContextVar["list | None"] = ContextVar("gatesim_substitutions", default=None)


@contextlib.contextmanager
def substitutions():
    """Collect, while the block runs, every place where a role's imported design could not be used because
    the part needs another width than its file's, and the role's default design (:data:`DEFAULT_DESIGNS`) was
    built instead: a list of ``{"inside", "role", "chosen", "chosen_width", "width", "used"}`` (widths in
    bits). A netlist :func:`build` returns keeps its own in ``net.graph["substitutions"]``."""
    found: list = []
    token = _SUBSTITUTIONS.set(found)
    try:
        yield found
    finally:
        _SUBSTITUTIONS.reset(token)


def _note(items) -> None:
    found = _SUBSTITUTIONS.get()
    if found is not None:
        found.extend(i for i in items if i not in found)


@contextlib.contextmanager
def role_parameters(params: dict):
    """Within the block, every part :func:`build_role` builds for a role gets that role's parameters
    (``{"multiplier": {"adder": "kogge-stone-adder"}}``: every multiplier, at any depth, gets a Kogge-Stone
    final adder, while the other adders stay as chosen). A parameter the role's design lacks is a
    DesignError; a part's own settings (what its parent passes) win."""
    token = _ROLE_PARAMS.set({r: dict(p) for r, p in params.items() if p})
    try:
        yield
    finally:
        _ROLE_PARAMS.reset(token)


_ROLE_PARAMS: ContextVar["dict | None"] = ContextVar("gatesim_role_parameters", default=None)


@functools.lru_cache(maxsize=None)
def _built(name: str, width: int, params: tuple, builder, context: tuple = ()) -> Netlist:
    """One shared, frozen build per design, width, parameters, builder (a re-registered name builds afresh)
    and :func:`role_parameters` in force (they reach the parts inside)."""
    return nx.freeze(build(name, width, **dict(params)))


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
