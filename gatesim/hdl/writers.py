"""Writing a netlist for other tools: structural Verilog, Yosys internal-cell Verilog, Yosys JSON, BLIF.

Every writer is linear in the netlist (one pass over the compiled slots) and deterministic. Each keeps what
gatesim needs to read the file back exactly — port names, widths and bit order (little-endian), and the
cell hierarchy a library prices (which gates belong to which ``full_adder`` instance) — in the format's
own metadata: Verilog attributes ``(* gatesim_inst = 3 *)`` on gates and ``(* gatesim_instance_3 = "..." *)``
(instance 3 as JSON) on the module, the same attributes in Yosys JSON, and ``# gatesim-...``
comment lines in BLIF. Tools that don't know them ignore them.

* :func:`to_verilog` ``style="structural"`` (default): plain Verilog-2001. One instance of a small gate
  module per gate (``gatesim_AOI21 g17 (.A(..), .B(..), .C(..), .Y(n17));``); the gate modules used are
  defined at the end of the file from continuous assigns, inside include guards so several exported files
  can be read together. Verilator (``--lint-only -Wall``), Icarus and Yosys read it as is.
* :func:`to_verilog` ``style="yosys"``: one Yosys internal gate cell (``\\$_AND_``) per gate; Yosys reads
  it with ``read_verilog -icells`` and prices it with ``stat -tech cmos``.
* :func:`to_yosys_json`: the format of Yosys ``write_json`` / ``read_json``, internal gate cells.
* :func:`to_blif`: one ``.names`` cover per gate (prime implicants of the gate's truth table).
"""
from __future__ import annotations

import json
import re
from itertools import product

import numpy as np

from ..compile import CompiledNetlist, compile_netlist
from ..gates import GATES
from ..logic import truth_table
from ..netlist import Netlist
from .names import Scope, sanitize, verilog_ident, verilog_spellable

GATE_MODULE_PREFIX = "gatesim_"  # structural Verilog: the module of gate type G is gatesim_G
GATE_ATTR, INST_ATTR, NAME_ATTR = "gatesim_gate", "gatesim_inst", "gatesim_name"
INSTANCE_ATTR = "gatesim_instance_"  # + k: instance k as JSON, one attribute each (Yosys's lexer takes no long strings)

# Verilog expression of each gate over its pins (structural style's gate modules)
_EXPR = {
    "BUF": "A", "NOT": "~A", "AND2": "A & B", "OR2": "A | B", "NAND2": "~(A & B)", "NOR2": "~(A | B)",
    "XOR2": "A ^ B", "XNOR2": "~(A ^ B)", "ANDNOT2": "A & ~B", "ORNOT2": "A | ~B", "MUX2": "S ? B : A",
    "NMUX2": "~(S ? B : A)", "AOI21": "~((A & B) | C)", "OAI21": "~((A | B) & C)",
    "AOI22": "~((A & B) | (C & D))", "OAI22": "~((A | B) & (C | D))",
}


def _verilog_string(text: str) -> str:
    """A Verilog string literal holding ``text`` (ASCII after JSON escaping)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fanout(c: CompiledNetlist) -> np.ndarray:
    """Readers per slot: gate pins plus output port bits."""
    pins = c.fanin[c.fanin >= 0]
    return np.bincount(np.concatenate([pins, c.output_slots]).astype(np.int64), minlength=c.n_slots)


def _instance_attrs(net: Netlist) -> dict[str, str]:
    """The cell instances as module attributes: ``gatesim_instance_<k>`` -> instance k as JSON."""
    keep = ("name", "cell", "parent", "const_pins")
    return {f"{INSTANCE_ATTR}{k}": json.dumps({x: i[x] for x in keep if x in i}, separators=(",", ":"))
            for k, i in enumerate(net.instances)}


class _VerilogModule:
    """Identifiers of one exported module: its name, its ports and a name per slot."""

    def __init__(self, net: Netlist, c: CompiledNetlist, module: str | None, reserved=()):
        self.scope = Scope()
        self.renamed: dict[str, str] = {}  # port identifier -> original name (names Verilog cannot spell)
        self.port_ident: dict[str, str] = {}
        for port in list(c.inputs) + list(c.outputs):
            if verilog_spellable(port):
                self.scope.taken.add(port)
                self.port_ident[port] = verilog_ident(port)
        for port in list(c.inputs) + list(c.outputs):
            if port not in self.port_ident:
                ident = self.scope.claim(sanitize(port))
                self.port_ident[port] = ident
                self.renamed[ident] = port
        name = module or net.name
        if not verilog_spellable(name) or name.startswith("$"):
            name = sanitize(name)
        module_scope = Scope([*reserved, *self.scope.taken])  # Verilator: the top's instance must not share a port's name
        self.name = verilog_ident(module_scope.claim(name)).rstrip()
        self.wire_prefix = self.scope.free_prefix("n")
        self.inst_prefix = self.scope.free_prefix("g")
        names = [""] * c.n_slots
        for port, slots in c.inputs.items():
            ident = self.port_ident[port]
            if len(slots) == 1:
                names[int(slots[0])] = ident
            else:
                for i, s in enumerate(slots.tolist()):
                    names[s] = f"{ident}[{i}]"
        names[c.const0_slot], names[c.const1_slot] = "1'b0", "1'b1"
        for s in range(c.n_sources, c.n_slots):
            names[s] = f"{self.wire_prefix}{s}"
        self.names = names

    def header(self, c: CompiledNetlist, net: Netlist, unused_inputs: bool) -> list[str]:
        lines = []
        if net.instances:
            attrs = [f"{k} = {_verilog_string(v)}" for k, v in _instance_attrs(net).items()]
            lines.append("(* " + ",\n   ".join(attrs) + " *)")
        lines.append(f"module {self.name} (")
        decls = []
        for direction, ports in (("input", c.inputs), ("output", c.outputs)):
            for port, slots in ports.items():
                ident = self.port_ident[port]
                attr = f"(* {NAME_ATTR} = {_verilog_string(json.dumps(port))} *) " if ident in self.renamed else ""
                rng = f"[{len(slots) - 1}:0] " if len(slots) > 1 else ""
                decls.append(f"  {attr}{direction} {rng}{ident}")
        if unused_inputs:
            lines.append("  /* verilator lint_off UNUSEDSIGNAL */  // the netlist does not read every input bit")
        lines.append(",\n".join(decls))
        if unused_inputs:
            lines.append("  /* verilator lint_on UNUSEDSIGNAL */")
        lines.append(");")
        return lines

    def wires(self, c: CompiledNetlist, dangling: bool) -> list[str]:
        if not c.n_gates:
            return []
        names = self.names[c.n_sources :]
        lines = ["  /* verilator lint_off UNUSEDSIGNAL */  // gates whose output nothing reads (gatesim.optimize removes them)"] if dangling else []
        for k in range(0, len(names), 16):
            lines.append("  wire " + ", ".join(names[k : k + 16]) + ";")
        if dangling:
            lines.append("  /* verilator lint_on UNUSEDSIGNAL */")
        return lines

    def assigns(self, c: CompiledNetlist) -> list[str]:
        lines = []
        for port, slots in c.outputs.items():
            ident = self.port_ident[port]
            if len(slots) == 1:
                lines.append(f"  assign {ident} = {self.names[int(slots[0])]};")
            else:
                lines.extend(f"  assign {ident}[{i}] = {self.names[s]};" for i, s in enumerate(slots.tolist()))
        return lines


def to_verilog(net: Netlist, module: str | None = None, style: str = "structural") -> str:
    """The netlist as flat Verilog; ``style`` ``"structural"`` (plain Verilog, gate modules) or ``"yosys"``
    (Yosys internal gate cells, read with ``read_verilog -icells``). See the module docstring."""
    if style not in ("structural", "yosys"):
        raise ValueError(f"unknown Verilog style {style!r} (structural, yosys)")
    c = compile_netlist(net)
    ops = c.op_names
    used_kinds = sorted({ops[s] for s in range(c.n_sources, c.n_slots)}, key=lambda k: GATES[k].code)
    structural = style == "structural"
    gate_modules = [GATE_MODULE_PREFIX + k for k in used_kinds] if structural else []
    m = _VerilogModule(net, c, module, reserved=gate_modules)
    fanout = _fanout(c)
    unused_inputs = bool(c.n_inputs) and not fanout[: c.n_inputs].all()
    dangling = bool((fanout[c.n_sources :] == 0).any())
    what = "structural Verilog" if structural else "Verilog of Yosys internal gate cells (read_verilog -icells)"
    lines = [f"// {what} written by gatesim: netlist {net.name!r}, {c.n_gates} gates"]
    if structural:
        lines.append("// one instance of a gate module per gate; the gate modules follow the netlist module")
        lines.append("/* verilator lint_off DECLFILENAME */  // gate modules share the file")
        lines.append("/* verilator lint_off SYMRSVDWORD */  // port names are the design's own")
    lines += m.header(c, net, unused_inputs)
    lines += m.wires(c, dangling)
    names, fanin, inst = m.names, c.fanin.tolist(), c.inst.tolist()
    gp, wp = m.inst_prefix, m.wire_prefix
    for s in range(c.n_sources, c.n_slots):
        gt = GATES[ops[s]]
        f = fanin[s]
        pins = ", ".join([f".{pin}({names[f[k]]})" for k, pin in enumerate(gt.pins)])
        cell = GATE_MODULE_PREFIX + gt.name if structural else f"\\{gt.yosys} "
        attr = f"(* {INST_ATTR} = {inst[s]} *) " if inst[s] >= 0 else ""
        lines.append(f"  {attr}{cell} {gp}{s} ({pins}, .Y({wp}{s}));")
    lines += m.assigns(c)
    lines.append("endmodule")
    for kind in used_kinds if structural else ():
        gt = GATES[kind]
        guard = f"GATESIM_GATE_{kind}"
        ports = ", ".join([f"input {p}" for p in gt.pins] + ["output Y"])
        lines += [
            "", f"`ifndef {guard}", f"`define {guard}", f'(* {GATE_ATTR} = "{kind}" *)',
            f"module {GATE_MODULE_PREFIX}{kind} ({ports});", f"  assign Y = {_EXPR[kind]};", "endmodule", "`endif",
        ]
    return "\n".join(lines) + "\n"


def _bits32(value: int) -> str:
    """An integer attribute value as Yosys JSON writes it: 32 binary digits."""
    return format(value & 0xFFFFFFFF, "032b")


def to_yosys_json(net: Netlist, module: str | None = None) -> str:
    """The netlist in Yosys's JSON netlist format (``read_json``): one module of internal gate cells.

    Written as text, cell by cell (a dict per cell and ``json.dumps`` take three times as long); internal nets
    are left unnamed (``read_json`` names them)."""
    c = compile_netlist(net)
    ops = c.op_names
    bit = [str(s + 2) for s in range(c.n_slots)]  # Yosys numbers nets from 2; 0 and 1 are not nets
    bit[c.const0_slot], bit[c.const1_slot] = '"0"', '"1"'
    ports, netnames = [], []
    for direction, group in (("input", c.inputs), ("output", c.outputs)):
        for port, slots in group.items():
            bits = ",".join(bit[s] for s in slots.tolist())
            name = json.dumps(port)
            ports.append(f'{name}:{{"direction":"{direction}","bits":[{bits}]}}')
            netnames.append(f'{name}:{{"hide_name":0,"bits":[{bits}],"attributes":{{}}}}')
    head = {}
    for kind in set(ops[c.n_sources :]):
        gt = GATES[kind]
        dirs = ",".join([f'"{p}":"input"' for p in gt.pins] + ['"Y":"output"'])
        head[kind] = (f'"hide_name":0,"type":"{gt.yosys}","parameters":{{}},', f'"port_directions":{{{dirs}}},',
                      [f'"{p}":[' for p in gt.pins])
    cells = []
    fanin, inst = c.fanin.tolist(), c.inst.tolist()
    for s in range(c.n_sources, c.n_slots):
        start, dirs, pins = head[ops[s]]
        f = fanin[s]
        conns = ",".join([pin + bit[f[k]] + "]" for k, pin in enumerate(pins)])
        attrs = f'{{"{INST_ATTR}":"{_bits32(inst[s])}"}}' if inst[s] >= 0 else "{}"
        cells.append(f'"g{s}":{{{start}"attributes":{attrs},{dirs}"connections":{{{conns},"Y":[{bit[s]}]}}}}')
    attrs = {"top": _bits32(1), **_instance_attrs(net)}
    name = json.dumps(module or net.name)
    return (f'{{"creator":"gatesim","modules":{{{name}:{{"attributes":{json.dumps(attrs)},'
            f'"ports":{{{",".join(ports)}}},"cells":{{{",".join(cells)}}},"netnames":{{{",".join(netnames)}}}}}}}}}\n')


def cover(kind: str) -> list[str]:
    """BLIF cover rows (``"1-0 1"``) of gate ``kind`` over its pins: prime implicants of its ON set,
    chosen greedily (exact: their union is the ON set)."""
    n = GATES[kind].arity
    tt = truth_table(kind)
    on = {m for m in range(1 << n) if (tt >> m) & 1}

    def minterms(cube):
        free = [k for k, v in enumerate(cube) if v is None]
        base = sum(1 << k for k, v in enumerate(cube) if v == 1)
        return {base | sum(((x >> j) & 1) << k for j, k in enumerate(free)) for x in range(1 << len(free))}

    implicants = [(cube, minterms(cube)) for cube in product((0, 1, None), repeat=n) if minterms(cube) <= on]
    primes = [(cb, ms) for cb, ms in implicants if not any(ms < other for _, other in implicants)]
    rows, left = [], set(on)
    while left:
        cb, ms = max(primes, key=lambda p: (len(p[1] & left), -sum(v is None for v in p[0])))
        rows.append("".join("-" if v is None else str(v) for v in cb) + " 1")
        left -= ms
    return rows


_BLIF_BAD = re.compile(r'[^!-~]|[#=\\\[\]$"]')  # blanks, non-ASCII, comment, continuation, bit brackets


def to_blif(net: Netlist, model: str | None = None) -> str:
    """The netlist as BLIF: ``.names`` covers per gate. A ``BUF`` gate is written ``0 0`` (a buffer that
    readers keep as a gate), a plain connection ``1 1`` (a wire); constants are ``$false`` / ``$true``."""
    c = compile_netlist(net)
    ops = c.op_names
    scope = Scope(("$false", "$true"))
    lines = [f"# BLIF written by gatesim: netlist {net.name!r}, {c.n_gates} gates"]
    base: dict[str, str] = {}
    for port in list(c.inputs) + list(c.outputs):
        b = scope.claim(_blif_token(port))
        base[port] = b
        if b != port:
            lines.append(f"# gatesim-port {b} {json.dumps(port)}")
    for k, inst in enumerate(_instance_attrs(net).values()):
        lines.append(f"# gatesim-instance {k} {inst}")

    def bit_names(port, slots):
        return [base[port]] if len(slots) == 1 else [f"{base[port]}[{i}]" for i in range(len(slots))]

    names: list = [""] * c.n_slots
    for port, slots in c.inputs.items():
        for s, nm in zip(slots.tolist(), bit_names(port, slots)):
            names[s] = nm
    names[c.const0_slot], names[c.const1_slot] = "$false", "$true"
    for port in c.inputs:
        scope.taken.update(bit_names(port, c.inputs[port]))
    aliases = []  # (source name, output bit name): outputs that need a connection of their own
    named_by_output = set()
    for port, slots in c.outputs.items():
        scope.taken.update(bit_names(port, slots))
    for port, slots in c.outputs.items():
        for s, nm in zip(slots.tolist(), bit_names(port, slots)):
            if s >= c.n_sources and s not in named_by_output:
                names[s] = nm  # the gate drives the output bit directly
                named_by_output.add(s)
            else:
                aliases.append((s, nm))
    prefix = scope.free_prefix("n")
    for s in range(c.n_sources, c.n_slots):
        if not names[s]:
            names[s] = f"{prefix}{s}"
    lines.append(f".model {_blif_token(model or net.name)}")
    for key, ports in ((".inputs", c.inputs), (".outputs", c.outputs)):
        bits = [nm for port, slots in ports.items() for nm in bit_names(port, slots)]
        for k in range(0, max(len(bits), 1), 16):
            lines.append(f"{key} " + " ".join(bits[k : k + 16]) if bits else key)
    used = _fanout(c)
    if used[c.const0_slot]:
        lines.append(".names $false")
    if used[c.const1_slot]:
        lines += [".names $true", "1"]
    covers = {kind: cover(kind) for kind in set(ops[c.n_sources :])}
    covers["BUF"] = ["0 0"]
    fanin, inst = c.fanin.tolist(), c.inst.tolist()
    for s in range(c.n_sources, c.n_slots):
        kind = ops[s]
        if inst[s] >= 0:
            lines.append(f"# gatesim-inst {inst[s]}")
        ins = " ".join(names[fanin[s][k]] for k in range(GATES[kind].arity))
        lines.append(f".names {ins} {names[s]}")
        lines += covers[kind]
    for s, nm in aliases:
        if s == c.const0_slot:
            lines.append(f".names {nm}")
        elif s == c.const1_slot:
            lines += [f".names {nm}", "1"]
        else:
            lines += [f".names {names[s]} {nm}", "1 1"]
    lines.append(".end")
    return "\n".join(lines) + "\n"


def _blif_token(name: str) -> str:
    """``name`` as one BLIF token: no blanks, comment, continuation, brackets (bit indices) or ``$``."""
    return _BLIF_BAD.sub("_", name) or "_"
