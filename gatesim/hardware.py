"""Hardware profiles: a TOML file naming the design selection, cell library, mode and formats.

    name = "my accelerator"
    description = "..."
    library = "static-cmos"            # built-in name or a path (relative to the profile file)
    mode = "ieee"                      # the default; "paper" for the paper's accounting
    formats = ["bf16", "fp32", "e6m9"]

    [designs]                          # registered design names per role (defaults: the paper's)
    adder = "kogge-stone-adder"
    multiplier = "dadda-multiplier"    # or an imported design: "verilog:my_mul.v:mul24" (path relative
                                       # to the profile; built at the width its file gives it)

    [designs.params]                   # optional parameters per role
    multiplier = { adder = "kogge-stone-adder" }

    [custom_formats.e6m9]              # custom formats used above
    exponent_bits = 6
    mantissa_bits = 9                  # or significand_bits = 10 (hidden bit included)
                                       # a built-in's name (fp32, ...) also needs: override = true

    accumulate = "fp32"                # optional: the format dot products of narrower inputs accumulate in
                                       # (gatesim estimate --hardware; --accumulate overrides it)

    [timing]                           # optional: roofline numbers for est_seconds (see gatesim.timing)
    launch_seconds = 5e-6
    memory_bytes_per_second = 1.5e12
    matrix_ops_per_second = { bf16 = 312e12, fp32 = 19.5e12 }
    vector_ops_per_second = { default = 19.5e12 }

Built-in profiles live in ``gatesim/hardware/``: ``paper``, ``throughput``, ``edge-int8`` (paper mode),
``gpu-like`` (ieee mode).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from importlib import resources
from pathlib import Path

from .datafile import read_data_file
from .errors import GatesimError
from .hdl.importing import is_spec, parse_spec
from .formats import BUILTIN_FORMATS, FormatError, NumberFormat, format_from_mapping, get_format
from .tables import (DEFAULT_FORMATS, DEFAULT_LIBRARY, DEFAULT_MODE, MODES, ROLES, DesignSelection, TableError,
                     TransistorTable, build_table)

if TYPE_CHECKING:
    from .timing import Timing


@dataclass(frozen=True)
class HardwareProfile:
    """Everything that decides a transistor table, read from a TOML file."""

    name: str
    selection: DesignSelection
    library: str
    mode: str = DEFAULT_MODE
    formats: tuple[NumberFormat, ...] = ()
    description: str = ""
    source: str = ""
    overrides: tuple[str, ...] = ()  # custom formats that replace a built-in of the same name (``override = true``)
    timing: "Timing | None" = None  # [timing]: roofline numbers for est_seconds (gatesim.timing)
    accumulate: str | None = None  # the accumulator format of dot products (None: the counter's default)

    def build_table(self, formats=None, **kwargs) -> TransistorTable:
        """The profile's transistor table, for its own formats or the given ones (names or
        :class:`NumberFormat`; the profile's custom formats are known by name). Other options as
        :func:`gatesim.tables.build_table`. A custom format that overrides a built-in is recorded in the
        table's ``formats``: ``{"fp32": {..., "overrides_builtin": {built-in fp32}}}``."""
        custom = {f.name: f for f in self.formats}
        fmts = self.formats if formats is None else [f if isinstance(f, NumberFormat) else get_format(f, custom) for f in formats]
        tab = build_table(self.selection, self.library, self.mode, fmts, name=self.name, **kwargs)
        for name in self.overrides:
            if name in tab.formats:
                tab.formats[name]["overrides_builtin"] = BUILTIN_FORMATS[name].to_dict()
        return tab


def default_profile(formats=DEFAULT_FORMATS) -> HardwareProfile:
    """What ``gatesim table`` builds with no flags: the default designs and library in the default mode (ieee).
    ``gatesim estimate`` prices with it when given no ``--hardware`` or ``--table``."""
    return HardwareProfile("default", DesignSelection(), DEFAULT_LIBRARY, DEFAULT_MODE,
                           tuple(get_format(f) for f in formats), "gatesim's defaults (gatesim table with no flags)", "defaults")


def builtin_profiles() -> list[str]:
    files = resources.files("gatesim").joinpath("hardware")
    return sorted(p.name[: -len(".toml")] for p in files.iterdir() if p.name.endswith(".toml"))


def load_hardware(spec: "str | Path") -> HardwareProfile:
    """A profile by built-in name or TOML file path; every design and format is checked now."""
    text = str(spec)
    path = Path(text)
    if text in builtin_profiles() and not path.suffix:
        builtin = resources.files("gatesim").joinpath("hardware", f"{text}.toml")
        return profile_from_mapping(read_data_file(builtin, "hardware profile", TableError), f"built-in {text}")
    if not path.suffix and not path.exists():
        raise TableError(f"unknown hardware profile {text!r} (built-in: {', '.join(builtin_profiles())}; or a .toml file)")
    return profile_from_mapping(read_data_file(path, "hardware profile", TableError), text, path.parent)


def profile_from_mapping(data: dict, source: str = "", base: Path | None = None) -> HardwareProfile:
    unknown = set(data) - {"name", "description", "library", "mode", "formats", "custom_formats", "designs", "timing",
                           "accumulate"}
    if unknown:
        raise TableError(f"hardware profile {source}: unknown key {sorted(unknown)[0]!r}")
    for key in ("name", "description", "library", "mode", "accumulate"):
        if key in data and not isinstance(data[key], str):
            raise TableError(f"hardware profile {source}: {key} must be a string, got {data[key]!r}")
    if not isinstance(data.get("designs", {}), dict):
        raise TableError(f"hardware profile {source}: [designs] must be a table of role = \"design name\"")
    designs = dict(data.get("designs", {}))
    params = designs.pop("params", {})
    for role, name in designs.items():
        if not isinstance(name, str):
            raise TableError(f"hardware profile {source}: [designs] {role} must be a design name, got {name!r}")
        if base is not None and is_spec(name):  # an imported design's files are found next to the profile
            try:
                designs[role] = str(parse_spec(name, base))
            except GatesimError as e:
                raise TableError(f"hardware profile {source}: [designs] {role}: {e}") from None
    bad = [r for r in designs if r not in ROLES]
    if bad:
        raise TableError(f"hardware profile {source}: unknown role {bad[0]!r} in [designs] (roles: {', '.join(ROLES)})")
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise TableError(f"hardware profile {source}: [designs.params] must map roles to tables of parameters")
    sel = DesignSelection(**designs, params=params)
    try:
        sel.check()
    except TableError as e:
        raise TableError(f"hardware profile {source}: {e}") from None
    mode = data.get("mode", DEFAULT_MODE)
    if mode not in MODES:
        raise TableError(f"hardware profile {source}: unknown mode {mode!r} (modes: {', '.join(MODES)})")
    names = data.get("formats", ["fp16", "bf16", "fp32", "fp64"])
    tables = data.get("custom_formats", {})
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
        raise TableError(f"hardware profile {source}: formats must be a non-empty list of format names")
    if not isinstance(tables, dict):
        raise TableError(f"hardware profile {source}: [custom_formats] must hold one table per format")
    overrides = _builtin_overrides(tables, source)
    try:
        custom = {k: format_from_mapping(k, {x: y for x, y in v.items() if x != "override"}) for k, v in tables.items()}
        formats = tuple(get_format(n, custom) for n in names)
    except FormatError as e:
        raise TableError(f"hardware profile {source}: {e}") from None
    library = data.get("library", DEFAULT_LIBRARY)
    if base is not None and (library.endswith(".toml") or library.endswith(".json")) and not Path(library).is_absolute():
        library = str(base / library)
    from .library import load_library

    load_library(library)  # fail now, with the profile named, if it cannot be read
    timing = None
    if "timing" in data:
        from .timing import TimingError, timing_from_mapping

        try:
            timing = timing_from_mapping(data["timing"], str(data.get("name", Path(source).stem)))
        except TimingError as e:
            raise TableError(f"hardware profile {source}: {e}") from None
    accumulate = data.get("accumulate")
    if accumulate is not None:
        import re

        try:
            get_format(accumulate, custom)
        except FormatError:
            if not re.fullmatch(r"u?int\d+", accumulate):
                raise TableError(f"hardware profile {source}: accumulate must name a number format (fp32, fp16, "
                                 f"int32...), got {accumulate!r}") from None
    return HardwareProfile(str(data.get("name", Path(source).stem)), sel, library, mode, formats,
                           str(data.get("description", "")), source, overrides, timing, accumulate)


def _builtin_overrides(tables: dict, source: str) -> tuple[str, ...]:
    """Names of the custom formats that replace a built-in one; each must say so with ``override = true``
    (and only those may)."""
    out = []
    for name, spec in tables.items():
        if not isinstance(spec, dict):
            raise TableError(f"hardware profile {source}: format {name!r}: expected a table with exponent_bits and "
                             "significand_bits")
        flag = spec.get("override", False)
        if not isinstance(flag, bool):
            raise TableError(f"hardware profile {source}: format {name!r}: override must be true or false, got {flag!r}")
        if name in BUILTIN_FORMATS and not flag:
            raise TableError(f"hardware profile {source}: custom format {name!r} has a built-in's name; rename it, "
                             "or add override = true to its table to replace the built-in")
        if flag and name not in BUILTIN_FORMATS:
            raise TableError(f"hardware profile {source}: format {name!r} says override = true but there is no "
                             "built-in of that name")
        if flag:
            out.append(name)
    return tuple(out)
