"""Command-line interface: a thin click layer over the public API. Every command has ``--json``.

One module per concept: :mod:`.base` (the group, errors, shared helpers), :mod:`.designs` (commands on one
design), :mod:`.tables` (``table``, ``estimate``), :mod:`.explore` (``explore``), :mod:`.hdl` (``import``, ``equiv``),
:mod:`.prove` (``prove``); the calibration room brings its own commands.
"""
from __future__ import annotations

from . import designs, explore, hdl, prove, tables  # noqa: F401  (importing registers the commands)
from .base import EXIT_FAILURE, EXIT_USAGE, cli
from .tables import _estimate_command

cli.lazy = {"estimate": _estimate_command}


def _add_calibration_commands() -> None:
    """``meters``, ``measure``, ``sweep``, ``fit``, ``predict`` from the calibration room."""
    from calibration.cli import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_add_calibration_commands()


def main():
    cli(prog_name="gatesim")


__all__ = ["cli", "main", "EXIT_FAILURE", "EXIT_USAGE"]
