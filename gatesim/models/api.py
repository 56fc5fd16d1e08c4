"""One entry point over both counters."""
from __future__ import annotations

from .report import CountingError, Report

COUNTERS = ("trace", "paper")


def count(model, inputs=None, *, counter: str = "trace", input_shape=None, level: str = "training",
          loss="mse", **kwargs) -> Report:
    """Count BOs and FLOPs of one step of ``model`` at ``level`` (training / validation / inference).

    ``counter="trace"`` (default) runs :func:`gatesim.models.count_trace` (extra keywords: ``optimizer``,
    ``recipes``, ``strict``, ``device``, ``dtype``, ``fmt``, ``input_dtype``, ``target``);
    ``counter="paper"`` runs :func:`gatesim.models.count_paper` (``strict``, ``dtype``, ``fmt``, ``device``).
    Price the result with ``report.tos(table)`` for any ``table`` with ``transistors(operation, fmt)``.
    """
    if counter == "trace":
        from .trace import count_trace

        return count_trace(model, inputs, input_shape=input_shape, level=level, loss=loss, **kwargs)
    if counter == "paper":
        from .paper import count_paper

        allowed = {"strict", "dtype", "fmt", "device"}
        bad = set(kwargs) - allowed
        extra = {k: kwargs[k] for k in bad if kwargs[k] not in (None, False, "default")}
        if extra:
            raise CountingError(f"the paper counter does not take {', '.join(sorted(extra))}")
        return count_paper(model, inputs, input_shape=input_shape, level=level, loss=loss,
                           **{k: v for k, v in kwargs.items() if k in allowed})
    raise CountingError(f"unknown counter {counter!r}; expected one of {', '.join(COUNTERS)}")
