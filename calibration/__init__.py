"""Energy calibration: meters, sweeps, regression of joules on transistor operations, profiles.

Consumes TOs and FLOPs from :mod:`gatesim` model counting; knows nothing of gates.
"""
