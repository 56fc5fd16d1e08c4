"""Energy calibration: meters, sweeps, regression of joules on transistor operations, profiles, prediction.

Consumes TOs and FLOPs from :mod:`gatesim` model counting (through an injectable ``count_fn``); knows nothing of
gates.

* meters -- :class:`RaplMeter` (Linux powercap), :class:`NvmlMeter` (NVIDIA), :class:`EstimateMeter` (a labelled
  estimate, never a measurement), :func:`available_meters`, :func:`make_meter`; ``with meter.measure() as m``.
* sweeps -- :func:`dnn_configs`, :func:`cnn_configs`, :func:`run_sweep` (JSONL log, resumable), :func:`read_log`.
* fit -- :func:`fit_polynomial`, :func:`fit_all` (TOs and FLOPs, degrees 1-3, seeded 60/40), :func:`metrics`.
* profiles -- :class:`Profile`, :func:`fit_log`, :func:`predict_model`.
* energy models -- :func:`calibration.energy_model.fit_energy` (linear, ridge, loglinear, poly on named run
  columns; split, k-fold, group and given validation), :mod:`calibration.features`, :mod:`calibration.plots`.
* PEN data (shipped in ``calibration/data/pen``) -- :func:`calibration.pen.load_pen`,
  :func:`calibration.pen.count_runs`, :func:`calibration.penfit.pen_records`, :func:`calibration.penfit.comparison`.
* CLI -- :data:`calibration.cli.COMMANDS` (meters, measure, sweep, fit, predict).

Importing this package does not import torch or scikit-learn; the functions that need them do.
"""
from .errors import CalibrationError, MeterError
from .meters import (ESTIMATE, MEASUREMENT, EstimateMeter, Measurement, Meter, MeterStatus, NvmlMeter, RaplMeter,
                     available_meters, make_meter)
from .fit import FitReport, Metrics, PolyFit, fit_all, fit_polynomial, metrics, plot_report
from .counting import default_count, parameter_count, workload_counts
from .sweeps import Config, cnn_configs, dnn_configs, read_log, run_sweep, train_once, trim
from .profiles import Profile, fit_log, predict_model, profile_from_report

__all__ = [
    "CalibrationError", "MeterError",
    "Measurement", "Meter", "MeterStatus", "RaplMeter", "NvmlMeter", "EstimateMeter", "available_meters", "make_meter",
    "MEASUREMENT", "ESTIMATE",
    "PolyFit", "Metrics", "FitReport", "fit_polynomial", "fit_all", "metrics", "plot_report",
    "default_count", "parameter_count", "workload_counts",
    "Config", "dnn_configs", "cnn_configs", "run_sweep", "read_log", "train_once", "trim",
    "Profile", "fit_log", "predict_model", "profile_from_report",
]
