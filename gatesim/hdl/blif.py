"""Reading BLIF directly into a :class:`Netlist` (no Yosys run).

A ``.names`` cover that is a gate's function over its pins becomes that gate, a constant cover a constant,
``1 1`` a plain connection (``0 0`` a BUF gate: how :func:`gatesim.hdl.to_blif` writes one); any other cover
becomes its sum of products (AND of literals, OR of cubes). ``.subckt`` of a model in the same file becomes
an instance, ``.conn`` a connection. Bit names ``a[0] a[1] ...`` are grouped back into the port ``a``; the
``# gatesim-...`` comments the writer adds restore renamed ports and cell instances. ``.latch`` is refused
(combinational logic only), as are ``.gate`` (library cells) and ``.exdc``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..errors import HdlError
from ..gates import GATES, LOGIC_GATES
from ..logic import truth_table, var_table
from ..netlist import Netlist, gc_paused
from .readers import Notes, sequential_error, topological

_GATE_BY_TABLE = {(GATES[k].arity, truth_table(k)): k for k in LOGIC_GATES}
_BIT = re.compile(r"(.*)\[(\d+)\]\Z")


@dataclass
class _Model:
    name: str
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    names: list = field(default_factory=list)  # (input signals, output signal, cover rows, inst)
    subckts: list = field(default_factory=list)  # (model, [(formal, actual)], inst)
    ports: dict = field(default_factory=dict)  # renamed port base -> original name
    instances: list = field(default_factory=list)


def parse_blif(text: str, source: str = "BLIF") -> dict[str, _Model]:
    """The models of a BLIF file, in file order (see the module docstring for what is read)."""
    models: dict[str, _Model] = {}
    cur: _Model | None = None
    pending: list = []  # gatesim comments not yet applied
    last = ""  # the last command: cover rows follow a .names
    lines = text.splitlines()
    k = 0
    while k < len(lines):
        raw = lines[k]
        lineno = k = k + 1
        while raw.endswith("\\") and k < len(lines):
            raw = raw[:-1] + " " + lines[k]
            k += 1
        if raw.lstrip().startswith("# gatesim-"):
            pending.append(raw.strip()[2:])
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source} line {lineno}"
        if not line.startswith("."):
            if last != ".names":
                raise HdlError(f"{where}: cover row outside a .names")
            cur.names[-1][2].append(line)
            continue
        tok = line.split()
        cmd = last = tok[0]
        if cmd == ".model":
            cur = _Model(tok[1] if len(tok) > 1 else f"model{len(models)}")
            if cur.name in models:
                raise HdlError(f"{where}: model {cur.name!r} defined twice")
            models[cur.name] = cur
        if cur is None:
            raise HdlError(f"{where}: {cmd} outside a .model")
        inst = -1  # a "# gatesim-inst k" comment tags the next .names or .subckt
        for meta in pending:
            if meta.startswith("gatesim-inst "):
                inst = int(meta.split()[1])
            else:
                _apply_meta(cur, [meta], where)
        pending = []
        if cmd == ".inputs":
            cur.inputs += tok[1:]
        elif cmd == ".outputs":
            cur.outputs += tok[1:]
        elif cmd == ".names":
            if len(tok) < 2:
                raise HdlError(f"{where}: .names without an output")
            cur.names.append((tok[1:-1], tok[-1], [], inst))
        elif cmd == ".conn":
            cur.names.append(([tok[1]], tok[2], ["1 1"], -1))
        elif cmd == ".subckt":
            pairs = [t.split("=", 1) for t in tok[2:]]
            if len(tok) < 2 or any(len(p) != 2 for p in pairs):
                raise HdlError(f"{where}: .subckt needs a model and formal=actual connections")
            cur.subckts.append((tok[1], pairs, inst))
        elif cmd in (".latch", ".mlatch"):
            raise sequential_error(f"{source} model {cur.name!r}", [(tok[2] if len(tok) > 2 else "?", cmd)])
        elif cmd in (".gate", ".exdc", ".search", ".blackbox"):
            raise HdlError(f"{where}: {cmd} is not supported (gatesim reads .names, .subckt and .conn)")
        elif cmd == ".end":
            cur = None
        # other commands (.default_input_arrival, .cname, .attr, ...) carry no logic
    if not models:
        raise HdlError(f"{source}: no .model")
    return models


def _apply_meta(model: _Model, metas: list[str], where: str) -> None:
    for meta in metas:
        kind, _, rest = meta.partition(" ")
        try:
            if kind == "gatesim-port":
                blif_name, original = rest.split(" ", 1)
                model.ports[blif_name] = json.loads(original)
            elif kind == "gatesim-instance":
                idx, doc = rest.split(" ", 1)
                if int(idx) != len(model.instances):
                    raise ValueError("instances out of order")
                model.instances.append(dict(json.loads(doc)))
        except ValueError as e:
            raise HdlError(f"{where}: malformed gatesim comment ({e})") from None


def _group_ports(signals: list[str]) -> dict[str, list[str]]:
    """Port name -> its bit signals, LSB first: ``a[0] a[1]`` is the port ``a`` when its indices are 0..n-1."""
    groups: dict = {}
    for s in signals:
        m = _BIT.match(s)
        groups.setdefault(m.group(1) if m else s, []).append((int(m.group(2)) if m else None, s))
    ports: dict = {}
    for base, bits in groups.items():
        idx = [i for i, _ in bits]
        if None not in idx and sorted(idx) == list(range(len(idx))) and base not in ports:
            ports[base] = [s for _, s in sorted(bits)]
        else:
            for _, s in bits:
                ports[s] = [s]
    return ports


def _cover_table(ins: list[str], rows: list[str], where: str) -> int:
    """Truth table of a .names cover over its inputs (input k = variable k)."""
    n = len(ins)
    if n > 16:
        raise HdlError(f"{where}: .names with {n} inputs is too wide")
    full = (1 << (1 << n)) - 1
    on, values = 0, set()
    for row in rows:
        parts = row.split()
        cube, out = (parts[0], parts[1]) if n else ("", parts[0])
        if len(cube) != n or out not in ("0", "1") or any(ch not in "01-" for ch in cube):
            raise HdlError(f"{where}: malformed cover row {row!r}")
        values.add(out)
        t = full
        for j, ch in enumerate(cube):
            if ch != "-":
                t &= var_table(j, n) if ch == "1" else full ^ var_table(j, n)
        on |= t
    if len(values) > 1:
        raise HdlError(f"{where}: cover mixes output values 0 and 1")
    return full ^ on if values == {"0"} else on


def netlist_from_blif(text: str, top: str | None = None, source: str = "BLIF") -> Netlist:
    """The netlist of model ``top`` (default: the first) of a BLIF file (see the module docstring)."""
    models = parse_blif(text, source)
    if top is not None and top not in models:
        raise HdlError(f"{source}: no model {top!r} (models: {', '.join(models)})")
    notes = Notes()
    built: dict[str, Netlist] = {}
    with gc_paused():
        net = _blif_model(models, top or next(iter(models)), built, notes, source, set())
    net.graph["source"] = {"format": "blif", "top": net.name, "notes": notes.to_list()}
    return net


def _blif_model(models, name, built, notes, source, stack) -> Netlist:
    if name in built:
        return built[name]
    if name in stack:
        raise HdlError(f"{source}: model {name!r} instantiates itself")
    m = models[name]
    where = f"{source} model {name!r}"
    net = Netlist(name=name)
    net.graph["instances"] = [dict(i) for i in m.instances]
    node_of: dict = {}
    in_ports = _group_ports(m.inputs)
    for port, bits in in_ports.items():
        for s, nid in zip(bits, net.input(m.ports.get(port, port), len(bits))):
            node_of[s] = nid
    units = []
    for ins, out, rows, inst in m.names:
        units.append((out, "names", {k: [s] for k, s in enumerate(ins)}, {"Y": [out]}, (rows, inst)))
    subs = {}
    for model, pairs, inst in m.subckts:
        if model not in models:
            raise HdlError(f"{where}: .subckt of unknown model {model!r}")
        sub = models[model]
        formal_in, formal_out = set(sub.inputs), set(sub.outputs)
        ins = {f: [a] for f, a in pairs if f in formal_in}
        outs = {f: [a] for f, a in pairs if f in formal_out}
        unknown = [f for f, _ in pairs if f not in formal_in and f not in formal_out]
        if unknown:
            raise HdlError(f"{where}: model {model!r} has no port {unknown[0]!r}")
        subs[len(units)] = model
        units.append((f"{model}{len(subs) - 1}", "subckt", ins, outs, inst))
    # signals as integers for the shared topological sort
    ids: dict = {}
    sid = lambda s: ids.setdefault(s, len(ids))
    sources = {sid(s) for s in node_of}
    numbered = [(u[0], u[1], {k: [sid(s) for s in v] for k, v in u[2].items()},
                 {k: [sid(s) for s in v] for k, v in u[3].items()}, u[4]) for u in units]
    order = topological(numbered, sources, where)
    names = {v: k for k, v in ids.items()}

    def resolve(s):
        nid = node_of.get(s)
        if nid is None:
            notes.add(f"undriven net {s!r} of {name!r}")
            nid = node_of[s] = net.const(0)
        return nid

    for k in order:
        label, kind, ins, outs, extra = units[k]
        if kind == "names":
            rows, inst = extra
            node_of[outs["Y"][0]] = _names_gate(net, [resolve(ins[j][0]) for j in range(len(ins))], rows, inst,
                                                 f"{where} .names {label}")
            continue
        model = subs[k]
        sub = _blif_model(models, model, built, notes, source, stack | {name})
        sub_m = models[model]
        sub_in, sub_out = _group_ports(sub_m.inputs), _group_ports(sub_m.outputs)
        conns = {}
        for port, bits in sub_in.items():
            missing = [b for b in bits if b not in ins]
            if missing:
                raise HdlError(f"{where}: .subckt {model} leaves input {missing[0]!r} unconnected")
            conns[sub_m.ports.get(port, port)] = [resolve(ins[b][0]) for b in bits]
        parent = len(net.instances)
        result = net.instance(sub, label, **conns)
        if extra >= 0:
            net.instances[parent]["parent"] = extra
        for port, bits in sub_out.items():
            for b, nid in zip(bits, result[sub_m.ports.get(port, port)]):
                if b in outs:
                    node_of[outs[b][0]] = nid
    del names
    for port, bits in _group_ports(m.outputs).items():
        net.output(m.ports.get(port, port), [resolve(s) for s in bits])
    built[name] = net
    return net


def _names_gate(net: Netlist, fanin: list, rows: list[str], inst: int, where: str):
    """The node computing a .names cover of ``fanin``: a gate, a constant, a wire or a sum of products."""
    n = len(fanin)
    if n == 1 and rows == ["0 0"]:
        return net.gate("BUF", fanin[0], inst=inst)  # gatesim writes a BUF gate so; "1 1" is a wire
    tt = _cover_table(fanin, rows, where)
    full = (1 << (1 << n)) - 1
    if tt in (0, full):
        return net.const(tt == full)
    if n == 1 and tt == var_table(0, 1):
        return fanin[0]
    kind = _GATE_BY_TABLE.get((n, tt))
    if kind is not None:
        return net.gate(kind, *fanin, inst=inst)
    # any other function: its cover as given, AND of literals per cube, OR of the cubes
    negated = {}
    terms = []
    for row in rows:
        cube = row.split()[0] if n else ""
        lits = []
        for j, ch in enumerate(cube):
            if ch == "1":
                lits.append(fanin[j])
            elif ch == "0":
                if j not in negated:
                    negated[j] = net.gate("NOT", fanin[j], inst=inst)
                lits.append(negated[j])
        t = lits[0] if lits else net.const(1)
        for x in lits[1:]:
            t = net.gate("AND2", t, x, inst=inst)
        terms.append(t)
    out = terms[0]
    for t in terms[1:]:
        out = net.gate("OR2", out, t, inst=inst)
    if rows and rows[0].split()[-1] == "0":
        out = net.gate("NOT", out, inst=inst)
    return out
