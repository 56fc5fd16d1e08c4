"""gatesim: gate-level ALU netlists, transistor counting and bit-parallel simulation.

Engine API: :class:`Netlist`, :func:`compile_netlist`, :func:`count`, :func:`simulate`,
:func:`switching_activity`, :func:`verify`, :class:`CellLibrary`, :func:`load_library`,
:func:`to_verilog` (and Yosys JSON, BLIF), :func:`read_verilog` (and :func:`import_file`), :func:`optimize`,
:func:`equivalent`, :func:`prove_multiplier`, :func:`prove_adder`. Tables: :class:`TransistorTable`,
:func:`build_table`, :func:`load_hardware` (modules :mod:`gatesim.tables`, :mod:`gatesim.hardware`).
"""
from .cells import register_cell, registered_cells
from .compile import CompiledNetlist, compile_netlist
from .counting import Counts, count
from .errors import DesignError, GatesimError, HdlError, LibraryError, NetlistError, SimulationError
from .equivalence import EquivalenceResult, equivalent
from .export import from_json, to_json
from .hdl import import_file, read_blif, read_verilog, read_yosys_json, to_blif, to_verilog, to_yosys_json
from .library import CellLibrary, builtin_libraries, load_library
from .netlist import Netlist, validate
from .optimization import optimize, remove_unused
from .prove import ProofResult, prove_adder, prove_arithmetic, prove_multiplier, prove_subtractor
from .simulation import Activity, simulate, switching_activity
from .verify import VerifyResult, verify

# the tables room is imported on first use: it imports the circuits, which import this package
_LAZY = {"tables": ("gatesim.tables", None), "hardware": ("gatesim.hardware", None),
         "TransistorTable": ("gatesim.tables", "TransistorTable"), "build_table": ("gatesim.tables", "build_table"),
         "HardwareProfile": ("gatesim.hardware", "HardwareProfile"), "load_hardware": ("gatesim.hardware", "load_hardware")}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'gatesim' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    mod = importlib.import_module(module)
    return mod if attr is None else getattr(mod, attr)


__version__ = "0.1.0"

__all__ = [
    "Netlist", "validate", "CompiledNetlist", "compile_netlist", "Counts", "count",
    "CellLibrary", "load_library", "builtin_libraries", "simulate", "switching_activity", "Activity",
    "verify", "VerifyResult", "to_verilog", "to_json", "from_json", "to_yosys_json", "to_blif",
    "read_verilog", "read_yosys_json", "read_blif", "import_file", "equivalent", "EquivalenceResult",
    "optimize", "remove_unused", "register_cell", "registered_cells",
    "prove_multiplier", "prove_adder", "prove_subtractor", "prove_arithmetic", "ProofResult",
    "GatesimError", "NetlistError", "HdlError", "LibraryError", "DesignError", "SimulationError",
    "tables", "hardware", "TransistorTable", "build_table", "HardwareProfile", "load_hardware",
]
