"""Netlist optimization: constants, redundant and unused logic, and the cell tags that still hold.

:func:`optimize` returns a new :class:`~gatesim.netlist.Netlist` computing the same function with the
same ports (names, widths, bit order); the input netlist is not changed. A forward sweep over the
compiled, levelized gates and a backward sweep, both linear in the number of gates, then the judgement
of the changed instances; again while that dissolved an instance (its gates may now merge or fold with
its parent's) or rewired an output (typically two or three rounds):

* **constant propagation and local simplification**: a gate with a constant input or two pins on one
  net is replaced by its reduced function (a constant, a wire, or one smaller gate: ``XOR(x, 1)`` is
  ``NOT x``, ``MUX(a, b, 0)`` is ``a``, ``x AND x`` is ``x``, ``AOI22(a, b, c, 1)`` is ``AOI21``);
  ``NOT(NOT x)`` is ``x``. Every rule is derived from the gates' truth tables (:mod:`gatesim.logic`).
* **structural hashing**: two gates of one type on the same nets (commutative pins in any order) are
  one gate. Gates merge inside one instance (or both at top level), never across instances, so a cell
  never loses part of its gates to another one.
* **removal of unused gates**: every gate from which no output port can be reached goes (what Yosys
  ``opt_clean`` does).

Then the hierarchy: an instance left without gates is dropped. An instance whose logic changed is
judged by what it now computes: a registered cell (:mod:`gatesim.cells`) of the same function, under
any input order, gives it its name (a ``full_adder`` with carry in 0 becomes a ``half_adder``); a
registered cell that only lost outputs keeps its name (a cell with an unused output pin); an unregistered
or large cell keeps its name while its inputs are still distinct, non-constant nets and none was tied to
a constant when it was built (``const_pins`` of the instance). Any other instance is dissolved: its gates
and child instances belong to its parent, and its gates are priced one by one. An output of a small
changed instance that computes a constant or a copy of one of its inputs is rewired to it (a full adder
with two inputs on one net computes no gate at all).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from .cells import MAX_CELL_INPUTS, cell_matcher, output_function
from .compile import CompiledNetlist, compile_netlist
from .gates import GATES
from .logic import evaluate, pin_symmetries, reduce_gate, var_table
from .netlist import Netlist, gc_paused

_ARITY = {kind: gt.arity for kind, gt in GATES.items()}
_SYMMETRIES = {kind: pin_symmetries(kind) for kind in GATES if GATES[kind].arity}
_SWAP2 = ((0, 1), (1, 0))  # the symmetry of AND2, OR2, XOR2, ...: the canonical order is sorted
_CLEAN, _CHANGED = 0, 1  # per gate: kept as it was, or simplified / merged away


@dataclass
class _Flat:
    """A netlist as plain lists in topological order: slot 0 and 1 the constants, then the primary
    inputs (port order), then the gates. What the sweeps read and write."""

    n_inputs: int
    op: list  # gate type per slot
    fanin: list  # tuple of slots per slot
    inst: list  # innermost instance per slot (-1: top level)
    node: list  # node id per slot (None: constants)
    outputs: dict  # port -> slots
    instances: list  # instance dicts (name, cell, parent, const_pins)

    @classmethod
    def of(cls, net: Netlist, c: CompiledNetlist) -> _Flat:
        n_in = c.n_inputs
        to = list(range(2, 2 + n_in)) + [0, 1] + list(range(c.n_sources, c.n_slots))  # compiled slot -> slot
        ops = c.op_names
        fanin = c.fanin.tolist()
        return cls(
            n_inputs=n_in,
            op=["CONST0", "CONST1"] + ops[:n_in] + ops[c.n_sources :],
            fanin=[()] * c.n_sources + [tuple([to[f] for f in fanin[s][: _ARITY[ops[s]]]]) for s in range(c.n_sources, c.n_slots)],
            inst=[-1] * c.n_sources + c.inst[c.n_sources :].tolist(),
            node=[None, None] + c.nodes[:n_in] + c.nodes[c.n_sources :],
            outputs={p: [to[s] for s in slots.tolist()] for p, slots in c.outputs.items()},
            instances=[dict(i) for i in net.instances],
        )

    @property
    def first_gate(self) -> int:
        return 2 + self.n_inputs


class _Sweep:
    """One forward sweep (fold, merge) and one backward sweep (liveness) over a :class:`_Flat`.

    ``rep[s]``: the new slot ("handle") computing slot s; new slots use the layout of :class:`_Flat`.
    """

    def __init__(self, f: _Flat, fold: bool, merge: bool):
        first = f.first_gate
        self.op = op_h = f.op[:first]
        self.fanin = fan_h = [()] * first
        self.origin = org_h = list(range(first))  # the slot each handle was made for
        self.inst = inst_h = [-1] * first
        self.rep = rep = list(range(first)) + [0] * (len(f.op) - first)
        self.status = status = bytearray(len(f.op))
        table: dict = {}
        ops, fanins, insts = f.op, f.fanin, f.inst
        for s in range(first, len(ops)):
            op = ops[s]
            i = insts[s]
            fi = tuple([rep[x] for x in fanins[s]])
            state = _CLEAN
            if fold and (min(fi) < 2 or len(set(fi)) < len(fi)):
                var: list = []
                pattern = []
                for x in fi:
                    if x < 2:
                        pattern.append(-1 - x)
                    else:
                        if x not in var:
                            var.append(x)
                        pattern.append(var.index(x))
                r = reduce_gate(op, tuple(pattern))
                state = _CHANGED
                if r is not None:
                    if r[0] == "const":
                        rep[s], status[s] = r[1], _CHANGED
                        continue
                    if r[0] == "wire":
                        rep[s], status[s] = var[r[1]], _CHANGED
                        continue
                    op, fi = r[1], tuple([var[j] for j in r[2]])
            if fold and op == "NOT" and op_h[fi[0]] == "NOT" and inst_h[fi[0]] == i:
                rep[s], status[s] = fan_h[fi[0]][0], _CHANGED  # double inversion inside one instance
                continue
            if merge:
                syms = _SYMMETRIES[op]
                if len(syms) == 1:
                    canon = fi
                elif syms == _SWAP2:
                    canon = fi if fi[0] <= fi[1] else (fi[1], fi[0])
                else:
                    canon = min(tuple([fi[k] for k in p]) for p in syms)
                key = (op, canon, i)  # within one instance (or at top level): cells stay whole
                h = table.get(key)
                if h is not None:
                    rep[s], status[s] = h, _CHANGED
                    continue
                table[key] = len(op_h)
            rep[s] = len(op_h)
            status[s] = state
            op_h.append(op)
            fan_h.append(fi)
            org_h.append(s)
            inst_h.append(i)
        # backward: what an output port reaches (primary inputs stay, as ports)
        self.live = live = bytearray(len(op_h))
        live[2:first] = b"\x01" * f.n_inputs
        for slots in f.outputs.values():
            for s in slots:
                live[rep[s]] = 1
        for h in range(len(op_h) - 1, first - 1, -1):
            if live[h]:
                for x in fan_h[h]:
                    live[x] = 1


def _chains(parent: list) -> list[tuple]:
    """Per instance: itself and its ancestors, innermost first."""
    chains: list[tuple] = []
    for i, p in enumerate(parent):
        chains.append((i,) + (chains[p] if p >= 0 else ()))
    return chains


def _instance_cells(f: _Flat, sw: _Sweep, cells) -> tuple[list, bool, dict]:
    """Per instance: its cell name after the sweep, or ``None`` (dissolved, or left without gates); whether
    an instance that kept gates was dissolved; and the outputs of judged instances that compute a constant
    or one of the instance's inputs (handle -> that constant or input's handle)."""
    n_inst = len(f.instances)
    if not n_inst:
        return [], False, {}
    chains = _chains([i["parent"] for i in f.instances])
    rep, live, status = sw.rep, sw.live, sw.status
    first = f.first_gate
    touched, alive = bytearray(n_inst), bytearray(n_inst)
    for s in range(first, len(f.op)):
        i = f.inst[s]
        if i >= 0 and not (status[s] == _CLEAN and live[rep[s]]) and not touched[i]:
            for a in chains[i]:
                touched[a] = 1
    for h in range(first, len(sw.op)):
        i = sw.inst[h]
        if live[h] and i >= 0 and not alive[i]:
            for a in chains[i]:
                alive[a] = 1
    matcher = cell_matcher(cells)
    _touch_tied_cells(f, sw, chains, matcher, touched)
    result: list = [inst["cell"] if alive[i] else None for i, inst in enumerate(f.instances)]
    judge = [i for i in range(n_inst) if touched[i] and alive[i]]
    if not judge:
        return result, False, {}
    # the live logic of each instance to judge, and who reads it
    members: dict = {i: [] for i in judge}
    readers: dict = {}
    for h in range(first, len(sw.op)):
        if not live[h]:
            continue
        for x in sw.fanin[h]:
            readers.setdefault(x, []).append(h)
        i = sw.inst[h]
        if i >= 0:
            for a in chains[i]:
                if a in members:
                    members[a].append(h)
    ported = {rep[s] for slots in f.outputs.values() for s in slots}
    raw = None
    dissolved = False
    wires: dict = {}
    for a in judge:
        cell = f.instances[a]["cell"]
        mem = members[a]
        inside = set(mem)
        inputs = list(dict.fromkeys(x for h in mem for x in sw.fanin[h] if x >= 2 and x not in inside))
        fn = None
        if len(inputs) <= MAX_CELL_INPUTS:
            outs = [h for h in mem if h in ported or any(r not in inside for r in readers.get(h, ()))]
            fn = _function(sw, mem, inputs, outs, wires)
            if cell in matcher.orders:  # a registered cell is judged by its function alone
                name = matcher.match(*fn, prefer=cell)
                result[a] = name if name else (cell if matcher.within(cell, *fn) else None)
                dissolved = dissolved or result[a] is None
                continue
        if raw is None:
            raw = _inputs_as_built(f, chains, set(judge))
        slots, const_pins = raw[a]
        ins = [rep[s] for s in slots]
        if (const_pins == f.instances[a].get("const_pins", const_pins)  # no input tied to a constant when built
                and min(ins, default=2) >= 2 and len(set(ins)) == len(ins)):  # nor since
            continue  # the same cell, maybe with unused outputs
        result[a] = matcher.match(*fn) if fn is not None else None
        dissolved = dissolved or result[a] is None
    return result, dissolved, wires


def _function(sw: _Sweep, members: list, inputs: list, outputs: list, wires: dict) -> tuple:
    """:func:`gatesim.cells.output_function` of an instance's live logic over its inputs; an output that
    is a constant or a copy of an input goes in ``wires`` (handle -> constant or input handle)."""
    n = len(inputs)
    mask = (1 << (1 << n)) - 1
    val = {0: 0, 1: mask}
    for j, x in enumerate(inputs):
        val[x] = var_table(j, n)
    for h in members:  # handles are in topological order
        val[h] = evaluate(sw.op[h], [val[x] for x in sw.fanin[h]], mask)
    trivial = {0: 0, mask: 1}
    trivial.update((var_table(j, n), x) for j, x in enumerate(inputs))
    for h in outputs:
        if val[h] in trivial:
            wires[h] = trivial[val[h]]
    return output_function((val[h] for h in outputs), n)


def _touch_tied_cells(f: _Flat, sw: _Sweep, chains: list, matcher, touched: bytearray) -> None:
    """Mark instances of registered cells that read fewer distinct nets than their cell has inputs (two
    inputs on one net: no gate need see both, yet the function is not the cell's)."""
    want = {i for i, inst in enumerate(f.instances) if not touched[i] and inst["cell"] in matcher.orders}
    if not want:
        return
    parents = {inst["parent"] for inst in f.instances}
    leaves = want - parents  # the common case: a leaf cell, whose outside is every other instance
    seen: dict = {a: set() for a in want}
    inst_h, fanin_h, live = sw.inst, sw.fanin, sw.live
    for h in range(f.first_gate, len(sw.op)):
        i = inst_h[h]
        if i < 0 or not live[h]:
            continue
        if i in leaves:
            seen[i].update(x for x in fanin_h[h] if x >= 2 and inst_h[x] != i)
            continue
        for a in chains[i]:
            if a in want:
                seen[a].update(x for x in fanin_h[h] if x >= 2 and (inst_h[x] < 0 or a not in chains[inst_h[x]]))
    for a, ins in seen.items():
        if ins and len(ins) < matcher.orders[f.instances[a]["cell"]][0]:
            for b in chains[a]:
                touched[b] = 1


def _inputs_as_built(f: _Flat, chains: list, wanted: set) -> dict:
    """Per wanted instance, before the sweep: (the slots outside it that its gates read, not constants;
    how many of its gates' pins read a constant)."""
    outside: dict = {a: {} for a in wanted}
    consts = dict.fromkeys(wanted, 0)
    inst = f.inst
    for s in range(f.first_gate, len(f.op)):
        i = inst[s]
        if i < 0:
            continue
        for a in chains[i]:
            if a not in wanted:
                continue
            for x in f.fanin[s]:
                if x < 2:
                    consts[a] += 1
                elif a not in (chains[inst[x]] if inst[x] >= 0 else ()):
                    outside[a][x] = None
    return {a: (list(d), consts[a]) for a, d in outside.items()}


def _next(f: _Flat, sw: _Sweep, cells_after: list, wires: dict) -> _Flat:
    """The swept netlist as a :class:`_Flat`: live slots only, dissolved instances' gates and children
    handed to their parents, readers of ``wires`` reading what they copy, ``const_pins`` counted again."""
    new_index: list[int] = []
    instances = []
    for old, cell in zip(f.instances, cells_after):
        p = old["parent"]
        up = new_index[p] if p >= 0 else -1
        if cell is None:
            new_index.append(up)
        else:
            new_index.append(len(instances))
            instances.append(dict(old, cell=cell, parent=up, const_pins=0))
    first = f.first_gate
    keep = [h for h in range(first, len(sw.op)) if sw.live[h]]
    slot = list(range(first)) + [0] * (len(sw.op) - first)
    for k, h in enumerate(keep):
        w = h
        while w in wires:  # a copy of a copy: its source is earlier in topological order
            w = wires[w]
        slot[h] = slot[w] if w != h else first + k
    fanin = [()] * first + [tuple([slot[x] for x in sw.fanin[h]]) for h in keep]
    inst = [-1] * first + [new_index[sw.inst[h]] if sw.inst[h] >= 0 else -1 for h in keep]
    for s in range(first, len(fanin)):
        if min(fanin[s]) < 2:  # a constant pin left (fold=False): part of every instance around it
            ni = inst[s]
            while ni >= 0:
                instances[ni]["const_pins"] += sum(1 for x in fanin[s] if x < 2)
                ni = instances[ni]["parent"]
    return _Flat(
        n_inputs=f.n_inputs,
        op=sw.op[:first] + [sw.op[h] for h in keep],
        fanin=fanin,
        inst=inst,
        node=f.node[:first] + [f.node[sw.origin[h]] for h in keep],
        outputs={p: [slot[sw.rep[s]] for s in slots] for p, slots in f.outputs.items()},
        instances=instances,
    )


def optimize(net: Netlist, *, fold: bool = True, merge: bool = True, cells=None) -> Netlist:
    """A new netlist computing what ``net`` computes, with constants propagated, redundant gates merged and
    unused gates removed (see the module docstring); ``net`` is not changed.

    Same ports (names, widths, bit order), same node ids for the gates that remain. ``fold=False`` skips
    constant propagation and simplification, ``merge=False`` structural hashing (with both off, only
    unused gates go, as Yosys ``opt_clean`` does). ``cells``: name -> netlist of the cells an instance may be
    re-tagged as (default: :func:`gatesim.cells.registered_cells`).
    """
    with gc_paused():
        f = _Flat.of(net, compile_netlist(net))
        for _ in range(len(f.instances) + 1):  # each further round dissolves an instance or rewires an output
            sw = _Sweep(f, fold, merge)
            cells_after, dissolved, wires = _instance_cells(f, sw, cells)
            if not fold:
                wires = {}
            f = _next(f, sw, cells_after, wires)
            if not (wires or (dissolved and (fold or merge))):
                break
        return _assemble(net, f)


def remove_unused(net: Netlist) -> Netlist:
    """``net`` without the gates that reach no output port (Yosys ``opt_clean``); a new netlist."""
    return optimize(net, fold=False, merge=False)


def _const_node(net: Netlist, v: int):
    """The node of constant ``v`` in ``net`` (``None`` when it has none)."""
    kind = f"CONST{v}"
    nid = net._consts.get(v)
    if nid is not None and net._node.get(nid, {}).get("gate") == kind:
        return nid
    return next((n for n, d in net._node.items() if d.get("gate") == kind), None)


def _assemble(net: Netlist, f: _Flat) -> Netlist:
    """The :class:`Netlist` of ``f``: ``net``'s graph attributes, ports and node ids."""
    new = Netlist(name=net.name)
    new.graph.update({k: copy.deepcopy(v) for k, v in net.graph.items() if k not in ("inputs", "outputs", "instances")})
    new.graph["instances"] = f.instances
    new.graph["optimized"] = True
    # fill networkx's adjacency directly (what add_nodes_from / add_edges_from do, without their checks)
    nodes, succ, pred = new._node, new._succ, new._pred
    node_of = list(f.node)
    for s in range(2, f.first_gate):
        b = node_of[s]
        nodes[b], succ[b], pred[b] = dict(net._node[b]), {}, {}
    new._next_id = 1 + max((n for n in f.node if isinstance(n, int)), default=-1)
    used = {x for fi in f.fanin for x in fi if x < 2} | {s for slots in f.outputs.values() for s in slots if s < 2}
    for v in sorted(used):
        nid = _const_node(net, v)
        if nid is None:
            nid = new.const(v)
        else:
            nodes[nid], succ[nid], pred[nid] = {"gate": f"CONST{v}", "inst": -1}, {}, {}
            new._consts[v] = nid
        node_of[v] = nid
    for s in range(f.first_gate, len(f.op)):
        nid = node_of[s]
        nodes[nid] = {"gate": f.op[s], "inst": f.inst[s]}
        succ[nid] = {}
        mine = pred[nid] = {}
        for k, x in enumerate(f.fanin[s]):
            src = node_of[x]
            d = mine.get(src)
            if d is None:
                mine[src] = succ[src][nid] = {"pins": (k,)}
            else:
                d["pins"] += (k,)
    new.invalidate()
    new.graph["inputs"] = {p: list(bits) for p, bits in net.inputs.items()}
    new.graph["outputs"] = {p: [node_of[s] for s in slots] for p, slots in f.outputs.items()}
    return new
