"""Reading gate-level netlists directly (no Yosys run) into a :class:`Netlist`: Yosys JSON here, BLIF in :mod:`.blif`.

* **Yosys JSON** (``write_json``): Yosys's internal gate cells (``$_AND_``, ``$_AOI3_``, ...) become the gates
  of the same function; a cell whose type is another module of the file becomes a sub-netlist instance
  (:meth:`Netlist.instance`, its cell name the module's), except gatesim's own gate modules
  (``(* gatesim_gate = "AOI21" *)``) that compute their gate, which become that gate. Coarse RTL cells
  (``$add``, ``$mul``, ...) are not read here: :func:`gatesim.hdl.read_yosys_json` sends such files through
  Yosys first.
* **BLIF**: :mod:`.blif`.

Both keep port names, widths and bit order (bit 0 the LSB), and the gatesim metadata the writers add (cell
instances, renamed ports). Registers, latches and memories are refused: gatesim imports combinational
logic only. Undriven nets and ``x``/``z`` bits read as constant 0 and are listed in
``net.graph["source"]["notes"]``.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field

from ..cells import output_tables
from ..errors import HdlError
from ..gates import GATES, LOGIC_GATES
from ..logic import truth_table
from ..netlist import Netlist, gc_paused
from .writers import GATE_ATTR, INST_ATTR, INSTANCE_ATTR, NAME_ATTR

YOSYS_GATES = {gt.yosys: gt.name for gt in GATES.values() if gt.yosys}
IGNORED_CELLS = frozenset({"$scopeinfo"})
MAX_NOTES = 20




def is_sequential(cell_type: str) -> bool:
    """Whether a Yosys cell type stores state: flip-flops, latches, memories."""
    t = cell_type.lower()
    return any(k in t for k in ("dff", "latch", "$sr", "_sr_", "$ff", "_ff_", "$mem", "aldff"))


def sequential_error(design: str, cells: list[tuple[str, str]]) -> HdlError:
    kinds = sorted({t for _, t in cells})
    name, t = cells[0]
    latch = " (a latch: an always block that leaves an output unassigned on some path?)" if "latch" in t.lower() else ""
    return HdlError(f"{design} is sequential: {len(cells)} register/latch/memory cell(s) ({', '.join(kinds)}; "
                        f"first {name!r}{latch}); gatesim imports combinational logic only")


@dataclass
class Notes:
    """What an import had to decide: undriven nets and x/z bits read as 0 (the first few, and how many)."""

    undriven: list = field(default_factory=list)
    count: int = 0

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.undriven) < MAX_NOTES:
            self.undriven.append(what)

    def to_list(self) -> list[str]:
        more = [f"... {self.count - len(self.undriven)} more"] if self.count > len(self.undriven) else []
        return [f"{u} read as constant 0" for u in self.undriven] + more


# -- Yosys JSON --------------------------------------------------------------------------------------------

def attr_str(value) -> str:
    """A Yosys JSON attribute value as a string (a trailing blank marks a string that looks binary)."""
    s = str(value)
    return s[:-1] if s.endswith(" ") and re.fullmatch(r"[01xz]+", s[:-1]) else s


def attr_int(value) -> int:
    """A Yosys JSON integer attribute value (binary digits, as ``write_json`` writes them; or a number)."""
    if isinstance(value, int):
        return value
    s = str(value)
    if re.fullmatch(r"[01]+", s):
        v = int(s, 2)
        return v - (1 << 32) if len(s) == 32 and s[0] == "1" else v
    return int(s)


def _gate_truth_table(net: Netlist, pins) -> int | None:
    """Truth table of a one-output netlist over the given input ports (one bit each), or None."""
    if list(net.inputs) != list(pins) or any(len(b) != 1 for b in net.inputs.values()) or list(net.outputs) != ["Y"]:
        return None
    if len(net.outputs["Y"]) != 1:
        return None
    return output_tables(net)[1][0]


class YosysJsonReader:
    """Netlists of the modules of one Yosys JSON document (each built once)."""

    def __init__(self, data: dict, source: str = "Yosys JSON"):
        if not isinstance(data, dict) or not isinstance(data.get("modules"), dict):
            raise HdlError(f"{source}: not a Yosys JSON netlist (no 'modules' object)")
        self.modules: dict = data["modules"]
        self.source = source
        self.notes = Notes()
        self._built: dict[str, Netlist] = {}
        self._gate_kind: dict[str, str | None] = {}

    def top(self, top: str | None = None) -> str:
        """The module to import: ``top``, else the one marked top, else the only one."""
        if top is not None:
            if top not in self.modules:
                raise HdlError(f"{self.source}: no module {top!r} (modules: {', '.join(self.modules)})")
            return top
        marked = [m for m, d in self.modules.items() if attr_int(d.get("attributes", {}).get("top", 0) or 0)]
        if len(marked) == 1:
            return marked[0]
        user = [m for m, d in self.modules.items() if GATE_ATTR not in d.get("attributes", {})]
        if len(user) == 1:
            return user[0]
        raise HdlError(f"{self.source}: {len(self.modules)} modules and none marked top; name one "
                           f"(modules: {', '.join(self.modules)})")

    def unmapped_cells(self, top: str) -> list[str]:
        """Cell types below ``top`` this reader cannot take (coarse RTL cells that need Yosys first)."""
        bad, seen, todo = set(), set(), [top]
        while todo:
            m = todo.pop()
            if m in seen:
                continue
            seen.add(m)
            for cell in self.modules[m].get("cells", {}).values():
                t = cell.get("type", "")
                if t in self.modules:
                    todo.append(t)
                elif t not in YOSYS_GATES and t not in IGNORED_CELLS:
                    bad.add(t)
        return sorted(bad)

    def gate_kind(self, module: str) -> str | None:
        """The gate a gatesim gate module (attribute ``gatesim_gate``) computes, if its body computes it."""
        if module not in self._gate_kind:
            kind = attr_str(self.modules[module].get("attributes", {}).get(GATE_ATTR, ""))
            ok = None
            if kind in LOGIC_GATES:
                try:
                    body = self.netlist(module)
                except HdlError:
                    body = None
                if body is not None and _gate_truth_table(body, GATES[kind].pins) == truth_table(kind):
                    ok = kind
            self._gate_kind[module] = ok
        return self._gate_kind[module]

    def netlist(self, name: str) -> Netlist:
        """The netlist of module ``name`` (sub-modules as instances)."""
        net = self._built.get(name)
        if net is None:
            with gc_paused():
                net = self._built[name] = self._build(name, set())
        return net

    def _build(self, name: str, stack: set) -> Netlist:
        if name in stack:
            raise HdlError(f"{self.source}: module {name!r} instantiates itself")
        mod = self.modules[name]
        net = Netlist(name=name)
        netnames = mod.get("netnames", {})
        node_of: dict = {}
        for pname, p in mod.get("ports", {}).items():
            if p.get("direction") == "inout":
                raise HdlError(f"{self.source}: module {name!r} port {pname!r} is inout; gatesim takes inputs and outputs only")
            if p.get("direction") != "input":
                continue
            port = _original_name(pname, netnames)
            for b, nid in zip(p["bits"], net.input(port, len(p["bits"]))):
                if isinstance(b, str) or b in node_of:
                    raise HdlError(f"{self.source}: input port {pname!r} of {name!r} is tied to another input or a constant")
                node_of[b] = nid
        attrs = mod.get("attributes", {})
        k = 0
        while f"{INSTANCE_ATTR}{k}" in attrs:
            try:
                net.instances.append(dict(json.loads(attr_str(attrs[f"{INSTANCE_ATTR}{k}"]))))
            except (ValueError, TypeError):
                raise HdlError(f"{self.source}: module {name!r} has a malformed {INSTANCE_ATTR}{k} attribute") from None
            k += 1
        n_meta = len(net.instances)
        units = []  # (cell name, kind or module, {pin: bits} in, {pin: bits} out, inst)
        sequential, unsupported = [], []
        for cname, cell in mod.get("cells", {}).items():
            t = cell.get("type", "")
            if t in IGNORED_CELLS:
                continue
            conns = cell.get("connections", {})
            if t in YOSYS_GATES:
                kind = YOSYS_GATES[t]
                ins = {pin: conns.get(pin) for pin in GATES[kind].pins}
                outs = {"Y": conns.get("Y")}
                if any(v is None or len(v) != 1 for v in list(ins.values()) + list(outs.values())):
                    raise HdlError(f"{self.source}: cell {cname!r} ({t}) has a missing or wide pin")
            elif t in self.modules:
                kind = t
                sub_ports = self.modules[t].get("ports", {})
                ins = {p: conns.get(p, []) for p, d in sub_ports.items() if d.get("direction") == "input"}
                outs = {p: conns.get(p, []) for p, d in sub_ports.items() if d.get("direction") == "output"}
            elif is_sequential(t):
                sequential.append((cname, t))
                continue
            else:
                unsupported.append((cname, t))
                continue
            inst = cell.get("attributes", {}).get(INST_ATTR)
            inst = attr_int(inst) if inst is not None else -1
            if not -1 <= inst < n_meta:
                raise HdlError(f"{self.source}: cell {cname!r} refers to unknown instance {inst}")
            units.append((cname, kind, ins, outs, inst))
        if sequential:
            raise sequential_error(f"module {name!r}", sequential)
        if unsupported:
            kinds = sorted({t for _, t in unsupported})
            raise HdlError(f"{self.source}: module {name!r} holds cells gatesim cannot read directly "
                               f"({', '.join(kinds[:8])}); map them to gates with Yosys first")
        order = topological(units, node_of, f"{self.source}: module {name!r}")
        bit_name = _bit_names(netnames)

        def resolve(b):
            if isinstance(b, int):
                nid = node_of.get(b)
                if nid is None:
                    self.notes.add(f"undriven net {bit_name(b)} of {name!r}")
                    nid = node_of[b] = net.const(0)
                return nid
            if b in ("0", "1"):
                return net.const(int(b))
            self.notes.add(f"{b!r} bit in {name!r}")
            return net.const(0)

        for k in order:
            cname, kind, ins, outs, inst = units[k]
            if kind in GATES:
                node_of[outs["Y"][0]] = net.gate(kind, *[resolve(ins[p][0]) for p in GATES[kind].pins], inst=inst)
                continue
            gate = self.gate_kind(kind)
            if gate is not None:
                node_of[outs["Y"][0]] = net.gate(gate, *[resolve(ins[p][0]) for p in GATES[gate].pins], inst=inst)
                continue
            sub = self._built.get(kind) or self._built.setdefault(kind, self._build(kind, stack | {name}))
            parent = len(net.instances)
            result = net.instance(sub, cname, **{_original_name(p, self.modules[kind].get("netnames", {})): [resolve(b) for b in bits]
                                                  for p, bits in ins.items()})
            net.instances[parent]["cell"] = _cell_name(kind)
            if inst >= 0:
                net.instances[parent]["parent"] = inst
            sub_names = {p: _original_name(p, self.modules[kind].get("netnames", {})) for p in outs}
            for p, bits in outs.items():
                for b, nid in zip(bits, result[sub_names[p]]):
                    if isinstance(b, int):
                        node_of[b] = nid
        for pname, p in mod.get("ports", {}).items():
            if p.get("direction") == "output":
                net.output(_original_name(pname, netnames), [resolve(b) for b in p["bits"]])
        return net


def _original_name(port: str, netnames: dict) -> str:
    attrs = netnames.get(port, {}).get("attributes", {})
    if NAME_ATTR in attrs:
        try:
            return str(json.loads(attr_str(attrs[NAME_ATTR])))
        except ValueError:
            pass
    return port


def _cell_name(module: str) -> str:
    """A module's name as a cell name: ``$paramod\\full_adder\\W=1`` -> ``full_adder``."""
    if module.startswith("$paramod"):
        parts = [p for p in re.split(r"[\\$]", module) if p and p != "paramod"]
        return parts[0] if parts else module
    return module


def _bit_names(netnames: dict):
    cache: dict = {}

    def name(b) -> str:
        if not cache:
            for n, d in netnames.items():
                bits = d.get("bits", [])
                for i, x in enumerate(bits):
                    if isinstance(x, int) and (x not in cache or not d.get("hide_name")):
                        cache[x] = n if len(bits) == 1 else f"{n}[{i}]"
            cache.setdefault(-1, "")
        return repr(cache.get(b, f"#{b}"))

    return name


def topological(units, sources, where: str) -> list[int]:
    """Order of ``units`` (name, kind, inputs, outputs, inst) so each comes after the units driving it."""
    driver: dict = {}
    for k, (cname, _, _, outs, _) in enumerate(units):
        for bits in outs.values():
            for b in bits:
                if not isinstance(b, int):
                    continue
                if b in sources or b in driver:
                    other = units[driver[b]][0] if b in driver else "an input port"
                    raise HdlError(f"{where}: net #{b} is driven twice ({cname!r} and {other!r})")
                driver[b] = k
    users = defaultdict(list)
    waiting = [0] * len(units)
    for k, (_, _, ins, _, _) in enumerate(units):
        deps = {driver[b] for bits in ins.values() for b in bits if isinstance(b, int) and b in driver}
        waiting[k] = len(deps)
        for d in deps:
            users[d].append(k)
    ready = deque(k for k in range(len(units)) if not waiting[k])
    order = []
    while ready:
        k = ready.popleft()
        order.append(k)
        for u in users[k]:
            waiting[u] -= 1
            if not waiting[u]:
                ready.append(u)
    if len(order) < len(units):
        stuck = next(units[k][0] for k in range(len(units)) if waiting[k])
        raise HdlError(f"{where}: combinational loop through cell {stuck!r}")
    return order


def netlist_from_yosys_json(data: dict, top: str | None = None, source: str = "Yosys JSON") -> Netlist:
    """The netlist of module ``top`` of a Yosys JSON document of gate cells (see the module docstring)."""
    reader = YosysJsonReader(data, source)
    name = reader.top(top)
    net = reader.netlist(name)
    net.graph["source"] = {"format": "yosys-json", "top": name, "notes": reader.notes.to_list()}
    return net
