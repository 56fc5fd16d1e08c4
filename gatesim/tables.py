"""Transistors per basic operation and number format, read off gate-level netlists.

A *mode* says how an operation on a format is assembled from circuits. The ``ieee`` mode (the
default, :mod:`gatesim.ieee_mode`) prices each operation as the complete IEEE 754 unit that performs
it, optimized; the ``paper`` mode follows section II.B.2 of the transistor-operations paper (see
:func:`paper_operation`): bare significand datapaths, as built. More modes register with
:func:`register_mode` and reach every caller through :func:`build_table`'s ``mode`` argument.

Each (operation, format) becomes one composite netlist whose sub-netlists are the selected designs;
it is counted under the cell library and simulated under random operands for switching activity
(uniformly random bits; for the packed float operands of the ieee mode, uniformly random finite
values). Results are cached on disk per entry, keyed by a hash of everything that decides them.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .counting import count
from .datafile import cache_document, digest, write_file_atomic
from .errors import DesignError, GatesimError, NetlistError
from .formats import NumberFormat, get_format
from .library import CellLibrary, load_library
from .netlist import Netlist
from .operands import parse_distribution
from .optimization import optimize
from .simulation import switching_activity
from .activity import entry_operands, parse_activity
from circuits.registry import DEFAULT_DESIGNS as _DEFAULT  # the roles' vocabulary lives with the designs

#: the basic operations (BOs) a model is counted in
OPERATIONS = ("add", "sub", "mul", "div", "root", "compare")
#: what a table may price: the BOs and ``fma`` (fused a * b + c, one rounding; where a mode has the unit: not
#: the paper's), which prices a multiply-add pair of a dot product as one operation
TABLE_OPERATIONS = OPERATIONS + ("fma",)
# the roles (and the registry kinds that fill them) are circuits' vocabulary: circuits.registry.ROLES
ROLES = ("adder", "multiplier", "divider", "root", "comparator", "shifter", "leading_zero_counter")
TABLE_FORMAT = "gatesim-transistor-table/1"
DEFAULT_LIBRARY = "paper"  # the cell library of a table, profile or estimate that names none
DEFAULT_FORMATS = ("fp16", "bf16", "fp32", "fp64")
DEFAULT_MODE = "ieee"  # of build_table, `gatesim table` and hardware profiles that name no mode


class TableError(GatesimError, ValueError):
    """A table cannot be built, read or answered."""


@dataclass(frozen=True)
class DesignSelection:
    """Which registered design performs each role, with optional extra parameters per role."""

    adder: str = _DEFAULT["adder"]
    multiplier: str = _DEFAULT["multiplier"]
    divider: str = _DEFAULT["divider"]
    root: str = _DEFAULT["root"]
    comparator: str = _DEFAULT["comparator"]
    shifter: str = _DEFAULT["shifter"]
    leading_zero_counter: str = _DEFAULT["leading_zero_counter"]
    params: dict = field(default_factory=dict)  # role -> {param: value}

    def __post_init__(self):
        for role in self.params:
            if role not in ROLES:
                raise TableError(f"design parameters given for unknown role {role!r} (roles: {', '.join(ROLES)})")

    def check(self) -> None:
        """Every role names a registered design of the right kind with known parameters."""
        import circuits
        from circuits.registry import ROLES as ROLE_KINDS

        from .errors import DesignError

        for role in ROLES:
            name, params = self.design(role)
            try:
                d = circuits.get(name, ROLE_KINDS[role])
                d.check(d.min_width, params)
            except DesignError as e:
                raise TableError(f"{role}: {e}") from None
            if d.kind not in ROLE_KINDS[role] and d.kind != "imported":  # an imported design may fill any role
                raise TableError(f"{role} {name!r} is a registered {d.kind}, not a {ROLE_KINDS[role][0]}")

    def design(self, role: str) -> tuple[str, dict]:
        return getattr(self, role), dict(self.params.get(role, {}))

    @property
    def choices(self) -> dict[str, str]:
        """Role -> design name, for every role (what :func:`circuits.registry.build_role` passes down)."""
        return {r: getattr(self, r) for r in ROLES}

    def to_dict(self) -> dict:
        return {**{r: getattr(self, r) for r in ROLES}, "params": {k: dict(v) for k, v in self.params.items()}}


class Composite:
    """A netlist under construction whose parts are registered designs, each a named instance."""

    def __init__(self, name: str):
        self.net = Netlist(name=name)
        self.components: dict[str, dict] = {}
        self.normalized: list[str] = []  # input ports whose top bit is 1 (normalized significands)
        self.floats: dict[str, tuple[NumberFormat, bool]] = {}  # packed float ports -> (format, non-negative)
        self.optimized = False  # count and simulate gatesim.optimize(net) instead of the netlist as built

    def operand(self, name: str, width: int, normalized: bool = False, fmt: NumberFormat | None = None,
                nonnegative: bool = False) -> list:
        """An input port; ``fmt``: it takes packed patterns of that float format (switching activity draws
        uniformly random finite values, ``nonnegative`` ones with the sign bit clear)."""
        if normalized:
            self.normalized.append(name)
        if fmt is not None:
            self.floats[name] = (fmt, nonnegative)
        return self.net.input(name, width)

    def component(self, role_name: str, selection: DesignSelection, role: str, width: int, **connections) -> dict:
        """Instance the design ``selection`` chose for ``role`` at ``width`` bits; every other role choice it
        takes as a parameter is passed down to it (:func:`circuits.registry.build_role`)."""
        from circuits.registry import build_role

        design, params = selection.design(role)
        sub = build_role(self.net.name, role, selection.choices, width, **params)
        passed = {k: v for k, v in sub.params.items() if k != "width"}  # its own and passed-down parameters
        self.components[role_name] = {"design": design, "width": width, **passed}
        try:
            return self.net.instance(sub, role_name, **connections)
        except NetlistError as e:  # an imported design whose ports are not the role's
            want = ", ".join(f"{p}[{len(b) if isinstance(b, list) else 1}]" for p, b in connections.items())
            raise TableError(f"{role} {design}: {e} (the {role} role connects inputs {want})") from None

    def finish(self, **outputs) -> "Composite":
        for name, bits in outputs.items():
            self.net.output(name, bits)
        return self


ModeFunction = Callable[[str, NumberFormat, DesignSelection], "Composite | None"]
MODES: dict[str, ModeFunction] = {}
MODE_ROLES: dict[str, dict[str, tuple[str, ...]]] = {}  # mode -> operation -> roles it builds from


def register_mode(name: str, roles: dict[str, tuple[str, ...]] | None = None):
    """Decorator: ``fn(operation, fmt, selection) -> Composite`` (None where the mode has no such unit).

    ``roles`` says which design roles each operation uses, so a cached entry is invalidated only
    when one of those designs changes (default: every role).
    """

    def deco(fn: ModeFunction) -> ModeFunction:
        MODES[name] = fn
        MODE_ROLES[name] = dict(roles or {})
        return fn

    return deco


@register_mode("paper", roles={
    "add": ("adder",), "sub": ("adder",), "mul": ("multiplier", "adder"), "div": ("divider", "adder"),
    "root": ("root", "adder", "multiplier"), "compare": ("comparator",),
})
def paper_operation(op: str, fmt: NumberFormat, sel: DesignSelection) -> Composite | None:
    """The paper's accounting (section II.B.2), significand datapaths only, no alignment or rounding:

    * add: p-bit adder on the significands (carry in tied to 0);
    * sub: the same adder on a and NOT b with carry in 1 (two's complement), p inverters added;
    * mul: p x p multiplier + e-bit exponent adder + sign XOR;
    * div: p-bit divider (normalized significands) + e-bit exponent subtractor + sign XOR;
    * root: root circuit on the p-bit significand + exponent halving (e-bit adder adding the bias;
      the halving itself is a wire shift);
    * compare: magnitude comparator on the exponent and fraction fields (e + p - 1 bits).

    Integer formats (width w): add/sub on a w-bit adder, mul on a w x w multiplier, compare on a
    w-bit comparator; no divider or root units (None).
    """
    if op == "fma":
        return None  # the paper has no fused multiply-add
    p, e = fmt.significand_bits, fmt.exponent_bits
    c = Composite(f"{fmt.name}_{op}")
    net = c.net
    if op in ("add", "sub"):
        a, b = c.operand("a_sig", p), c.operand("b_sig", p)
        if op == "sub":
            b = [net.NOT(x) for x in b]
        o = c.component("significand_adder", sel, "adder", p, a=a, b=b, cin=net.const(op == "sub"))
        return c.finish(sum=o["sum"], cout=o["cout"])
    if op == "mul":
        o = c.component("significand_multiplier", sel, "multiplier", p, a=c.operand("a_sig", p), b=c.operand("b_sig", p))
        outs = {"p": o["p"]}
    elif op == "div":
        if not fmt.is_float:
            return None
        o = c.component("significand_divider", sel, "divider", p,
                        a=c.operand("a_sig", p, normalized=True), b=c.operand("b_sig", p, normalized=True))
        outs = {f"sig_{k}": v for k, v in o.items()}
    elif op == "root":
        if not fmt.is_float:
            return None
        o = c.component("significand_root", sel, "root", p, a=c.operand("a_sig", p, normalized=True))
        outs = {f"sig_{k}": v for k, v in o.items()}
    elif op == "compare":
        w = e + p - 1 if fmt.is_float else p
        o = c.component("magnitude_comparator", sel, "comparator", w, a=c.operand("a", w), b=c.operand("b", w))
        return c.finish(**o)
    else:
        raise TableError(f"unknown operation {op!r} (operations: {', '.join(TABLE_OPERATIONS)})")
    if fmt.is_float:
        ea = c.operand("a_exp", e)
        if op == "root":
            bias = (1 << (e - 1)) - 1
            ex = c.component("exponent_adder", sel, "adder", e, a=ea, b=[net.const((bias >> i) & 1) for i in range(e)],
                             cin=net.const(0))
            outs["exp"] = ex["sum"][1:] + ex["cout"]  # (e + bias) >> 1
        else:
            eb = c.operand("b_exp", e)
            if op == "div":
                eb = [net.NOT(x) for x in eb]
            ex = c.component("exponent_adder" if op == "mul" else "exponent_subtractor", sel, "adder", e,
                             a=ea, b=eb, cin=net.const(op == "div"))
            outs["exp"] = ex["sum"] + ex["cout"]
            outs["sign"] = net.XOR(c.operand("a_sign", 1)[0], c.operand("b_sign", 1)[0])
    return c.finish(**outs)


@dataclass(frozen=True)
class TableEntry:
    """One (operation, format): transistors, gates and logic depth of its composite netlist, and
    switching activity per operation under random operands (transistor-weighted; see :func:`build_entry`)."""

    operation: str
    format: str
    transistors: int
    gates: int
    logic_depth: int
    mean_toggles: float
    mean_weighted_toggles: float
    components: dict
    activity: str = ""  # the operands simulated (gatesim.activity); "" for the mode's random ones
    # where an imported design could not fill its role (another width) and the role's default design did
    # (circuits.registry.substitutions: {"inside", "role", "chosen", "chosen_width", "width", "used"})
    substitutions: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def entry_from_dict(d) -> TableEntry:
    """A :class:`TableEntry` from its dict, every field checked (type, sign, finiteness); :class:`TableError`
    names the first bad field."""
    import math

    if not isinstance(d, dict):
        raise TableError(f"malformed transistor table entry: expected an object, got {type(d).__name__}")
    try:
        e = TableEntry(**d)
    except TypeError as err:
        raise TableError(f"malformed transistor table entry: {err}") from None
    where = f"transistor table entry {e.operation!r} on {e.format!r}"
    if e.operation not in TABLE_OPERATIONS:
        raise TableError(f"transistor table entry has unknown operation {e.operation!r}")
    if not isinstance(e.format, str) or not e.format:
        raise TableError(f"{where}: format must be a name, got {e.format!r}")
    for name in ("transistors", "gates", "logic_depth"):
        v = getattr(e, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise TableError(f"{where}: {name} must be a non-negative integer, got {v!r}")
    for name in ("mean_toggles", "mean_weighted_toggles"):
        v = getattr(e, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise TableError(f"{where}: {name} must be a finite non-negative number, got {v!r}")
    if not isinstance(e.components, dict):
        raise TableError(f"{where}: components must be an object, got {e.components!r}")
    if not isinstance(e.activity, str):
        raise TableError(f"{where}: activity must be a string, got {e.activity!r}")
    return e


class TransistorTable:
    """Transistors per (operation, format), with the selection, library and mode that produced them.

    ``transistors(op, fmt)`` is all a model counter needs. Save with :meth:`save` (JSON) or
    :meth:`to_csv`; read with :meth:`load`.
    """

    def __init__(self, entries: Iterable[TableEntry], *, selection: dict | None = None, library: str = "",
                 mode: str = "", formats: dict | None = None, vectors: int = 0, name: str = "", activity: str = ""):
        self.entries = {(e.operation, e.format): e for e in entries}
        self.activity = activity  # what the toggles were simulated under ("" : the mode's random operands)
        self.selection = selection or {}
        self.library = library
        self.mode = mode
        self.formats = formats or {}
        self.vectors = vectors
        self.name = name

    @classmethod
    def from_numbers(cls, numbers: dict[str, dict[str, int]], name: str = "numbers") -> "TransistorTable":
        """A table from plain numbers: ``{format: {operation: transistors}}`` (no netlists behind it)."""
        if not isinstance(numbers, dict) or not all(isinstance(f, str) and isinstance(ops, dict)
                                                    for f, ops in numbers.items()):
            raise TableError("transistor numbers must map format names to {operation: transistors}")
        entries = [TableEntry(op, fmt, t, 0, 0, 0.0, 0.0, {}) for fmt, ops in numbers.items() for op, t in ops.items()]
        return cls.from_dict(cls(entries, mode="numbers", name=name).to_dict())  # same checks as a loaded table

    def entry(self, operation: str, fmt: str) -> TableEntry:
        e = self.entries.get((operation, fmt))
        if e is None:
            if operation not in TABLE_OPERATIONS:
                raise TableError(f"unknown operation {operation!r} (operations: {', '.join(TABLE_OPERATIONS)})")
            have = sorted({f for _, f in self.entries})
            raise TableError(f"transistor table has no entry for {operation} on {fmt} (formats in it: {', '.join(have)})")
        return e

    def transistors(self, operation: str, fmt: str) -> int:
        """Transistors of one ``operation`` on format ``fmt``."""
        return self.entry(operation, fmt).transistors

    def weighted_toggles(self, operation: str, fmt: str) -> float:
        """Transistor-weighted toggles of one ``operation`` on ``fmt`` under the table's operands (its
        ``activity``): what a switching TO counts."""
        return self.entry(operation, fmt).mean_weighted_toggles

    @property
    def operations(self) -> list[str]:
        return [op for op in TABLE_OPERATIONS if any(o == op for o, _ in self.entries)]

    @property
    def format_names(self) -> list[str]:
        seen = []
        for _, f in self.entries:
            if f not in seen:
                seen.append(f)
        return seen

    def to_dict(self) -> dict:
        return {
            "format": TABLE_FORMAT,
            "name": self.name,
            "mode": self.mode,
            "library": self.library,
            "selection": self.selection,
            "formats": self.formats,
            "vectors": self.vectors,
            "activity": self.activity,
            "entries": [e.to_dict() for e in self.entries.values()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path) -> None:
        write_file_atomic(path, self.to_json())

    @classmethod
    def from_dict(cls, data: dict) -> "TransistorTable":
        if not isinstance(data, dict) or data.get("format") != TABLE_FORMAT:
            raise TableError(f"not a gatesim transistor table (expected format {TABLE_FORMAT!r})")
        if not isinstance(data.get("entries"), list):
            raise TableError("malformed transistor table: 'entries' must be a list")
        entries = [entry_from_dict(e) for e in data["entries"]]
        return cls(entries, selection=data.get("selection"), library=data.get("library", ""), mode=data.get("mode", ""),
                   formats=data.get("formats"), vectors=data.get("vectors", 0), name=data.get("name", ""),
                   activity=str(data.get("activity") or ""))

    @classmethod
    def load(cls, path) -> "TransistorTable":
        from .datafile import read_data_file

        return cls.from_dict(read_data_file(path, "transistor table", TableError, default="json"))

    def to_csv(self) -> str:
        """One row per entry; ``components`` names each part's design, width and parameters
        (``role=design@width(key=value, ...)``), ``library`` and ``mode`` say how it was priced."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["operation", "format", "transistors", "gates", "logic_depth", "mean_toggles", "mean_weighted_toggles",
                    "components", "library", "mode", "activity"])
        for e in self.entries.values():
            w.writerow([e.operation, e.format, e.transistors, e.gates, e.logic_depth, f"{e.mean_toggles:.3f}",
                        f"{e.mean_weighted_toggles:.3f}", "; ".join(_component_text(r, c) for r, c in e.components.items()),
                        self.library, self.mode, e.activity])
        return buf.getvalue()

    def substitution_notes(self) -> list[str]:
        """One line per imported design that could not fill its role at some width (see
        :class:`TableEntry`), naming the entries, the widths and the design used there instead."""
        seen: dict = {}
        for e in self.entries.values():
            for s in e.substitutions:
                k = (s["role"], s["chosen"], s["chosen_width"], s["used"])
                widths, where = seen.setdefault(k, (set(), []))
                widths.add(s["width"])
                if f"{e.format} {e.operation}" not in where:
                    where.append(f"{e.format} {e.operation}")
        return [f"note: {role} {chosen} is {cw} bits wide; {used} filled the role at "
                f"{', '.join(map(str, sorted(widths)))} bits ({', '.join(where)})"
                for (role, chosen, cw, used), (widths, where) in seen.items()]

    def __repr__(self) -> str:
        return f"<TransistorTable {self.name or self.mode}: {len(self.entries)} entries, library {self.library!r}>"


def _component_text(role: str, comp: dict) -> str:
    params = {k: v for k, v in comp.items() if k not in ("design", "width")}
    extra = "(" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + ")" if params else ""
    return f"{role}={comp['design']}@{comp['width']}{extra}"


_CODE_VERSION: str | None = None


def code_version() -> str:
    """Hash of the code and data that decide a table entry (the engine's modules, the cell libraries and
    every circuit design): any change there invalidates cached tables. The CLI and models room don't count."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        import circuits

        engine = Path(__file__).parent
        files = list(engine.glob("*.py")) + list((engine / "libraries").glob("*.toml"))
        files += [f for f in Path(circuits.__file__).parent.rglob("*.py") if "__pycache__" not in f.parts]
        h = hashlib.sha256()
        for f in sorted(files):
            h.update(f.relative_to(engine.parent).as_posix().encode())
            h.update(f.read_bytes())
        _CODE_VERSION = h.hexdigest()[:16]
    return _CODE_VERSION


def default_cache_dir() -> Path:
    """``$GATESIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/gatesim``, else ``~/.cache/gatesim``."""
    env = os.environ.get("GATESIM_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gatesim"


def _design_sources(names) -> dict:
    """Hash of the source file of each named design that is not part of gatesim's own circuits (a user's
    plugin), so editing a plugin invalidates cached entries built from it."""
    import inspect

    import circuits

    from .hdl.importing import is_spec, spec_hash

    own = Path(circuits.__file__).parent
    out = {}
    for name in sorted(names):
        if is_spec(name):  # an imported design: the content of its files
            try:
                out[name] = spec_hash(name)
            except GatesimError:
                pass
            continue
        try:
            f = Path(inspect.getsourcefile(circuits.get(name).builder) or "")
        except (GatesimError, TypeError):
            continue
        if f.is_file() and own not in f.resolve().parents:
            out[name] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
    return out


def _entry_request(op, fmt: NumberFormat, sel: DesignSelection, lib: CellLibrary, mode: str, vectors: int,
                   seed: int, activity: str = "") -> dict:
    """Everything that decides one entry (operation, format, designs and their parameters, plugin sources,
    library, mode, vectors, seed, code version, and the operands' distribution or sampled data's digest when
    not the mode's random ones), as plain JSON."""
    roles = MODE_ROLES.get(mode, {}).get(op, ROLES)
    designs = {r: sel.design(r) for r in roles}
    # designs named directly or as parameters (a multiplier's final adder, a root's multiplier)
    named = {d for d, params in designs.values()} | {v for _, params in designs.values() for v in params.values()
                                                     if isinstance(v, str)}
    doc = {
        "op": op, "format": fmt.to_dict(), "designs": designs, "plugins": _design_sources(named), "library": lib.to_dict(),
        "mode": mode, "vectors": vectors, "seed": seed, "code": code_version(),
    }
    if activity:  # the operands' distribution or the sampled data's digest
        doc["activity"] = activity
    return json.loads(json.dumps(doc, sort_keys=True, default=str))


CACHE_SCHEMA = "gatesim-table-cache/3"


def _read_cached(path: Path, key: str, request: dict) -> "tuple[bool, TableEntry | None, str]":
    """``(usable, entry, reason)`` for a cache file: a cache document for exactly this request (operation,
    format, designs, library, mode, code) with a matching checksum (:func:`gatesim.datafile.read_cache_document`)
    and a valid entry for this operation and format (null: the mode has no unit for it)."""
    from .datafile import read_cache_document

    usable, payload, why = read_cache_document(path, CACHE_SCHEMA, key, request)
    if not usable or payload is None:
        return usable, None, why
    try:
        entry = entry_from_dict(payload)
    except TableError as e:
        return False, None, str(e)
    if entry.operation != request["op"] or entry.format != request["format"]["name"]:
        return False, None, f"holds {entry.operation} on {entry.format}"
    return True, entry, ""


def build_entry(op: str, fmt: NumberFormat, sel: DesignSelection, lib: CellLibrary, mode: str = DEFAULT_MODE,
                vectors: int = 20_000, seed: int = 0, activity=None) -> TableEntry | None:
    """Build, count and simulate one (operation, format); None where the mode has no unit for it.

    Switching activity: ``vectors`` operands per input port, seeded, uniformly random bits (the top bit
    set on a normalized significand port), or on a packed float port uniformly random finite values of
    its format (operand distribution ``finite``: every finite bit pattern equally likely, NaNs and
    infinities never drawn; sign bit clear on a non-negative port, the operand of a square root).
    ``activity``: simulate under these operands instead (:func:`gatesim.activity.parse_activity`) where
    they cover the entry."""
    fn = MODES.get(mode)
    if fn is None:
        raise TableError(f"unknown accounting mode {mode!r} (modes: {', '.join(MODES)})")
    from circuits.registry import role_parameters, substitutions

    with substitutions() as subs, role_parameters(sel.params):  # a role's parameters reach its parts at any depth
        comp = fn(op, fmt, sel)
    if comp is None:
        return None
    net = optimize(comp.net) if comp.optimized else comp.net
    counts = count(net, lib)
    rng = np.random.default_rng(seed)
    operands = {}
    act = parse_activity(activity)
    used = act is not None and act.covers(op, fmt)
    if used:
        operands = entry_operands(comp, net, fmt, op, act, vectors, seed)
    for port, bits in (net.inputs.items() if not used else ()):
        w = len(bits)
        if port in comp.floats:
            pfmt, nonnegative = comp.floats[port]
            vals = parse_distribution("finite").sample(rng, vectors, w, pfmt)
            if nonnegative:
                mask = (1 << (w - 1)) - 1
                vals = vals & (np.uint64(mask) if vals.dtype == np.uint64 else mask)
        else:
            vals = _random_values(rng, w, vectors)
        if port in comp.normalized:
            vals = vals | (1 << (w - 1))
        operands[port] = vals
    sim = switching_activity(net, library=lib, **operands)
    return TableEntry(op, fmt.name, counts.transistors, counts.gate_count, counts.logic_depth,
                      round(sim.mean_toggles, 6), round(sim.mean_weighted_toggles, 6), comp.components,
                      act.label if used else "", subs)


def _random_values(rng, width: int, n: int) -> np.ndarray:
    if width <= 63:
        return rng.integers(0, 1 << width, n, dtype=np.uint64)
    vals = np.zeros(n, dtype=object)
    for k in range(0, width, 32):
        vals = vals + (rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(object) << k)
    return vals & ((1 << width) - 1)


def build_table(
    selection: DesignSelection | None = None,
    library: "str | CellLibrary" = DEFAULT_LIBRARY,
    mode: str = DEFAULT_MODE,
    formats: Iterable["str | NumberFormat"] = DEFAULT_FORMATS,
    operations: Iterable[str] = TABLE_OPERATIONS,
    vectors: int = 20_000,
    seed: int = 0,
    cache: "bool | str | Path" = True,
    progress: bool | None = None,
    name: str = "",
    activity=None,
) -> TransistorTable:
    """Build a :class:`TransistorTable` for every (operation, format) the mode supports.

    ``cache``: True for :func:`default_cache_dir`, a directory, or False. Each entry is cached as it
    completes, so an interrupted build resumes where it stopped. ``activity``: the operands switching
    activity is simulated under (:func:`gatesim.activity.parse_activity`: a distribution spec or sampled
    streams; default the mode's random operands); part of each entry's cache key.
    """
    from tqdm import tqdm

    sel = selection or DesignSelection()
    lib = load_library(library)
    act = parse_activity(activity)
    if mode not in MODES:
        raise TableError(f"unknown accounting mode {mode!r} (modes: {', '.join(MODES)})")
    fmts = [f if isinstance(f, NumberFormat) else get_format(f) for f in formats]
    ops = list(operations)
    for op in ops:
        if op not in TABLE_OPERATIONS:
            raise TableError(f"unknown operation {op!r} (operations: {', '.join(TABLE_OPERATIONS)})")
    cache_dir = None if cache is False else (default_cache_dir() if cache is True else Path(cache))
    if cache_dir is not None:
        cache_dir = cache_dir / "tables"
    entries = []
    jobs = [(op, f) for f in fmts for op in ops]
    show = sys.stderr.isatty() if progress is None else progress
    for op, f in tqdm(jobs, desc="transistor table", unit="entry", disable=not show, file=sys.stderr):
        covered = act is not None and act.covers(op, f)
        request = _entry_request(op, f, sel, lib, mode, vectors, seed, act.key if covered else "")
        key = digest(request)[:32]
        path = cache_dir / f"{key}.json" if cache_dir else None
        if path is not None and path.exists():
            usable, cached, why = _read_cached(path, key, request)
            if usable:
                if cached is not None:
                    entries.append(cached)
                continue
            print(f"warning: ignoring the cached {op} on {f.name} ({path}): {why}; rebuilding it", file=sys.stderr)
        try:
            entry = build_entry(op, f, sel, lib, mode, vectors, seed, act if covered else None)
        except DesignError as e:
            raise TableError(f"{op} on {f.name}: {e}") from None
        if entry is not None:
            entries.append(entry)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                doc = cache_document(CACHE_SCHEMA, key, request, entry.to_dict() if entry else None)
                write_file_atomic(path, json.dumps(doc))
            except OSError as e:
                print(f"warning: cannot write the table cache in {cache_dir} ({e.strerror or e}); "
                      "going on without it (set GATESIM_CACHE_DIR)", file=sys.stderr)
                cache_dir = None
    return TransistorTable(
        entries, selection=sel.to_dict(), library=lib.name, mode=mode,
        formats={f.name: f.to_dict() for f in fmts}, vectors=vectors, name=name,
        activity=act.label if act is not None else "",
    )


from . import ieee_mode  # noqa: E402,F401  (registers the ieee mode)
