"""The netlist: a ``networkx.DiGraph`` of primitive gates with named multi-bit ports.

Representation
--------------
* Every node is one net and the gate (or source) that drives it. Node attributes:
  ``gate`` (a name from :data:`gatesim.gates.GATES`) and ``inst`` (index of the innermost
  sub-netlist instance the gate belongs to, ``-1`` at top level).
* An edge ``u -> v`` with attribute ``pins=(k, ...)`` means net ``u`` drives input pins ``k, ...``
  of gate ``v`` (a tuple, since one net may drive two pins of the same gate).
* Ports live in ``net.graph["inputs"]`` / ``net.graph["outputs"]``: name -> list of node ids,
  little-endian (index 0 is the least significant bit).
* Hierarchy: :meth:`Netlist.instance` copies a sub-netlist's gates into this one and records an
  instance (name, cell = the sub-netlist's name, parent instance, and ``const_pins``: how many gate
  pins inside read a constant of the sub-netlist itself, not one it was connected to) in
  ``net.graph["instances"]``.
  Counting sees the hierarchy (a cell library may price a whole ``full_adder`` instance as one
  cell); simulation sees the flat gates.

The compiled array form (:func:`gatesim.compile.compile_netlist`) is cached on the object and
dropped whenever the graph is changed through the networkx mutators.
"""
from __future__ import annotations

import contextlib
import gc

import networkx as nx

from .errors import NetlistError
from .gates import GATES, SOURCE_GATES

Bits = list  # a bus: list of node ids, LSB first


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a netlist is built or rewritten.

    Building adds ~10**5 small dicts and lists (networkx node and edge attributes); each full collection
    rescans them all, which doubles or triples the time of the large designs. Netlist code makes no
    reference cycles that need collecting meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Netlist(nx.DiGraph):
    """A combinational gate-level netlist (see the module docstring for the layout)."""

    def __init__(self, incoming_graph_data=None, name: str = "netlist", **attr):
        self._compiled = None
        super().__init__(incoming_graph_data, **attr)
        self.graph.setdefault("name", name)
        self.graph.setdefault("inputs", {})
        self.graph.setdefault("outputs", {})
        self.graph.setdefault("instances", [])
        self.graph.setdefault("params", {})
        self._next_id = 1 + max((n for n in self._node if isinstance(n, int)), default=-1)
        self._consts: dict[int, int] = {}

    # -- cache invalidation -------------------------------------------------------------
    def invalidate(self) -> None:
        """Drop the cached compilation; call after editing node or edge attributes in place."""
        self._compiled = None

    def add_node(self, node_for_adding, **attr):
        self._compiled = None
        super().add_node(node_for_adding, **attr)

    def add_nodes_from(self, nodes_for_adding, **attr):
        self._compiled = None
        super().add_nodes_from(nodes_for_adding, **attr)

    def add_edge(self, u_of_edge, v_of_edge, **attr):
        self._compiled = None
        super().add_edge(u_of_edge, v_of_edge, **attr)

    def add_edges_from(self, ebunch_to_add, **attr):
        self._compiled = None
        super().add_edges_from(ebunch_to_add, **attr)

    def remove_node(self, n):
        self._compiled = None
        super().remove_node(n)

    def remove_nodes_from(self, nodes):
        self._compiled = None
        super().remove_nodes_from(nodes)

    def remove_edge(self, u, v):
        self._compiled = None
        super().remove_edge(u, v)

    def remove_edges_from(self, ebunch):
        self._compiled = None
        super().remove_edges_from(ebunch)

    def clear(self):
        self._compiled = None
        super().clear()

    # -- ports ---------------------------------------------------------------------------
    @property
    def inputs(self) -> dict[str, list]:
        """Input ports: name -> node ids, LSB first."""
        return self.graph["inputs"]

    @property
    def outputs(self) -> dict[str, list]:
        """Output ports: name -> node ids, LSB first."""
        return self.graph["outputs"]

    @property
    def instances(self) -> list[dict]:
        """Sub-netlist instances: dicts with ``name``, ``cell``, ``parent`` (index or -1), ``const_pins``."""
        return self.graph["instances"]

    @property
    def params(self) -> dict:
        return self.graph["params"]

    def _new_id(self) -> int:
        while self._next_id in self._node:
            self._next_id += 1
        nid = self._next_id
        self._next_id += 1
        return nid

    def input(self, name: str, width: int = 1) -> Bits:
        """Add an input port of ``width`` bits; return its bits, LSB first."""
        if name in self.inputs or name in self.outputs:
            raise NetlistError(f"port {name!r} already exists in netlist {self.name!r}")
        if width < 1:
            raise NetlistError(f"input port {name!r} needs a width >= 1, got {width}")
        bits = []
        for i in range(width):
            nid = self._new_id()
            self.add_node(nid, gate="INPUT", inst=-1, port=name, bit=i)
            bits.append(nid)
        self.inputs[name] = bits
        return list(bits)

    def output(self, name: str, bits) -> None:
        """Declare an output port driven by ``bits`` (a node id or a list of them, LSB first)."""
        if name in self.inputs or name in self.outputs:
            raise NetlistError(f"port {name!r} already exists in netlist {self.name!r}")
        bits = [bits] if not isinstance(bits, (list, tuple)) else list(bits)
        if not bits:
            raise NetlistError(f"output port {name!r} has no bits")
        for b in bits:
            if b not in self._node:
                raise NetlistError(f"output port {name!r} is driven by unknown net {b!r}")
        self._compiled = None
        self.outputs[name] = bits

    # -- gates ---------------------------------------------------------------------------
    def const(self, value: int) -> int:
        """The node of constant 0 or 1 (one shared node per value)."""
        value = int(bool(value))
        nid = self._consts.get(value)
        if nid is None or nid not in self._node:
            nid = self._new_id()
            self.add_node(nid, gate="CONST1" if value else "CONST0", inst=-1)
            self._consts[value] = nid
        return nid

    def gate(self, kind: str, *fanin, inst: int = -1) -> int:
        """Add one primitive gate of type ``kind`` driven by ``fanin`` (pin order); return its net."""
        gt = GATES.get(kind)
        if gt is None or kind in SOURCE_GATES:
            raise NetlistError(f"unknown gate type {kind!r}")
        if len(fanin) != gt.arity:
            raise NetlistError(f"gate {kind} takes {gt.arity} inputs ({', '.join(gt.pins)}), got {len(fanin)}")
        for f in fanin:
            if f not in self._node:
                raise NetlistError(f"gate {kind} input is unknown net {f!r}")
        nid = self._new_id()
        self.add_node(nid, gate=kind, inst=inst)
        for pin, f in enumerate(fanin):
            if f in self._succ and nid in self._succ[f]:
                self._succ[f][nid]["pins"] += (pin,)
            else:
                self.add_edge(f, nid, pins=(pin,))
        return nid

    # readable one-liners for circuit builders
    def NOT(self, a): return self.gate("NOT", a)
    def BUF(self, a): return self.gate("BUF", a)
    def AND(self, a, b): return self.gate("AND2", a, b)
    def OR(self, a, b): return self.gate("OR2", a, b)
    def NAND(self, a, b): return self.gate("NAND2", a, b)
    def NOR(self, a, b): return self.gate("NOR2", a, b)
    def XOR(self, a, b): return self.gate("XOR2", a, b)
    def XNOR(self, a, b): return self.gate("XNOR2", a, b)
    def ANDNOT(self, a, b): return self.gate("ANDNOT2", a, b)
    def ORNOT(self, a, b): return self.gate("ORNOT2", a, b)
    def MUX(self, s, a, b):
        """``s ? b : a``."""
        return self.gate("MUX2", a, b, s)
    def AOI21(self, a, b, c): return self.gate("AOI21", a, b, c)
    def OAI21(self, a, b, c): return self.gate("OAI21", a, b, c)
    def AOI22(self, a, b, c, d): return self.gate("AOI22", a, b, c, d)
    def OAI22(self, a, b, c, d): return self.gate("OAI22", a, b, c, d)

    # -- hierarchy -------------------------------------------------------------------------
    def instance(self, sub: "Netlist", name: str | None = None, **connections) -> dict[str, Bits]:
        """Instantiate ``sub`` here, its input ports wired to ``connections`` (port -> bits).

        The sub-netlist's gates are copied in and tagged with a new instance whose cell name is
        ``sub.name``; its own instances nest below. Returns its output ports as bits of this netlist.
        """
        from .compile import compile_netlist

        missing = [p for p in sub.inputs if p not in connections]
        if missing:
            raise NetlistError(f"instance of {sub.name!r} leaves input port {missing[0]!r} unconnected")
        for port, bits in connections.items():
            if port not in sub.inputs:
                raise NetlistError(f"{sub.name!r} has no input port {port!r}")
            bits = [bits] if not isinstance(bits, (list, tuple)) else bits
            if len(bits) != len(sub.inputs[port]):
                raise NetlistError(
                    f"port {port!r} of {sub.name!r} is {len(sub.inputs[port])} bits wide, connected to {len(bits)}"
                )
            connections[port] = bits
            for b in bits:
                if b not in self._node:
                    raise NetlistError(f"port {port!r} of {sub.name!r} connected to unknown net {b!r}")
        c = compile_netlist(sub)
        base = len(self.instances)
        idx = base
        self.instances.append(
            {"name": name or f"{sub.name}{idx}", "cell": sub.name, "parent": -1, "const_pins": c.const_pins}
        )
        for sub_inst in sub.instances:
            parent = sub_inst["parent"]
            self.instances.append(dict(sub_inst, parent=idx if parent < 0 else base + 1 + parent))
        net_of: list = [None] * c.n_slots  # sub slot -> net here; constants resolved only if used
        for port, slots in c.inputs.items():
            for bit, slot in zip(connections[port], slots):
                net_of[slot] = bit
        const_slots = {c.const0_slot: 0, c.const1_slot: 1}
        nodes, edges = [], []
        for slot, op, fanin, sub_i in c.gate_template():
            pins: dict = {}
            for k, s in enumerate(fanin):
                src = net_of[s]
                if src is None:
                    src = net_of[s] = self.const(const_slots[s])
                pins[src] = pins.get(src, ()) + (k,)
            nid = self._new_id()
            net_of[slot] = nid
            nodes.append((nid, {"gate": op, "inst": idx if sub_i < 0 else base + 1 + sub_i}))
            edges.extend((src, nid, {"pins": p}) for src, p in pins.items())
        self.add_nodes_from(nodes)
        self.add_edges_from(edges)
        result = {}
        for port, slots in c.outputs.items():
            bits = []
            for s in slots:
                s = int(s)
                if net_of[s] is None:
                    net_of[s] = self.const(const_slots[s])
                bits.append(net_of[s])
            result[port] = bits
        return result

    def __repr__(self) -> str:
        ins = ", ".join(f"{p}[{len(b)}]" for p, b in self.inputs.items())
        outs = ", ".join(f"{p}[{len(b)}]" for p, b in self.outputs.items())
        return f"<Netlist {self.name!r}: {ins} -> {outs}; {self.number_of_nodes()} nets>"


def _edge_pins(d: dict) -> tuple:
    pins = d.get("pins")
    return tuple(pins) if isinstance(pins, (list, tuple)) else (None,)


def validate(net: Netlist, check_loops: bool = True) -> None:
    """Check the netlist is well formed; raise :class:`NetlistError` naming the offending node.

    Checks: known gate types, every input pin driven exactly once, nothing drives a primary
    input or constant, ports refer to existing nets of the right kind, instances exist, and (unless
    ``check_loops`` is False, for callers that sort the graph anyway) no combinational loop.
    """
    n_inst = len(net.instances)
    for k, inst in enumerate(net.instances):
        if not (isinstance(inst, dict) and isinstance(inst.get("name"), str) and isinstance(inst.get("cell"), str)
                and type(inst.get("parent")) is int and -1 <= inst["parent"] < k):
            raise NetlistError(f"instance {k} must be {{name, cell, parent}} with an earlier parent or -1, got {inst!r}")
    pred = net._pred
    for n, data in net._node.items():
        kind = data.get("gate")
        gt = GATES.get(kind) if isinstance(kind, str) else None
        if gt is None:
            raise NetlistError(f"node {n!r} has unknown gate type {kind!r}")
        i = data.get("inst", -1)
        if not isinstance(i, int) or not -1 <= i < n_inst:
            raise NetlistError(f"node {n!r} refers to unknown instance {i!r}")
        edges = pred[n]
        if kind in SOURCE_GATES:
            if edges:
                raise NetlistError(f"node {n!r} is a {kind} but is driven by {len(edges)} net(s)")
            continue
        pins = [p for d in edges.values() for p in _edge_pins(d)]
        if len(pins) == gt.arity and sorted(pins) == list(range(gt.arity)):
            continue  # the common case: every pin driven once
        bad = [p for p in pins if not isinstance(p, int) or not 0 <= p < gt.arity]
        if bad:
            raise NetlistError(f"node {n!r} ({kind}) has wrong arity: input pin {bad[0]!r} of a {gt.arity}-input gate")
        for k in range(gt.arity):
            c = pins.count(k)
            if c > 1:
                raise NetlistError(f"node {n!r} ({kind}) input pin {gt.pins[k]} is driven {c} times")
        for k in range(gt.arity):
            if k not in pins:
                raise NetlistError(f"node {n!r} ({kind}) input pin {gt.pins[k]} is undriven")
    seen = {}
    for port, bits in net.inputs.items():
        for i, b in enumerate(bits):
            if b not in net._node or net._node[b].get("gate") != "INPUT":
                raise NetlistError(f"input port {port}[{i}] refers to node {b!r}, which is not a primary input")
            if b in seen:
                raise NetlistError(f"node {b!r} is bit of two input ports ({seen[b]} and {port}[{i}])")
            seen[b] = f"{port}[{i}]"
    for n, data in net._node.items():
        if data.get("gate") == "INPUT" and n not in seen:
            raise NetlistError(f"primary input node {n!r} belongs to no input port")
    for port, bits in net.outputs.items():
        for i, b in enumerate(bits):
            if b not in net._node:
                raise NetlistError(f"output port {port}[{i}] is undriven (net {b!r} does not exist)")
    if check_loops and not nx.is_directed_acyclic_graph(net):
        raise_loop(net)


def raise_loop(net: Netlist):
    """Raise the :class:`NetlistError` naming a node on a combinational loop of ``net``."""
    cycle = nx.find_cycle(net)
    raise NetlistError(f"combinational loop through node {cycle[0][0]!r} ({len(cycle)} gates)")
