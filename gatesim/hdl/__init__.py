"""Hardware description files in and out: Verilog, Yosys JSON and BLIF.

Out: :func:`to_verilog` (structural, or Yosys internal cells), :func:`to_yosys_json`, :func:`to_blif`.
In: :func:`read_verilog` (through Yosys), :func:`read_yosys_json`, :func:`read_blif`, :func:`import_file`;
design specs (``verilog:my_mul.v:mul24``) with :func:`load_spec`.
"""
from .blif import netlist_from_blif
from .importing import (
    FLOWS,
    SPEC_KINDS,
    DesignSpec,
    design_width,
    import_file,
    is_spec,
    load_spec,
    parse_spec,
    read_blif,
    read_verilog,
    read_yosys_json,
    spec_hash,
)
from .readers import netlist_from_yosys_json
from .writers import to_blif, to_verilog, to_yosys_json
from .yosys import YosysError, YosysTimeout, run_yosys, yosys_available

__all__ = [
    "FLOWS",
    "SPEC_KINDS",
    "DesignSpec",
    "YosysError",
    "YosysTimeout",
    "design_width",
    "import_file",
    "is_spec",
    "load_spec",
    "netlist_from_blif",
    "netlist_from_yosys_json",
    "parse_spec",
    "read_blif",
    "read_verilog",
    "read_yosys_json",
    "run_yosys",
    "spec_hash",
    "to_blif",
    "to_verilog",
    "to_yosys_json",
    "yosys_available",
]
