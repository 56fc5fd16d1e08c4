"""Fit PEN's measured training energy on TOs and on FLOPs: fit on training.csv, validate on test.csv.

    python benchmarks/pen_fit.py [--pen-dir ../shared/data/pen] [--table paper] [--degrees 1,2,3]
                                 [--json OUT.json] [--plot DIR] [--markdown]

Every run's TOs and FLOPs are counted by gatesim.models (trace counter on the meta device: forward, cross-entropy
loss, backward and the run's own optimizer step) at its batch size, times its epochs. The target,
Avg_Power_Simpson, is energy in arbitrary but consistent units (see calibration.pen), not joules.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.fit import fit_all, label, plot_report  # noqa: E402
from calibration.pen import ENERGY_UNIT, count_runs, default_pen_dir, load_pen  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pen-dir", default=str(default_pen_dir()))
    ap.add_argument("--table", default="paper", help="hardware profile name or transistor table JSON")
    ap.add_argument("--degrees", default="1,2,3")
    ap.add_argument("--steps-per-epoch", type=int, default=1)
    ap.add_argument("--no-optimizer", action="store_true", help="count forward + loss + backward only")
    ap.add_argument("--limit", type=int, default=None, help="first N rows of each file (quick look)")
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--plot", default=None)
    ap.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = ap.parse_args(argv)
    d = Path(args.pen_dir)
    t0 = time.time()
    train, test = load_pen(d / "training.csv", args.limit), load_pen(d / "test.csv", args.limit)
    print(f"PEN: {len(train)} training runs, {len(test)} test runs from {d}", flush=True)
    counts = count_runs(train + test, steps_per_epoch=args.steps_per_epoch, optimizer=not args.no_optimizer,
                        progress=True, table=args.table)
    ct, cv = counts[:len(train)], counts[len(train):]
    uncounted = {}
    for c in counts:
        for k, v in (c.get("uncounted") or {}).items():
            uncounted[k] = uncounted.get(k, 0) + 1
    print(f"counted in {time.time() - t0:.0f} s", flush=True)
    feats = ("tos", "flops")
    data = {f: [c[f] for c in ct] for f in feats}
    val = ({f: [c[f] for c in cv] for f in feats}, [c["energy"] for c in cv])
    degrees = [int(x) for x in args.degrees.split(",")]
    rep = fit_all(data, [c["energy"] for c in ct], feats, degrees, validation=val, unit="a.u.",
                  source=f"PEN training.csv (fit) / test.csv (validation); energy {ENERGY_UNIT}",
                  notes=[f"table {args.table}; optimizer step {'not ' if args.no_optimizer else ''}counted"])
    print(rep.to_text())
    print()
    print("side by side on test.csv (validation):")
    hdr = f"{'deg':>3}  {'R2 TOs':>8} {'R2 FLOPs':>9}  {'RMSE TOs':>10} {'RMSE FLOPs':>10}  " \
          f"{'prec avg TOs':>12} {'prec avg FLOPs':>14}  {'abs err avg TOs':>15} {'abs err avg FLOPs':>17}"
    print(hdr)
    rows = []
    for deg in degrees:
        a, b = rep.get("tos", deg).validation, rep.get("flops", deg).validation
        rows.append((deg, a, b))
        print(f"{deg:>3}  {a.r2:>8.4f} {b.r2:>9.4f}  {a.rmse:>10.4g} {b.rmse:>10.4g}  {a.precision_avg:>12.2f} "
              f"{b.precision_avg:>14.2f}  {a.abs_error_avg:>15.4g} {b.abs_error_avg:>17.4g}")
    if uncounted:
        print(f"ops without a recipe (runs affected): {uncounted}")
    if args.markdown:
        print()
        print("| degree | feature | R² train | R² test | RMSE test | precision test % min–max (avg) | abs error test avg / max |")
        print("|---|---|---|---|---|---|---|")
        for deg in degrees:
            for f in feats:
                p = rep.get(f, deg)
                v = p.validation
                print(f"| {deg} | {label(f)} | {p.train.r2:.4f} | {v.r2:.4f} | {v.rmse:.4g} | "
                      f"{v.precision_min:.2f}–{v.precision_max:.2f} ({v.precision_avg:.2f}) | "
                      f"{v.abs_error_avg:.4g} / {v.abs_error_max:.4g} |")
    if args.plot:
        for p in plot_report(rep, data, [c["energy"] for c in ct], args.plot, validation=val):
            print(f"plot: {p}")
    if args.json_out:
        out = rep.to_dict()
        out["counts"] = {"train": ct, "test": cv}
        Path(args.json_out).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
