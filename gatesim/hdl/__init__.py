"""Hardware description files in and out: Verilog, Yosys JSON and BLIF.

Out: :func:`to_verilog` (structural, or Yosys internal cells), :func:`to_yosys_json`, :func:`to_blif`.
In: :func:`read_verilog` (through Yosys), :func:`read_yosys_json`, :func:`read_blif`, :func:`import_file`;
design specs (``verilog:my_mul.v:mul24``) with :func:`load_spec`.
"""
from .importing import (
    FLOWS, SPEC_KINDS, DesignSpec, design_width, import_file, is_spec, load_spec, parse_spec, read_blif,
    read_verilog, read_yosys_json, spec_hash,
)
from .readers import netlist_from_blif, netlist_from_yosys_json
from .writers import to_blif, to_verilog, to_yosys_json
from .yosys import YosysError, YosysTimeout, run_yosys, yosys_available

__all__ = [
    "to_verilog", "to_yosys_json", "to_blif", "read_verilog", "read_yosys_json", "read_blif", "import_file",
    "netlist_from_yosys_json", "netlist_from_blif", "is_spec", "parse_spec", "load_spec", "spec_hash",
    "design_width", "DesignSpec", "SPEC_KINDS", "FLOWS", "YosysError", "YosysTimeout", "run_yosys",
    "yosys_available",
]
