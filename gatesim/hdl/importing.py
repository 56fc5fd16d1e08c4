"""Importing designs: Verilog / SystemVerilog through Yosys, Yosys JSON and BLIF; design specs; the import cache.

RTL is synthesized by Yosys onto gatesim's gate set, then read from Yosys's JSON (:mod:`.readers`). The flow:

* ``read_verilog`` (``-sv`` for ``.sv`` files), ``hierarchy -check -top TOP``, ``proc -noopt``, ``flatten`` — every
  module is flattened into the top, except modules marked ``(* keep_hierarchy *)``, which stay sub-netlist
  instances (a library may price them as cells), and gatesim's own gate modules, which stay gates.
* A design that is then already gate level (only Yosys internal gate cells, gatesim gate modules, kept
  modules) is read **as it is**: nothing is optimized away, so an exported netlist comes back gate for gate.
* Otherwise the RTL goes through the coarse passes of Yosys's ``synth`` (``opt``, ``wreduce``, ``alumacc``,
  ``share``, ``memory -nomap``) and is mapped by ``techmap; opt -fast``: every operator becomes the gates
  Yosys's techmap library gives it (``$_AND_``, ``$_XOR_``, ``$_MUX_``, ...), the structure the designer wrote
  kept. ``flow="abc"`` maps with ``abc -g`` onto every gate type gatesim has instead (ABC restructures the
  logic: fewer transistors, another circuit). Yosys's ``stat -tech cmos`` of the mapped netlist is kept in
  ``net.graph["source"]["yosys_transistors"]``; the ``yosys-cmos`` library counts the same.

A *design spec* names an imported design wherever a registered design name goes: ``verilog:PATH[:TOP]``
(several files: ``verilog:a.v,b.v:TOP``), ``json:PATH[:TOP]`` (a Yosys JSON netlist, or gatesim's own),
``blif:PATH[:MODEL]``. Imports that run Yosys are cached on disk, keyed by the content of every file read
(includes too), the top, the flow, the Yosys version and this code.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import DesignError, HdlError
from ..netlist import Netlist
from .blif import netlist_from_blif
from .readers import YosysJsonReader, is_sequential, sequential_error
from .yosys import YosysError, run_yosys, yosys_version

SPEC_KINDS = ("verilog", "json", "blif")
FLOWS = ("techmap", "abc")
ABC_GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX,NMUX,AOI3,OAI3,AOI4,OAI4"
COARSE_PASSES = ("opt_expr; opt_clean; opt -nodffe -nosdff; wreduce; peepopt; opt_clean; alumacc; share; opt; "
                 "memory -nomap; opt_clean")
_VERILOG_SUFFIXES = (".v", ".sv", ".vh", ".svh", ".verilog")
_INCLUDE = re.compile(r'^\s*`include\s+"([^"]+)"', re.MULTILINE)
_memo: dict = {}


def _check_flow(flow: str) -> None:
    if flow not in FLOWS:
        raise HdlError(f"unknown mapping flow {flow!r} (flows: {', '.join(FLOWS)})")


def _check_top(top: str | None) -> None:
    if top is not None and (not top or re.search(r"[\s;\"]", top)):
        raise HdlError(f"top module name {top!r} is not one Yosys can be given")


# -- files and the cache ----------------------------------------------------------------------------------

def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise HdlError(f"cannot read {path}: {e.strerror or e}") from None


def _verilog_files(paths: list[Path], include_dirs: list[Path]) -> dict[Path, bytes]:
    """The given files and every file they `include (found next to the including file or in
    ``include_dirs``), resolved, with their contents."""
    files: dict[Path, bytes] = {}
    todo = [p.resolve() for p in paths]
    while todo:
        p = todo.pop(0)
        if p in files:
            continue
        files[p] = data = _read_bytes(p)
        for inc in _INCLUDE.findall(data.decode("utf-8", "replace")):
            for d in [p.parent, *include_dirs, Path.cwd()]:
                cand = (d / inc).resolve()
                if cand.is_file():
                    todo.append(cand)
                    break
    return files


def _mirror(path: Path) -> str:
    """Where a file lies in Yosys's working folder: its absolute path below ``src/``, so relative includes
    between the files still resolve."""
    return "src/" + path.resolve().as_posix().lstrip("/")


def _code_version() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for f in sorted(here.glob("*.py")) + [here.parent / n for n in ("gates.py", "netlist.py", "export.py")]:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _cache_key(kind: str, contents: list[bytes], **options) -> str:
    h = hashlib.sha256(json.dumps({"kind": kind, "options": options, "yosys": yosys_version(),
                                   "code": _code_version()}, sort_keys=True, default=str).encode())
    for data in contents:
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:32]


def _cache_path(key: str, cache) -> Path | None:
    if cache is False:
        return None
    from ..tables import default_cache_dir

    base = default_cache_dir() if cache is True or cache is None else Path(cache)
    return base / "imports" / f"{key}.json"


def _cached(path: Path | None) -> Netlist | None:
    if path is None or not path.exists():
        return None
    from ..export import from_json

    try:
        return from_json(path.read_text())
    except (OSError, ValueError):
        return None  # a damaged entry is rebuilt


def _store(path: Path | None, net: Netlist) -> None:
    if path is None:
        return
    from ..datafile import write_file_atomic
    from ..export import to_json

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(path, to_json(net))
    except OSError:
        pass  # the cache is an optimization; an unwritable one costs only time


# -- Yosys synthesis ----------------------------------------------------------------------------------------

def _synthesize(read_cmds: list[str], files: dict, top: str | None, flow: str, what: str,
                rename: dict[str, str]) -> Netlist:
    """Run the import flow (module docstring) after ``read_cmds``; the netlist of the top module."""
    top_arg = f"-top {top}" if top else "-auto-top"
    script = "\n".join(read_cmds + [
        f"tee -q -o hierarchy.txt hierarchy -check {top_arg}",
        "setattr -mod -set keep_hierarchy 1 A:gatesim_gate",
        "proc -noopt",  # no constant folding yet: gate-level input is read as it is
        "techmap A:gatesim_gate",
        "flatten",
        "write_json pre.json",
        COARSE_PASSES,
        "techmap; opt -fast",
        *([f"abc -g {ABC_GATES}", "opt -fast"] if flow == "abc" else []),
        "tee -q -o stat.txt stat -tech cmos",
        "write_json mapped.json",
    ])
    try:
        run = run_yosys(script, files, outputs=("pre.json", "mapped.json", "stat.txt", "hierarchy.txt"), what=what)
    except YosysError as e:
        msg = str(e)
        for mirrored, original in rename.items():
            msg = msg.replace(mirrored, original)
        raise HdlError(msg) from None
    if top is None:  # Yosys takes the deepest hierarchy; a tie is the user's to settle
        levels = [(int(n), m) for n, m in re.findall(r"root of\s+(\d+) design levels:\s+(\S+)", run.outputs["hierarchy.txt"])]
        deepest = [m for n, m in levels if n == max(levels)[0]] if levels else []
        if len(deepest) > 1:
            raise HdlError(f"{what}: several top-level modules ({', '.join(sorted(deepest))}); name one "
                           "(--top, or verilog:PATH:TOP)")
    pre = YosysJsonReader(json.loads(run.outputs["pre.json"]), what)
    name = pre.top(top)
    gate_level = not pre.unmapped_cells(name)
    reader = pre if gate_level else YosysJsonReader(json.loads(run.outputs["mapped.json"]), what)
    left = reader.unmapped_cells(name)
    if left:
        state = [(c, d.get("type", "")) for m in reader.modules.values() for c, d in m.get("cells", {}).items()
                 if is_sequential(d.get("type", ""))]
        if state:
            raise sequential_error(f"{what}: module {name!r}", state)
        raise HdlError(f"{what}: Yosys left cells gatesim has no gate for ({', '.join(left[:8])})")
    net = reader.netlist(name)
    yosys_t = None
    m = re.findall(r"Estimated number of transistors:\s+(\d+)", run.outputs["stat.txt"])
    has_gate_modules = any(c.get("type", "").startswith("gatesim_") for c in reader.modules[name].get("cells", {}).values())
    if m and not gate_level and not has_gate_modules:
        yosys_t = int(m[-1])
    net.graph["source"] = {"top": name, "flow": flow, "mapped": not gate_level, "yosys": yosys_version(),
                           "yosys_transistors": yosys_t, "notes": reader.notes.to_list()}
    return net


def read_verilog(paths, top: str | None = None, *, flow: str = "techmap", include_dirs=(), defines: dict | None = None,
                 cache=True) -> Netlist:
    """Synthesize Verilog / SystemVerilog (``.sv`` files read with ``-sv``) onto gatesim's gates with Yosys
    and return the netlist of module ``top`` (default: the one Yosys finds on top). See the module
    docstring for the flow; ``cache``: True (the default cache folder), a folder, or False."""
    _check_flow(flow)
    _check_top(top)
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise HdlError("read_verilog needs at least one file")
    incs = [Path(d).resolve() for d in include_dirs]
    files = _verilog_files(paths, incs)
    defines = dict(defines or {})
    main = [p.resolve() for p in paths]
    key = _cache_key("verilog", [files[p] for p in main] + sorted(files[p] for p in files if p not in main),
                     top=top, flow=flow, defines=defines, names=[p.name for p in main])
    path = _cache_path(key, cache)
    net = _cached(path)
    if net is not None:
        return net
    staged = {_mirror(p): data for p, data in files.items()}
    flags = " ".join([f"-D{k}" if v is None else f"-D{k}={v}" for k, v in defines.items()] +
                     [f"-Isrc/{d.as_posix().lstrip('/')}" for d in incs])
    reads = [f"read_verilog -icells {'-sv ' if p.suffix in ('.sv', '.svh') else ''}{flags} {_mirror(p)}".replace("  ", " ")
             for p in main]
    rename = {_mirror(p): str(p) for p in files}
    what = ", ".join(str(p) for p in paths)
    net = _synthesize(reads, staged, top, flow, what, rename)
    net.graph["source"].update(format="verilog", files=[str(p) for p in main])
    _store(path, net)
    return net


def read_yosys_json(path, top: str | None = None, *, flow: str = "techmap", cache=True) -> Netlist:
    """A Yosys JSON netlist (``write_json``): read directly when it holds gate cells only, else synthesized by
    Yosys first (``read_json`` and the flow of :func:`read_verilog`). A gatesim JSON netlist is read too."""
    _check_flow(flow)
    path = Path(path)
    data = _read_bytes(path)
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise HdlError(f"{path} is not JSON: {e}") from None
    if isinstance(doc, dict) and str(doc.get("format", "")).startswith("gatesim-netlist"):
        from ..export import from_json

        return from_json(data.decode())
    reader = YosysJsonReader(doc, str(path))
    name = reader.top(top)
    if not reader.unmapped_cells(name):
        net = reader.netlist(name)
        net.graph["source"] = {"format": "yosys-json", "files": [str(path)], "top": name, "mapped": False,
                               "notes": reader.notes.to_list()}
        return net
    key = _cache_key("json", [data], top=name, flow=flow)
    cpath = _cache_path(key, cache)
    net = _cached(cpath)
    if net is None:
        net = _synthesize(["read_json design.json"], {"design.json": data}, name, flow, str(path), {})
        net.graph["source"].update(format="yosys-json", files=[str(path)])
        _store(cpath, net)
    return net


def read_blif(path, top: str | None = None) -> Netlist:
    """A BLIF netlist (model ``top``, default the first): read directly, see :mod:`.readers`."""
    path = Path(path)
    net = netlist_from_blif(_read_bytes(path).decode("utf-8", "replace"), top, str(path))
    net.graph["source"]["files"] = [str(path)]
    return net


def import_file(paths, top: str | None = None, *, kind: str | None = None, flow: str = "techmap", cache=True) -> Netlist:
    """Import one design from files of one kind (``verilog``, ``json``, ``blif``; default: by suffix)."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    kind = kind or kind_of(paths[0])
    if kind == "verilog":
        return read_verilog(paths, top, flow=flow, cache=cache)
    if len(paths) != 1:
        raise HdlError(f"a {kind} design is one file, got {len(paths)}")
    if kind == "json":
        return read_yosys_json(paths[0], top, flow=flow, cache=cache)
    if kind == "blif":
        return read_blif(paths[0], top)
    raise HdlError(f"unknown design file kind {kind!r} (kinds: {', '.join(SPEC_KINDS)})")


def kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _VERILOG_SUFFIXES:
        return "verilog"
    if suffix in (".json", ".blif"):
        return suffix[1:]
    raise HdlError(f"cannot tell the kind of {path} from its suffix (.v/.sv, .json, .blif); name it")


# -- design specs -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DesignSpec:
    """A parsed design spec: ``kind:path[,path...][:top]``."""

    kind: str
    paths: tuple[Path, ...]
    top: str | None

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(str(p) for p in self.paths)}" + (f":{self.top}" if self.top else "")


def is_spec(name) -> bool:
    """Whether ``name`` is a design spec (``verilog:``, ``json:`` or ``blif:`` followed by a path)."""
    return isinstance(name, str) and name.split(":", 1)[0] in SPEC_KINDS and ":" in name


def parse_spec(text: str, base: Path | None = None) -> DesignSpec:
    """Parse ``kind:PATH[:TOP]``; relative paths are taken from ``base`` (default: the working folder)."""
    kind, _, rest = text.partition(":")
    if kind not in SPEC_KINDS or not rest:
        raise DesignError(f"not a design spec: {text!r} (expected verilog:PATH[:TOP], json:PATH[:TOP] or blif:PATH[:TOP])")
    top = None
    head, sep, tail = rest.rpartition(":")
    if sep and tail and not any(Path(p).exists() for p in rest.split(",")) and "/" not in tail:
        rest, top = head, tail
    paths = tuple((base / p) if base is not None and not Path(p).is_absolute() else Path(p) for p in rest.split(","))
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DesignError(f"{text}: no such file {str(missing[0])!r}")
    return DesignSpec(kind, paths, top)


def spec_hash(text: str) -> str:
    """Hash of what a spec imports: its kind, top and the content of its files (a table cache key part)."""
    spec = parse_spec(text)
    h = hashlib.sha256(f"{spec.kind}:{spec.top}".encode())
    files = _verilog_files(list(spec.paths), []) if spec.kind == "verilog" else {p: _read_bytes(p) for p in spec.paths}
    for data in files.values():
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


def load_spec(text: str) -> Netlist:
    """The netlist a design spec names (imported once per process and file content; don't modify it —
    :func:`circuits.build` hands out copies)."""
    spec = parse_spec(text)
    key = (str(spec), spec_hash(text))
    net = _memo.get(key)
    if net is None:
        try:
            net = import_file(list(spec.paths), spec.top, kind=spec.kind)
        except HdlError as e:
            raise DesignError(f"{text}: {e}") from None
        _memo[key] = net
    return net


def netlist_copy(net: Netlist) -> Netlist:
    """An independent copy of ``net`` (its own node, edge and port data), as a builder hands out."""
    import copy

    new = Netlist(name=net.name)
    new.add_nodes_from((n, dict(d)) for n, d in net._node.items())
    new.add_edges_from((u, v, dict(d)) for u, nbrs in net._succ.items() for v, d in nbrs.items())
    new.graph.update(copy.deepcopy(net.graph))
    return new


def design_width(net: Netlist) -> int:
    """The width of an imported design: its widest input port, in bits (what ``--width`` means for it)."""
    return max((len(b) for b in net.inputs.values()), default=0)
