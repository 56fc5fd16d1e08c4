"""PNG plots of energy models: predicted vs measured (log-log) and relative residuals by family."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .energy_model import EnergyModel
from .features import label
from .fit import save_png


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(m: EnergyModel) -> str:
    feats = "BOs per operation" if len(m.features) > 2 and all(f.startswith("bos.") for f in m.features) else \
        ", ".join(label(f) for f in m.features)
    return f"{feats}: {m.kind}{m.degree if m.kind == 'poly' else ''}"


def _groups(records: Sequence[dict], column: str) -> np.ndarray:
    return np.asarray([str(r.get(column, "all")) for r in records])


def predicted_vs_measured(models: Sequence[EnergyModel], fitted: Sequence[dict], validated: Sequence[dict], path,
                          *, target: str = "energy", unit: str = "J", group: str = "family",
                          estimate: bool = False) -> str:
    """One log-log panel per model: predicted against measured energy, validation runs (crosses) and fitted runs
    (dots) coloured by ``group``, with the line of perfect prediction. Non-positive predictions are clipped to
    the smallest measured energy and counted in the panel's title. ``estimate``: the energies are estimates
    (power x CPU time), and the axes say so."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(models), figsize=(4.6 * len(models), 4.4), squeeze=False)
    y_all = np.concatenate([[r[target] for r in fitted], [r[target] for r in validated]]).astype(float)
    lo, hi = float(y_all[y_all > 0].min()) / 2, float(y_all.max()) * 2
    names = list(dict.fromkeys(_groups(list(fitted) + list(validated), group)))
    colors = {n: plt.cm.tab10(i % 10) for i, n in enumerate(names)}
    for ax, m in zip(axes[0], models):
        clipped = 0
        for recs, marker, alpha, what in ((fitted, ".", 0.35, "fit"), (validated, "x", 0.8, "validation")):
            if not recs:
                continue
            y = np.asarray([r[target] for r in recs], dtype=float)
            p = m.predict_records(recs)
            clipped += int(np.sum(p <= 0))
            p = np.clip(p, lo, None)
            g = _groups(recs, group)
            for n in names:
                sel = g == n
                if sel.any():
                    ax.scatter(y[sel], p[sel], s=14, marker=marker, alpha=alpha, color=colors[n],
                               label=f"{n} ({what})")
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"{'ESTIMATED' if estimate else 'measured'} energy ({unit})")
        ax.set_ylabel(f"predicted {'ESTIMATED ' if estimate else ''}energy ({unit})")
        v = m.validation
        ax.set_title(f"{_title(m)}\nval R² {v.r2:.3f}, MAPE {v.mape:.0f}%"
                     + (f", {clipped} <= 0 clipped" if clipped else ""), fontsize=9)
    axes[0][0].legend(fontsize=7)
    if estimate:
        fig.suptitle("ESTIMATED energies (power x CPU time), not measured", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    plt.close(fig)
    return str(path)


def residuals_by_group(models: Sequence[EnergyModel], records: Sequence[dict], path, *, target: str = "energy",
                       group: str = "family", estimate: bool = False) -> str:
    """Relative error ``predicted / measured - 1`` of every run, one box per group and model (log-symmetric
    scale: a model that is 10x too high and one 10x too low are equally far from 0)."""
    plt = _pyplot()
    names = list(dict.fromkeys(_groups(records, group)))
    y = np.asarray([r[target] for r in records], dtype=float)
    g = _groups(records, group)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(models) * len(names)), 4.4))
    data, ticks, pos = [], [], []
    for i, m in enumerate(models):
        rel = m.predict_records(records) / y - 1
        for j, n in enumerate(names):
            data.append(rel[g == n])
            pos.append(i * (len(names) + 1) + j)
            ticks.append(n)
        ax.text(i * (len(names) + 1) + (len(names) - 1) / 2, 1.02, _title(m), transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=8)
    ax.boxplot(data, positions=pos, widths=0.7, showfliers=True)
    ax.set_xticks(pos, ticks, fontsize=8)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_ylabel("predicted / measured - 1")
    ax.set_title(f"relative residuals by {group}" + (" (ESTIMATED energies)" if estimate else ""), pad=18)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    plt.close(fig)
    return str(path)


__all__ = ["predicted_vs_measured", "residuals_by_group"]
