"""gatesim's own JSON netlist format (every node, edge, port and instance; lossless). Verilog, Yosys JSON and BLIF
are in :mod:`gatesim.hdl`; ``to_verilog`` is re-exported here for old imports."""
from __future__ import annotations

import json

from .errors import NetlistError
from .hdl.writers import to_verilog  # noqa: F401
from .netlist import Netlist

JSON_FORMAT = "gatesim-netlist/1"


def to_json(net: Netlist) -> str:
    """The netlist as JSON (format ``gatesim-netlist/1``): nodes, edges with pins, ports, instances."""
    data = {
        "format": JSON_FORMAT,
        "name": net.name,
        "params": net.params,
        "inputs": net.inputs,
        "outputs": net.outputs,
        "instances": net.instances,
        **({"source": net.graph["source"]} if net.graph.get("source") else {}),
        "nodes": [[n, d["gate"], d.get("inst", -1)] for n, d in net.nodes(data=True)],
        "edges": [[u, v, list(d["pins"])] for u, v, d in net.edges(data=True)],
    }
    return json.dumps(data, separators=(",", ":"), default=str)


def _check_layout(data) -> None:
    """The JSON types of a netlist document (what :func:`validate` cannot see once it is a graph)."""
    def node_id(v) -> bool:
        return type(v) in (int, str)

    if not isinstance(data, dict):
        raise NetlistError("malformed netlist JSON: expected an object at top level")
    if data.get("format") != JSON_FORMAT:
        raise NetlistError(f"not a gatesim netlist (format {data.get('format')!r}, expected {JSON_FORMAT!r})")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("params", {}), dict):
        raise NetlistError("malformed netlist JSON: name must be a string and params an object")
    for key, shape in (("nodes", "[id, gate, instance]"), ("edges", "[from, to, [pins]]")):
        items = data.get(key)
        if not isinstance(items, list) or not all(isinstance(x, list) and len(x) == 3 for x in items):
            raise NetlistError(f"malformed netlist JSON: {key} must be a list of {shape}")
    for n, gate, inst in data["nodes"]:
        if not node_id(n) or not isinstance(gate, str) or type(inst) is not int:
            raise NetlistError(f"malformed netlist JSON: node {[n, gate, inst]!r} is not [id, gate, instance]")
    nodes = {n for n, _, _ in data["nodes"]}
    for u, v, pins in data["edges"]:
        if not (node_id(u) and node_id(v) and u in nodes and v in nodes):
            raise NetlistError(f"malformed netlist JSON: edge {[u, v]!r} joins nodes that are not listed")
        if not isinstance(pins, list) or not all(type(p) is int for p in pins):
            raise NetlistError(f"malformed netlist JSON: edge {[u, v]!r} pins must be a list of integers")
    for key in ("inputs", "outputs"):
        ports = data.get(key)
        if not isinstance(ports, dict) or not all(isinstance(b, list) and all(node_id(x) for x in b)
                                                  for b in ports.values()):
            raise NetlistError(f"malformed netlist JSON: {key} must map port names to lists of node ids")
    if not isinstance(data.get("instances", []), list):
        raise NetlistError("malformed netlist JSON: instances must be a list")


def from_json(text: str) -> Netlist:
    """Load a netlist written by :func:`to_json`; it is validated."""
    from .netlist import validate

    try:
        data = json.loads(text)
        _check_layout(data)
        net = Netlist(name=data["name"])
        for n, gate, inst in data["nodes"]:
            net.add_node(n, gate=gate, inst=inst)
        for u, v, pins in data["edges"]:
            if net.has_edge(u, v):
                raise NetlistError(f"node {v!r} has two edges from node {u!r}; list both pins on one edge")
            net.add_edge(u, v, pins=tuple(pins))
        net.graph["inputs"] = {p: list(b) for p, b in data["inputs"].items()}
        net.graph["outputs"] = {p: list(b) for p, b in data["outputs"].items()}
        net.graph["instances"] = list(data.get("instances", []))
        net.graph["params"] = dict(data.get("params", {}))
        if isinstance(data.get("source"), dict):
            net.graph["source"] = dict(data["source"])
        for p, bits in net.inputs.items():
            for i, b in enumerate(bits):
                if b in net._node:
                    net._node[b].update(port=p, bit=i)
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, NetlistError):
            raise
        raise NetlistError(f"malformed netlist JSON: {e}") from None
    net._next_id = 1 + max((n for n in net._node if isinstance(n, int)), default=-1)
    validate(net)
    return net
