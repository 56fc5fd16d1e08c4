"""Errors of the calibration room. Each message is one line that names the problem."""
from __future__ import annotations

try:  # the main CLI prints GatesimError as one line; calibration only needs the base class
    from gatesim.errors import GatesimError as _Base
except Exception:  # pragma: no cover
    _Base = Exception


class CalibrationError(_Base, ValueError):
    """Bad input to calibration: a malformed log or profile, an unknown meter, an unusable model string."""


class MeterError(CalibrationError):
    """A meter cannot measure on this machine (missing driver, no permission, no such device)."""
