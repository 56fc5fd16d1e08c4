"""Compile a :class:`~gatesim.netlist.Netlist` once into flat arrays shared by counting and simulation."""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from . import kernels
from .gates import GATES, GATE_NAMES, MAX_ARITY
from .netlist import Netlist, raise_loop, validate


@dataclass(frozen=True, eq=False)
class CompiledNetlist:
    """Arrays in levelized topological slot order (inputs, CONST0, CONST1, gates by level).

    ``op[s]``: gate code; ``fanin[s, k]``: slot driving pin ``k`` (-1 unused); ``level[s]``:
    logic level (sources 0); ``inst[s]``: innermost instance index (-1 top level).
    ``inputs`` / ``outputs``: port -> slot array, LSB first.
    """

    name: str
    op: np.ndarray
    fanin: np.ndarray
    level: np.ndarray
    inst: np.ndarray
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    n_inputs: int
    inst_parent: np.ndarray
    inst_cell: list[str]
    nodes: list = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_slots(self) -> int:
        return int(self.op.shape[0])

    @property
    def n_sources(self) -> int:
        return self.n_inputs + 2

    @property
    def const0_slot(self) -> int:
        return self.n_inputs

    @property
    def const1_slot(self) -> int:
        return self.n_inputs + 1

    @property
    def n_gates(self) -> int:
        return self.n_slots - self.n_sources

    @property
    def op_names(self) -> list[str]:
        """Gate type name per slot (cached: callers index it once per gate). Don't modify the list."""
        names = self._cache.get("op_names")
        if names is None:
            names = self._cache["op_names"] = [GATE_NAMES[c] for c in self.op.tolist()]
        return names

    @property
    def depth(self) -> int:
        """Logic depth in gate levels: the longest input-to-output path."""
        slots = [s for v in self.outputs.values() for s in v]
        return int(self.level[slots].max()) if slots else 0

    def gate_template(self) -> list[tuple[int, str, tuple[int, ...], int]]:
        """Per gate slot: (slot, gate name, fanin slots, instance), as plain Python values; cached.

        What :meth:`Netlist.instance` copies when this netlist is instantiated elsewhere.
        """
        t = self._cache.get("template")
        if t is None:
            names = self.op_names
            t = [
                (s, names[s], tuple(int(f) for f in self.fanin[s, : GATES[names[s]].arity]), int(self.inst[s]))
                for s in range(self.n_sources, self.n_slots)
            ]
            self._cache["template"] = t
        return t

    @property
    def const_pins(self) -> int:
        """Gate input pins driven by a constant."""
        n = self._cache.get("const_pins")
        if n is None:
            n = self._cache["const_pins"] = int(np.isin(self.fanin[self.n_sources :], (self.const0_slot, self.const1_slot)).sum())
        return n

    @property
    def output_slots(self) -> np.ndarray:
        return np.concatenate(list(self.outputs.values())).astype(np.int32)


def compile_netlist(net: Netlist) -> CompiledNetlist:
    """Validate and compile ``net`` (cached on the object until the graph changes)."""
    cached = getattr(net, "_compiled", None)
    if cached is not None:
        return cached
    validate(net, check_loops=False)  # the topological sort below finds loops
    nodes = net._node
    slot_of: dict = {}
    order: list = []
    for bits in net.inputs.values():
        for b in bits:
            slot_of[b] = len(order)
            order.append(b)
    n_inputs = len(order)
    order.extend([None, None])  # CONST0, CONST1 slots
    gates = []
    try:
        topo = list(nx.topological_sort(net))
    except nx.NetworkXUnfeasible:
        raise_loop(net)
    for n in topo:
        kind = nodes[n]["gate"]
        if kind == "CONST0":
            slot_of[n] = n_inputs
        elif kind == "CONST1":
            slot_of[n] = n_inputs + 1
        elif kind != "INPUT":
            gates.append(n)
    n_sources = n_inputs + 2
    n = n_sources + len(gates)
    # topological numbering first, then a stable sort by level
    topo_slot = {g: n_sources + i for i, g in enumerate(gates)}
    topo_slot.update(slot_of)
    op = np.empty(n, dtype=np.int8)
    op[:n_inputs] = GATES["INPUT"].code
    op[n_inputs] = GATES["CONST0"].code
    op[n_inputs + 1] = GATES["CONST1"].code
    arity = np.zeros(n, dtype=np.int32)
    fanin = np.full((n, MAX_ARITY), -1, dtype=np.int32)
    inst = np.full(n, -1, dtype=np.int32)
    pred = net._pred
    for i, g in enumerate(gates):
        s = n_sources + i
        gt = GATES[nodes[g]["gate"]]
        op[s] = gt.code
        arity[s] = gt.arity
        inst[s] = nodes[g].get("inst", -1)
        for u, d in pred[g].items():
            for pin in d["pins"]:
                fanin[s, pin] = topo_slot[u]
    level = kernels.levelize(fanin, arity, n_sources)
    perm = np.concatenate([np.arange(n_sources), n_sources + np.argsort(level[n_sources:], kind="stable")])
    inverse = np.empty(n, dtype=np.int32)
    inverse[perm] = np.arange(n, dtype=np.int32)
    fanin = fanin[perm]
    fanin = np.where(fanin >= 0, inverse[np.maximum(fanin, 0)], -1).astype(np.int32)
    all_nodes = list(order) + gates
    compiled = CompiledNetlist(
        name=net.name,
        op=op[perm],
        fanin=np.ascontiguousarray(fanin),
        level=level[perm],
        inst=inst[perm],
        inputs={p: np.array([slot_of[b] for b in bits], dtype=np.int32) for p, bits in net.inputs.items()},
        outputs={p: inverse[np.array([topo_slot[b] for b in bits], dtype=np.int64)] for p, bits in net.outputs.items()},
        n_inputs=n_inputs,
        inst_parent=np.array([i["parent"] for i in net.instances], dtype=np.int32),
        inst_cell=[i["cell"] for i in net.instances],
        nodes=[all_nodes[p] for p in perm],
    )
    net._compiled = compiled
    return compiled
